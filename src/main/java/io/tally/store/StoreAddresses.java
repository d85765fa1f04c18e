package io.tally.store;

/** Event-bus addresses of the store: what it publishes after each commit. */
public final class StoreAddresses {
  /** Published after each committed batch: a {@link CommitNotice} (local to the process). */
  public static final String EVENTS_COMMITTED = "events.committed";

  private StoreAddresses() {
  }
}
