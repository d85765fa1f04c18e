package io.tally.derive;

/** Event-bus addresses of the derived pipeline. */
public final class DerivedAddresses {
  /** Published after the derived tables took a flush: {projects: {id: earliest event ms}, merged: [ids]}. */
  public static final String DERIVED_FLUSHED = "derived.flushed";
  /** Request: reply once the derived tables hold every event committed so far (waiting people and sessions included). */
  public static final String DERIVED_SYNC = "derived.sync";

  private DerivedAddresses() {
  }
}
