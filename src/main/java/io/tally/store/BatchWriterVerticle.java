package io.tally.store;

import io.tally.buffer.EventRing;
import io.tally.config.TallyConfig;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hosts the single {@link BatchWriter} consuming the ring, and the periodic partition / dedupe maintenance.
 * Stopping it waits (bounded) until the ring is drained and every in-flight batch committed.
 */
public final class BatchWriterVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(BatchWriterVerticle.class);
  private static final long MAINTENANCE_PERIOD_MS = 3_600_000L;

  private final EventRing ring;
  private final Pool pool;
  private final Pool derivedPool;
  private final TallyConfig.Writer cfg;
  private final TallyMetrics metrics;
  private final StoreHealth health;
  private final CommitListener listener;
  private BatchWriter writer;
  private DerivedUpdater derived;

  /**
   * {@code pool} writes the events (one connection per batch in flight); {@code derivedPool} the derived tables, the
   * crash repair and partition upkeep, which no acknowledgement waits for.
   */
  public BatchWriterVerticle(EventRing ring, Pool pool, Pool derivedPool, TallyConfig.Writer cfg,
                             TallyMetrics metrics, StoreHealth health, CommitListener listener) {
    this.ring = ring;
    this.pool = pool;
    this.derivedPool = derivedPool;
    this.cfg = cfg;
    this.metrics = metrics;
    this.health = health;
    this.listener = listener;
  }

  /** Whether the start-up re-derivation completed (only then may a clean stop skip it next time). */
  private volatile boolean repaired;

  @Override
  public Future<?> start() {
    derived = new DerivedUpdater(derivedPool, () -> writer.oldestPendingMs(), cfg.derivedRefreshMs(), metrics,
        notice -> vertx.eventBus().publish(io.tally.event.Addresses.DERIVED_FLUSHED, notice));
    writer = new BatchWriter(vertx, ring, pool, cfg, metrics, health, (stored, xid) -> {
      derived.accept(stored);
      listener.committed(stored, xid);
    });
    // a notice not from a flush of this updater (a person deleted, retention, an identity merge) may have removed
    // user_days or sessions rows the updater knows as stored, or the events holding a session's context
    vertx.eventBus().<io.vertx.core.json.JsonObject>consumer(io.tally.event.Addresses.DERIVED_FLUSHED, m -> {
      if (!m.body().containsKey("personDays")) {
        derived.forgetStored();
        writer.forgetStoredContexts();
      }
    });
    vertx.eventBus().<Object>consumer(io.tally.event.Addresses.DERIVED_SYNC, m ->
        derived.sync().onComplete(ar -> m.reply(ar.succeeded())));
    Context writerContext = context;
    PartitionMaintainer maintainer = new PartitionMaintainer(derivedPool, cfg);
    vertx.setPeriodic(MAINTENANCE_PERIOD_MS, MAINTENANCE_PERIOD_MS, id -> maintain(maintainer));
    vertx.setPeriodic(cfg.derivedFlushMs(), id -> derived.flush());
    return maintainer.ensurePartitions()
        .onSuccess(n -> LOG.info("event partitions ready ({} created)", n))
        // after a crash, sessions and people are re-derived before new events are written
        .compose(n -> DerivedUpdater.repair(derivedPool))
        .onSuccess(v -> {
          repaired = true;
          ring.onWakeup(() -> writerContext.runOnContext(x -> writer.onWakeup()));
          // events may have been published before the wakeup was registered
          writer.onWakeup();
        });
  }

  private void maintain(PartitionMaintainer maintainer) {
    maintainer.ensurePartitions()
        .compose(n -> maintainer.pruneDedupeRegistry())
        .onFailure(err -> LOG.warn("partition maintenance failed, will retry: {}", err.toString()));
  }

  /** Completes once nothing is buffered or in flight, or after {@code timeoutMs}. */
  public Future<Boolean> drain(long timeoutMs) {
    Promise<Boolean> p = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    context.runOnContext(v -> poll(p, deadline));
    return p.future();
  }

  /** The graceful drain's sync of the derived tables in progress, if any. */
  private Future<Void> drainSync;

  private void poll(Promise<Boolean> p, long deadline) {
    writer.onWakeup();
    if (writer.idle() && !derived.idle() && (drainSync == null || drainSync.isComplete())) {
      // a sync: every waiting row too, not the bounded number a quiet flush writes; one at a time (this polls every
      // 10 ms while a flush may take seconds)
      drainSync = derived.sync();
    }
    if (writer.idle() && derived.idle()) {
      if (!repaired) {
        // the start-up re-derivation did not finish: the next start must redo it, so no clean marker
        p.complete(true);
        return;
      }
      derived.markClean().onComplete(ar -> p.complete(true));
    } else if (System.currentTimeMillis() > deadline) {
      p.complete(false);
    } else {
      vertx.setTimer(10, id -> poll(p, deadline));
    }
  }
}
