package io.tally.event;

import java.time.Instant;
import java.util.UUID;

/**
 * One validated event, ready to store. JSON sub-objects are kept as the exact text the client sent
 * (sliced from the request, never re-serialised).
 *
 * @param timestamp  event time after clock-skew correction (the partition key)
 * @param flags      bit set of {@link #FLAG_ID_ASSIGNED}, {@link #FLAG_SKEW_CORRECTED}, {@link #FLAG_FUTURE_CLAMPED}
 */
public record Event(String projectId, UUID id, Instant timestamp, Instant receivedAt,
                    String type, String category, String action, String label, Double value,
                    String sessionId, String userId, String anonymousId,
                    String propertiesJson, String pageJson, String userContextJson, int flags) {

  public static final int FLAG_ID_ASSIGNED = 1;
  public static final int FLAG_SKEW_CORRECTED = 2;
  public static final int FLAG_FUTURE_CLAMPED = 4;

  public boolean idAssigned() {
    return (flags & FLAG_ID_ASSIGNED) != 0;
  }

  /** The identity counted for per-user figures: the user id, else the anonymous id. */
  public String actor() {
    return userId != null ? userId : anonymousId;
  }
}
