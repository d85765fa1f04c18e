package io.tally.store;

import io.tally.event.Event;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Keeps sessions, people, touchpoints and identity links up to date from committed events, off the ingest
 * statement: events are aggregated in memory (a user's events coalesce into one row per flush) and written by one
 * statement per flush. Runs on a context of its own ({@link DerivedVerticle}), fed by the writer's commits. A crash
 * between a commit and the next flush loses nothing: the flush records a watermark, and {@link #repair} re-derives
 * events received since it at start.
 */
public final class DerivedUpdater {
  private static final Logger LOG = LoggerFactory.getLogger(DerivedUpdater.class);
  /** Slack between the receipt clock of the events and the watermark. */
  private static final long WATERMARK_MARGIN_MS = 5_000;

  private final Pool pool;
  /** The writer's oldest uncommitted receipt time (ms; MAX_VALUE: none), answered on this updater's context. */
  private final Supplier<Future<Long>> writerOldestPendingMs;
  private Batch current = new Batch();
  private Batch failed;
  private final List<String[]> pendingMerges = new ArrayList<>();
  private boolean flushing;
  /**
   * Person-days this process already stored in {@code user_days} (by UTC day, the two latest days only): not sent
   * again (under a load where nearly every event is a different person, each one was an index probe per event for
   * a row that was already there). Forgotten whenever something else rewrites the table ({@link #forgetStored}).
   */
  private final java.util.TreeMap<Long, java.util.Set<DayKey>> knownDays = new java.util.TreeMap<>();
  private static final int MAX_KNOWN_DAYS = 300_000;
  /**
   * What this process stored of each session ({@code project \u0001 session}): which of context, country, device
   * type, browser and attribution (bits 0–4) it has (the upsert keeps a stored value, so those are not sent, nor parsed
   * as JSON, again), its start and its ids, which tell whether newer events may wait ({@link #waitingSessions}).
   * Forgotten with the known person-days ({@link #forgetStored}).
   */
  private final Map<String, KnownSession> knownSessions = new HashMap<>();
  private static final int MAX_KNOWN_SESSIONS = 200_000;

  /**
   * People whose row this process stored, with the earliest event time it sent for them ({@code project \u0001 key}):
   * newer events of such a person that bring nothing but a later time and a count may wait
   * ({@link #waitingPeople}). Forgotten with the known person-days.
   */
  private final Map<String, Long> knownPeople = new HashMap<>();
  private static final int MAX_KNOWN_PEOPLE = 300_000;
  /**
   * Stored people and sessions whose newer events change only what may be written late, waiting up to
   * {@code writer.derivedRefreshMs}: written sooner with any other change to their row, a bounded number at a time by
   * a flush of few events, and all on {@link #sync}.
   */
  private final WaitingRows<PersonAgg> waitingPeople;
  private final WaitingRows<SessionAgg> waitingSessions;
  private static final int MAX_WAITING = 200_000;
  /** Rows wait only in a flush of at least this many events (1,000 per 500 ms flush: 2,000 events/s). */
  static final int MIN_WAIT_EVENTS = 1_000;
  /**
   * How many waiting rows of each table a flush under {@link #MIN_WAIT_EVENTS} writes beyond the due ones, oldest
   * first. Unbounded, a lull of a second under load (a client reconnecting, a pause between bursts) wrote every waiting
   * row at once: ~60,000 people and ~60,000 sessions at 6,000 events/s, a flush of 6–8 s whose CPU the ingest commits
   * then waited for (ack p99 0.3–0.8 s in the seconds after it, against ~0.1 s otherwise).
   */
  static final int QUIET_FLUSH_ROWS = 2_000;
  private final int minWaitEvents;
  /** Callers of {@link #sync} waiting for a flush that writes every waiting row. */
  private final List<io.vertx.core.Promise<Void>> syncWaiters = new ArrayList<>();
  private boolean syncRequested;

  private final io.tally.metrics.TallyMetrics metrics;
  /** The waiting rows' counts for the gauges, read from the metrics thread. */
  private volatile int peopleWaiting;
  private volatile int sessionsWaiting;
  /** Receipt time of the oldest stored event not yet in a committed flush (waiting rows aside); MAX_VALUE: none. */
  private volatile long behindSinceMs = Long.MAX_VALUE;

  private final java.util.function.Consumer<JsonObject> flushed;

  /** For tests: rows may wait in a flush of at least {@code minWaitEvents} events. */
  DerivedUpdater(Pool pool, LongSupplier writerOldestPendingMs, long refreshMs, int minWaitEvents,
                 java.util.function.Consumer<JsonObject> flushed) {
    this(pool, () -> Future.succeededFuture(writerOldestPendingMs.getAsLong()), refreshMs, minWaitEvents,
        io.tally.metrics.TallyMetrics.NOOP, flushed);
  }

  /** For tests: the writer's answer as the given futures (an updater on its own context asks asynchronously). */
  static DerivedUpdater askingWriter(Pool pool, Supplier<Future<Long>> writerOldestPendingMs, long refreshMs,
                                     int minWaitEvents, java.util.function.Consumer<JsonObject> flushed) {
    return new DerivedUpdater(pool, writerOldestPendingMs, refreshMs, minWaitEvents,
        io.tally.metrics.TallyMetrics.NOOP, flushed);
  }

  /**
   * @param refreshMs how long a stored person's or session's newer events may wait to be written (0: never)
   * @param flushed   told after each flush {projects: {id: earliest event time ms}, days, people, personDays (what the
   *                  flush added to each person-day, {@link PersonDayDeltas})}, and after each identity merge {merged,
   *                  merges} (the query cache invalidates from it)
   */
  public DerivedUpdater(Pool pool, Supplier<Future<Long>> writerOldestPendingMs, long refreshMs,
                        io.tally.metrics.TallyMetrics metrics, java.util.function.Consumer<JsonObject> flushed) {
    this(pool, writerOldestPendingMs, refreshMs, MIN_WAIT_EVENTS, metrics, flushed);
  }

  private DerivedUpdater(Pool pool, Supplier<Future<Long>> writerOldestPendingMs, long refreshMs, int minWaitEvents,
                         io.tally.metrics.TallyMetrics metrics, java.util.function.Consumer<JsonObject> flushed) {
    this.pool = pool;
    this.minWaitEvents = minWaitEvents;
    this.writerOldestPendingMs = writerOldestPendingMs;
    this.waitingPeople = new WaitingRows<>(refreshMs, MAX_WAITING);
    this.waitingSessions = new WaitingRows<>(refreshMs, MAX_WAITING);
    this.metrics = metrics;
    this.flushed = flushed;
    metrics.derivedWaitingGauge("users", () -> peopleWaiting);
    metrics.derivedWaitingGauge("sessions", () -> sessionsWaiting);
    metrics.derivedLagGauge(() -> {
      long since = behindSinceMs;
      return since == Long.MAX_VALUE ? 0 : Math.max(0, System.currentTimeMillis() - since) / 1000.0;
    });
  }

  /** Adds the newly stored (non-duplicate) events of a committed batch. */
  public void accept(List<Event> stored) {
    for (Event e : stored) {
      current.add(e);
    }
    if (behindSinceMs == Long.MAX_VALUE && !stored.isEmpty()) {
      behindSinceMs = current.oldestReceivedMs;
    }
  }

  public boolean idle() {
    return !flushing && current.isEmpty() && failed == null && pendingMerges.isEmpty()
        && waitingPeople.isEmpty() && waitingSessions.isEmpty();
  }

  /**
   * Completes once a flush has written everything received so far, the waiting people and sessions included (the
   * person export reads them; a deletion's second sweep must find what they would write).
   */
  public Future<Void> sync() {
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    syncWaiters.add(p);
    syncRequested = true;
    flush();
    return p.future();
  }

  /** People waiting to be written. */
  int waitingPeople() {
    return waitingPeople.size();
  }

  /** Sessions waiting to be written. */
  int waitingSessions() {
    return waitingSessions.size();
  }

  /** Writes what was accumulated; a failed flush is retried first next time. */
  public Future<Void> flush() {
    if (flushing) {
      return Future.succeededFuture();
    }
    Batch batch;
    if (failed != null) {
      batch = failed;
      failed = null;
    } else {
      batch = current;
      current = new Batch();
    }
    List<io.vertx.core.Promise<Void>> waiters = List.of();
    if (syncRequested) {
      syncRequested = false;
      waiters = new ArrayList<>(syncWaiters);
      syncWaiters.clear();
    }
    scheduleWaiting(batch, !waiters.isEmpty());
    List<io.vertx.core.Promise<Void>> synced = waiters;
    if (batch.isEmpty()) {
      if (pendingMerges.isEmpty()) {
        synced.forEach(io.vertx.core.Promise::complete);
        return Future.succeededFuture();
      }
      flushing = true;
      return mergePending().onComplete(ar -> {
        flushing = false;
        synced.forEach(io.vertx.core.Promise::complete);
      });
    }
    flushing = true;
    // the writer's answer arrives after every batch it handed over before answering, so read what this updater
    // holds (current) only then
    return writerOldestPendingMs.get().compose(writerOldest -> {
      long oldest = Math.min(Math.min(batch.oldestReceivedMs, current.oldestReceivedMs), writerOldest);
      // the waiting rows' events are not in the derived tables yet: a crash must re-derive from them on
      oldest = Math.min(oldest, Math.min(waitingPeople.oldestReceivedMs(), waitingSessions.oldestReceivedMs()));
      long watermark = (oldest == Long.MAX_VALUE ? System.currentTimeMillis() : oldest) - WATERMARK_MARGIN_MS;
      batch.days.removeIf(k -> knownDays.getOrDefault(k.epochDay(), java.util.Set.of()).contains(k));
      return pool.preparedQuery(DerivedSql.FLUSH).execute(batch.withRollups(batch.tuple(watermark, knownSessions)));
    })
        .map(out -> {
          remember(batch.days);
          rememberSessions(batch.sessions);
          rememberPeople(batch.people);
          metrics.derivedWritten("users", batch.people.size());
          metrics.derivedWritten("sessions", batch.sessions.size());
          JsonArray days = new JsonArray();
          JsonArray people = new JsonArray();
          PersonDayDeltas.Builder deltas = new PersonDayDeltas.Builder();
          long xid = 0;
          for (var r : out) {
            switch (r.getString(0)) {
              // what the flush added to a person-day (the pattern index adds it): a per-person rollup row…
              case "u" -> deltas.rollup(r.getString(1), r.getString(2), r.getInteger(4), r.getString(3),
                  r.getString(6), r.getString(7), r.getString(8), r.getLong(5), r.getDouble(9), r.getDouble(10),
                  r.getDouble(11));
              // …or sessions started that day (count and duration)
              case "v" -> deltas.sessions(r.getString(1), r.getString(2), r.getInteger(4), r.getLong(5),
                  r.getDouble(9));
              case "x" -> xid = r.getLong(5);
              case "l" -> pendingMerges.add(new String[] {r.getString(1), r.getString(2), r.getString(3)});
              case "d" -> days.add(new JsonArray().add(r.getString(1)).add(r.getInteger(4)).add(r.getString(2)));
              // a session extended by these events counts (whole) in periods holding its start
              case "s" -> batch.minTsByProject.merge(r.getString(1), r.getLong(5), Math::min);
              default -> people.add(new JsonArray().add(r.getString(1)).add(r.getString(2)).add(r.getLong(5)));
            }
          }
          JsonObject projects = new JsonObject();
          batch.minTsByProject.forEach(projects::put);
          flushed.accept(new JsonObject().put("projects", projects).put("days", days).put("people", people)
              .put("personDays", deltas.build(xid)));
          return null;
        })
        .onFailure(err -> {
          LOG.warn("derived tables flush failed, will retry: {}", err.toString());
          failed = batch;
        })
        // identity merges run after the flush that recorded the links; a failed one is retried after the next flush
        // (never by re-running the flush, whose rollup additions must apply once)
        .transform(ar -> mergePending())
        .onComplete(ar -> {
          flushing = false;
          behindSinceMs = failed != null ? Math.min(failed.oldestReceivedMs, current.oldestReceivedMs)
              : current.oldestReceivedMs;
          // after the commit: rows moved into the flush count as waiting until they are written
          peopleWaiting = waitingPeople.size() + (failed == null ? 0 : failed.people.size());
          sessionsWaiting = waitingSessions.size() + (failed == null ? 0 : failed.sessions.size());
          if (failed != null && !synced.isEmpty()) {
            // the waiting people are in the failed batch: the next flush retries it first
            syncWaiters.addAll(synced);
            syncRequested = true;
          } else {
            synced.forEach(io.vertx.core.Promise::complete);
          }
        })
        .mapEmpty();
  }

  /**
   * Sorts the batch's people and sessions: a stored one whose events change only what may be written late waits; any
   * other is written now, with what of it was waiting. Then adds to the batch the waiting ones that are due (waiting
   * for {@code writer.derivedRefreshMs}). When the batch is small (under {@link #MIN_WAIT_EVENTS} events: light traffic,
   * a lull) none of its rows waits, and up to {@link #QUIET_FLUSH_ROWS} more waiting rows of each table are written;
   * with {@code all} (a sync, a graceful stop) every waiting row is.
   */
  private void scheduleWaiting(Batch batch, boolean all) {
    long now = System.currentTimeMillis();
    // below this many events a flush waits for nothing: light traffic keeps every row current, as without waiting;
    // what waited from heavier traffic before is written a bounded number at a time, so that a lull does not write it
    // all in one statement
    boolean quiet = batch.isEmpty() || batch.events < minWaitEvents;
    int beyondDue = all ? Integer.MAX_VALUE : quiet ? QUIET_FLUSH_ROWS : 0;
    // in a quiet flush or a sync the batch's own rows are written (with what of them waited), none starts to wait
    boolean mayWait = !quiet && !all;
    waitingPeople.sort(batch.people, batch.oldestReceivedMs, now, (key, p) -> {
      Long known = knownPeople.get(key);
      return mayWait && known != null && p.firstMs >= known && p.traits == null && p.firstTouch == null;
    });
    waitingSessions.sort(batch.sessions, batch.oldestReceivedMs, now, (key, s) -> {
      KnownSession known = knownSessions.get(key);
      return mayWait && known != null && s.onlyLater(known);
    });
    waitingPeople.due(batch.people, now, beyondDue,
        p -> batch.minPersonMs = Math.min(batch.minPersonMs, p.firstMs));
    waitingSessions.due(batch.sessions, now, beyondDue, x -> { });
  }

  private void rememberPeople(Map<String, PersonAgg> stored) {
    if (knownPeople.size() + stored.size() > MAX_KNOWN_PEOPLE) {
      knownPeople.clear();
    }
    stored.forEach((key, p) -> {
      // replaced only when earlier: a new value in an old map entry is one more old-to-young reference for the
      // collector to scan, for every person at every flush
      Long known = knownPeople.get(key);
      if (known == null || p.firstMs < known) {
        knownPeople.put(key, p.firstMs);
      }
    });
  }

  private void remember(java.util.Set<DayKey> stored) {
    for (DayKey k : stored) {
      knownDays.computeIfAbsent(k.epochDay(), d -> new java.util.HashSet<>()).add(k);
    }
    while (knownDays.size() > 2) {
      knownDays.pollFirstEntry();
    }
    if (knownDays.values().stream().mapToInt(java.util.Set::size).sum() > MAX_KNOWN_DAYS) {
      knownDays.clear();
    }
  }

  private void rememberSessions(Map<String, SessionAgg> stored) {
    if (knownSessions.size() + stored.size() > MAX_KNOWN_SESSIONS) {
      knownSessions.clear();
    }
    stored.forEach((key, s) -> {
      KnownSession k = knownSessions.get(key);
      if (k == null) {
        knownSessions.put(key, new KnownSession(s));
      } else {
        // updated in place: no new object in an old entry for the collector to scan
        k.add(s);
      }
    });
  }

  /**
   * Something other than this updater changed the derived tables (a deletion, a merge, retention): send every
   * person-day and session field again.
   */
  public void forgetStored() {
    knownDays.clear();
    knownSessions.clear();
    knownPeople.clear();
  }

  private Future<Void> mergePending() {
    if (pendingMerges.isEmpty()) {
      return Future.succeededFuture();
    }
    String[] link = pendingMerges.get(0);
    return pool.preparedQuery(EventBatchSql.MERGE_IDENTITY).execute(Tuple.of(link[0], link[1], link[2]))
        .compose(r -> {
          pendingMerges.remove(0);
          flushed.accept(new JsonObject().put("merged", new JsonArray().add(link[0]))
              .put("merges", new JsonArray().add(new JsonArray().add(link[0]).add(link[1]).add(link[2]))));
          return mergePending();
        }, err -> {
          LOG.warn("identity merge {} -> {} failed, will retry: {}", link[1], link[2], err.toString());
          return Future.succeededFuture();
        });
  }

  /** After a graceful drain (nothing pending anywhere): nothing received so far needs re-deriving. */
  public Future<Void> markClean() {
    return pool.query("UPDATE derived_progress SET applied_until = 'infinity' WHERE id = 1").execute().mapEmpty();
  }

  /** One repair statement, logged with its row count and time (a large repair takes minutes). */
  private static Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> step(io.vertx.sqlclient.SqlConnection c,
                                                                              String what, String sql, Tuple p) {
    long start = System.currentTimeMillis();
    Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> f = p == null ? c.query(sql).execute()
        : c.preparedQuery(sql).execute(p);
    return f.onSuccess(r -> LOG.info("  repair: {} — {} rows in {} ms", what, r.rowCount(),
        System.currentTimeMillis() - start));
  }

  /** Re-derives, idempotently, everything touched by events received since the last recorded watermark. */
  public static Future<Void> repair(Pool pool) {
    return pool.query("SELECT applied_until = 'infinity' AS clean, applied_until FROM derived_progress WHERE id = 1")
        .execute().compose(rows -> {
      if (rows.size() == 0 || rows.iterator().next().getBoolean("clean")) {
        // first start, or the last run stopped cleanly: until the first flush, a crash must re-derive from now on
        return pool.query("UPDATE derived_progress SET applied_until = now() WHERE id = 1").execute().mapEmpty();
      }
      OffsetDateTime since = rows.iterator().next().getOffsetDateTime("applied_until");
      Tuple p = Tuple.of(since);
      long start = System.currentTimeMillis();
      LOG.info("re-deriving sessions, people, touchpoints and rollups from events received since {}", since);
      return pool.withTransaction(c -> step(c, "identity links", DerivedSql.REPAIR_LINKS, p)
              .compose(v -> step(c, "sessions", DerivedSql.REPAIR_SESSIONS, p))
              .compose(v -> step(c, "people", DerivedSql.REPAIR_PEOPLE, p))
              .compose(v -> step(c, "touchpoints", DerivedSql.REPAIR_TOUCHPOINTS, p))
              .compose(v -> c.query(DerivedSql.REPAIR_TOUCHED).execute())
              .compose(v -> step(c, "touched hours", DerivedSql.REPAIR_FILL_TOUCHED, p))
              .compose(v -> c.query("ANALYZE repair_hours").execute())
              .compose(v -> c.query(DerivedSql.REPAIR_DELETE_HOURLY).execute())
              .compose(v -> c.query(DerivedSql.REPAIR_DELETE_MINUTES).execute())
              .compose(v -> step(c, "hourly rollup", DerivedSql.REPAIR_HOURLY, null))
              .compose(v -> step(c, "minute rollup", DerivedSql.REPAIR_MINUTES, null))
              .compose(v -> step(c, "minute type rollup", DerivedSql.REPAIR_MINUTES_T, null))
              .compose(v -> c.query(DerivedSql.REPAIR_PAGES_DELETE).execute())
              .compose(v -> step(c, "page rollup", DerivedSql.REPAIR_PAGES_FILL, null))
              .compose(v -> c.query(DerivedSql.REPAIR_DAILY).execute())
              .compose(v -> step(c, "daily rollup", DerivedSql.REPAIR_DAILY_FILL, null))
              .compose(v -> c.query(DerivedSql.REPAIR_TYPE_ROLLUPS_DELETE).execute())
              .compose(v -> step(c, "type rollups", DerivedSql.REPAIR_TYPE_ROLLUPS_FILL, null))
              .compose(v -> step(c, "active days", DerivedSql.REPAIR_USER_DAYS, p))
              .compose(v -> c.query(DerivedSql.REPAIR_USER_DAILY_DELETE).execute())
              .compose(v -> step(c, "per-person daily rollup", DerivedSql.REPAIR_USER_DAILY_FILL, null))
              .compose(v -> c.query(DerivedSql.REPAIR_SESSION_DAYS_DELETE).execute())
              .compose(v -> step(c, "session days", DerivedSql.REPAIR_SESSION_DAYS_FILL, null))
              .compose(v -> c.preparedQuery(DerivedSql.RELINK_SINCE).execute(p)))
          .compose(links -> {
            Future<Void> chain = Future.succeededFuture();
            for (var r : links) {
              Tuple link = Tuple.of(r.getString(0), r.getString(1), r.getString(2));
              chain = chain.compose(v -> pool.preparedQuery(EventBatchSql.MERGE_IDENTITY).execute(link).mapEmpty());
            }
            return chain;
          })
          .compose(v -> pool.query("UPDATE derived_progress SET applied_until = now() WHERE id = 1").execute())
          .onSuccess(v -> LOG.info("derived tables re-derived from events received since {} ({} ms)", since,
              System.currentTimeMillis() - start))
          .mapEmpty();
    });
  }

  /** One flush worth of aggregates. */
  private static final class Batch {
    final Map<String, SessionAgg> sessions = new HashMap<>();
    final Map<String, PersonAgg> people = new HashMap<>();
    final List<Event> touches = new ArrayList<>();
    final List<String[]> links = new ArrayList<>();
    final List<Instant> linkTimes = new ArrayList<>();
    final Map<HourKey, HourAgg> hours = new HashMap<>();
    final Map<MinuteKey, long[]> minutes = new HashMap<>();
    final Map<MinuteTypeKey, HourAgg> minuteTypes = new HashMap<>();
    final Map<PageDayKey, HourAgg> pages = new HashMap<>();
    final java.util.Set<DayKey> days = new java.util.HashSet<>();
    final Map<PersonDayKey, HourAgg> personDays = new HashMap<>();
    final Map<String, Long> minTsByProject = new HashMap<>();
    long oldestReceivedMs = Long.MAX_VALUE;
    /** Events added. */
    int events;
    /** The earliest event time of the batch's people (bounds the first_seen values the flush can set). */
    long minPersonMs = Long.MAX_VALUE;

    boolean isEmpty() {
      return sessions.isEmpty() && people.isEmpty() && touches.isEmpty() && links.isEmpty() && hours.isEmpty();
    }

    void rollup(Event e, Event.Enrichment en) {
      long t = e.timestamp().toEpochMilli();
      minTsByProject.merge(e.projectId(), t, Math::min);
      Event.Measures m = e.measures() == null ? Event.Measures.NONE : e.measures();
      HourKey hk = new HourKey(e.projectId(), Math.floorDiv(t, 3_600_000L) * 3_600_000L, e.type(),
          nz(m.provider()), nz(m.model()), nz(en.country()), nz(en.deviceType()), nz(en.browser()));
      hours.computeIfAbsent(hk, k -> new HourAgg()).add(m);
      minuteTypes.computeIfAbsent(new MinuteTypeKey(e.projectId(), Math.floorDiv(t, 60_000L) * 60_000L, e.type()),
          k -> new HourAgg()).add(m);
      String path = e.client() == null ? null : e.client().pagePath();
      pages.computeIfAbsent(new PageDayKey(e.projectId(), Math.floorDiv(t, 86_400_000L), nz(path), e.type()),
          k -> new HourAgg()).add(m);
      boolean sent = "message_sent".equals(e.type());
      if (sent || "error".equals(e.type())) {
        long[] c = minutes.computeIfAbsent(new MinuteKey(e.projectId(), Math.floorDiv(t, 60_000L) * 60_000L),
            k -> new long[2]);
        c[sent ? 0 : 1]++;
      }
      if (e.actor() != null) {
        long day = Math.floorDiv(t, 86_400_000L);
        String anon = e.userId() == null ? e.anonymousId() : null;
        days.add(new DayKey(e.projectId(), day, e.userId(), anon));
        personDays.computeIfAbsent(new PersonDayKey(e.projectId(), day, e.userId(), anon, e.type(), nz(m.provider()),
            nz(m.model()), "feature_used".equals(e.type()) ? feature(e) : ""), k -> new HourAgg()).add(m);
      }
    }

    void add(Event e) {
      oldestReceivedMs = Math.min(oldestReceivedMs, e.receivedAt().toEpochMilli());
      events++;
      if ("identify".equals(e.type()) && e.anonymousId() != null && e.userId() != null) {
        links.add(new String[] {e.projectId(), e.anonymousId(), e.userId()});
        linkTimes.add(e.timestamp());
      } else if ("alias".equals(e.type()) && e.userId() != null && e.client().previousId() != null) {
        links.add(new String[] {e.projectId(), e.client().previousId(), e.userId()});
        linkTimes.add(e.timestamp());
      }
      if (e.bot()) {
        return;
      }
      Event.Enrichment en = e.enrichment() == null ? Event.Enrichment.NONE : e.enrichment();
      if (e.sessionId() != null) {
        sessions.computeIfAbsent(e.projectId() + '\u0001' + e.sessionId(), k -> new SessionAgg(e)).add(e, en);
      }
      rollup(e, en);
      String person = e.actor();
      if (person != null) {
        minPersonMs = Math.min(minPersonMs, e.timestamp().toEpochMilli());
        people.computeIfAbsent(e.projectId() + '\u0001' + person, k -> new PersonAgg(e)).add(e, en);
        if (en.attributionJson() != null) {
          touches.add(e);
        }
      }
    }

    Tuple tuple(long watermarkMs, Map<String, KnownSession> knownSessions) {
      int n = sessions.size();
      String[] sp = new String[n], sid = new String[n], su = new String[n], sa = new String[n];
      OffsetDateTime[] ss = new OffsetDateTime[n], se = new OffsetDateTime[n];
      Integer[] sc = new Integer[n], spg = new Integer[n];
      String[] sentry = new String[n], sexit = new String[n], sctx = new String[n], sattr = new String[n];
      String[] scountry = new String[n], sdev = new String[n], sbr = new String[n];
      Boolean[] ssrv = new Boolean[n];
      int i = 0;
      for (Map.Entry<String, SessionAgg> x : sessions.entrySet()) {
        SessionAgg s = x.getValue();
        KnownSession ks = knownSessions.get(x.getKey());
        int known = ks == null ? 0 : ks.fields;
        sp[i] = s.project;
        sid[i] = s.session;
        su[i] = s.user;
        sa[i] = s.anon;
        ss[i] = odt(s.firstMs);
        se[i] = odt(s.lastMs);
        sc[i] = s.count;
        spg[i] = s.pages;
        sentry[i] = s.entry;
        sexit[i] = s.exit;
        // what the session already has stored stays as it is: not sent again
        sctx[i] = (known & 1) != 0 ? null : s.context;
        scountry[i] = (known & 2) != 0 ? null : s.country;
        sdev[i] = (known & 4) != 0 ? null : s.device;
        sbr[i] = (known & 8) != 0 ? null : s.browser;
        sattr[i] = (known & 16) != 0 ? null : s.attribution;
        ssrv[i] = s.serverAssigned;
        i++;
      }
      int m = people.size();
      String[] pp = new String[m], pu = new String[m], pa = new String[m], ptr = new String[m];
      String[] pft = new String[m], plt = new String[m];
      OffsetDateTime[] pf = new OffsetDateTime[m], pl = new OffsetDateTime[m];
      Long[] pc = new Long[m];
      int j = 0;
      for (PersonAgg p : people.values()) {
        pp[j] = p.project;
        pu[j] = p.user;
        pa[j] = p.anon;
        pf[j] = odt(p.firstMs);
        pl[j] = odt(p.lastMs);
        pc[j] = p.count;
        ptr[j] = p.traits;
        pft[j] = p.firstTouch;
        plt[j] = p.lastTouch;
        j++;
      }
      int k = touches.size();
      String[] tp = new String[k], tu = new String[k], ta = new String[k], tt = new String[k], tat = new String[k];
      OffsetDateTime[] tts = new OffsetDateTime[k];
      UUID[] tid = new UUID[k];
      for (int x = 0; x < k; x++) {
        Event e = touches.get(x);
        tp[x] = e.projectId();
        tu[x] = e.userId();
        ta[x] = e.anonymousId();
        tts[x] = odt(e.timestamp().toEpochMilli());
        tt[x] = e.type();
        tat[x] = e.enrichment().attributionJson();
        tid[x] = e.id();
      }
      int l = links.size();
      String[] lp = new String[l], la = new String[l], lu = new String[l];
      OffsetDateTime[] lt = new OffsetDateTime[l];
      for (int x = 0; x < l; x++) {
        lp[x] = links.get(x)[0];
        la[x] = links.get(x)[1];
        lu[x] = links.get(x)[2];
        lt[x] = odt(linkTimes.get(x).toEpochMilli());
      }
      return Tuple.tuple()
          .addArrayOfString(sp).addArrayOfString(sid).addArrayOfString(su).addArrayOfString(sa)
          .addArrayOfOffsetDateTime(ss).addArrayOfOffsetDateTime(se).addArrayOfInteger(sc).addArrayOfInteger(spg)
          .addArrayOfString(sentry).addArrayOfString(sexit).addArrayOfString(sctx).addArrayOfString(sattr)
          .addArrayOfString(scountry).addArrayOfString(sdev).addArrayOfString(sbr).addArrayOfBoolean(ssrv)
          .addArrayOfString(pp).addArrayOfString(pu).addArrayOfString(pa).addArrayOfOffsetDateTime(pf)
          .addArrayOfOffsetDateTime(pl).addArrayOfLong(pc).addArrayOfString(ptr).addArrayOfString(pft)
          .addArrayOfString(plt)
          .addArrayOfString(tp).addArrayOfString(tu).addArrayOfString(ta).addArrayOfOffsetDateTime(tts)
          .addArrayOfString(tt).addArrayOfString(tat).addArrayOfUUID(tid)
          .addArrayOfString(lp).addArrayOfString(la).addArrayOfString(lu).addArrayOfOffsetDateTime(lt)
          .addOffsetDateTime(odt(watermarkMs));
    }

    /** Appends the rollup arrays ($38…$98) and the people's earliest event time ($99). */
    Tuple withRollups(Tuple t) {
      int n = hours.size();
      String[] hp = new String[n], ht = new String[n], hpr = new String[n], hm = new String[n], hc = new String[n];
      String[] hd = new String[n], hb = new String[n];
      OffsetDateTime[] hh = new OffsetDateTime[n];
      Sums hs = new Sums(n);
      int i = 0;
      for (Map.Entry<HourKey, HourAgg> x : hours.entrySet()) {
        HourKey k = x.getKey();
        hp[i] = k.project();
        hh[i] = odt(k.hourMs());
        ht[i] = k.type();
        hpr[i] = k.provider();
        hm[i] = k.model();
        hc[i] = k.country();
        hd[i] = k.device();
        hb[i] = k.browser();
        hs.set(i++, x.getValue());
      }
      int m = minutes.size();
      String[] mp = new String[m];
      OffsetDateTime[] mm = new OffsetDateTime[m];
      Long[] ms = new Long[m], me = new Long[m];
      int j = 0;
      for (Map.Entry<MinuteKey, long[]> x : minutes.entrySet()) {
        mp[j] = x.getKey().project();
        mm[j] = odt(x.getKey().minuteMs());
        ms[j] = x.getValue()[0];
        me[j] = x.getValue()[1];
        j++;
      }
      int mt = minuteTypes.size();
      String[] mtp = new String[mt], mtt = new String[mt];
      OffsetDateTime[] mtm = new OffsetDateTime[mt];
      Sums mts = new Sums(mt);
      int z = 0;
      for (Map.Entry<MinuteTypeKey, HourAgg> x : minuteTypes.entrySet()) {
        mtp[z] = x.getKey().project();
        mtm[z] = odt(x.getKey().minuteMs());
        mtt[z] = x.getKey().type();
        mts.set(z++, x.getValue());
      }
      int pg = pages.size();
      String[] pgp = new String[pg], pgpath = new String[pg], pgt = new String[pg];
      java.time.LocalDate[] pgd = new java.time.LocalDate[pg];
      Sums pgs = new Sums(pg);
      int y = 0;
      for (Map.Entry<PageDayKey, HourAgg> x : pages.entrySet()) {
        pgp[y] = x.getKey().project();
        pgd[y] = java.time.LocalDate.ofEpochDay(x.getKey().epochDay());
        pgpath[y] = x.getKey().path();
        pgt[y] = x.getKey().type();
        pgs.set(y++, x.getValue());
      }
      int d = days.size();
      String[] dp = new String[d], du = new String[d], da = new String[d];
      java.time.LocalDate[] dd = new java.time.LocalDate[d];
      int k = 0;
      for (DayKey x : days) {
        dp[k] = x.project();
        dd[k] = java.time.LocalDate.ofEpochDay(x.epochDay());
        du[k] = x.user();
        da[k] = x.anon();
        k++;
      }
      int pd = personDays.size();
      String[] up = new String[pd], uu = new String[pd], ua = new String[pd], ut = new String[pd];
      String[] upr = new String[pd], um = new String[pd], uf = new String[pd];
      java.time.LocalDate[] ud = new java.time.LocalDate[pd];
      Sums us = new Sums(pd);
      int q = 0;
      for (Map.Entry<PersonDayKey, HourAgg> x : personDays.entrySet()) {
        PersonDayKey pk = x.getKey();
        up[q] = pk.project();
        ud[q] = java.time.LocalDate.ofEpochDay(pk.epochDay());
        uu[q] = pk.user();
        ua[q] = pk.anon();
        ut[q] = pk.type();
        upr[q] = pk.provider();
        um[q] = pk.model();
        uf[q] = pk.feature();
        us.set(q++, x.getValue());
      }
      t.addArrayOfString(hp).addArrayOfOffsetDateTime(hh).addArrayOfString(ht).addArrayOfString(hpr)
          .addArrayOfString(hm).addArrayOfString(hc).addArrayOfString(hd).addArrayOfString(hb);
      hs.addTo(t, true)
          .addArrayOfString(mp).addArrayOfOffsetDateTime(mm).addArrayOfLong(ms).addArrayOfLong(me)
          .addArrayOfString(dp).addArrayOfLocalDate(dd).addArrayOfString(du).addArrayOfString(da)
          .addArrayOfString(up).addArrayOfLocalDate(ud).addArrayOfString(uu).addArrayOfString(ua)
          .addArrayOfString(ut).addArrayOfString(upr).addArrayOfString(um).addArrayOfString(uf);
      us.addTo(t, false).addArrayOfString(mtp).addArrayOfOffsetDateTime(mtm).addArrayOfString(mtt);
      mts.addTo(t, true).addArrayOfString(pgp).addArrayOfLocalDate(pgd).addArrayOfString(pgpath).addArrayOfString(pgt);
      return pgs.addTo(t, true).addOffsetDateTime(odt(people.isEmpty() ? 0 : minPersonMs));
    }
  }

  /** The measure columns of rollup rows (events, tokens, cost, amount, response and load times), as arrays. */
  private static final class Sums {
    final Long[] events;
    final Double[] tokens;
    final Double[] cost;
    final Double[] amount;
    final Double[] rtSum;
    final Long[] rtN;
    final Double[] durSum;
    final Long[] durN;

    Sums(int n) {
      events = new Long[n];
      tokens = new Double[n];
      cost = new Double[n];
      amount = new Double[n];
      rtSum = new Double[n];
      rtN = new Long[n];
      durSum = new Double[n];
      durN = new Long[n];
    }

    void set(int i, HourAgg a) {
      events[i] = a.events;
      tokens[i] = a.tokens;
      cost[i] = a.cost;
      amount[i] = a.amount;
      rtSum[i] = a.rtSum;
      rtN[i] = a.rtN;
      durSum[i] = a.durSum;
      durN[i] = a.durN;
    }

    /** Appends the columns in statement order; the per-person daily rollup keeps no load times. */
    Tuple addTo(Tuple t, boolean durations) {
      t.addArrayOfLong(events).addArrayOfDouble(tokens).addArrayOfDouble(cost).addArrayOfDouble(amount)
          .addArrayOfDouble(rtSum).addArrayOfLong(rtN);
      return durations ? t.addArrayOfDouble(durSum).addArrayOfLong(durN) : t;
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  private record HourKey(String project, long hourMs, String type, String provider, String model, String country,
                         String device, String browser) {}

  private record MinuteKey(String project, long minuteMs) {}

  private record MinuteTypeKey(String project, long minuteMs, String type) {}

  private record PageDayKey(String project, long epochDay, String path, String type) {}

  private record DayKey(String project, long epochDay, String user, String anon) {}

  private record PersonDayKey(String project, long epochDay, String user, String anon, String type, String provider,
                              String model, String feature) {}

  /** feature_used's "feature" property when it is a string, else "" (as {@code tally_str} reads it in SQL). */
  private static String feature(Event e) {
    if (e.propertiesJson() == null) {
      return "";
    }
    try {
      Object f = new io.vertx.core.json.JsonObject(e.propertiesJson()).getValue("feature");
      return f instanceof String s ? s : "";
    } catch (RuntimeException bad) {
      return "";
    }
  }

  /** One rollup row's worth of events within one flush. */
  private static final class HourAgg {
    long events;
    double tokens;
    double cost;
    double amount;
    double rtSum;
    long rtN;
    double durSum;
    long durN;

    void add(Event.Measures m) {
      events++;
      if (m.has(Event.Measures.TOKENS)) {
        tokens += m.tokens();
      }
      if (m.has(Event.Measures.COST)) {
        cost += m.cost();
      }
      if (m.has(Event.Measures.AMOUNT)) {
        amount += m.amount();
      }
      if (m.has(Event.Measures.RESPONSE_TIME)) {
        rtSum += m.responseTimeMs();
        rtN++;
      }
      if (m.has(Event.Measures.DURATION)) {
        durSum += m.durationMs();
        durN++;
      }
    }
  }

  private static OffsetDateTime odt(long ms) {
    return OffsetDateTime.ofInstant(Instant.ofEpochMilli(ms), ZoneOffset.UTC);
  }

  /** A session's events within one flush. */
  private static final class SessionAgg extends WaitingRows.Row<SessionAgg> {
    final String project;
    final String session;
    String user;
    String anon;
    long firstMs = Long.MAX_VALUE;
    long lastMs = Long.MIN_VALUE;
    int count;
    int pages;
    String entry;
    long entryMs = Long.MAX_VALUE;
    String exit;
    long exitMs = Long.MIN_VALUE;
    String context;
    String attribution;
    long attributionMs = Long.MAX_VALUE;
    String country;
    String device;
    String browser;
    boolean serverAssigned;

    SessionAgg(Event e) {
      project = e.projectId();
      session = e.sessionId();
    }

    /** The fields (bits as in {@link KnownSession#fields}) this flush stored non-null: the row holds a value for them now. */
    int storedFields() {
      return (context != null ? 1 : 0) | (country != null ? 2 : 0) | (device != null ? 4 : 0)
          | (browser != null ? 8 : 0) | (attribution != null ? 16 : 0);
    }

    /**
     * Whether these events change only the stored session's end, counts and exit page, which may wait: no earlier
     * event, no new user or anonymous id, no field the row lacks.
     */
    boolean onlyLater(KnownSession k) {
      return firstMs >= k.startMs && (user == null || user.equals(k.user)) && (anon == null || k.anon)
          && (entry == null || k.entry) && (storedFields() & ~k.fields) == 0;
    }

    @Override
    void absorb(SessionAgg o) {
      count += o.count;
      pages += o.pages;
      if (o.user != null && (user == null || o.lastMs >= lastMs)) {
        user = o.user;
      }
      if (anon == null) {
        anon = o.anon;
      }
      if (o.entry != null && o.entryMs < entryMs) {
        entry = o.entry;
        entryMs = o.entryMs;
      }
      if (o.exit != null && o.exitMs >= exitMs) {
        if (!o.exit.equals(exit)) {
          exit = o.exit;
        }
        exitMs = o.exitMs;
      }
      if (o.context != null && (context == null || o.firstMs < firstMs)) {
        context = o.context;
        country = o.country;
        device = o.device;
        browser = o.browser;
      }
      if (o.attribution != null && o.attributionMs < attributionMs) {
        attribution = o.attribution;
        attributionMs = o.attributionMs;
      }
      firstMs = Math.min(firstMs, o.firstMs);
      lastMs = Math.max(lastMs, o.lastMs);
      serverAssigned |= o.serverAssigned;
    }

    void add(Event e, Event.Enrichment en) {
      long t = e.timestamp().toEpochMilli();
      count++;
      if ("page_view".equals(e.type())) {
        pages++;
      }
      if (e.userId() != null) {
        user = e.userId();
      }
      if (anon == null) {
        anon = e.anonymousId();
      }
      String path = e.client().pagePath();
      if (path != null && t < entryMs) {
        entry = path;
        entryMs = t;
      }
      if (path != null && t >= exitMs) {
        exit = path;
        exitMs = t;
      }
      if (t < firstMs) {
        firstMs = t;
        if (en.contextJson() != null) {
          context = en.contextJson();
          country = en.country();
          device = en.deviceType();
          browser = en.browser();
        }
      }
      if (context == null && en.contextJson() != null) {
        context = en.contextJson();
        country = en.country();
        device = en.deviceType();
        browser = en.browser();
      }
      lastMs = Math.max(lastMs, t);
      if (en.attributionJson() != null && t < attributionMs) {
        attribution = en.attributionJson();
        attributionMs = t;
      }
      serverAssigned |= (e.flags() & Event.FLAG_SESSION_ASSIGNED) != 0;
    }
  }

  /** What this process stored of a session: its fields (bits 0–4: context, country, device, browser, attribution). */
  private static final class KnownSession {
    int fields;
    long startMs;
    String user;
    boolean anon;
    boolean entry;

    KnownSession(SessionAgg s) {
      startMs = Long.MAX_VALUE;
      add(s);
    }

    void add(SessionAgg s) {
      fields |= s.storedFields();
      startMs = Math.min(startMs, s.firstMs);
      if (s.user != null && !s.user.equals(user)) {
        user = s.user;
      }
      anon |= s.anon != null;
      entry |= s.entry != null;
    }
  }

  /** A person's events within one flush. */
  private static final class PersonAgg extends WaitingRows.Row<PersonAgg> {
    final String project;
    final String user;
    final String anon;
    long firstMs = Long.MAX_VALUE;
    long lastMs = Long.MIN_VALUE;
    long count;
    String traits;
    long traitsMs = Long.MIN_VALUE;
    String firstTouch;
    long firstTouchMs = Long.MAX_VALUE;
    String lastTouch;
    long lastTouchMs = Long.MIN_VALUE;

    PersonAgg(Event e) {
      project = e.projectId();
      user = e.userId();
      anon = e.userId() == null ? e.anonymousId() : null;
    }

    @Override
    void absorb(PersonAgg o) {
      count += o.count;
      firstMs = Math.min(firstMs, o.firstMs);
      lastMs = Math.max(lastMs, o.lastMs);
      if (o.traits != null && o.traitsMs >= traitsMs) {
        traits = o.traits;
        traitsMs = o.traitsMs;
      }
      if (o.firstTouch != null && o.firstTouchMs < firstTouchMs) {
        firstTouch = o.firstTouch;
        firstTouchMs = o.firstTouchMs;
      }
      if (o.lastTouch != null && o.lastTouchMs >= lastTouchMs) {
        lastTouch = o.lastTouch;
        lastTouchMs = o.lastTouchMs;
      }
    }

    void add(Event e, Event.Enrichment en) {
      long t = e.timestamp().toEpochMilli();
      count++;
      firstMs = Math.min(firstMs, t);
      lastMs = Math.max(lastMs, t);
      String props = e.client().userPropertiesJson();
      if (props != null && t >= traitsMs) {
        traits = props;
        traitsMs = t;
      }
      if (en.attributionJson() != null) {
        if (t < firstTouchMs) {
          firstTouch = en.attributionJson();
          firstTouchMs = t;
        }
        if (t >= lastTouchMs) {
          lastTouch = en.attributionJson();
          lastTouchMs = t;
        }
      }
    }
  }
}
