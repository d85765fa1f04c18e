package io.tally.event;

import java.time.Instant;
import java.util.UUID;

/**
 * One validated event, ready to store. JSON sub-objects are kept as the exact text the client sent (sliced from
 * the request, never re-serialised). {@code client} is what the client told us about itself; {@code enrichment}
 * is what the server derived (null until enriched).
 *
 * @param timestamp  event time after clock-skew correction (the partition key)
 * @param flags      bit set of the FLAG_ constants
 */
public record Event(String projectId, UUID id, Instant timestamp, Instant receivedAt,
                    String type, String category, String action, String label, Double value,
                    String sessionId, String userId, String anonymousId,
                    String propertiesJson, String pageJson, String userContextJson, int flags,
                    ClientInfo client, Enrichment enrichment, Measures measures) {

  public static final int FLAG_ID_ASSIGNED = 1;
  public static final int FLAG_SKEW_CORRECTED = 2;
  public static final int FLAG_FUTURE_CLAMPED = 4;
  public static final int FLAG_BOT = 8;
  public static final int FLAG_SESSION_ASSIGNED = 16;
  public static final int FLAG_CUSTOM_TYPE = 32;

  public boolean idAssigned() {
    return (flags & FLAG_ID_ASSIGNED) != 0;
  }

  public boolean bot() {
    return (flags & FLAG_BOT) != 0;
  }

  /** The identity counted for per-user figures: the user id, else the anonymous id. */
  public String actor() {
    return userId != null ? userId : anonymousId;
  }

  /** A copy carrying the server's enrichment, extra flags and (when the server cut it) the session id. */
  public Event enriched(Enrichment e, int extraFlags, String session) {
    return new Event(projectId, id, timestamp, receivedAt, type, category, action, label, value, session, userId,
        anonymousId, propertiesJson, pageJson, userContextJson, flags | extraFlags, client, e, measures);
  }

  /** What the client sent about its environment and page (any field may be null). */
  public record ClientInfo(String userAgent, String ip, String screenResolution, String viewport, String language,
                           String timezone, Boolean cookiesEnabled, Boolean doNotTrack, Boolean javascriptEnabled,
                           String pageUrl, String pagePath, String pageSearch, String referrer, String previousId,
                           String userPropertiesJson) {
    public static final ClientInfo EMPTY = new ClientInfo(null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null);

    /** Whether the client described its screen, language or browser settings. */
    public boolean hasEnvironment() {
      return screenResolution != null || viewport != null || language != null || timezone != null
          || cookiesEnabled != null || doNotTrack != null || javascriptEnabled != null;
    }

    /** The environment fields as one key, to reuse the context built for an identical environment. */
    public String environmentKey() {
      return screenResolution + '|' + viewport + '|' + language + '|' + timezone + '|' + cookiesEnabled + '|'
          + doNotTrack + '|' + javascriptEnabled;
    }
  }

  /** What the server derived: the JSON context stored with the event, plus the columns queries filter on. */
  public record Enrichment(String contextJson, String attributionJson, String country, String deviceType,
                           String browser, String ip) {
    public static final Enrichment NONE = new Enrichment(null, null, null, null, null, null);
  }

  /**
   * The properties the rollups aggregate, read while parsing (numbers only when the JSON value is a number,
   * strings only when it is a string); {@link #NONE} when the event carries none of them.
   */
  public record Measures(String provider, String model, double tokens, double cost, double amount,
                         double responseTimeMs, double durationMs, int present) {
    public static final int TOKENS = 1;
    public static final int COST = 2;
    public static final int AMOUNT = 4;
    public static final int RESPONSE_TIME = 8;
    public static final int DURATION = 16;
    public static final Measures NONE = new Measures(null, null, 0, 0, 0, 0, 0, 0);

    public boolean has(int bit) {
      return (present & bit) != 0;
    }
  }
}
