package io.tally.event;

/** Every event-bus address Tally uses, in one place. */
public final class Addresses {
  /** Published after each committed batch: a small summary, never the events themselves. */
  public static final String EVENTS_COMMITTED = "events.committed";
  public static final String QUERY_REALTIME = "query.realtime";
  public static final String QUERY_EVENT_COUNT = "query.events.count";
  public static final String QUERY_SESSION = "query.session";
  public static final String QUERY_USER_SESSIONS = "query.user.sessions";

  private Addresses() {
  }
}
