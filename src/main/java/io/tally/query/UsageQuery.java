package io.tally.query;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * The seed's UsageMetrics: event figures from the hourly rollup (+ raw edges), persons from the per-day activity
 * rollup (+ raw edges; raw when filtered), sessions from the sessions table, uptime from the per-minute rollup.
 */
final class UsageQuery {
  private final Pool pool;
  private final PersonIndex index;

  UsageQuery(Pool pool, PersonIndex index) {
    this.pool = pool;
    this.index = index;
  }

  Future<JsonObject> run(JsonObject q) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    Instant prevFrom = from.minus(Duration.between(from, to));
    Filters f = Filters.of(q);
    Future<List<Agg.Row2>> cur = Agg.run(pool, project, from, to, f, Agg.Group.NONE, null);
    Future<List<Agg.Row2>> prevRevenue = Agg.run(pool, project, prevFrom, from, f, Agg.Group.NONE, List.of("payment"));
    PersonIndex.Project people = f.any() || f.raw() ? null : index.project(project);
    Future<long[]> users = people == null ? users(project, prevFrom, from, to, f)
        : indexedUsers(people, project, prevFrom, from, to);
    Future<double[]> sessions = sessions(project, from, to, f);
    Future<double[]> uptime = uptime(project, from, to, f);
    return Future.all(List.of(cur, prevRevenue, users, sessions, uptime)).map(all -> {
      Agg.Totals t = new Agg.Totals();
      cur.result().forEach(t::add);
      Agg.Totals prev = new Agg.Totals();
      prevRevenue.result().forEach(prev::add);
      long[] u = users.result();
      double[] s = sessions.result();
      double[] up = uptime.result();
      long active = u[1];
      double sessionCount = s[0];
      return new JsonObject()
          .put("period", new JsonObject().put("start", from.toString()).put("end", to.toString()))
          .put("filters", f.toJson())
          .put("users", new JsonObject().put("total", u[0]).put("active", active).put("new", u[2])
              .put("returning", active - u[2]).put("churned", u[3]).put("retained", u[4]))
          .put("sessions", new JsonObject().put("total", (long) sessionCount)
              .put("averageDuration", Agg.div(s[1], sessionCount))
              .put("bounceRate", Agg.div(s[2], sessionCount))
              .put("pagesPerSession", Agg.div(t.pageViews, sessionCount)))
          .put("conversations", new JsonObject().put("total", t.conversationsCreated)
              .put("averageMessages", Agg.div(t.messages, t.conversationsCreated))
              .put("averageTokens", Agg.div(t.tokens, t.conversationsCreated))
              .put("averageCost", Agg.div(t.cost, t.conversationsCreated))
              .put("completionRate", Agg.div(t.conversationsCompleted, t.conversationsCreated)))
          .put("performance", new JsonObject()
              .put("averageResponseTime", Agg.div(t.rtSum, t.rtN))
              .put("errorRate", Agg.div(t.errors, t.sent))
              .put("uptime", up[0] == 0 ? 100.0 : 100.0 * up[1] / up[0])
              .put("pageLoadTime", Agg.div(t.loadSum, t.loadN)))
          .put("revenue", new JsonObject().put("total", t.revenue)
              .put("averagePerUser", Agg.div(t.revenue, active))
              .put("averagePerSession", Agg.div(t.revenue, sessionCount))
              .put("growth", prev.revenue == 0 ? null : (t.revenue - prev.revenue) / prev.revenue * 100.0));
    });
  }

  /** The persons active in [from, to) as a SQL relation {@code (k)}, from user_days and raw edges. */
  private static String activeSql(Tuple t, Instant from, Instant to, Filters f) {
    List<String> parts = new ArrayList<>();
    Agg.Split s = f.any() || f.raw() ? new Agg.Split(from, to, to, to) : Agg.Split.of(from, to, ChronoUnit.DAYS);
    if (s.hasMiddle()) {
      t.addLocalDate(s.a().atOffset(java.time.ZoneOffset.UTC).toLocalDate())
          .addLocalDate(s.b().atOffset(java.time.ZoneOffset.UTC).toLocalDate());
      parts.add("SELECT user_key FROM user_days WHERE project_id = $1 AND day >= $" + (t.size() - 1)
          + " AND day < $" + t.size());
    }
    for (Instant[] r : s.raw()) {
      t.addOffsetDateTime(Agg.odt(r[0])).addOffsetDateTime(Agg.odt(r[1]));
      parts.add("SELECT coalesce(user_id, anonymous_id) FROM events WHERE project_id = $1 AND ts >= $"
          + (t.size() - 1) + " AND ts < $" + t.size() + " AND NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL"
          + Agg.filterSql(f, t, false));
    }
    return "SELECT DISTINCT k FROM (" + String.join(" UNION ALL ", parts) + ") a(k)";
  }

  /** Persons active in [from, to): whole UTC days from the bitmap index, ragged edges from raw events. */
  private Future<java.util.BitSet> active(PersonIndex.Project people, String project, Instant from, Instant to) {
    Agg.Split s = Agg.Split.of(from, to, ChronoUnit.DAYS);
    java.util.BitSet out = s.hasMiddle()
        ? people.activeOn((int) (s.a().getEpochSecond() / 86_400), (int) (s.b().getEpochSecond() / 86_400))
        : new java.util.BitSet();
    Future<Void> done = Future.succeededFuture();
    for (Instant[] r : s.raw()) {
      done = done.compose(v -> index.rawKeys(project, r[0].toEpochMilli(), r[1].toEpochMilli())
          .map(keys -> {
            people.addKeys(out, keys);
            return null;
          }));
    }
    return done.map(v -> out);
  }

  private Future<long[]> indexedUsers(PersonIndex.Project people, String project, Instant prevFrom, Instant from,
                                      Instant to) {
    Future<java.util.BitSet> cur = active(people, project, from, to);
    Future<java.util.BitSet> prev = active(people, project, prevFrom, from);
    return Future.all(cur, prev).map(v -> {
      java.util.BitSet c = cur.result();
      java.util.BitSet both = (java.util.BitSet) c.clone();
      both.and(prev.result());
      long total = people.firstSeenIn(Long.MIN_VALUE, to.toEpochMilli()).cardinality();
      long fresh = people.firstSeenIn(from.toEpochMilli(), to.toEpochMilli()).cardinality();
      return new long[] {total, c.cardinality(), fresh, prev.result().cardinality() - both.cardinality(),
          both.cardinality()};
    });
  }

  /** total, active, new, churned, retained. */
  private Future<long[]> users(String project, Instant prevFrom, Instant from, Instant to, Filters f) {
    Tuple t = Tuple.tuple().addString(project);
    String cur = activeSql(t, from, to, f);
    String prev = activeSql(t, prevFrom, from, f);
    t.addOffsetDateTime(Agg.odt(from)).addOffsetDateTime(Agg.odt(to));
    int iFrom = t.size() - 1;
    int iTo = t.size();
    String total;
    String fresh;
    if (f.any()) {
      total = "(SELECT count(DISTINCT coalesce(user_id, anonymous_id)) FROM events WHERE project_id = $1 AND ts < $"
          + iTo + " AND NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL" + Agg.filterSql(f, t, false) + ")";
      fresh = "(SELECT count(*) FROM cur JOIN users u ON u.project_id = $1 AND u.user_key = cur.k AND u.first_seen >= $"
          + iFrom + ")";
    } else {
      total = "(SELECT count(*) FROM users WHERE project_id = $1 AND first_seen < $" + iTo + ")";
      fresh = "(SELECT count(*) FROM users WHERE project_id = $1 AND first_seen >= $" + iFrom + " AND first_seen < $"
          + iTo + ")";
    }
    String sql = "WITH cur(k) AS MATERIALIZED (" + cur + "), prev(k) AS MATERIALIZED (" + prev + ") SELECT " + total
        + ", (SELECT count(*) FROM cur), " + fresh + ", (SELECT count(*) FROM prev), "
        + "(SELECT count(*) FROM cur JOIN prev USING (k))";
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Row r = rows.iterator().next();
      long active = r.getLong(1);
      long prevActive = r.getLong(3);
      long retained = r.getLong(4);
      return new long[] {r.getLong(0), active, r.getLong(2), prevActive - retained, retained};
    });
  }

  /** count, duration sum, bounces. */
  private Future<double[]> sessions(String project, Instant from, Instant to, Filters f) {
    Tuple t = Tuple.of(project, Agg.odt(from), Agg.odt(to));
    String sql;
    if (f.any()) {
      sql = "WITH m AS (SELECT DISTINCT session_id FROM events WHERE project_id = $1 AND ts >= $2 AND ts < $3 "
          + "AND NOT is_bot AND session_id IS NOT NULL" + Agg.filterSql(f, t, false) + ") "
          + "SELECT count(*), coalesce(sum(s.duration_ms), 0)::float8, count(*) FILTER (WHERE s.bounce) "
          + "FROM m JOIN sessions s ON s.project_id = $1 AND s.session_id = m.session_id "
          + "WHERE s.started_at >= $2 AND s.started_at < $3";
    } else if (f.raw()) {
      sql = "SELECT count(*), coalesce(sum(duration_ms), 0)::float8, count(*) FILTER (WHERE bounce) FROM sessions "
          + "WHERE project_id = $1 AND started_at >= $2 AND started_at < $3";
    } else {
      // whole UTC days from session_days, ragged edges from the sessions themselves
      Agg.Split s = Agg.Split.of(from, to, ChronoUnit.DAYS);
      t = Tuple.tuple().addString(project);
      List<String> parts = new ArrayList<>();
      if (s.hasMiddle()) {
        t.addLocalDate(s.a().atOffset(java.time.ZoneOffset.UTC).toLocalDate())
            .addLocalDate(s.b().atOffset(java.time.ZoneOffset.UTC).toLocalDate());
        parts.add("SELECT sum(sessions), sum(duration_sum), sum(bounces) FROM session_days WHERE project_id = $1 "
            + "AND day >= $" + (t.size() - 1) + " AND day < $" + t.size());
      }
      for (Instant[] r : s.raw()) {
        t.addOffsetDateTime(Agg.odt(r[0])).addOffsetDateTime(Agg.odt(r[1]));
        parts.add("SELECT count(*), sum(duration_ms), count(*) FILTER (WHERE bounce) FROM sessions "
            + "WHERE project_id = $1 AND started_at >= $" + (t.size() - 1) + " AND started_at < $" + t.size());
      }
      sql = "SELECT coalesce(sum(n), 0)::int8, coalesce(sum(d), 0)::float8, coalesce(sum(b), 0)::int8 FROM ("
          + String.join(" UNION ALL ", parts) + ") x(n, d, b)";
    }
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Row r = rows.iterator().next();
      return new double[] {r.getLong(0), r.getDouble(1), r.getLong(2)};
    });
  }

  /** minutes with requests, minutes with requests in which not every request failed. */
  private Future<double[]> uptime(String project, Instant from, Instant to, Filters f) {
    Tuple t = Tuple.tuple().addString(project);
    List<String> parts = new ArrayList<>();
    Agg.Split s = f.any() || f.raw() ? new Agg.Split(from, to, to, to)
        : Agg.Split.of(from, to, ChronoUnit.MINUTES);
    if (s.hasMiddle()) {
      t.addOffsetDateTime(Agg.odt(s.a())).addOffsetDateTime(Agg.odt(s.b()));
      parts.add("SELECT minute, sent, errors FROM rollup_minute WHERE project_id = $1 AND minute >= $"
          + (t.size() - 1) + " AND minute < $" + t.size());
    }
    for (Instant[] r : s.raw()) {
      t.addOffsetDateTime(Agg.odt(r[0])).addOffsetDateTime(Agg.odt(r[1]));
      parts.add("SELECT date_trunc('minute', ts), count(*) FILTER (WHERE type = 'message_sent'), "
          + "count(*) FILTER (WHERE type = 'error') FROM events WHERE project_id = $1 AND ts >= $" + (t.size() - 1)
          + " AND ts < $" + t.size() + " AND NOT is_bot AND type IN ('message_sent', 'error')"
          + Agg.filterSql(f, t, false) + " GROUP BY 1");
    }
    String sql = "SELECT count(*) FILTER (WHERE sent > 0), count(*) FILTER (WHERE sent > 0 AND errors < sent) FROM ("
        + "SELECT minute, sum(sent) AS sent, sum(errors) AS errors FROM (" + String.join(" UNION ALL ", parts)
        + ") x(minute, sent, errors) GROUP BY minute) y";
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Row r = rows.iterator().next();
      return new double[] {r.getLong(0), r.getLong(1)};
    });
  }
}
