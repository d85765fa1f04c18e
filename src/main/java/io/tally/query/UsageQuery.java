package io.tally.query;

import io.tally.index.EventTimeline;
import io.tally.index.PersonIndex;
import io.tally.index.TimelineProject;
import io.tally.index.TimelineScans;
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
 * The seed's UsageMetrics: event figures from the rollups (+ raw edges), persons from the person index's day bitmaps
 * (+ raw edges), sessions from {@code session_days} (+ the sessions of ragged days), uptime from the per-minute
 * rollup; a ragged unit at the end of a period ending now is its rollup less what comes after the end. When
 * filtered, persons, sessions and uptime come from the event timeline (raw events while it loads, or with
 * {@code raw}).
 */
public final class UsageQuery {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UsageQuery.class);
  private final Pool pool;
  private final PersonIndex index;
  private final EventTimeline timeline;

  UsageQuery(Pool pool, PersonIndex index, EventTimeline timeline) {
    this.pool = pool;
    this.index = index;
    this.timeline = timeline;
  }

  public Future<JsonObject> run(JsonObject q) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    Instant prevFrom = from.minus(Duration.between(from, to));
    Filters f = Filters.of(q);
    Instant now = Instant.now();
    long t0 = System.nanoTime();
    Future<List<Agg.Row2>> cur = Agg.run(pool, project, from, to, f, Agg.Group.NONE, null, now);
    Future<List<Agg.Row2>> prevRevenue = Agg.run(pool, project, prevFrom, from, f, Agg.Group.NONE, List.of("payment"));
    Future<long[]> users;
    Future<double[]> sessions;
    Future<double[]> uptime;
    Filtered mem = f.any() && !f.raw() ? filtered(project, prevFrom, from, to, f) : null;
    if (mem != null) {
      users = Future.succeededFuture(mem.users());
      sessions = Future.succeededFuture(mem.sessions());
      uptime = Future.succeededFuture(mem.uptime());
    } else {
      PersonIndex.Project people = f.any() || f.raw() ? null : index.project(project);
      users = people == null ? users(project, prevFrom, from, to, f)
          : indexedUsers(people, project, prevFrom, from, to);
      sessions = sessions(project, from, to, f, now);
      uptime = uptime(project, from, to, f, now);
    }
    List<Future<?>> parts = List.of(cur, prevRevenue, users, sessions, uptime);
    PartTimes.log(LOG, () -> "usage of " + project + " [" + from + ", " + to + ")", t0,
        List.of("events", "previous revenue", "persons", "sessions", "uptime"), parts);
    return Future.all(parts).map(all -> {
      Agg.Totals t = new Agg.Totals();
      cur.result().forEach(t::add);
      Agg.Totals prev = new Agg.Totals();
      prevRevenue.result().forEach(prev::add);
      return answer(from, to, f, t, prev, users.result(), sessions.result(), uptime.result());
    });
  }

  /** The usage answer from the period's totals, the previous period's, the persons, sessions and uptime. */
  private static JsonObject answer(Instant from, Instant to, Filters f, Agg.Totals t, Agg.Totals prev, long[] u,
                                   double[] s, double[] up) {
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
  }

  /** Filtered usage's persons (as {@link #users}), sessions (as {@link #sessions}) and uptime (as {@link #uptime}). */
  public record Filtered(long[] users, double[] sessions, double[] uptime) {}

  /** Periods longer than this many minutes leave filtered uptime (and so the rest) to SQL: one int per minute. */
  private static final long MAX_MINUTES = 4L << 20;

  /**
   * Filtered persons, sessions and uptime from the event timeline, with first-seen times from the person index, or
   * null when either is not ready (SQL then answers). The figures are defined by the SQL they replace: a person or a
   * session counts through its events that pass the filters, a session when it also started in the period.
   */
  private Filtered filtered(String project, Instant prevFrom, Instant from, Instant to, Filters f) {
    long minutes = Math.floorDiv(to.toEpochMilli() - 1, 60_000L) - Math.floorDiv(from.toEpochMilli(), 60_000L) + 1;
    if (timeline == null || minutes > MAX_MINUTES) {
      return null;
    }
    PersonIndex.Project people = index.project(project);
    TimelineProject p = people == null ? null : timeline.project(project);
    if (p == null) {
      return null;
    }
    return filtered(p, people, TimelineScans.passing(p, f.provider(), f.model(), f.country(), f.device()),
        prevFrom.toEpochMilli(), from.toEpochMilli(), to.toEpochMilli());
  }

  static Filtered filtered(TimelineProject p, PersonIndex.Project people, boolean[] pass, long prevFrom,
                           long from, long to) {
    Window w = new Window(p, from, to);
    long total = 0;
    long active = 0;
    long fresh = 0;
    long prevActive = 0;
    long retained = 0;
    for (int person = 0; person <= p.persons(); person++) {
      boolean orphans = person == p.persons();
      TimelineProject.Track t = orphans ? p.orphans : p.tracks[person];
      int lo = t.from(prevFrom);
      int mid = t.from(from);
      int hi = t.from(to);
      boolean before = false;
      for (int j = lo; j < mid; j++) {
        if (pass[t.dims[j]]) {
          before = true;
          break;
        }
      }
      boolean now = w.scan(t, mid, hi, pass);
      if (orphans) {
        break;
      }
      boolean seen = before || now;
      for (int j = 0; j < lo && !seen; j++) {
        seen = pass[t.dims[j]];
      }
      if (seen) {
        total++;
      }
      if (before) {
        prevActive++;
      }
      if (now) {
        active++;
        if (before) {
          retained++;
        }
        Integer id = people.ids.get(p.keys.get(person));
        if (id != null && people.alive.get(id) && people.firstSeen[id] >= from) {
          fresh++;
        }
      }
    }
    return new Filtered(new long[] {total, active, fresh, prevActive - retained, retained},
        w.sessionStats(p, from, to), w.uptime());
  }

  /** What the period's passing events add up to: the sessions they fall in, messages sent and errors per minute. */
  private static final class Window {
    final int sent;
    final int error;
    final long firstMinute;
    final int minutes;
    final int[] sentPerMinute;
    final int[] errorsPerMinute;
    final java.util.BitSet sessions;

    Window(TimelineProject p, long from, long to) {
      Integer sentId = p.typeIds.get("message_sent");
      Integer errorId = p.typeIds.get("error");
      sent = sentId == null ? -1 : sentId;
      error = errorId == null ? -1 : errorId;
      firstMinute = Math.floorDiv(from, 60_000L);
      minutes = to <= from ? 0 : (int) (Math.floorDiv(to - 1, 60_000L) - firstMinute + 1);
      sentPerMinute = new int[minutes];
      errorsPerMinute = new int[minutes];
      sessions = new java.util.BitSet(p.sessions.count);
    }

    /** Adds a track's passing events in [mid, hi); whether there was one. */
    boolean scan(TimelineProject.Track t, int mid, int hi, boolean[] pass) {
      boolean now = false;
      for (int j = mid; j < hi; j++) {
        if (!pass[t.dims[j]]) {
          continue;
        }
        now = true;
        if (t.sess[j] >= 0) {
          sessions.set(t.sess[j]);
        }
        int type = EventTimeline.type(t.ev[j]);
        if (type == sent || type == error) {
          int m = (int) (Math.floorDiv(EventTimeline.ms(t.ev[j]), 60_000L) - firstMinute);
          if (type == sent) {
            sentPerMinute[m]++;
          } else {
            errorsPerMinute[m]++;
          }
        }
      }
      return now;
    }

    /** {sessions started in [from, to), their summed duration, the bounces among them (under 30 s)}. */
    double[] sessionStats(TimelineProject p, long from, long to) {
      long n = 0;
      double duration = 0;
      long bounces = 0;
      long[] start = p.sessions.start;
      long[] end = p.sessions.end;
      for (int s = sessions.nextSetBit(0); s >= 0; s = sessions.nextSetBit(s + 1)) {
        if (start[s] >= from && start[s] < to) {
          n++;
          long d = end[s] - start[s];
          duration += d;
          if (d < 30_000) {
            bounces++;
          }
        }
      }
      return new double[] {n, duration, bounces};
    }

    /** {minutes with a message sent, those of them with fewer errors than messages sent}. */
    double[] uptime() {
      long withRequests = 0;
      long up = 0;
      for (int m = 0; m < minutes; m++) {
        if (sentPerMinute[m] > 0) {
          withRequests++;
          if (errorsPerMinute[m] < sentPerMinute[m]) {
            up++;
          }
        }
      }
      return new double[] {withRequests, up};
    }
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

  private Future<java.util.BitSet> active(PersonIndex.Project people, String project, Instant from, Instant to) {
    return active(people, project, from, to, Instant.now());
  }

  /**
   * Above this many persons seen after a period's end within its last day, that day's start is read raw. Under load a
   * period ending "now" has events after its end by the time it is read (6,400 events/s put ~3,000 persons there in
   * half a second), and the raw read of the day costs seconds where probing 20,000 persons costs a few hundred ms.
   */
  static final int MAX_AFTER_KEYS = 20_000;

  /**
   * Persons active in [from, to): whole UTC days from the bitmap index, ragged edges from raw events, except a last
   * day that starts the edge and has less of the past after {@code to} than before it (a period ending now): its
   * persons are that day's bitmap less those whose events that day all come after {@code to} (from the event timeline
   * when it is loaded, else the raw keys after {@code to} and one index probe per such person), instead of every raw
   * event since midnight (2.5-3.6 s at 6,400 events/s). The bitmap trails ingestion by one derived flush, as whole
   * days do.
   */
  Future<java.util.BitSet> active(PersonIndex.Project people, String project, Instant from, Instant to, Instant now) {
    Agg.Split s = Agg.Split.of(from, to, ChronoUnit.DAYS);
    java.util.BitSet out = s.hasMiddle()
        ? people.activeOn((int) (s.a().getEpochSecond() / 86_400), (int) (s.b().getEpochSecond() / 86_400))
        : new java.util.BitSet();
    Future<Void> done = Future.succeededFuture();
    for (Instant[] r : s.raw()) {
      boolean lastDay = r[0].equals(r[0].truncatedTo(ChronoUnit.DAYS))
          && Agg.cheaperAsComplement(r[0], r[1], now, ChronoUnit.DAYS);
      done = done.compose(v -> lastDay ? dayLessAfter(people, project, r, out) : Future.succeededFuture(false))
          .compose(complemented -> complemented ? Future.succeededFuture() : addRaw(people, project, r, out));
    }
    return done.map(v -> out);
  }

  /** Adds the persons of the raw events in [r[0], r[1]). */
  private Future<Void> addRaw(PersonIndex.Project people, String project, Instant[] r, java.util.BitSet out) {
    return index.rawKeys(project, r[0].toEpochMilli(), r[1].toEpochMilli()).map(keys -> {
      people.addKeys(out, keys);
      return null;
    });
  }

  /**
   * Adds the persons of [r[0], r[1]), r[0] a UTC midnight, as that day's bitmap less the persons whose events that day
   * all come after r[1]; false (nothing added) when more than {@link #MAX_AFTER_KEYS} persons come after it.
   */
  private Future<Boolean> dayLessAfter(PersonIndex.Project people, String project, Instant[] r, java.util.BitSet out) {
    int epochDay = (int) (r[0].getEpochSecond() / 86_400);
    long dayEnd = r[0].plus(1, ChronoUnit.DAYS).toEpochMilli();
    TimelineProject events = timeline == null ? null : timeline.project(project);
    if (events != null) {
      // the timeline holds every committed non-bot event per (identity-resolved) person: no probes
      java.util.BitSet gone = new java.util.BitSet();
      people.addKeys(gone, events.onlyAfter(r[0].toEpochMilli(), r[1].toEpochMilli(), dayEnd));
      addDayLess(people, epochDay, gone, out);
      return Future.succeededFuture(true);
    }
    return index.rawKeys(project, r[1].toEpochMilli(), dayEnd, MAX_AFTER_KEYS + 1L)
        .compose(after -> {
          if (after.size() > MAX_AFTER_KEYS) {
            LOG.debug("active persons of {} on {}: over {} persons after {}, the day is read raw", project, r[0],
                MAX_AFTER_KEYS, r[1]);
            return Future.succeededFuture(false);
          }
          return index.keysActiveIn(project, r[0].toEpochMilli(), r[1].toEpochMilli(), after).map(back -> {
            java.util.BitSet gone = new java.util.BitSet();
            people.addKeys(gone, after);
            java.util.BitSet kept = new java.util.BitSet();
            people.addKeys(kept, back);
            gone.andNot(kept);
            addDayLess(people, epochDay, gone, out);
            return true;
          });
        });
  }

  /** Adds the persons active on {@code epochDay} but not in {@code gone}. */
  private static void addDayLess(PersonIndex.Project people, int epochDay, java.util.BitSet gone,
                                 java.util.BitSet out) {
    java.util.BitSet day = people.activeOn(epochDay, epochDay + 1);
    day.andNot(gone);
    out.or(day);
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

  /**
   * count, duration sum, bounces of the sessions started in [from, to). Unfiltered: whole UTC days from
   * {@code session_days}, ragged days from the sessions themselves, except a day that has less of the past outside the
   * period than inside it (a period ending now): that day's {@code session_days} row less the sessions started in the
   * rest of the day (normally none), instead of every session started since midnight (~0.5 s at 6,400 events/s). That
   * day then trails ingestion by one derived flush, as whole days do.
   */
  Future<double[]> sessions(String project, Instant from, Instant to, Filters f, Instant now) {
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
      Agg.Split s = Agg.Split.of(from, to, ChronoUnit.DAYS);
      t = Tuple.tuple().addString(project);
      List<String> parts = new ArrayList<>();
      if (s.hasMiddle()) {
        t.addLocalDate(utcDay(s.a())).addLocalDate(utcDay(s.b()));
        parts.add("SELECT sum(sessions), sum(duration_sum), sum(bounces) FROM session_days WHERE project_id = $1 "
            + "AND day >= $" + (t.size() - 1) + " AND day < $" + t.size());
      }
      for (Instant[] r : s.raw()) {
        if (!Agg.cheaperAsComplement(r[0], r[1], now, ChronoUnit.DAYS)) {
          sessionsStarted(parts, t, r[0], r[1], "");
          continue;
        }
        Instant day = r[0].truncatedTo(ChronoUnit.DAYS);
        t.addLocalDate(utcDay(day));
        parts.add("SELECT sessions, duration_sum, bounces FROM session_days WHERE project_id = $1 AND day = $"
            + t.size());
        for (Instant[] o : Agg.restOfUnit(r[0], r[1], ChronoUnit.DAYS)) {
          sessionsStarted(parts, t, o[0], o[1], "-");
        }
      }
      sql = "SELECT coalesce(sum(n), 0)::int8, coalesce(sum(d), 0)::float8, coalesce(sum(b), 0)::int8 FROM ("
          + String.join(" UNION ALL ", parts) + ") x(n, d, b)";
    }
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Row r = rows.iterator().next();
      return new double[] {r.getLong(0), r.getDouble(1), r.getLong(2)};
    });
  }

  /** Count, duration sum and bounces of the sessions started in [a, b), with the sign {@code s}. */
  private static void sessionsStarted(List<String> parts, Tuple t, Instant a, Instant b, String s) {
    t.addOffsetDateTime(Agg.odt(a)).addOffsetDateTime(Agg.odt(b));
    parts.add("SELECT " + s + "count(*), " + s + "sum(duration_ms), " + s + "count(*) FILTER (WHERE bounce) "
        + "FROM sessions WHERE project_id = $1 AND started_at >= $" + (t.size() - 1) + " AND started_at < $"
        + t.size());
  }

  private static java.time.LocalDate utcDay(Instant i) {
    return i.atOffset(java.time.ZoneOffset.UTC).toLocalDate();
  }

  /**
   * minutes with requests, minutes with requests in which not every request failed. Unfiltered, a ragged minute that
   * has less of the past outside the period than inside it is its {@code rollup_minute} row less the raw events of the
   * rest of the minute (as {@link Agg} reads ragged minutes).
   */
  Future<double[]> uptime(String project, Instant from, Instant to, Filters f, Instant now) {
    Tuple t = Tuple.tuple().addString(project);
    List<String> parts = new ArrayList<>();
    boolean rollups = !f.any() && !f.raw();
    Agg.Split s = rollups ? Agg.Split.of(from, to, ChronoUnit.MINUTES) : new Agg.Split(from, to, to, to);
    if (s.hasMiddle()) {
      t.addOffsetDateTime(Agg.odt(s.a())).addOffsetDateTime(Agg.odt(s.b()));
      parts.add("SELECT minute, sent, errors FROM rollup_minute WHERE project_id = $1 AND minute >= $"
          + (t.size() - 1) + " AND minute < $" + t.size());
    }
    for (Instant[] r : s.raw()) {
      if (!rollups || !Agg.cheaperAsComplement(r[0], r[1], now, ChronoUnit.MINUTES)) {
        requests(parts, t, r[0], r[1], f, "");
        continue;
      }
      Instant minute = r[0].truncatedTo(ChronoUnit.MINUTES);
      t.addOffsetDateTime(Agg.odt(minute));
      parts.add("SELECT minute, sent, errors FROM rollup_minute WHERE project_id = $1 AND minute = $" + t.size());
      for (Instant[] o : Agg.restOfUnit(r[0], r[1], ChronoUnit.MINUTES)) {
        requests(parts, t, o[0], o[1], f, "-");
      }
    }
    String sql = "SELECT count(*) FILTER (WHERE sent > 0), count(*) FILTER (WHERE sent > 0 AND errors < sent) FROM ("
        + "SELECT minute, sum(sent) AS sent, sum(errors) AS errors FROM (" + String.join(" UNION ALL ", parts)
        + ") x(minute, sent, errors) GROUP BY minute) y";
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Row r = rows.iterator().next();
      return new double[] {r.getLong(0), r.getLong(1)};
    });
  }

  /** Requests and errors per minute of the raw events in [a, b), with the sign {@code s}. */
  private static void requests(List<String> parts, Tuple t, Instant a, Instant b, Filters f, String s) {
    t.addOffsetDateTime(Agg.odt(a)).addOffsetDateTime(Agg.odt(b));
    parts.add("SELECT date_trunc('minute', ts), " + s + "count(*) FILTER (WHERE type = 'message_sent'), "
        + s + "count(*) FILTER (WHERE type = 'error') FROM events WHERE project_id = $1 AND ts >= $" + (t.size() - 1)
        + " AND ts < $" + t.size() + " AND NOT is_bot AND type IN ('message_sent', 'error')"
        + Agg.filterSql(f, t, false) + " GROUP BY 1");
  }
}
