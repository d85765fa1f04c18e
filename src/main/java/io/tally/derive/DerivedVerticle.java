package io.tally.derive;

import io.tally.config.TallyConfig;
import io.tally.event.Event;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;

import java.util.List;
import java.util.function.Function;

/**
 * Hosts the {@link DerivedUpdater} on a context of its own (a worker context: a thread that is neither the writer's
 * nor an HTTP event loop). Building and reading back a flush of thousands of people and sessions takes tens of
 * milliseconds of CPU; on the writer's context every batch committed or sent in that time waited for it, and so did
 * its acks. Deployed before the writer's verticle, which hands it each committed batch.
 * <p>
 * The crash watermark needs the writer's oldest uncommitted event. A flush asks the writer's context for it, and the
 * answer comes back as a task on this context. The writer hands each committed batch over as a task on this context
 * before it forgets that batch, and a context runs the tasks one thread submits in the order submitted, so a batch
 * the answer no longer counts has been accepted here before the answer arrives: no event is counted by neither.
 */
public final class DerivedVerticle extends VerticleBase {
  private final Pool pool;
  private final TallyConfig.Writer cfg;
  private final TallyMetrics metrics;
  private final Function<Context, Future<Long>> writerOldestPendingMs;
  private DerivedUpdater derived;
  /** Events handed over on the writer's context and not yet taken by the updater on its own. */
  private final java.util.concurrent.atomic.AtomicInteger inTransit = new java.util.concurrent.atomic.AtomicInteger();
  /** The graceful drain's sync in progress, if any. */
  private Future<Void> drainSync;

  /**
   * @param writerOldestPendingMs the writer's oldest pending receipt time (ms, MAX_VALUE: none), asked on the writer's
   *                              context and answered on the given one
   */
  public DerivedVerticle(Pool pool, TallyConfig.Writer cfg, TallyMetrics metrics,
                  Function<Context, Future<Long>> writerOldestPendingMs) {
    this.pool = pool;
    this.cfg = cfg;
    this.metrics = metrics;
    this.writerOldestPendingMs = writerOldestPendingMs;
  }

  @Override
  public Future<?> start() {
    Context own = context;
    derived = new DerivedUpdater(pool, () -> writerOldestPendingMs.apply(own), cfg.derivedRefreshMs(), metrics,
        change -> vertx.eventBus().publish(change instanceof DerivedFlush ? DerivedAddresses.DERIVED_FLUSHED
            : DerivedAddresses.DERIVED_REWRITTEN, change, DerivedAddresses.LOCAL));
    // a rewrite (a person deleted, retention, an identity merge) may have removed user_days or sessions rows the
    // updater knows as stored
    vertx.eventBus().<DerivedRewrite>consumer(DerivedAddresses.DERIVED_REWRITTEN, m -> derived.forgetStored());
    vertx.eventBus().<Object>consumer(DerivedAddresses.DERIVED_SYNC, m ->
        derived.sync().onComplete(ar -> m.reply(ar.succeeded())));
    vertx.setPeriodic(cfg.derivedFlushMs(), id -> derived.flush());
    return Future.succeededFuture();
  }

  /** Events handed over and not yet in a committed flush (0 before start); read from the writer's thread. */
  public int backlog() {
    DerivedUpdater d = derived;
    return inTransit.get() + (d == null ? 0 : d.backlog());
  }

  /** Hands over the newly stored events of a committed batch (called on the writer's context, in commit order). */
  public void accept(List<Event> stored) {
    inTransit.addAndGet(stored.size());
    context.runOnContext(v -> {
      derived.accept(stored);
      inTransit.addAndGet(-stored.size());
    });
  }

  /**
   * Writes everything handed over so far, every waiting row included, then (with {@code markClean}) records that
   * nothing received needs re-deriving. Completes with false if that is not done by {@code deadlineMs}.
   */
  public Future<Boolean> drain(long deadlineMs, boolean markClean) {
    Promise<Boolean> p = Promise.promise();
    context.runOnContext(v -> poll(p, deadlineMs, markClean));
    return p.future();
  }

  private void poll(Promise<Boolean> p, long deadlineMs, boolean markClean) {
    if (!derived.idle() && (drainSync == null || drainSync.isComplete())) {
      // a sync: every waiting row too, not the bounded number a quiet flush writes; one at a time (this polls every
      // 10 ms while a flush may take seconds)
      drainSync = derived.sync();
    }
    if (derived.idle()) {
      if (!markClean) {
        p.complete(true);
        return;
      }
      derived.markClean().onComplete(ar -> p.complete(true));
    } else if (System.currentTimeMillis() > deadlineMs) {
      p.complete(false);
    } else {
      vertx.setTimer(10, id -> poll(p, deadlineMs, markClean));
    }
  }
}
