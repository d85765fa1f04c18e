package io.tally.loadtest.query;

import io.vertx.core.json.JsonObject;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The same aggregates computed straight from the raw {@code events} table in SQL, with the table's ordinary indexes
 * but none of Tally's rollups, derived tables or caches: what the analytics routes would cost "without help".
 * Each statement runs {@code runs} times (the first also warms PostgreSQL's buffer cache), unless a run already took
 * longer than {@code repeatLimitMs}; the median of the runs is reported.
 */
final class RawBaseline {
  private static final String MSG = "type IN ('message_sent', 'message_received')";
  private static final String PERSON = "coalesce(user_id, anonymous_id)";
  private static final String SCOPE = "project_id = ? AND ts >= ? AND ts < ? AND NOT is_bot";

  /** Equivalent of each benchmarked route, over the whole dataset period. */
  static Map<String, List<String>> statements(String[] funnel) {
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("user", List.of("SELECT count(*) FILTER (WHERE type = 'message_sent'), "
        + "count(*) FILTER (WHERE type = 'message_received'), sum(tally_num(properties, 'tokens')) FILTER (WHERE "
        + MSG + "), sum(tally_num(properties, 'cost')) FILTER (WHERE " + MSG + "), "
        + "count(DISTINCT (ts AT TIME ZONE 'UTC')::date), max(ts), "
        + "avg(tally_num(properties, 'responseTimeMs')) FILTER (WHERE type = 'message_received') "
        + "FROM events WHERE " + SCOPE + " AND user_id = ?"));
    m.put("usage", List.of(
        "SELECT count(DISTINCT " + PERSON + "), count(*), count(*) FILTER (WHERE " + MSG + "), "
            + "sum(tally_num(properties, 'tokens')) FILTER (WHERE " + MSG + "), "
            + "sum(tally_num(properties, 'cost')) FILTER (WHERE " + MSG + "), "
            + "count(*) FILTER (WHERE type = 'error'), count(*) FILTER (WHERE type = 'conversation_created'), "
            + "avg(tally_num(properties, 'responseTimeMs')) FILTER (WHERE type = 'message_received'), "
            + "sum(tally_num(properties, 'amount')) FILTER (WHERE type = 'payment') FROM events WHERE " + SCOPE,
        "SELECT type, count(*) FROM events WHERE " + SCOPE + " GROUP BY type"));
    m.put("timeseries", List.of("SELECT date_trunc('hour', ts), count(*), count(DISTINCT " + PERSON + ") "
        + "FROM events WHERE " + SCOPE + " AND " + MSG + " GROUP BY 1 ORDER BY 1"));
    m.put("breakdown", List.of("SELECT properties ->> 'model', sum(tally_num(properties, 'tokens')) "
        + "FROM events WHERE " + SCOPE + " AND " + MSG + " GROUP BY 1 ORDER BY 2 DESC NULLS LAST LIMIT 10"));
    // per person, for each step-1 event: the first step-2 event after it, and the first step-3 event after that,
    // all within the window of the step-1 event; a person reaches the most steps any of its attempts reaches
    String a = funnel[0];
    String b = funnel[1];
    String c = funnel[2];
    m.put("funnel", List.of("WITH s AS (SELECT " + PERSON + " AS k, ts, type, "
        + "min(ts) FILTER (WHERE type = '" + b + "') OVER w AS nb, min(ts) FILTER (WHERE type = '" + c + "') OVER w AS nc "
        + "FROM events WHERE " + SCOPE + " AND type IN ('" + a + "', '" + b + "', '" + c + "') AND " + PERSON
        + " IS NOT NULL WINDOW w AS (PARTITION BY " + PERSON + " ORDER BY ts ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED "
        + "FOLLOWING)), "
        + "att AS (SELECT s1.k, s1.ts AS t1, s1.nb AS t2, min(s2.nc) AS t3 FROM s s1 LEFT JOIN s s2 ON s2.k = s1.k "
        + "AND s2.ts = s1.nb AND s2.type = '" + b + "' WHERE s1.type = '" + a + "' GROUP BY s1.k, s1.ts, s1.nb), "
        + "best AS (SELECT k, max(CASE WHEN t2 <= t1 + interval '7 days' AND t3 <= t1 + interval '7 days' THEN 3 "
        + "WHEN t2 <= t1 + interval '7 days' THEN 2 ELSE 1 END) AS reached FROM att GROUP BY k) "
        + "SELECT count(*), count(*) FILTER (WHERE reached >= 2), count(*) FILTER (WHERE reached >= 3) FROM best"));
    m.put("retention", List.of("WITH d AS (SELECT " + PERSON + " AS k, (ts AT TIME ZONE 'UTC')::date AS day "
        + "FROM events WHERE project_id = ? AND ts < ? AND NOT is_bot AND " + PERSON + " IS NOT NULL GROUP BY 1, 2), "
        + "f AS (SELECT k, min(day) AS cohort FROM d GROUP BY k) "
        + "SELECT f.cohort, d.day - f.cohort AS age, count(*) FROM d JOIN f USING (k) "
        + "WHERE f.cohort >= ?::date GROUP BY 1, 2 ORDER BY 1, 2"));
    return m;
  }

  /** Runs each statement set {@code runs} times; returns one result object per route. */
  static List<JsonObject> run(Connection c, String project, Instant from, Instant to, String heavyUser,
      String[] funnel, int runs, int timeoutSeconds, long repeatLimitMs) throws SQLException {
    List<JsonObject> out = new ArrayList<>();
    try (Statement st = c.createStatement()) {
      st.execute("SET statement_timeout = '" + timeoutSeconds + "s'");
    }
    for (Map.Entry<String, List<String>> e : statements(funnel).entrySet()) {
      List<Double> times = new ArrayList<>();
      String error = null;
      long rows = 0;
      // a statement that already took longer than repeatLimitMs has made its point: not repeated (saves minutes)
      for (int i = 0; i < runs && error == null && (times.isEmpty() || times.get(times.size() - 1) < repeatLimitMs);
           i++) {
        long t0 = System.nanoTime();
        try {
          rows = 0;
          for (String sql : e.getValue()) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              bind(ps, e.getKey(), project, from, to, heavyUser);
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  rows++;
                }
              }
            }
          }
          times.add((System.nanoTime() - t0) / 1e6);
        } catch (SQLException ex) {
          error = ex.getMessage().contains("statement timeout") ? "timeout after " + timeoutSeconds + " s"
              : ex.getMessage();
        }
        System.out.printf("  raw %-10s run %d: %s%n", e.getKey(), i + 1,
            error == null ? String.format("%.0f ms", times.get(times.size() - 1)) : error);
      }
      JsonObject r = new JsonObject().put("route", e.getKey()).put("runsMs", times).put("rows", rows);
      if (!times.isEmpty()) {
        List<Double> sorted = new ArrayList<>(times);
        sorted.sort(Double::compare);
        r.put("medianMs", Math.round(sorted.get(sorted.size() / 2) * 10) / 10.0);
      }
      if (error != null) {
        r.put("error", error);
      }
      out.add(r);
    }
    return out;
  }

  private static void bind(PreparedStatement ps, String route, String project, Instant from, Instant to,
      String heavyUser) throws SQLException {
    ps.setString(1, project);
    if (route.equals("retention")) {
      ps.setObject(2, odt(to));
      ps.setString(3, from.toString().substring(0, 10));
      return;
    }
    ps.setObject(2, odt(from));
    ps.setObject(3, odt(to));
    if (route.equals("user")) {
      ps.setString(4, heavyUser);
    }
  }

  private static java.time.OffsetDateTime odt(Instant i) {
    return java.time.OffsetDateTime.ofInstant(i, java.time.ZoneOffset.UTC);
  }
}
