package io.tally.derive;

import io.vertx.core.eventbus.DeliveryOptions;

/** Event-bus addresses of the derived pipeline (messages local to the process). */
public final class DerivedAddresses {
  /** Published after the derived tables took a flush: a {@link DerivedFlush}. */
  public static final String DERIVED_FLUSHED = "derived.flushed";
  /** Published after derived rows were moved or removed (identity merge, deletion, retention): a {@link DerivedRewrite}. */
  public static final String DERIVED_REWRITTEN = "derived.rewritten";
  /** Request: reply once the derived tables hold every event committed so far (waiting people and sessions included). */
  public static final String DERIVED_SYNC = "derived.sync";

  /** How {@link DerivedFlush} and {@link DerivedRewrite} are published: within the process, by reference. */
  public static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private DerivedAddresses() {
  }
}
