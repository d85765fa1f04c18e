package io.tally.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * The writer's oldest pending receipt time, for the derived pipeline's crash watermark. Made by the composition root
 * before either verticle, so the derived verticle (deployed first) and the writer need not know each other.
 */
public final class WriterProgress {
  private volatile Context writerContext;
  private volatile BatchWriter writer;

  /** Called once by the writer's verticle, on its context, before it consumes the ring. */
  void attach(Context context, BatchWriter writer) {
    this.writer = writer;
    this.writerContext = context;
  }

  /**
   * The oldest receipt time (ms) of an event received but not yet committed, MAX_VALUE for none: asked on the
   * writer's context, answered on {@code caller}'s — after every batch the writer handed over before the answer.
   * Before the writer runs nothing has been received (ingestion starts after it).
   */
  public Future<Long> oldestPendingMs(Context caller) {
    Context ctx = writerContext;
    if (ctx == null) {
      return Future.succeededFuture(Long.MAX_VALUE);
    }
    Promise<Long> p = Promise.promise();
    ctx.runOnContext(v -> {
      long oldest = writer.oldestPendingMs();
      caller.runOnContext(x -> p.complete(oldest));
    });
    return p.future();
  }
}
