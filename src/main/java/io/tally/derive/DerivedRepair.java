package io.tally.derive;

import io.tally.metrics.TallyMetrics;
import io.tally.schema.RollupDimension;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The start-up repair: after a crash, every session, person, hour and day that events received since the watermark
 * touched is derived again from all its events ({@link RebuildSql}), whatever the flush had written of it, so the
 * derived tables equal a derivation from scratch. Identity links those events make are applied to the events first.
 * <p>
 * Keys are re-derived in chunks, each in a transaction of its own (a crash during the repair repeats it: the watermark
 * moves only at the end). A chunk PostgreSQL refuses as data is split until the refused key is alone, whose rows are
 * then inserted one at a time: a refused row is set aside ({@link DeadLetters}) and the start goes on.
 */
public final class DerivedRepair {
  private static final Logger LOG = LoggerFactory.getLogger(DerivedRepair.class);
  private static final int SESSION_BLOCK = 20_000;
  private static final int SESSION_CHUNK = 1_000;
  private static final int PERSON_CHUNK = 500;
  private static final int HOUR_CHUNK = 24;
  private static final int DAY_CHUNK = 4;
  private static final long PROGRESS_EVERY_MS = 5_000;

  private final Pool pool;
  private final DeadLetters dead;

  public DerivedRepair(Pool pool, TallyMetrics metrics) {
    this.pool = pool;
    this.dead = new DeadLetters(metrics);
  }

  /** One key of a chunk: a project and a session or person id ({@code k}), an hour ({@code t}) or a day ({@code d}). */
  private record Key(long n, String project, String k, String t, String d) {
    @Override
    public String toString() {
      return project + " | " + (k != null ? k : t != null ? t : d);
    }
  }

  /** One statement of a phase: run as is, or (with a target) its rows inserted into the target table. */
  private record Step(String sql, String target, String columns, String keys) {
    static Step run(String sql) {
      return new Step(sql, null, null, null);
    }

    static Step insert(String target, String columns, String keys, String rows) {
      return new Step(rows, target, columns, keys);
    }
  }

  /** What one kind of key re-derives, in order. */
  private record Phase(String name, List<Step> steps) {}

  private static final Phase SESSIONS = new Phase("sessions", List.of(
      Step.run(RebuildSql.SESSION_DAYS_OF_CHUNK),
      Step.run(RebuildSql.SESSIONS_DELETE),
      Step.insert("sessions", RebuildSql.SESSION_COLUMNS, "project_id,session_id", RebuildSql.SESSION_ROWS),
      Step.run(RebuildSql.SESSION_DAYS_OF_CHUNK)));

  private static final Phase SESSION_DAYS = new Phase("session days", List.of(
      Step.run(RebuildSql.SESSION_DAYS_DELETE),
      Step.insert("session_days", "project_id, day, sessions, duration_sum, bounces", "project_id,day",
          RebuildSql.SESSION_DAY_ROWS)));

  private static final Phase PERSONS = new Phase("people", List.of(
      Step.run(RebuildSql.PERSONS_DELETE),
      Step.run(RebuildSql.PERSON_EVENTS),
      Step.insert("users", RebuildSql.USER_COLUMNS, "project_id,user_key", RebuildSql.USER_ROWS),
      Step.insert("user_days", "project_id, day, user_key", "project_id,day,user_key", RebuildSql.USER_DAY_ROWS),
      Step.insert("user_daily", RebuildSql.USER_DAILY_COLUMNS,
          "project_id,user_key,day,type,provider,model,feature", RebuildSql.USER_DAILY_ROWS),
      Step.insert("touchpoints", RebuildSql.TOUCHPOINT_COLUMNS, "project_id,event_id", RebuildSql.TOUCHPOINT_ROWS)));

  /** The usage rollups' key columns after project and time (",type,provider,…"). */
  private static final String ROLLUP_KEYS = "," + RollupDimension.COLUMNS.replace(", ", ",");

  private static final Phase HOURS = new Phase("hours", List.of(
      Step.run(RebuildSql.HOURS_DELETE),
      Step.insert("rollup_hourly", RebuildSql.ROLLUP_COLUMNS.formatted("hour"), "project_id,hour" + ROLLUP_KEYS,
          RebuildSql.HOURLY_ROWS),
      Step.insert("rollup_hourly_t", RebuildSql.ROLLUP_COLUMNS.formatted("hour"), "project_id,hour,type",
          RebuildSql.HOURLY_T_ROWS),
      Step.insert("rollup_minute", RebuildSql.MINUTE_COLUMNS, "project_id,minute", RebuildSql.MINUTE_ROWS),
      Step.insert("rollup_minute_t", RebuildSql.MINUTE_T_COLUMNS, "project_id,minute,type",
          RebuildSql.MINUTE_T_ROWS)));

  private static final Phase DAYS = new Phase("days", List.of(
      Step.run(RebuildSql.DAYS_DELETE),
      Step.insert("rollup_daily", RebuildSql.ROLLUP_COLUMNS.formatted("day"), "project_id,day" + ROLLUP_KEYS,
          RebuildSql.DAILY_ROWS),
      Step.insert("rollup_daily_t", RebuildSql.ROLLUP_COLUMNS.formatted("day"), "project_id,day,type",
          RebuildSql.DAILY_T_ROWS),
      Step.insert("rollup_page_daily", RebuildSql.PAGE_COLUMNS, "project_id,day,path,type", RebuildSql.PAGE_ROWS)));

  /** Re-derives what events received since the recorded watermark touched; a no-op after a clean stop. */
  public Future<Void> run() {
    return pool.query("SELECT applied_until = 'infinity' AS clean, applied_until = '-infinity' AS all_events, "
        + "applied_until, now() AS started FROM derived_progress WHERE id = 1").execute().compose(rows -> {
          Row r = rows.iterator().next();
          OffsetDateTime started = r.getOffsetDateTime("started");
          if (r.getBoolean("clean")) {
            // the last run stopped cleanly: until the first flush, a crash must re-derive from now on
            return pool.preparedQuery("UPDATE derived_progress SET applied_until = $1 WHERE id = 1")
                .execute(Tuple.of(started)).mapEmpty();
          }
          // -infinity (an upgrade, or derived rows of unknown age): everything
          OffsetDateTime since = r.getBoolean("all_events") ? OffsetDateTime.parse("0001-01-01T00:00:00Z")
              : r.getOffsetDateTime("applied_until");
          LOG.info(r.getBoolean("all_events") ? "deriving sessions, people, touchpoints and rollups again from every "
              + "stored event (a new database, or derived tables of an earlier release)"
              : "re-deriving sessions, people, touchpoints and rollups touched by events received since {}", since);
          long t0 = System.currentTimeMillis();
          return pool.getConnection().compose(c -> repair(c, since, started).eventually(c::close))
              .compose(setAside -> pool.preparedQuery("UPDATE derived_progress SET applied_until = $1 WHERE id = 1")
                  .execute(Tuple.of(started)).map(setAside))
              .onSuccess(setAside -> LOG.info("derived tables re-derived in {} ms{}", System.currentTimeMillis() - t0,
                  setAside == 0 ? "" : "; " + setAside + " rows PostgreSQL refused were set aside (see "
                      + "derived_dead_letters)"))
              .mapEmpty();
        });
  }

  private Future<Integer> repair(SqlConnection c, OffsetDateTime since, OffsetDateTime started) {
    Tuple w = Tuple.of(since);
    // the temporary tables' "does not exist, skipping" notices are not news
    return c.query("SET client_min_messages = warning").execute()
        .compose(v -> c.query(RebuildSql.CREATE_TEMP).execute())
        .compose(v -> c.preparedQuery(RebuildSql.LINKS).execute(w))
        .compose(v -> c.preparedQuery(RebuildSql.TOUCHED).execute(w))
        .compose(t -> {
          Row r = t.iterator().next();
          LOG.info("  repair: {} sessions, {} people, {} hours touched", r.getLong(0), r.getLong(1), r.getLong(2));
          return c.preparedQuery(RebuildSql.LINKED_SINCE).execute(w);
        })
        .compose(links -> {
          Future<Void> chain = Future.succeededFuture();
          for (Row l : links) {
            String[] link = {l.getString(0), l.getString(1), l.getString(2)};
            chain = chain.compose(v -> relink(c, link));
          }
          return chain;
        })
        .compose(v -> c.query(RebuildSql.DAYS_OF_HOURS).execute())
        .compose(v -> sessions(c))
        .compose(v -> c.query("DROP TABLE IF EXISTS rb_sdays_n; CREATE TEMP TABLE rb_sdays_n AS SELECT row_number() "
            + "OVER (ORDER BY project_id, d) AS n, project_id, d FROM (SELECT DISTINCT project_id, d FROM rb_sdays) x")
            .execute())
        .compose(v -> phase(c, SESSION_DAYS, "rb_sdays_n", "project_id, NULL::text, NULL::text, d::text", "true"))
        .compose(v -> phase(c, PERSONS, "rb_persons", "project_id, k, NULL::text, NULL::text", "true"))
        .compose(v -> phase(c, HOURS, "rb_hours", "project_id, NULL::text, t::text, NULL::text", "true"))
        .compose(v -> phase(c, DAYS, "rb_days", "project_id, NULL::text, NULL::text, d::text", "true"))
        .compose(v -> dead.report(c, "repair", started));
  }

  /** A link's events go to its user; the sessions holding them and both persons are derived again. */
  private Future<Void> relink(SqlConnection c, String[] link) {
    return c.preparedQuery(RebuildSql.MERGE_EVENTS).execute(Tuple.of(link[0], link[1], link[2]))
        .compose(rows -> {
          List<String> sessions = new ArrayList<>();
          rows.forEach(r -> sessions.add(r.getString(0)));
          return c.preparedQuery(RebuildSql.TOUCHED_BY_LINK).execute(Tuple.of(link[0],
              sessions.toArray(String[]::new), link[1], link[2]));
        })
        .<Void>mapEmpty()
        .recover(err -> DerivedErrors.causedByRows(err)
            ? dead.setAside(c, "repair",
                new String[] {"identities", link[0], link[0] + " | " + link[1] + " -> " + link[2]}, err, null)
            : Future.failedFuture(err));
  }

  /** Sessions, a block at a time: one scan of the events reads every session of the block. */
  private Future<Void> sessions(SqlConnection c) {
    return c.query("SELECT coalesce(max(n), 0) FROM rb_sessions").execute().compose(r -> {
      long total = r.iterator().next().getLong(0);
      Progress progress = new Progress("sessions", total);
      Future<Void> chain = Future.succeededFuture();
      for (long from = 1; from <= total; from += SESSION_BLOCK) {
        long a = from;
        long b = Math.min(total, from + SESSION_BLOCK - 1);
        chain = chain
            .compose(v -> c.query("DROP TABLE IF EXISTS rb_sev").execute())
            .compose(v -> c.query(RebuildSql.SESSION_EVENTS.replace("$1", Long.toString(a)).replace("$2",
                Long.toString(b))).execute())
            .compose(v -> c.query("CREATE INDEX ON rb_sev (project_id, session_id); ANALYZE rb_sev").execute())
            .compose(v -> chunks(c, SESSIONS, "rb_sessions", "project_id, k, NULL::text, NULL::text",
                "n BETWEEN " + a + " AND " + b, SESSION_CHUNK, progress, 0));
      }
      return chain.compose(v -> c.query("DROP TABLE IF EXISTS rb_sev").execute()).mapEmpty();
    });
  }

  private Future<Void> phase(SqlConnection c, Phase p, String table, String columns, String where) {
    int chunk = p == PERSONS ? PERSON_CHUNK : p == HOURS ? HOUR_CHUNK : p == DAYS ? DAY_CHUNK : DAY_CHUNK * 10;
    return c.query("SELECT count(*) FROM " + table).execute().compose(r -> chunks(c, p, table, columns, where, chunk,
        new Progress(p.name(), r.iterator().next().getLong(0)), 0));
  }

  /** Reads the phase's keys a chunk at a time (by their ordinal {@code n}) and re-derives each chunk. */
  private Future<Void> chunks(SqlConnection c, Phase p, String table, String columns, String where, int size,
                              Progress progress, long after) {
    // hours and days travel as PostgreSQL's own text (a stored time before year 1, however odd, reads back)
    return c.query("SELECT n, " + columns + " FROM " + table + " WHERE " + where + " AND n > " + after
        + " ORDER BY n LIMIT " + size).execute().compose(rows -> {
          List<Key> keys = new ArrayList<>(rows.size());
          for (Row r : rows) {
            keys.add(new Key(r.getLong(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4)));
          }
          if (keys.isEmpty()) {
            progress.done();
            return Future.succeededFuture();
          }
          return derive(c, p, keys).compose(v -> {
            progress.advance(keys.size());
            return chunks(c, p, table, columns, where, size, progress, keys.get(keys.size() - 1).n());
          });
        });
  }

  /** One chunk in one transaction; refused as data, it is split until the refused key is alone. */
  private Future<Void> derive(SqlConnection c, Phase p, List<Key> keys) {
    return DerivedRepair.<Void>inTx(c, () -> fill(c, keys).compose(v -> steps(c, p, 0, false))).recover(err -> {
      if (!DerivedErrors.causedByRows(err)) {
        return Future.failedFuture(err);
      }
      if (keys.size() > 1) {
        int half = keys.size() / 2;
        return derive(c, p, keys.subList(0, half)).compose(v -> derive(c, p, keys.subList(half, keys.size())));
      }
      // one key: its rows one at a time, so that only the refused ones are set aside
      return DerivedRepair.<Void>inTx(c, () -> fill(c, keys).compose(v -> steps(c, p, 0, true))).recover(again ->
          DerivedErrors.causedByRows(again)
              ? dead.setAside(c, "repair", new String[] {p.name(), keys.get(0).project(), keys.get(0).toString()},
                  again, null)
              : Future.<Void>failedFuture(again));
    });
  }

  private Future<Void> steps(SqlConnection c, Phase p, int i, boolean oneByOne) {
    if (i == p.steps().size()) {
      return Future.succeededFuture();
    }
    Step s = p.steps().get(i);
    Future<?> f;
    if (s.target() == null) {
      f = c.query(s.sql()).execute();
    } else if (!oneByOne) {
      f = c.query("INSERT INTO " + s.target() + " (" + s.columns() + ") " + s.sql()).execute();
    } else {
      f = c.preparedQuery("SELECT tally_insert_each($1, $2, $3, $4, 'repair')")
          .execute(Tuple.of(s.target(), s.columns(), s.keys().split(","), s.sql()));
    }
    return f.compose(v -> steps(c, p, i + 1, oneByOne));
  }

  private static Future<Void> fill(SqlConnection c, List<Key> keys) {
    int n = keys.size();
    String[] p = new String[n];
    String[] k = new String[n];
    String[] t = new String[n];
    String[] d = new String[n];
    for (int i = 0; i < n; i++) {
      Key x = keys.get(i);
      p[i] = x.project();
      k[i] = x.k();
      t[i] = x.t();
      d[i] = x.d();
    }
    return c.query("TRUNCATE rb_chunk").execute()
        .compose(v -> c.preparedQuery("INSERT INTO rb_chunk (project_id, k, t, d) SELECT * FROM unnest($1::text[], "
            + "$2::text[], $3::text[]::timestamptz[], $4::text[]::date[])").execute(Tuple.tuple().addArrayOfString(p)
            .addArrayOfString(k).addArrayOfString(t).addArrayOfString(d)))
        .mapEmpty();
  }

  private static <T> Future<T> inTx(SqlConnection c, Supplier<Future<T>> work) {
    return c.begin().compose(tx -> work.get()
        .compose(v -> tx.commit().map(v), err -> tx.rollback().transform(ar -> Future.<T>failedFuture(err))));
  }

  /** Logs a phase's progress every few seconds (a repair after an upgrade can take minutes). */
  private static final class Progress {
    private final String what;
    private final long total;
    private long doneKeys;
    private long lastLog = System.currentTimeMillis();

    Progress(String what, long total) {
      this.what = what;
      this.total = total;
    }

    void advance(int n) {
      doneKeys += n;
      if (System.currentTimeMillis() - lastLog >= PROGRESS_EVERY_MS) {
        lastLog = System.currentTimeMillis();
        LOG.info("  repair: {} {} of {} ({} %)", what, doneKeys, total, total == 0 ? 100 : doneKeys * 100 / total);
      }
    }

    void done() {
      if (total > 0 && doneKeys == total) {
        LOG.info("  repair: {} done ({})", what, doneKeys);
      }
    }
  }

}
