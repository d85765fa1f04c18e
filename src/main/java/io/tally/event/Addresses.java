package io.tally.event;

/** Every event-bus address Tally uses, in one place. */
public final class Addresses {
  /** Published after each committed batch: a small summary, never the events themselves. */
  public static final String EVENTS_COMMITTED = "events.committed";
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
  public static final String QUERY_PATTERNS = "query.patterns";
  public static final String QUERY_PATTERN_CREATE = "query.patterns.create";
  public static final String QUERY_PATTERN_DELETE = "query.patterns.delete";
  public static final String QUERY_PATTERNS_DETECT = "query.patterns.detect";
  public static final String QUERY_PATTERN_USERS = "query.patterns.users";
  public static final String QUERY_ANOMALIES = "query.anomalies";
  public static final String QUERY_INSIGHTS = "query.insights";
  public static final String QUERY_INSIGHT_SETTINGS = "query.insights.settings";
  public static final String QUERY_INSIGHT_SETTINGS_SAVE = "query.insights.settings.save";
  /** Published after the derived tables took a flush: {projects: {id: earliest event ms}, merged: [ids]}. */
  public static final String DERIVED_FLUSHED = "derived.flushed";
  /** Request: reply once the derived tables hold every event committed so far (waiting people and sessions included). */
  public static final String DERIVED_SYNC = "derived.sync";
  /** The dashboard (issue 7): a person's recent events, and saved segments / funnels ({kind: segment|funnel}). */
  public static final String QUERY_USER_EVENTS = "query.user.events";
  /** The people of a period, most active or most recent, for the dashboard's Users view. */
  public static final String QUERY_PEOPLE = "query.people";
  public static final String DASHBOARD_SAVED_LIST = "dashboard.saved.list";
  public static final String DASHBOARD_SAVED_PUT = "dashboard.saved.put";
  public static final String DASHBOARD_SAVED_DELETE = "dashboard.saved.delete";

  /** Admin: delete everything about one person {projectId, userId, suppress} → receipt. */
  public static final String PRIVACY_DELETE = "privacy.delete";
  /** Admin: everything about one person {projectId, userId} → export. */
  public static final String PRIVACY_EXPORT = "privacy.export";

  private Addresses() {
  }
}
