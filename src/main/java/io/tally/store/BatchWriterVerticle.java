package io.tally.store;

import io.tally.buffer.EventRing;
import io.tally.config.TallyConfig;
import io.tally.derive.DerivedAddresses;
import io.tally.derive.DerivedRepair;
import io.tally.derive.DerivedRewrite;
import io.tally.derive.DerivedVerticle;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hosts the single {@link BatchWriter} consuming the ring, and the periodic partition / dedupe maintenance; hands each
 * committed batch to the {@link DerivedVerticle} (deployed before it) that keeps the derived tables. Stopping it waits
 * (bounded) until the ring is drained, every in-flight batch committed and the derived tables written.
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
  private final DerivedVerticle derived;
  private final WriterProgress progress;
  private BatchWriter writer;

  /**
   * {@code pool} writes the events (one connection per batch in flight); {@code derivedPool} the derived tables, the
   * crash repair and partition upkeep, which no acknowledgement waits for.
   */
  public BatchWriterVerticle(EventRing ring, Pool pool, Pool derivedPool, TallyConfig.Writer cfg,
                             TallyMetrics metrics, StoreHealth health, DerivedVerticle derived,
                             WriterProgress progress, CommitListener listener) {
    this.derived = derived;
    this.progress = progress;
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
    Context writerContext = context;
    writer = new BatchWriter(vertx, ring, pool, cfg, metrics, health, (stored, xid) -> {
      derived.accept(stored);
      listener.committed(stored, xid);
    }, derived::backlog);
    progress.attach(writerContext, writer);
    // a rewrite (a person deleted, retention, an identity merge) may have removed the events holding a session's
    // context
    vertx.eventBus().<DerivedRewrite>consumer(DerivedAddresses.DERIVED_REWRITTEN, m -> writer.forgetStoredContexts());
    PartitionMaintainer maintainer = new PartitionMaintainer(derivedPool, cfg);
    vertx.setPeriodic(MAINTENANCE_PERIOD_MS, MAINTENANCE_PERIOD_MS, id -> maintain(maintainer));
    return maintainer.ensurePartitions()
        .onSuccess(n -> LOG.info("event partitions ready ({} created)", n))
        // after a crash, sessions and people are re-derived before new events are written
        .compose(n -> new DerivedRepair(derivedPool, metrics).run())
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

  /**
   * Completes with true once nothing is buffered or in flight and the derived tables hold every committed event, or
   * with false after {@code timeoutMs}.
   */
  public Future<Boolean> drain(long timeoutMs) {
    Promise<Boolean> p = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    context.runOnContext(v -> poll(p, deadline));
    return p.future();
  }

  private void poll(Promise<Boolean> p, long deadline) {
    writer.onWakeup();
    if (writer.idle()) {
      // every committed batch was handed to the updater before the writer forgot it: drain that now. Without a
      // completed start-up re-derivation the next start must redo it, so no clean marker then
      derived.drain(deadline, repaired).onComplete(ar -> p.complete(ar.succeeded() && ar.result()));
    } else if (System.currentTimeMillis() > deadline) {
      p.complete(false);
    } else {
      vertx.setTimer(10, id -> poll(p, deadline));
    }
  }
}
