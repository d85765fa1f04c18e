package io.tally.enrich;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Cuts server-side sessions for events that carry no client session id: a user's events belong to one session
 * until they are quiet for the inactivity timeout (by event time). State is in memory, warmed at start from the
 * sessions table so a restart does not split a live session.
 */
public final class Sessionizer {
  private final long timeoutMs;
  private final Cache<String, State> open;

  private static final class State {
    String id;
    long lastMs;

    State(String id, long lastMs) {
      this.id = id;
      this.lastMs = lastMs;
    }
  }

  public Sessionizer(Duration timeout) {
    this.timeoutMs = timeout.toMillis();
    this.open = Caffeine.newBuilder().expireAfterAccess(timeout.multipliedBy(2)).maximumSize(2_000_000).build();
  }

  /** The session of an event of {@code actor} at {@code at}: the open one, or a new one. */
  public String sessionFor(String projectId, String actor, Instant at) {
    long t = at.toEpochMilli();
    State s = open.asMap().compute(projectId + '\u0001' + actor, (k, cur) -> {
      if (cur == null || t - cur.lastMs > timeoutMs || cur.lastMs - t > timeoutMs) {
        return new State(newId(projectId, actor, t), t);
      }
      cur.lastMs = Math.max(cur.lastMs, t);
      return cur;
    });
    return s.id;
  }

  /** Registers a session found in storage (at start). */
  public void remember(String projectId, String actor, String sessionId, Instant lastEvent) {
    open.put(projectId + '\u0001' + actor, new State(sessionId, lastEvent.toEpochMilli()));
  }

  private static String newId(String projectId, String actor, long startMs) {
    return "srv-" + UUID.nameUUIDFromBytes((projectId + '\u0001' + actor + '\u0001' + startMs)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
