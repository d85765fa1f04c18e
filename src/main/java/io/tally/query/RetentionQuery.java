package io.tally.query;

import io.tally.index.PersonIndex;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cohorts by the period of a person's first event (people table), retention from the per-day activity rollup (UTC
 * projects) or raw events (other time zones).
 */
final class RetentionQuery {
  private final Pool pool;
  private final PersonIndex index;

  RetentionQuery(Pool pool, PersonIndex index) {
    this.pool = pool;
    this.index = index;
  }

  Future<JsonObject> run(JsonObject q, ZoneId zone) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    boolean week = q.getString("granularity").equals("week");
    int periods = q.getInteger("periods");
    int step = week ? 7 : 1;
    List<LocalDate> starts = cohortStarts(from, to, zone, week);
    if (starts.isEmpty()) {
      return Future.succeededFuture(result(week, periods, starts, new long[0], new long[0][0], zone, to));
    }
    LocalDate first = starts.get(0);
    LocalDate endDay = starts.get(starts.size() - 1).plusDays((long) step * (periods + 1));
    Instant cohortFrom = first.atStartOfDay(zone).toInstant();
    Instant cohortTo = starts.get(starts.size() - 1).plusDays(step).atStartOfDay(zone).toInstant();
    Instant activityTo = endDay.atStartOfDay(zone).toInstant(); // whole periods, later ones are null anyway
    boolean utc = zone.getRules().isFixedOffset() && zone.getRules().getOffset(from).equals(ZoneOffset.UTC)
        && !q.getBoolean("raw", false);
    PersonIndex.Project people = utc ? index.project(project) : null;
    if (people != null) {
      return Future.succeededFuture(fromIndex(people, week, periods, starts, zone, to));
    }
    String tz = zone.getId();
    Tuple t = Tuple.of(project, Agg.odt(cohortFrom), Agg.odt(cohortTo), tz, first, Agg.odt(activityTo));
    return pool.preparedQuery(cohortSql(utc, week)).execute(t)
        .map(rows -> fromRows(rows, week, periods, starts, zone, to));
  }

  /** The cohort period starts s with from <= s < to (Mondays by week). */
  private static List<LocalDate> cohortStarts(Instant from, Instant to, ZoneId zone, boolean week) {
    List<LocalDate> starts = new ArrayList<>();
    LocalDate s = from.atZone(zone).toLocalDate();
    if (week) {
      s = s.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
    }
    int step = week ? 7 : 1;
    while (s.atStartOfDay(zone).toInstant().isBefore(from)) {
      s = s.plusDays(step);
    }
    while (s.atStartOfDay(zone).toInstant().isBefore(to)) {
      starts.add(s);
      s = s.plusDays(step);
    }
    return starts;
  }

  /**
   * Cohort sizes (activity day -1) and active persons per (cohort day, activity day), both relative to the first
   * cohort start ($5): from user_days in UTC, else from the events in the zone.
   */
  private static String cohortSql(boolean utc, boolean week) {
    String activity = utc
        ? "SELECT d.user_key, d.day FROM user_days d JOIN c ON d.project_id = $1 AND d.user_key = c.user_key "
            + "WHERE d.day >= $5 AND d.day < ($6 AT TIME ZONE 'UTC')::date"
        : "SELECT DISTINCT c.user_key, (e.ts AT TIME ZONE $4)::date AS day FROM c JOIN events e ON e.project_id = $1 "
            + "AND e.user_id = c.user_key WHERE e.ts >= $2 AND e.ts < $6 AND NOT e.is_bot "
            + "UNION SELECT c.user_key, (e.ts AT TIME ZONE $4)::date FROM c JOIN events e ON e.project_id = $1 "
            + "AND e.user_id IS NULL AND e.anonymous_id = c.user_key WHERE e.ts >= $2 AND e.ts < $6 AND NOT e.is_bot";
    // day index relative to the first cohort start; bucketed into periods in memory
    String sql = "WITH c AS MATERIALIZED (SELECT user_key, (first_seen AT TIME ZONE $4)::date - $5::date AS cd "
        + "FROM users WHERE project_id = $1 AND first_seen >= $2 AND first_seen < $3), "
        + "a AS (" + activity + ") "
        + "SELECT c.cd, -1 AS ad, count(*) FROM c GROUP BY 1 "
        + "UNION ALL SELECT c.cd, a.day - $5::date, count(*) FROM a JOIN c USING (user_key) GROUP BY 1, 2";
    if (week) {
      // a person counts once per week: distinct (person, week)
      sql = "WITH c AS MATERIALIZED (SELECT user_key, (first_seen AT TIME ZONE $4)::date - $5::date AS cd "
          + "FROM users WHERE project_id = $1 AND first_seen >= $2 AND first_seen < $3), "
          + "a AS (" + activity + ") "
          + "SELECT c.cd / 7 * 7, -1, count(*) FROM c GROUP BY 1 "
          + "UNION ALL SELECT c.cd / 7 * 7, (a.day - $5::date) / 7 * 7, count(DISTINCT user_key) "
          + "FROM a JOIN c USING (user_key) GROUP BY 1, 2";
    }
    return sql;
  }

  /** The cohorts from {@link #cohortSql}'s rows, bucketed into periods. */
  private static JsonObject fromRows(Iterable<Row> rows, boolean week, int periods, List<LocalDate> starts,
                                     ZoneId zone, Instant to) {
    int n = starts.size();
    int step = week ? 7 : 1;
    LocalDate first = starts.get(0);
    long[] sizes = new long[n];
    long[][] active = new long[n][periods + 1];
    Map<Integer, Integer> index = new HashMap<>();
    for (int i = 0; i < n; i++) {
      index.put((int) ChronoUnit.DAYS.between(first, starts.get(i)), i);
    }
    for (Row r : rows) {
      Integer ci = index.get(r.getInteger(0));
      if (ci == null) {
        continue;
      }
      int ad = r.getInteger(1);
      if (ad < 0) {
        sizes[ci] += r.getLong(2);
        continue;
      }
      int k = (ad - r.getInteger(0)) / step;
      if (k >= 0 && k <= periods && (ad - r.getInteger(0)) % step == 0) {
        active[ci][k] += r.getLong(2);
      }
    }
    return result(week, periods, starts, sizes, active, zone, to);
  }

  /** Cohorts from first-seen times, activity from the per-day bitmaps (UTC projects). */
  private static JsonObject fromIndex(PersonIndex.Project people, boolean week, int periods, List<LocalDate> starts,
                                      ZoneId zone, Instant to) {
    int step = week ? 7 : 1;
    int n = starts.size();
    long[] sizes = new long[n];
    long[][] active = new long[n][periods + 1];
    for (int i = 0; i < n; i++) {
      LocalDate s = starts.get(i);
      java.util.BitSet cohort = people.firstSeenIn(s.atStartOfDay(zone).toInstant().toEpochMilli(),
          s.plusDays(step).atStartOfDay(zone).toInstant().toEpochMilli());
      sizes[i] = cohort.cardinality();
      for (int k = 0; k <= periods && sizes[i] > 0; k++) {
        int d0 = (int) s.plusDays((long) step * k).toEpochDay();
        java.util.BitSet in = week ? people.activeOn(d0, d0 + 7) : (java.util.BitSet) people.day(d0).clone();
        in.and(cohort);
        active[i][k] = in.cardinality();
      }
    }
    return result(week, periods, starts, sizes, active, zone, to);
  }

  private static JsonObject result(boolean week, int periods, List<LocalDate> starts, long[] sizes, long[][] active,
                                   ZoneId zone, Instant to) {
    JsonArray cohorts = new JsonArray();
    int step = week ? 7 : 1;
    for (int i = 0; i < starts.size(); i++) {
      JsonArray rates = new JsonArray();
      for (int k = 0; k <= periods; k++) {
        Instant ps = starts.get(i).plusDays((long) step * k).atStartOfDay(zone).toInstant();
        if (!ps.isBefore(to)) {
          rates.addNull();
        } else {
          rates.add(Agg.div(active[i][k], sizes[i]));
        }
      }
      cohorts.add(new JsonObject().put("start", starts.get(i).toString()).put("size", sizes[i])
          .put("retention", rates));
    }
    return new JsonObject().put("granularity", week ? "week" : "day").put("periods", periods)
        .put("cohorts", cohorts);
  }
}
