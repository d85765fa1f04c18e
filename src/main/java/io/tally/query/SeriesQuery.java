package io.tally.query;

import io.tally.index.EventTimeline;
import io.tally.index.PersonIndex;
import io.tally.index.TimelineProject;
import io.tally.index.TimelineScans;
import io.tally.schema.RollupDimension;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Time series of one metric, and one metric broken down by a dimension. */
public final class SeriesQuery {
  static final Set<String> METRICS = Set.of("events", "active_users", "messages", "tokens", "cost", "errors",
      "revenue");
  static final Set<String> INTERVALS = Set.of("minute", "hour", "day");
  static final Set<String> DIMENSIONS = Set.of("event", "provider", "model", "country", "device", "browser", "page");
  static final int MAX_POINTS = 10_000;

  private final Pool pool;
  private final PersonIndex index;
  private final EventTimeline timeline;

  SeriesQuery(Pool pool, PersonIndex index, EventTimeline timeline) {
    this.pool = pool;
    this.index = index;
    this.timeline = timeline;
  }

  /**
   * Distinct persons per bucket from the event timeline, filters included (null when it cannot answer: raw, not
   * loaded). The
   * first bucket counts from {@code from}, the last up to {@code to}, as the SQL does.
   */
  public static Map<Instant, Double> activeFromTimeline(EventTimeline timeline, String project, List<Instant> buckets,
                                                 Instant from, Instant to, String interval, ZoneId zone, Filters f) {
    TimelineProject p = f.raw() || timeline == null ? null : timeline.project(project);
    if (p == null) {
      return null;
    }
    Map<Instant, Double> out = new HashMap<>();
    if (buckets.isEmpty()) {
      return out;
    }
    long[] bounds = new long[buckets.size() + 1];
    for (int i = 0; i < buckets.size(); i++) {
      bounds[i] = buckets.get(i).toEpochMilli();
    }
    bounds[0] = Math.max(bounds[0], from.toEpochMilli());
    bounds[buckets.size()] = Math.min(to.toEpochMilli(),
        next(buckets.get(buckets.size() - 1), interval, zone).toEpochMilli());
    long[] counts = TimelineScans.distinctPerBucket(p, bounds, f.any()
        ? TimelineScans.passing(p, f.provider(), f.model(), f.country(), f.device()) : null);
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        out.put(buckets.get(i), (double) counts[i]);
      }
    }
    return out;
  }

  /** Bucket starts overlapping [from, to), in order. */
  static List<Instant> buckets(Instant from, Instant to, String interval, ZoneId zone) {
    List<Instant> out = new ArrayList<>();
    Instant b = start(from, interval, zone);
    while (b.isBefore(to)) {
      out.add(b);
      b = next(b, interval, zone);
      if (out.size() > MAX_POINTS) {
        break;
      }
    }
    return out;
  }

  static Instant start(Instant t, String interval, ZoneId zone) {
    return switch (interval) {
      case "minute" -> t.truncatedTo(ChronoUnit.MINUTES);
      case "hour" -> t.truncatedTo(ChronoUnit.HOURS);
      default -> t.atZone(zone).toLocalDate().atStartOfDay(zone).toInstant();
    };
  }

  static Instant next(Instant b, String interval, ZoneId zone) {
    return switch (interval) {
      case "minute" -> b.plus(1, ChronoUnit.MINUTES);
      case "hour" -> b.plus(1, ChronoUnit.HOURS);
      default -> b.atZone(zone).toLocalDate().plusDays(1).atStartOfDay(zone).toInstant();
    };
  }

  /** Whether the zone's offsets over the period are whole hours (hourly rollup rows then fall in one local day). */
  private static boolean wholeHours(ZoneId zone, Instant from, Instant to) {
    return zone.getRules().getOffset(from).getTotalSeconds() % 3600 == 0
        && zone.getRules().getOffset(to).getTotalSeconds() % 3600 == 0;
  }

  Future<JsonObject> timeseries(JsonObject q, ZoneId zone) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    String metric = q.getString("metric");
    String interval = q.getString("interval");
    Filters f = Filters.of(q);
    List<Instant> buckets = buckets(from, to, interval, zone);
    Map<Instant, Double> values = new LinkedHashMap<>();
    buckets.forEach(b -> values.put(b, 0.0));
    Future<Void> filled;
    // unfiltered UTC days come from the person index's day bitmaps (cheaper than a pass over every event); the rest
    // from the event timeline when it can answer
    boolean utcDays = interval.equals("day") && zone.getRules().isFixedOffset()
        && zone.getRules().getOffset(from).equals(ZoneOffset.UTC) && !f.any();
    Map<Instant, Double> inMemory = metric.equals("active_users") && !utcDays
        ? activeFromTimeline(timeline, project, buckets, from, to, interval, zone, f) : null;
    if (inMemory != null) {
      inMemory.forEach((k, v) -> values.computeIfPresent(k, (kk, old) -> v));
      filled = Future.succeededFuture();
    } else if (metric.equals("active_users")) {
      filled = activeSeries(project, from, to, interval, zone, f).map(m -> {
        m.forEach((k, v) -> values.computeIfPresent(k, (kk, old) -> v));
        return null;
      });
    } else {
      Agg.Group g = bucketGroup(interval, zone, from, to);
      filled = Agg.run(pool, project, from, to, f, g, types(metric)).map(rows -> {
        Map<String, Agg.Totals> byKey = new HashMap<>();
        for (Agg.Row2 r : rows) {
          byKey.computeIfAbsent(r.key(), k -> new Agg.Totals()).add(r);
        }
        byKey.forEach((k, t) -> {
          Instant b = interval.equals("day") ? LocalDate.parse(k).atStartOfDay(zone).toInstant() : Instant.parse(k);
          values.computeIfPresent(b, (kk, old) -> t.metric(metric));
        });
        return null;
      });
    }
    return filled.map(v -> {
      JsonArray points = new JsonArray();
      values.forEach((b, val) -> points.add(new JsonObject().put("t", b.toString()).put("value", val)));
      return new JsonObject().put("metric", metric).put("interval", interval).put("from", from.toString())
          .put("to", to.toString()).put("filters", f.toJson()).put("points", points);
    });
  }

  /** The rollup and raw expressions of a bucket's start, as text: UTC minutes and hours, days in the zone. */
  private static Agg.Group bucketGroup(String interval, ZoneId zone, Instant from, Instant to) {
    return switch (interval) {
      case "minute" -> new Agg.Group(null, null, "to_char(date_trunc('minute', ts) AT TIME ZONE 'UTC', "
          + "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", false, "to_char(minute AT TIME ZONE 'UTC', "
          + "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
      case "hour" -> new Agg.Group(null, "to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
          "to_char(date_trunc('hour', ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", false,
          "to_char(date_trunc('hour', minute) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
      default -> {
        String tz = "'" + zone.getId().replace("'", "''") + "'";
        String raw = "((ts AT TIME ZONE " + tz + ")::date)::text";
        boolean utc = zone.getRules().isFixedOffset() && zone.getRules().getOffset(from).getTotalSeconds() == 0;
        yield new Agg.Group(utc ? "day::text" : null,
            wholeHours(zone, from, to) ? "((hour AT TIME ZONE " + tz + ")::date)::text" : null, raw, false,
            "((minute AT TIME ZONE " + tz + ")::date)::text");
      }
    };
  }

  /** Event types a summable metric counts (null: all). */
  private static List<String> types(String metric) {
    return switch (metric) {
      case "messages", "tokens", "cost" -> List.of("message_sent", "message_received");
      case "errors" -> List.of("error");
      case "revenue" -> List.of("payment");
      default -> null;
    };
  }

  /** Distinct persons per bucket: per-day rollup for UTC days, raw otherwise. */
  private Future<Map<Instant, Double>> activeSeries(String project, Instant from, Instant to, String interval,
                                                    ZoneId zone, Filters f) {
    Tuple t = Tuple.tuple().addString(project);
    String bucket = switch (interval) {
      case "minute" -> "date_trunc('minute', ts)";
      case "hour" -> "date_trunc('hour', ts)";
      default -> "((ts AT TIME ZONE '" + zone.getId().replace("'", "''") + "')::date::timestamp AT TIME ZONE '"
          + zone.getId().replace("'", "''") + "')";
    };
    boolean utcDays = interval.equals("day") && zone.getRules().isFixedOffset()
        && zone.getRules().getOffset(from).equals(ZoneOffset.UTC) && !f.any() && !f.raw();
    List<String> parts = new ArrayList<>();
    Agg.Split s = utcDays ? Agg.Split.of(from, to, ChronoUnit.DAYS) : new Agg.Split(from, to, to, to);
    PersonIndex.Project people = utcDays ? index.project(project) : null;
    Map<Instant, Double> fromIndex = new HashMap<>();
    if (s.hasMiddle() && people != null) {
      for (Instant d = s.a(); d.isBefore(s.b()); d = d.plus(1, ChronoUnit.DAYS)) {
        fromIndex.put(d, (double) people.day((int) (d.getEpochSecond() / 86_400)).cardinality());
      }
    } else if (s.hasMiddle()) {
      t.addLocalDate(s.a().atOffset(ZoneOffset.UTC).toLocalDate())
          .addLocalDate(s.b().atOffset(ZoneOffset.UTC).toLocalDate());
      // one row per (day, person): a count per day, no distinct needed
      parts.add("SELECT day::timestamp AT TIME ZONE 'UTC', count(*) FROM user_days WHERE project_id = $1 AND day >= $"
          + (t.size() - 1) + " AND day < $" + t.size() + " GROUP BY day");
    }
    // each raw range covers buckets no other part covers (ragged days, or the whole period)
    for (Instant[] r : s.raw()) {
      t.addOffsetDateTime(Agg.odt(r[0])).addOffsetDateTime(Agg.odt(r[1]));
      parts.add("SELECT " + bucket + ", count(DISTINCT coalesce(user_id, anonymous_id)) FROM events "
          + "WHERE project_id = $1 AND ts >= $" + (t.size() - 1) + " AND ts < $" + t.size() + " AND NOT is_bot "
          + "AND coalesce(user_id, anonymous_id) IS NOT NULL" + Agg.filterSql(f, t, false) + " GROUP BY 1");
    }
    if (parts.isEmpty()) {
      return Future.succeededFuture(fromIndex);
    }
    String sql = "SELECT b, sum(c)::bigint FROM (" + String.join(" UNION ALL ", parts) + ") x(b, c) GROUP BY b";
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Map<Instant, Double> m = new HashMap<>(fromIndex);
      for (Row r : rows) {
        m.put(r.getOffsetDateTime(0).toInstant(), (double) r.getLong(1));
      }
      return m;
    });
  }

  Future<JsonObject> breakdown(JsonObject q) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    String metric = q.getString("metric");
    String dimension = q.getString("dimension");
    int limit = q.getInteger("limit");
    Filters f = Filters.of(q);
    // a rollup dimension by its name, anything else by page path
    RollupDimension d = RollupDimension.byApiName(dimension);
    String rawExpr = d == null ? "page ->> 'path'" : d.rawOf("");
    String rollupExpr = d == null ? null : d.rollupValue();
    Future<List<JsonObject>> rows;
    Future<Double> total;
    TimelineProject inMemory = metric.equals("active_users") && !f.raw() && timeline != null
        ? timeline.project(project) : null;
    if (inMemory != null) {
      TimelineScans.PerValue per = TimelineScans.distinctPerValue(inMemory, timelineDimension(dimension),
          TimelineScans.passing(inMemory, f.provider(), f.model(), f.country(), f.device()), from.toEpochMilli(),
          to.toEpochMilli());
      List<JsonObject> list = new ArrayList<>();
      per.counts().forEach((k, v) -> list.add(new JsonObject().put("key", k).put("value", (double) v)));
      rows = Future.succeededFuture(list);
      total = Future.succeededFuture((double) per.total());
    } else if (metric.equals("active_users")) {
      rows = distinctBy(project, from, to, f, rawExpr);
      total = distinctBy(project, from, to, f, "''").map(l -> l.isEmpty() ? 0.0 : l.get(0).getDouble("value"));
    } else {
      Agg.Group g = dimension.equals("page") ? Agg.Group.PAGE
          : new Agg.Group(rollupExpr, rollupExpr, rawExpr, !dimension.equals("event"),
              dimension.equals("event") ? "type" : null);
      rows = summed(project, from, to, f, g, metric);
      total = rows.map(l -> l.stream().mapToDouble(o -> o.getDouble("value")).sum());
    }
    return Future.all(rows, total).map(v -> {
      List<JsonObject> all = new ArrayList<>(rows.result());
      all.sort(Comparator.<JsonObject>comparingDouble(o -> -o.getDouble("value"))
          .thenComparing(o -> o.getString("key"), Comparator.nullsLast(Comparator.naturalOrder())));
      return new JsonObject().put("dimension", dimension).put("metric", metric).put("from", from.toString())
          .put("to", to.toString()).put("filters", f.toJson())
          .put("rows", new JsonArray(new ArrayList<>(all.subList(0, Math.min(limit, all.size())))))
          .put("total", total.result());
    });
  }
  /** The event timeline's index of a breakdown dimension (-1: the event type). */
  private static int timelineDimension(String dimension) {
    return switch (dimension) {
      case "event" -> -1;
      case "provider" -> EventTimeline.PROVIDER;
      case "model" -> EventTimeline.MODEL;
      case "country" -> EventTimeline.COUNTRY;
      case "device" -> EventTimeline.DEVICE;
      case "browser" -> EventTimeline.BROWSER;
      default -> EventTimeline.PAGE;
    };
  }

  /** A summed metric per value of the group's key, from the rollups and raw edges ({@link Agg#run}). */
  private Future<List<JsonObject>> summed(String project, Instant from, Instant to, Filters f, Agg.Group g,
                                          String metric) {
    return Agg.run(pool, project, from, to, f, g, types(metric)).map(rs -> {
      Map<String, Agg.Totals> byKey = new HashMap<>();
      for (Agg.Row2 r : rs) {
        byKey.computeIfAbsent(r.key() == null ? "\u0000" : r.key(), k -> new Agg.Totals()).add(r);
      }
      List<JsonObject> out = new ArrayList<>();
      byKey.forEach((k, t) -> out.add(new JsonObject().put("key", k.equals("\u0000") ? null : k)
          .put("value", t.metric(metric))));
      return out;
    });
  }


  /** Distinct persons per dimension value over raw events. */
  private Future<List<JsonObject>> distinctBy(String project, Instant from, Instant to, Filters f, String expr) {
    Tuple t = Tuple.of(project, Agg.odt(from), Agg.odt(to));
    // distinct (value, person) pairs first (a parallel hash aggregate), then a count per value: far cheaper than
    // count(DISTINCT) per group, which sorts every group
    String sql = "SELECT k, count(*) FROM (SELECT DISTINCT " + expr + " AS k, coalesce(user_id, anonymous_id) AS p "
        + "FROM events WHERE project_id = $1 AND ts >= $2 AND ts < $3 AND NOT is_bot "
        + "AND coalesce(user_id, anonymous_id) IS NOT NULL" + Agg.filterSql(f, t, false) + ") x GROUP BY 1";
    return pool.preparedQuery(sql).execute(t).map(rs -> {
      List<JsonObject> out = new ArrayList<>();
      for (Row r : rs) {
        out.add(new JsonObject().put("key", r.getValue(0) == null ? null : r.getValue(0).toString())
            .put("value", (double) r.getLong(1)));
      }
      return out;
    });
  }
}
