package io.tally.query;

import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A derived flush reports to the person index only the persons whose first_seen it set (new persons, or an event
 * older than the stored first_seen), not every person it touched: "new users" must still follow first_seen through
 * later flushes that bring newer events (unchanged), older events (moved earlier) and new persons.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PersonFirstSeenTest {
  private static final Instant DAY = Instant.parse("2026-11-20T00:00:00Z");

  @Test
  void verifiesThatNewUsersFollowFirstSeenAcrossFlushes() {
    try (TestTally t = TestTally.start()) {
      Map<String, Instant> firstSeen = new HashMap<>();
      // GIVEN a, b and d first seen on day 0 (one flush)
      post(t, firstSeen, List.of("a", "b", "d"), DAY.plusSeconds(12 * 3600));
      Eventually.until("day 0's new users counted", 20, () -> newUsers(t, DAY, 1) == 3);
      // WHEN later flushes bring a again on day 1 (first_seen unchanged), b on day -2 (first_seen moves earlier),
      // c for the first time on day 1, and d on day -1 in a batch of its own
      post(t, firstSeen, List.of("a", "c"), DAY.plus(Duration.ofDays(1)).plusSeconds(3600));
      post(t, firstSeen, List.of("b"), DAY.minus(Duration.ofDays(2)).plusSeconds(3600));
      post(t, firstSeen, List.of("d"), DAY.minus(Duration.ofDays(1)).plusSeconds(7200));
      // THEN each day's new users are those whose earliest event (computed here) falls on it, from the index as from
      // the raw events
      Eventually.until("day 1's new user counted", 20, () -> newUsers(t, DAY.plus(Duration.ofDays(1)), 1) == 1);
      for (int d = -3; d <= 2; d++) {
        Instant from = DAY.plus(Duration.ofDays(d));
        long expected = firstSeen.values().stream()
            .filter(i -> !i.isBefore(from) && i.isBefore(from.plus(Duration.ofDays(1)))).count();
        int day = d;
        Eventually.until("new users of day " + day, 20, () -> newUsers(t, from, 1) == expected);
        assertEquals(expected, newUsers(t, from, 1), "day " + d);
        assertEquals(expected, rawNewUsers(t, from), "day " + d + " from the raw events");
      }
      assertEquals(1, newUsers(t, DAY.minus(Duration.ofDays(2)), 1), "b moved to day -2");
      assertEquals(1, newUsers(t, DAY, 1), "only a is new on day 0 now");
      assertEquals(4, newUsers(t, DAY.minus(Duration.ofDays(3)), 5), "four persons in all");
    }
  }

  private static void post(TestTally t, Map<String, Instant> firstSeen, List<String> users, Instant at) {
    JsonArray batch = new JsonArray();
    for (String u : users) {
      batch.add(Events.event("message_sent", "fs-" + u).put("timestamp", at.toString()));
      firstSeen.merge(u, at, (x, y) -> x.isBefore(y) ? x : y);
    }
    assertEquals(200, t.http.post(new JsonObject().put("batch", batch).encode()).status());
  }

  private static long newUsers(TestTally t, Instant from, int days) {
    return usage(t, from, days, "").getJsonObject("users").getLong("new");
  }

  private static long rawNewUsers(TestTally t, Instant from) {
    return usage(t, from, 1, "&raw=true").getJsonObject("users").getLong("new");
  }

  private static JsonObject usage(TestTally t, Instant from, int days, String extra) {
    return t.http.get("/v1/metrics/usage?from=" + from + "&to=" + from.plus(Duration.ofDays(days)) + extra).json();
  }
}
