package io.tally.query;

/** Event-bus addresses the query verticle answers for the query families. */
public final class QueryAddresses {
  public static final String QUERY_REALTIME = "query.realtime";
  public static final String QUERY_EVENT_COUNT = "query.events.count";
  public static final String QUERY_SESSION = "query.session";
  public static final String QUERY_USER_SESSIONS = "query.user.sessions";
  public static final String QUERY_USER_ANALYTICS = "query.user.analytics";
  public static final String QUERY_USAGE = "query.usage";
  public static final String QUERY_FUNNEL = "query.funnel";
  public static final String QUERY_RETENTION = "query.retention";
  public static final String QUERY_CONVERSIONS = "query.conversions";
  public static final String QUERY_TIMESERIES = "query.timeseries";
  public static final String QUERY_BREAKDOWN = "query.breakdown";
  /** The people of a period, most active or most recent, for the dashboard's Users view. */
  public static final String QUERY_PEOPLE = "query.people";

  private QueryAddresses() {
  }
}
