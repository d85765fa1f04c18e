package io.tally.query;

import io.tally.derive.DerivedChange;
import io.vertx.core.Future;

/**
 * A feature answering on the query verticle's context beside the query families (patterns, insights, alerts): it
 * shares their indexes and cache, and its state stays confined to that one worker context like theirs.
 */
public interface QueryModule {
  /** Builds its parts and registers its consumers on {@code host}; completes once they are registered. */
  Future<?> start(QueryHost host);

  /**
   * The derived tables changed (a flush or a rewrite, as published): brings the module's own state up to date. The
   * query cache is invalidated again when the returned future completes.
   */
  default Future<?> changed(DerivedChange change) {
    return Future.succeededFuture();
  }

  default Future<?> stop() {
    return Future.succeededFuture();
  }
}
