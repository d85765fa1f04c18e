package io.tally.store;

import io.tally.buffer.EventRing;
import io.tally.buffer.PendingEvent;
import io.tally.config.TallyConfig;
import io.tally.event.Event;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drains the ring into batches and commits each with one statement. Runs entirely on one context (the writer
 * verticle's), so its fields need no synchronisation.
 * <p>
 * Batching: a batch closes at {@code batchSize} events or {@code flushIntervalMs} after its first event; at most
 * {@code maxInFlightBatches} are being written at once (group commit), and while they are, events accumulate in
 * the ring, so batches grow exactly when load does.
 * <p>
 * Failures: a connection-level failure retries the same batch with exponential backoff, forever: none of its
 * events was acked, and none is dropped. A data error (SQLSTATE class 22/23/54) bisects the batch to isolate the
 * event PostgreSQL refuses; only that event is reported as rejected.
 */
public final class BatchWriter {
  private static final Logger LOG = LoggerFactory.getLogger(BatchWriter.class);

  /** Smallest part a batch is split into when idle connections can share it. */
  static final int MIN_SPLIT = 32;

  private final Vertx vertx;
  private final EventRing ring;
  private final Pool pool;
  private final TallyConfig.Writer cfg;
  private final TallyMetrics metrics;
  private final StoreHealth health;
  private final CommitListener listener;
  private final long flushIntervalNanos;

  private List<PendingEvent> pending;
  private long firstAt;
  private long lingerTimer = -1;
  private final java.util.function.IntSupplier derivedBacklog;
  /** The timer that looks again whether the derived tables caught up (-1: not paused). */
  private long backlogTimer = -1;
  private long lastPauseLogMs;
  private int inFlight;
  private int inFlightEvents;
  /** Events taken from the ring and not committed yet (the open batch and those in flight), for the gauge. */
  private volatile int writing;
  /** Oldest receipt time (ms) of each batch being written, for the derived-tables watermark. */
  private final List<Long> inFlightOldest = new ArrayList<>();
  /**
   * For each session, the last event this process committed with its client context in full: the next events of the
   * session with the same context store a reference to it instead of the context (it is ~40 % of an event row,
   * parsed as jsonb for every event). Forgotten when something else deletes events ({@link #forgetStoredContexts})
   * and when it outgrows {@link #MAX_STORED_CONTEXTS} sessions.
   */
  private final Map<EventBatchSql.SessionKey, EventBatchSql.Anchor> storedContexts = new HashMap<>();
  static final int MAX_STORED_CONTEXTS = 200_000;
  static final long BACKLOG_RECHECK_MS = 20;
  /** Refusals are logged at most once a minute (a client could send many), with how many there were. */
  private long lastRefusalLogMs;
  private int refusedSinceLog;

  public BatchWriter(Vertx vertx, EventRing ring, Pool pool, TallyConfig.Writer cfg, TallyMetrics metrics,
                     StoreHealth health, CommitListener listener) {
    this(vertx, ring, pool, cfg, metrics, health, listener, () -> 0);
  }

  /**
   * @param derivedBacklog committed events the derived tables do not hold yet: above {@code writer.maxDerivedBacklog}
   *                       no new batch starts (the ring fills, and ingestion answers 503 with Retry-After), so the
   *                       derived pipeline's memory stays bounded when its flushes fall behind
   */
  public BatchWriter(Vertx vertx, EventRing ring, Pool pool, TallyConfig.Writer cfg, TallyMetrics metrics,
                     StoreHealth health, CommitListener listener, java.util.function.IntSupplier derivedBacklog) {
    this.derivedBacklog = derivedBacklog;
    this.vertx = vertx;
    this.ring = ring;
    this.pool = pool;
    this.cfg = cfg;
    this.metrics = metrics;
    this.health = health;
    this.listener = listener;
    this.flushIntervalNanos = cfg.flushIntervalMs() * 1_000_000L;
    this.pending = new ArrayList<>(cfg.batchSize());
    metrics.writingGauge(() -> writing);
  }

  /** Woken by producers (through the ring) on the writer's context. */
  public void onWakeup() {
    ring.clearSignal();
    pump();
  }

  /** True when nothing is buffered, lingering or being written. */
  public boolean idle() {
    return inFlight == 0 && pending.isEmpty() && ring.isEmpty();
  }

  public int inFlight() {
    return inFlight;
  }

  void pump() {
    fill();
    writing = pending.size() + inFlightEvents;
  }

  private void fill() {
    while (inFlight < cfg.maxInFlightBatches()) {
      if (pausedForDerived()) {
        return;
      }
      int before = pending.size();
      if (before < cfg.batchSize()) {
        ring.drainTo(pending, cfg.batchSize() - before);
        if (before == 0 && !pending.isEmpty()) {
          firstAt = System.nanoTime();
        }
      }
      if (pending.isEmpty()) {
        return;
      }
      if (pending.size() < cfg.batchSize() && flushIntervalNanos > 0) {
        long waitNanos = firstAt + flushIntervalNanos - System.nanoTime();
        if (waitNanos > 0) {
          if (lingerTimer < 0) {
            lingerTimer = vertx.setTimer(Math.max(1, waitNanos / 1_000_000L), id -> {
              lingerTimer = -1;
              pump();
            });
          }
          return;
        }
      }
      List<PendingEvent> batch = pending;
      pending = new ArrayList<>(cfg.batchSize());
      // with writer connections idle (light load), one batch is split across them so that its statement time is
      // shared by both cores; under load every slot already carries its own batch and nothing is split
      int free = cfg.maxInFlightBatches() - inFlight;
      int parts = batch.size() >= 2 * MIN_SPLIT ? Math.min(free, batch.size() / MIN_SPLIT) : 1;
      int size = (batch.size() + parts - 1) / parts;
      for (int from = 0; from < batch.size(); from += size) {
        start(new ArrayList<>(batch.subList(from, Math.min(batch.size(), from + size))));
      }
    }
  }

  /**
   * Whether the derived tables are more than {@code writer.maxDerivedBacklog} events behind: then no batch starts
   * until they are not (looked at again every {@value #BACKLOG_RECHECK_MS} ms); the ring holds what arrives meanwhile
   * and, once full, ingestion answers 503 with Retry-After. Acknowledged events are never the ones held back.
   */
  private boolean pausedForDerived() {
    int behind = derivedBacklog.getAsInt();
    if (behind <= cfg.maxDerivedBacklog()) {
      return false;
    }
    if (backlogTimer < 0) {
      long now = System.currentTimeMillis();
      if (now - lastPauseLogMs > 60_000) {
        lastPauseLogMs = now;
        LOG.warn("writer paused: the derived tables are {} events behind (writer.maxDerivedBacklog {}); new events "
            + "wait in the ring, answered 503 once it is full", behind, cfg.maxDerivedBacklog());
      }
      backlogTimer = vertx.setTimer(BACKLOG_RECHECK_MS, id -> {
        backlogTimer = -1;
        pump();
      });
    }
    return true;
  }

  private void start(List<PendingEvent> batch) {
    inFlight++;
    inFlightEvents += batch.size();
    Long oldest = oldestReceived(batch);
    inFlightOldest.add(oldest);
    write(batch).onComplete(ar -> {
      inFlight--;
      inFlightEvents -= batch.size();
      inFlightOldest.remove(oldest);
      pump();
    });
  }

  private static long oldestReceived(List<PendingEvent> events) {
    long min = Long.MAX_VALUE;
    for (PendingEvent p : events) {
      min = Math.min(min, p.event().receivedAt().toEpochMilli());
    }
    return min;
  }

  /** Oldest receipt time (ms) of anything buffered, lingering or being written; MAX_VALUE when none. */
  public long oldestPendingMs() {
    long min = oldestReceived(pending);
    for (Long l : inFlightOldest) {
      min = Math.min(min, l);
    }
    return Math.min(min, ring.oldestReceivedMs());
  }

  /** Writes a batch until it is committed (retrying) and every event in it is answered. Never fails. */
  private Future<Void> write(List<PendingEvent> batch) {
    Promise<Void> done = Promise.promise();
    attempt(EventBatchSql.prepare(batch, storedContexts), done, cfg.retryBackoffMinMs());
    return done.future();
  }

  private void attempt(EventBatchSql.Prepared batch, Promise<Void> done, long backoffMs) {
    long start = System.nanoTime();
    if (batch.rows().isEmpty()) {
      done.complete();
      return;
    }
    pool.preparedQuery(EventBatchSql.INSERT).execute(batch.tuple()).onComplete(ar -> {
      if (ar.succeeded()) {
        if (health.markUp()) {
          LOG.info("PostgreSQL writes resumed after {} failed attempts", health.failuresWhileDown());
        }
        long nanos = System.nanoTime() - start;
        BitSet dup = new BitSet(batch.rows().size());
        long xid = 0;
        for (Row r : ar.result()) {
          long v = r.getLong(0);
          if (v < 0) {
            xid = -v; // the storing transaction's id (see EventBatchSql.INSERT)
          } else {
            dup.set((int) (v - 1));
          }
        }
        committed(batch, dup, nanos, xid);
        done.complete();
      } else if (isDataError(ar.cause())) {
        isolate(batch, ar.cause()).onComplete(v -> done.complete());
      } else {
        metrics.writeFailed();
        if (health.markDown(String.valueOf(ar.cause().getMessage()))) {
          LOG.warn("PostgreSQL write failed, retrying with backoff (nothing acked is lost): {}",
              ar.cause().toString());
        }
        vertx.setTimer(backoffMs, id ->
            attempt(batch, done, Math.min(backoffMs * 2, cfg.retryBackoffMaxMs())));
      }
    });
  }

  private void committed(EventBatchSql.Prepared batch, BitSet dup, long nanos, long xid) {
    List<PendingEvent> rows = batch.rows();
    List<Event> stored = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      boolean isDup = dup.get(i);
      if (!isDup) {
        Event e = rows.get(i).event();
        stored.add(e);
        if (e.sessionId() != null && batch.storedInFull(i)) {
          String context = e.enrichment().contextJson(); // stored in full: there is one
          // only a row that stored its context (and was not a duplicate) can be named; replaced only when the
          // context changed or the anchor is too far in time: a write for every event would point this long-lived
          // map at a young object per event, which the collector then scans and copies
          EventBatchSql.SessionKey key = new EventBatchSql.SessionKey(e.projectId(), e.sessionId());
          EventBatchSql.Anchor a = storedContexts.get(key);
          long ts = e.timestamp().toEpochMilli();
          if (a == null || !a.serves(context, ts)) {
            if (storedContexts.size() >= MAX_STORED_CONTEXTS) {
              storedContexts.clear();
            }
            storedContexts.put(key, new EventBatchSql.Anchor(context, e.id(), ts));
          }
        }
      }
      rows.get(i).committed(isDup);
    }
    for (PendingEvent p : batch.inBatchRepeats()) {
      p.committed(true);
    }
    int dupCount = rows.size() - stored.size() + batch.inBatchRepeats().size();
    metrics.eventsStored(stored.size());
    if (dupCount > 0) {
      metrics.eventsDuplicate(dupCount);
    }
    metrics.batchWritten(rows.size() + batch.inBatchRepeats().size(), nanos);
    if (!stored.isEmpty()) {
      listener.committed(stored, xid);
    }
  }

  /**
   * Events were deleted by something else (a person's deletion, retention): the next event of every session stores
   * its context again.
   */
  public void forgetStoredContexts() {
    storedContexts.clear();
  }

  /** Splits a batch PostgreSQL refused as data until the refused events are alone, and reports only those. */
  private Future<Void> isolate(EventBatchSql.Prepared batch, Throwable cause) {
    List<PendingEvent> all = new ArrayList<>(batch.rows());
    all.addAll(batch.inBatchRepeats());
    if (all.size() == 1) {
      metrics.eventsRejected("storage", 1);
      PendingEvent refused = all.get(0);
      // the client learns that this event was not stored; PostgreSQL's words (which may quote the data) go to the log
      refused.refused("the event could not be stored and was not stored (the server logged why)");
      long now = System.currentTimeMillis();
      refusedSinceLog++;
      if (now - lastRefusalLogMs >= 60_000) {
        LOG.warn("PostgreSQL refused {} event(s) in the last minute, which were answered as rejected; the last: "
            + "project {}, id {}: {}", refusedSinceLog, refused.event().projectId(), refused.event().id(),
            cause.getMessage());
        lastRefusalLogMs = now;
        refusedSinceLog = 0;
      }
      return Future.succeededFuture();
    }
    int half = all.size() / 2;
    List<PendingEvent> left = all.subList(0, half);
    List<PendingEvent> right = all.subList(half, all.size());
    return write(new ArrayList<>(left)).compose(v -> write(new ArrayList<>(right)));
  }

  static boolean isDataError(Throwable t) {
    if (t instanceof PgException pg && pg.getSqlState() != null) {
      String cls = pg.getSqlState().substring(0, 2);
      return cls.equals("22") || cls.equals("23") || cls.equals("54");
    }
    return false;
  }
}
