package io.tally.dashboard;

/** Event-bus addresses the dashboard verticle answers. */
public final class DashboardAddresses {
  /** The dashboard (issue 7): a person's recent events, and saved segments / funnels ({kind: segment|funnel}). */
  public static final String QUERY_USER_EVENTS = "query.user.events";
  public static final String DASHBOARD_SAVED_LIST = "dashboard.saved.list";
  public static final String DASHBOARD_SAVED_PUT = "dashboard.saved.put";
  public static final String DASHBOARD_SAVED_DELETE = "dashboard.saved.delete";

  private DashboardAddresses() {
  }
}
