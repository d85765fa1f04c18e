package io.tally.derive;

import io.tally.event.Event;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Keeps sessions, people, touchpoints, identity links and rollups up to date from committed events, off the ingest
 * statement: events are aggregated in memory ({@link DerivedBatch}: a person's events coalesce into one row per flush)
 * and written by one statement per flush, in a transaction with the identity merges its links call for. Runs on a
 * context of its own ({@link DerivedVerticle}), fed by the writer's commits.
 * <p>
 * <b>Crash-consistent.</b> Each flush records a watermark in the same transaction: a receipt time before which every
 * event's derived rows are committed (never past an event still buffered, in flight, waiting here or in a flush not
 * committed). After a crash, {@link DerivedRepair} derives again everything events received since it touched.
 * <p>
 * <b>Nothing one row does stops it.</b> A flush PostgreSQL refuses as data is split, each part in a transaction of its
 * own, until the refused row is alone; that row is set aside ({@link DeadLetters}) and every other row is written.
 */
public final class DerivedUpdater {
  private static final Logger LOG = LoggerFactory.getLogger(DerivedUpdater.class);
  /** Slack between the receipt clock of the events and the watermark. */
  private static final long WATERMARK_MARGIN_MS = 5_000;
  /** How long after a link was made its anonymous id's events are looked at again ({@link DerivedSql#REMERGE_RECENT}). */
  private static final long REMERGE_MS = 60_000;

  private final Pool pool;
  /** The writer's oldest uncommitted receipt time (ms; MAX_VALUE: none), answered on this updater's context. */
  private final Supplier<Future<Long>> writerOldestPendingMs;
  private DerivedBatch current = new DerivedBatch();
  /** A batch whose flush failed for a reason a retry can fix (a lost connection): written first next time. */
  private DerivedBatch failed;
  /**
   * Parts of a batch PostgreSQL refused as data, still to be written (each in its own transaction) or split further;
   * with the watermark that batch was to record once every part is written or set aside.
   */
  private final ArrayDeque<DerivedBatch> refused = new ArrayDeque<>();
  private OffsetDateTime refusedWatermark;
  private boolean flushing;
  private long lastLinkMs;
  private final DeadLetters deadLetters;
  /**
   * Person-days this process already stored in {@code user_days} (by UTC day, the two latest days only): not sent
   * again (under a load where nearly every event is a different person, each one was an index probe per event for
   * a row that was already there). Forgotten whenever something else rewrites the table ({@link #forgetStored}).
   */
  private final TreeMap<Long, Set<DerivedBatch.DayKey>> knownDays = new TreeMap<>();
  private static final int MAX_KNOWN_DAYS = 300_000;
  /**
   * What this process stored of each session ({@code project \u0001 session}): its start, ids, entry time and the
   * events its context and attribution come from, which tell whether newer events may wait
   * ({@link #waitingSessions}) and what need not be sent (nor parsed as JSON) again. Forgotten with the known
   * person-days ({@link #forgetStored}).
   */
  private final Map<String, KnownSession> knownSessions = new HashMap<>();
  private static final int MAX_KNOWN_SESSIONS = 200_000;

  /**
   * People whose row this process stored, with the earliest event time (µs) it sent for them
   * ({@code project \u0001 key}): newer events of such a person that bring nothing but a later time and a count may
   * wait ({@link #waitingPeople}). Forgotten with the known person-days.
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
  private final List<Promise<Void>> syncWaiters = new ArrayList<>();
  private boolean syncRequested;

  private final io.tally.metrics.TallyMetrics metrics;
  /** The waiting rows' counts for the gauges, read from the metrics thread. */
  private volatile int peopleWaiting;
  private volatile int sessionsWaiting;
  /** Receipt time of the oldest stored event not yet in a committed flush (waiting rows aside); MAX_VALUE: none. */
  private volatile long behindSinceMs = Long.MAX_VALUE;
  /** Events accepted and not yet in a committed flush (read by the writer, which pauses above its bound). */
  private volatile int backlog;

  private final Consumer<DerivedChange> changed;

  /** For tests: rows may wait in a flush of at least {@code minWaitEvents} events. */
  DerivedUpdater(Pool pool, LongSupplier writerOldestPendingMs, long refreshMs, int minWaitEvents,
                 Consumer<DerivedChange> changed) {
    this(pool, () -> Future.succeededFuture(writerOldestPendingMs.getAsLong()), refreshMs, minWaitEvents,
        io.tally.metrics.TallyMetrics.NOOP, changed);
  }

  /** For tests: the writer's answer as the given futures (an updater on its own context asks asynchronously). */
  static DerivedUpdater askingWriter(Pool pool, Supplier<Future<Long>> writerOldestPendingMs, long refreshMs,
                                     int minWaitEvents, Consumer<DerivedChange> changed) {
    return new DerivedUpdater(pool, writerOldestPendingMs, refreshMs, minWaitEvents,
        io.tally.metrics.TallyMetrics.NOOP, changed);
  }

  /**
   * @param refreshMs how long a stored person's or session's newer events may wait to be written (0: never)
   * @param changed   told after each flush (a {@link DerivedFlush}) and after each identity merge it made (a
   *                  {@link DerivedRewrite}): the query side's indexes and cache follow from them
   */
  public DerivedUpdater(Pool pool, Supplier<Future<Long>> writerOldestPendingMs, long refreshMs,
                        io.tally.metrics.TallyMetrics metrics, Consumer<DerivedChange> changed) {
    this(pool, writerOldestPendingMs, refreshMs, MIN_WAIT_EVENTS, metrics, changed);
  }

  private DerivedUpdater(Pool pool, Supplier<Future<Long>> writerOldestPendingMs, long refreshMs, int minWaitEvents,
                         io.tally.metrics.TallyMetrics metrics, Consumer<DerivedChange> changed) {
    this.pool = pool;
    this.minWaitEvents = minWaitEvents;
    this.writerOldestPendingMs = writerOldestPendingMs;
    this.waitingPeople = new WaitingRows<>(refreshMs, MAX_WAITING);
    this.waitingSessions = new WaitingRows<>(refreshMs, MAX_WAITING);
    this.metrics = metrics;
    this.deadLetters = new DeadLetters(metrics);
    this.changed = changed;
    metrics.derivedWaitingGauge("users", () -> peopleWaiting);
    metrics.derivedWaitingGauge("sessions", () -> sessionsWaiting);
    metrics.derivedBacklogGauge(() -> backlog);
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
    backlog += stored.size();
    if (behindSinceMs == Long.MAX_VALUE && !stored.isEmpty()) {
      behindSinceMs = current.oldestReceivedMs;
    }
  }

  public boolean idle() {
    return !flushing && current.isEmpty() && failed == null && refused.isEmpty()
        && waitingPeople.isEmpty() && waitingSessions.isEmpty();
  }

  /**
   * Completes once a flush has written everything received so far, the waiting people and sessions included (the
   * person export reads them; a deletion's second sweep must find what they would write).
   */
  public Future<Void> sync() {
    Promise<Void> p = Promise.promise();
    syncWaiters.add(p);
    syncRequested = true;
    flush();
    return p.future();
  }

  /** People waiting to be written. */
  int waitingPeople() {
    return waitingPeople.size();
  }

  /** Events accepted and not yet in a committed flush. */
  public int backlog() {
    return backlog;
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
    if (!refused.isEmpty()) {
      // a refused batch is being isolated: finish that first (no later flush may move the watermark past it)
      flushing = true;
      return isolateOrWait().onComplete(ar -> {
        flushing = false;
        backlog = behind();
      });
    }
    DerivedBatch batch = takeBatch();
    List<Promise<Void>> synced = takeSyncWaiters();
    scheduleWaiting(batch, !synced.isEmpty());
    if (batch.isEmpty()) {
      synced.forEach(Promise::complete);
      return Future.succeededFuture();
    }
    flushing = true;
    // the writer's answer arrives after every batch it handed over before answering, so read what this updater
    // holds (current) only then
    return writerOldestPendingMs.get().compose(writerOldest -> write(batch, watermark(batch, writerOldest)))
        .onFailure(err -> {
          LOG.warn("derived tables flush failed, will retry: {}", err.toString());
          failed = batch;
        })
        .onComplete(ar -> flushed(batch, synced))
        .mapEmpty();
  }

  /** The batch to write: the failed one first, else what was accumulated. */
  private DerivedBatch takeBatch() {
    DerivedBatch batch;
    if (failed != null) {
      batch = failed;
      failed = null;
    } else {
      batch = current;
      current = new DerivedBatch();
    }
    return batch;
  }

  /** The callers of {@link #sync} this flush answers (none unless one asked since the last). */
  private List<Promise<Void>> takeSyncWaiters() {
    if (!syncRequested) {
      return List.of();
    }
    syncRequested = false;
    List<Promise<Void>> waiters = new ArrayList<>(syncWaiters);
    syncWaiters.clear();
    return waiters;
  }

  /** Up to where every received event will be in the derived tables once {@code batch} commits (less a margin). */
  private OffsetDateTime watermark(DerivedBatch batch, long writerOldest) {
    long oldest = Math.min(Math.min(batch.oldestReceivedMs, current.oldestReceivedMs), writerOldest);
    // the waiting rows' events are not in the derived tables yet: a crash must re-derive from them on
    oldest = Math.min(oldest, Math.min(waitingPeople.oldestReceivedMs(), waitingSessions.oldestReceivedMs()));
    long watermark = (oldest == Long.MAX_VALUE ? System.currentTimeMillis() : oldest) - WATERMARK_MARGIN_MS;
    return DerivedOrder.time(watermark * 1_000L);
  }

  /** Writes the batch; rows PostgreSQL refuses as data are isolated (the others written), a lone one set aside. */
  private Future<Void> write(DerivedBatch batch, OffsetDateTime wm) {
    batch.days.removeIf(k -> knownDays.getOrDefault(k.epochDay(), Set.of()).contains(k));
    return apply(batch, wm).map(done -> {
      written(done);
      return (Void) null;
    }).recover(err -> {
      if (!DerivedErrors.causedByRows(err)) {
        return Future.failedFuture(err);
      }
      LOG.warn("derived tables flush refused as data ({}): isolating the refused rows, the others are written",
          message(err));
      if (batch.rows() == 1) {
        return deadLetters.setAside(pool, "flush", batch.only(), err, null).compose(v -> moveWatermark(wm));
      }
      for (DerivedBatch half : batch.split()) {
        refused.add(half);
      }
      refusedWatermark = wm;
      return isolateOrWait();
    });
  }

  /** Events accepted and not in a committed flush: what accumulates, a failed batch, refused parts not written. */
  private int behind() {
    int n = current.events + (failed == null ? 0 : failed.events);
    for (DerivedBatch part : refused) {
      n += part.events;
    }
    return n;
  }

  /** After a flush, written or not: the lag and waiting gauges, and the sync callers it answered (or not yet). */
  private void flushed(DerivedBatch batch, List<Promise<Void>> synced) {
    flushing = false;
    backlog = behind();
    behindSinceMs = failed != null ? Math.min(failed.oldestReceivedMs, current.oldestReceivedMs)
        : !refused.isEmpty() ? Math.min(batch.oldestReceivedMs, current.oldestReceivedMs)
        : current.oldestReceivedMs;
    // after the commit: rows moved into the flush count as waiting until they are written
    peopleWaiting = waitingPeople.size() + (failed == null ? 0 : failed.people.size());
    sessionsWaiting = waitingSessions.size() + (failed == null ? 0 : failed.sessions.size());
    if ((failed != null || !refused.isEmpty()) && !synced.isEmpty()) {
      // the waiting rows are in the unwritten batch: the next flush writes it first
      syncWaiters.addAll(synced);
      syncRequested = true;
    } else {
      synced.forEach(Promise::complete);
    }
  }

  /** A part committed: its rows, as the statement returned them, and the links it merged. */
  private record Applied(DerivedBatch part, RowSet<Row> rows, List<String[]> merged) {}

  /**
   * Writes a batch (or part) in one transaction: the flush statement, then the identity merges of the links it
   * recorded, then (for a minute after a link) the late events of linked ids. {@code watermark} null leaves it.
   */
  private Future<Applied> apply(DerivedBatch part, OffsetDateTime watermark) {
    Tuple params = part.tuple(watermark, knownSessions);
    boolean remerge = !part.links.isEmpty() || System.currentTimeMillis() - lastLinkMs < REMERGE_MS;
    return pool.withTransaction(c -> c.preparedQuery(DerivedSql.FLUSH).execute(params).compose(rows -> {
      List<String[]> links = new ArrayList<>();
      for (Row r : rows) {
        if ("l".equals(r.getString(0))) {
          links.add(new String[] {r.getString(1), r.getString(2), r.getString(3)});
        }
      }
      Future<Void> chain = Future.succeededFuture();
      for (String[] link : links) {
        chain = chain.compose(v -> merge(c, link));
      }
      if (remerge) {
        chain = chain.compose(v -> c.query(DerivedSql.REMERGE_RECENT).execute().mapEmpty());
      }
      return chain.map(v -> new Applied(part, rows, links));
    }));
  }

  /** An identity link's events and derived rows go to its user (inside the flush's transaction). */
  private static Future<Void> merge(SqlConnection c, String[] link) {
    Tuple t = Tuple.of(link[0], link[1], link[2]);
    return c.preparedQuery(RebuildSql.MERGE_EVENTS).execute(t).compose(rows -> {
      List<String> sessions = new ArrayList<>();
      rows.forEach(r -> sessions.add(r.getString(0)));
      return c.preparedQuery(DerivedSql.MERGE_DERIVED).execute(Tuple.of(link[0], link[1], link[2],
          sessions.toArray(String[]::new)));
    }).mapEmpty();
  }

  /**
   * Writes the parts of a refused batch one by one, splitting each part refused as data until the refused row is
   * alone and setting that row aside. Stops at a failure a retry can fix (the rest is written by the next flush); the
   * watermark moves once every part is written or set aside.
   */
  private Future<Void> isolate() {
    DerivedBatch part = refused.peek();
    if (part == null) {
      OffsetDateTime wm = refusedWatermark;
      refusedWatermark = null;
      return moveWatermark(wm);
    }
    if (part.isEmpty()) {
      refused.poll();
      return isolate();
    }
    return apply(part, null).compose(done -> {
      refused.poll();
      written(done);
      return isolate();
    }, err -> {
      if (!DerivedErrors.causedByRows(err)) {
        return Future.failedFuture(err);
      }
      refused.poll();
      if (part.rows() == 1) {
        return deadLetters.setAside(pool, "flush", part.only(), err, null).compose(v -> isolate());
      }
      DerivedBatch[] halves = part.split();
      refused.addFirst(halves[1]);
      refused.addFirst(halves[0]);
      return isolate();
    });
  }

  /** {@link #isolate}; a failure a retry can fix leaves the remaining parts for the next flush. */
  private Future<Void> isolateOrWait() {
    return isolate().recover(err -> {
      LOG.warn("derived tables flush failed while isolating refused rows, will go on: {}", err.toString());
      return Future.succeededFuture();
    });
  }

  private Future<Void> moveWatermark(OffsetDateTime wm) {
    return pool.preparedQuery("UPDATE derived_progress SET applied_until = $1 WHERE id = 1").execute(Tuple.of(wm))
        .mapEmpty();
  }

  /** After a part committed: what it stored is remembered, and the query side is told what changed. */
  private void written(Applied done) {
    DerivedBatch batch = done.part();
    remember(batch.days);
    rememberSessions(batch.sessions);
    rememberPeople(batch.people);
    if (!batch.links.isEmpty()) {
      lastLinkMs = System.currentTimeMillis();
    }
    metrics.derivedWritten("users", batch.people.size());
    metrics.derivedWritten("sessions", batch.sessions.size());
    PersonDayDeltas.Builder deltas = new PersonDayDeltas.Builder();
    List<DerivedFlush.PersonDay> days = new ArrayList<>();
    List<DerivedFlush.PersonSeen> people = new ArrayList<>();
    long xid = 0;
    Map<String, Long> minTs = new HashMap<>(batch.minTsByProject);
    for (Row r : done.rows()) {
      switch (r.getString(0)) {
        // what the flush added to a person-day (the pattern index adds it): a per-person rollup row…
        case "u" -> deltas.rollup(r.getString(1), r.getString(2), r.getInteger(4), r.getString(3),
            r.getString(6), r.getString(7), r.getString(8), r.getLong(5), r.getDouble(9), r.getDouble(10),
            r.getDouble(11));
        // …or sessions started that day (count and duration)
        case "v" -> deltas.sessions(r.getString(1), r.getString(2), r.getInteger(4), r.getLong(5), r.getDouble(9));
        case "x" -> xid = r.getLong(5);
        case "l" -> { }
        case "d" -> days.add(new DerivedFlush.PersonDay(r.getString(1), r.getInteger(4), r.getString(2)));
        // a session extended by these events counts (whole) in periods holding its start
        case "s" -> minTs.merge(r.getString(1), r.getLong(5), Math::min);
        default -> people.add(new DerivedFlush.PersonSeen(r.getString(1), r.getString(2), r.getLong(5)));
      }
    }
    changed.accept(new DerivedFlush(minTs, days, people, deltas.build(xid)));
    for (String[] link : done.merged()) {
      changed.accept(DerivedRewrite.merge(link[0], link[1], link[2]));
    }
  }

  private static String message(Throwable err) {
    return err instanceof io.vertx.pgclient.PgException pg ? pg.getErrorMessage() + " (SQLSTATE " + pg.getSqlState()
        + ")" : String.valueOf(err.getMessage());
  }

  /**
   * Sorts the batch's people and sessions: a stored one whose events change only what may be written late waits; any
   * other is written now, with what of it was waiting. Then adds to the batch the waiting ones that are due (waiting
   * for {@code writer.derivedRefreshMs}). When the batch is small (under {@link #MIN_WAIT_EVENTS} events: light traffic,
   * a lull) none of its rows waits, and up to {@link #QUIET_FLUSH_ROWS} more waiting rows of each table are written;
   * with {@code all} (a sync, a graceful stop) every waiting row is.
   */
  private void scheduleWaiting(DerivedBatch batch, boolean all) {
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
      return mayWait && known != null && p.firstUs >= known && p.traits == null && p.firstTouch == null;
    });
    waitingSessions.sort(batch.sessions, batch.oldestReceivedMs, now, (key, s) -> {
      KnownSession known = knownSessions.get(key);
      return mayWait && known != null && s.onlyLater(known);
    });
    waitingPeople.due(batch.people, now, beyondDue,
        p -> batch.minPersonUs = Math.min(batch.minPersonUs, p.firstUs));
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
      if (known == null || p.firstUs < known) {
        knownPeople.put(key, p.firstUs);
      }
    });
  }

  private void remember(Set<DerivedBatch.DayKey> stored) {
    for (DerivedBatch.DayKey k : stored) {
      knownDays.computeIfAbsent(k.epochDay(), d -> new HashSet<>()).add(k);
    }
    while (knownDays.size() > 2) {
      knownDays.pollFirstEntry();
    }
    if (knownDays.values().stream().mapToInt(Set::size).sum() > MAX_KNOWN_DAYS) {
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

  /** After a graceful drain (nothing pending anywhere): nothing received so far needs re-deriving. */
  public Future<Void> markClean() {
    return pool.query("UPDATE derived_progress SET applied_until = 'infinity' WHERE id = 1").execute().mapEmpty();
  }
}
