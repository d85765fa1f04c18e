package io.tally.insight;

import io.tally.index.EventTimeline;
import io.tally.query.Agg;
import io.tally.query.Filters;
import io.tally.query.SeriesQuery;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Anomalies on hourly or daily series (overall or per provider/model): the series over the period plus the history
 * the seasonal baseline needs, from the rollups (active users from the person-day rollup, or raw events hourly),
 * judged by {@link AnomalyDetector}.
 */
final class AnomalyQuery {
  static final Set<String> METRICS = Set.of("events", "active_users", "messages", "error_rate", "response_time",
      "cost", "revenue");
  /** Count-like series get a Poisson floor on their scale (see AnomalyDetector). */
  private static final Set<String> COUNTS = Set.of("events", "active_users", "messages");
  static final int MAX_JUDGED = 2_000;
  static final int HOURLY_HISTORY_DAYS = 28;
  static final int DAILY_HISTORY_DAYS = 56;

  private final Pool pool;
  private final EventTimeline timeline;

  AnomalyQuery(Pool pool, EventTimeline timeline) {
    this.timeline = timeline;
    this.pool = pool;
  }

  /** Bucket starts: UTC hours, or the project's local days. */
  private static List<Instant> buckets(Instant from, Instant to, boolean hourly, ZoneId zone) {
    List<Instant> out = new ArrayList<>();
    if (hourly) {
      for (Instant b = from.truncatedTo(ChronoUnit.HOURS); b.isBefore(to); b = b.plus(1, ChronoUnit.HOURS)) {
        out.add(b);
      }
    } else {
      for (LocalDate d = from.atZone(zone).toLocalDate(); d.atStartOfDay(zone).toInstant().isBefore(to);
           d = d.plusDays(1)) {
        out.add(d.atStartOfDay(zone).toInstant());
      }
    }
    return out;
  }

  Future<JsonObject> run(JsonObject q, ZoneId zone) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    String metric = q.getString("metric");
    boolean hourly = "hour".equals(q.getString("granularity"));
    Filters f = Filters.of(q);
    List<Instant> judged = judged(from, to, hourly, zone);
    Instant first = judged.get(0);
    // history from a local midnight (the detector's weekday levels count days from index 0)
    Instant start = first.atZone(zone).toLocalDate().minusDays(hourly ? HOURLY_HISTORY_DAYS : DAILY_HISTORY_DAYS)
        .atStartOfDay(zone).toInstant();
    Instant last = judged.get(judged.size() - 1);
    Instant end = end(last, hourly, zone);
    List<Instant> all = buckets(start, end, hourly, zone);
    int judgeFrom = all.indexOf(first);
    return series(project, metric, hourly, zone, f, start, end).map(values -> {
      long[] ts = new long[all.size()];
      double[] v = new double[all.size()];
      // buckets before the series' first value are no history (NaN), not zeros; later empty buckets count 0
      long firstData = values.keySet().stream().mapToLong(x -> x).min().orElse(Long.MAX_VALUE);
      for (int i = 0; i < ts.length; i++) {
        ts[i] = all.get(i).toEpochMilli();
        Double x = values.get(ts[i]);
        v[i] = x != null ? x : rate(metric) || ts[i] < firstData ? Double.NaN : 0;
      }
      List<AnomalyDetector.Point> points = AnomalyDetector.detect(ts, v,
          hourly ? AnomalyDetector.Granularity.HOUR : AnomalyDetector.Granularity.DAY, judgeFrom,
          options(metric));
      JsonObject out = new JsonObject().put("metric", metric).put("granularity", hourly ? "hour" : "day")
          .put("filters", f.toJson()).put("from", from.toString()).put("to", to.toString())
          .put("method", method(hourly));
      return putPoints(out, points, first.toEpochMilli());
    });
  }

  /** The buckets judged: those of [from, to) (at least the one holding from) but one still in progress. */
  private static List<Instant> judged(Instant from, Instant to, boolean hourly, ZoneId zone) {
    List<Instant> judged = buckets(from, to, hourly, zone);
    if (judged.isEmpty()) {
      judged = List.of(hourly ? from.truncatedTo(ChronoUnit.HOURS) : from.atZone(zone).toLocalDate()
          .atStartOfDay(zone).toInstant());
    }
    // a bucket still in progress is not judged (it would read as a drop)
    Instant now = Instant.now();
    List<Instant> complete = new ArrayList<>();
    for (Instant b : judged) {
      if (!end(b, hourly, zone).isAfter(now)) {
        complete.add(b);
      }
    }
    return complete.isEmpty() ? judged : complete;
  }

  /** How the answer was reached: the baseline, the score, the severities and the thresholds. */
  private static JsonObject method(boolean hourly) {
    return new JsonObject()
        .put("baseline", hourly ? "median of the same hour of day over the previous 14 days, weekday-adjusted" : "median of the same weekday over the previous " + DAILY_HISTORY_DAYS / 7 + " weeks")
        .put("weekdayAdjusted", hourly)
        .put("score", "(actual - expected) / scale; scale = the largest of 1.4826 x MAD of the baseline, the "
            + "typical miss of the baseline over the previous 7 seasons, and a floor (sqrt(expected) for "
            + "counts, 5 % of expected, the smallest change that matters)")
        .put("severity", "low below 6, medium below 9, high from 9; one level up when the value at least "
            + "doubled or halved")
        .put("threshold", AnomalyDetector.Options.defaults().threshold())
        .put("minimumHistory", hourly ? AnomalyDetector.Options.defaults().minHourlySamples()
            : AnomalyDetector.Options.defaults().minDailySamples());
  }

  /** Puts the points judged (from {@code firstMs}) as the series, the anomalies, and how many lack history. */
  private static JsonObject putPoints(JsonObject out, List<AnomalyDetector.Point> points, long firstMs) {
    JsonArray anomalies = new JsonArray();
    JsonArray series = new JsonArray();
    int insufficient = 0;
    for (AnomalyDetector.Point p : points) {
      if (p.ts() < firstMs) {
        continue;
      }
      JsonObject o = new JsonObject().put("timestamp", Instant.ofEpochMilli(p.ts()).toString())
          .put("actual", finite(p.actual())).put("expected", p.expected()).put("score", p.score())
          .put("baselineSamples", p.samples()).put("scale", p.scale());
      series.add(o);
      if (p.expected() == null) {
        insufficient++;
      }
      if (p.anomaly()) {
        anomalies.add(o.copy().put("direction", p.direction()).put("severity", p.severity()));
      }
    }
    return out.put("points", anomalies).put("series", series).put("insufficientHistory", insufficient);
  }

  /** The alert id of an anomaly point: the same from the anomalies route and from the anomaly insights. */
  static String alertId(JsonObject result, JsonObject point) {
    return "anomaly:" + result.getString("metric") + ":" + result.getString("granularity") + ":"
        + result.getJsonObject("filters").encode() + ":" + point.getString("timestamp");
  }

  private static Instant end(Instant bucket, boolean hourly, ZoneId zone) {
    return hourly ? bucket.plus(1, ChronoUnit.HOURS)
        : bucket.atZone(zone).toLocalDate().plusDays(1).atStartOfDay(zone).toInstant();
  }

  /** Per metric: count-like series get the Poisson floor; rates the smallest change that matters. */
  static AnomalyDetector.Options options(String metric) {
    AnomalyDetector.Options o = AnomalyDetector.Options.defaults().withCountLike(COUNTS.contains(metric));
    return switch (metric) {
      case "error_rate" -> o.withMinScale(0.01);
      case "response_time" -> o.withMinScale(50);
      default -> o;
    };
  }

  private static boolean rate(String metric) {
    return metric.equals("error_rate") || metric.equals("response_time");
  }

  private static Double finite(double d) {
    return Double.isNaN(d) ? null : d;
  }

  /** bucket start (epoch ms) → value, for buckets with data. */
  Future<Map<Long, Double>> series(String project, String metric, boolean hourly, ZoneId zone, Filters f,
                                   Instant start, Instant end) {
    if (metric.equals("active_users")) {
      return activeUsers(project, hourly, zone, f, start, end);
    }
    boolean utc = zone.equals(ZoneOffset.UTC) || zone.getId().equals("UTC") || zone.getId().equals("Z");
    String tz = zone.getId().replace("'", "''");
    Agg.Group g = hourly
        ? new Agg.Group(null, "(extract(epoch FROM hour)::bigint * 1000)::text",
            "(extract(epoch FROM date_trunc('hour', ts))::bigint * 1000)::text", false)
        : new Agg.Group(utc ? "(extract(epoch FROM day::timestamp)::bigint * 1000)::text" : null,
            "(extract(epoch FROM ((hour AT TIME ZONE '" + tz + "')::date)::timestamp AT TIME ZONE '" + tz
                + "')::bigint * 1000)::text",
            "(extract(epoch FROM ((ts AT TIME ZONE '" + tz + "')::date)::timestamp AT TIME ZONE '" + tz
                + "')::bigint * 1000)::text", false);
    return Agg.run(pool, project, start, end, f, g, null).map(rows -> {
      Map<String, Agg.Totals> by = new HashMap<>();
      rows.forEach(r -> by.computeIfAbsent(r.key(), k -> new Agg.Totals()).add(r));
      Map<Long, Double> out = new HashMap<>();
      by.forEach((k, t) -> {
        double v = switch (metric) {
          case "error_rate" -> t.sent == 0 ? Double.NaN : (double) t.errors / t.sent;
          case "response_time" -> t.rtN == 0 ? Double.NaN : t.rtSum / t.rtN;
          default -> t.metric(metric);
        };
        if (!Double.isNaN(v)) {
          out.put(Long.parseLong(k), v);
        }
      });
      return out;
    });
  }

  private Future<Map<Long, Double>> activeUsers(String project, boolean hourly, ZoneId zone, Filters f,
                                                Instant start, Instant end) {
    String interval = hourly ? "hour" : "day";
    boolean utcDays = !hourly && zone.getRules().isFixedOffset()
        && zone.getRules().getOffset(start).getTotalSeconds() == 0 && !f.any();
    // unfiltered UTC days: one count per day of the per-day activity rollup, cheaper than a pass over every event
    Map<Instant, Double> inMemory = utcDays ? null : SeriesQuery.activeFromTimeline(timeline, project,
        buckets(start, end, hourly, zone), start, end, interval, zone, f);
    if (inMemory != null) {
      Map<Long, Double> out = new HashMap<>();
      inMemory.forEach((b, v) -> out.put(b.toEpochMilli(), v));
      return Future.succeededFuture(out);
    }
    Tuple t = Tuple.tuple().addString(project);
    String sql;
    boolean utc = zone.getRules().isFixedOffset() && zone.getRules().getOffset(start).getTotalSeconds() == 0;
    if (!hourly && utc && !f.any()) {
      t.addLocalDate(start.atOffset(ZoneOffset.UTC).toLocalDate()).addLocalDate(end.atOffset(ZoneOffset.UTC)
          .toLocalDate());
      sql = "SELECT (extract(epoch FROM day::timestamp)::bigint * 1000), count(*) FROM user_days "
          + "WHERE project_id = $1 AND day >= $2 AND day < $3 GROUP BY 1";
    } else {
      t.addOffsetDateTime(Agg.odt(start)).addOffsetDateTime(Agg.odt(end));
      String tz = zone.getId().replace("'", "''");
      String bucket = hourly ? "date_trunc('hour', ts)"
          : "((ts AT TIME ZONE '" + tz + "')::date)::timestamp AT TIME ZONE '" + tz + "'";
      sql = "SELECT (extract(epoch FROM " + bucket + ")::bigint * 1000), count(DISTINCT coalesce(user_id, "
          + "anonymous_id)) FROM events WHERE project_id = $1 AND ts >= $2 AND ts < $3 AND NOT is_bot "
          + "AND coalesce(user_id, anonymous_id) IS NOT NULL" + Agg.filterSql(f, t, false) + " GROUP BY 1";
    }
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Map<Long, Double> out = new HashMap<>();
      for (Row r : rows) {
        out.put(r.getLong(0), r.getLong(1).doubleValue());
      }
      return out;
    });
  }
}
