package io.tally.insight;

/** Event-bus addresses of patterns, anomalies and insights (answered on the query verticle). */
public final class InsightAddresses {
  public static final String QUERY_PATTERNS = "query.patterns";
  public static final String QUERY_PATTERN_CREATE = "query.patterns.create";
  public static final String QUERY_PATTERN_DELETE = "query.patterns.delete";
  public static final String QUERY_PATTERNS_DETECT = "query.patterns.detect";
  public static final String QUERY_PATTERN_USERS = "query.patterns.users";
  public static final String QUERY_ANOMALIES = "query.anomalies";
  public static final String QUERY_INSIGHTS = "query.insights";
  public static final String QUERY_INSIGHT_SETTINGS = "query.insights.settings";
  public static final String QUERY_INSIGHT_SETTINGS_SAVE = "query.insights.settings.save";

  private InsightAddresses() {
  }
}
