package io.tally.query;

import io.tally.insight.AnomalyDetector;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
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
  static final int HOURLY_HISTORY_DAYS = 14;
  static final int DAILY_HISTORY_DAYS = 56;

  private final Pool pool;

  AnomalyQuery(Pool pool) {
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
    List<Instant> judged = buckets(from, to, hourly, zone);
    if (judged.isEmpty()) {
      judged = List.of(hourly ? from.truncatedTo(ChronoUnit.HOURS) : from.atZone(zone).toLocalDate()
          .atStartOfDay(zone).toInstant());
    }
    Instant first = judged.get(0);
    Instant start = hourly ? first.minus(Duration.ofDays(HOURLY_HISTORY_DAYS))
        : first.atZone(zone).toLocalDate().minusDays(DAILY_HISTORY_DAYS).atStartOfDay(zone).toInstant();
    Instant last = judged.get(judged.size() - 1);
    Instant end = hourly ? last.plus(1, ChronoUnit.HOURS)
        : last.atZone(zone).toLocalDate().plusDays(1).atStartOfDay(zone).toInstant();
    List<Instant> all = buckets(start, end, hourly, zone);
    int judgeFrom = all.indexOf(first);
    return series(project, metric, hourly, zone, f, start, end).map(values -> {
      long[] ts = new long[all.size()];
      double[] v = new double[all.size()];
      for (int i = 0; i < ts.length; i++) {
        ts[i] = all.get(i).toEpochMilli();
        Double x = values.get(ts[i]);
        v[i] = x == null ? (rate(metric) ? Double.NaN : 0) : x;
      }
      List<AnomalyDetector.Point> points = AnomalyDetector.detect(ts, v,
          hourly ? AnomalyDetector.Granularity.HOUR : AnomalyDetector.Granularity.DAY, judgeFrom,
          AnomalyDetector.Options.defaults().withCountLike(COUNTS.contains(metric)));
      JsonArray anomalies = new JsonArray();
      JsonArray series = new JsonArray();
      int insufficient = 0;
      for (AnomalyDetector.Point p : points) {
        if (p.ts() < first.toEpochMilli()) {
          continue;
        }
        JsonObject o = new JsonObject().put("timestamp", Instant.ofEpochMilli(p.ts()).toString())
            .put("actual", finite(p.actual())).put("expected", p.expected()).put("score", p.score())
            .put("baselineSamples", p.samples());
        series.add(o);
        if (p.expected() == null) {
          insufficient++;
        }
        if (p.anomaly()) {
          anomalies.add(o.copy().put("direction", p.direction()).put("severity", p.severity()));
        }
      }
      return new JsonObject().put("metric", metric).put("granularity", hourly ? "hour" : "day")
          .put("filters", f.toJson()).put("from", from.toString()).put("to", to.toString())
          .put("method", new JsonObject()
              .put("baseline", hourly ? "median of the same hour of day over the previous " + HOURLY_HISTORY_DAYS
                  + " days" : "median of the same weekday over the previous " + DAILY_HISTORY_DAYS / 7 + " weeks")
              .put("score", "(actual - expected) / (1.4826 x MAD of the baseline, floored)")
              .put("threshold", AnomalyDetector.Options.defaults().threshold())
              .put("minimumHistory", hourly ? AnomalyDetector.Options.defaults().minHourlySamples()
                  : AnomalyDetector.Options.defaults().minDailySamples()))
          .put("points", anomalies).put("series", series).put("insufficientHistory", insufficient);
    });
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
