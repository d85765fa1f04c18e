package io.tally.dashboard;

import io.tally.event.Event;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Verifies the live tail: batch order kept, bounded per project, bots left out, totals and sequence numbers. */
class LiveFeedTest {
  static Event event(String project, String type, boolean bot) {
    return event(project, type, bot, Instant.now());
  }

  static Event event(String project, String type, boolean bot, Instant at) {
    return new Event(project, UUID.randomUUID(), at, Instant.now(), type, null, null, null, null, "s",
        "u", null, null, null, null, bot ? Event.FLAG_BOT : 0, null,
        new Event.Enrichment(null, null, "DE", "mobile", "Safari", null),
        new Event.Measures("openai", "gpt-4o", 12, 0.5, 0, 0, 0, Event.Measures.TOKENS | Event.Measures.COST));
  }

  @Test
  void keepsTheNewestInOrderPerProject() {
    LiveFeed feed = new LiveFeed(3);
    List<Event> batch = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      batch.add(event("a", "t" + i, false));
    }
    batch.add(event("a", "bot", true));
    batch.add(event("b", "other", false));
    feed.record(batch);
    JsonObject a = feed.since("a", 0, 10);
    assertEquals(5, a.getLong("total"), "bots are not counted");
    JsonArray events = a.getJsonArray("events");
    assertEquals(List.of("t2", "t3", "t4"), events.stream().map(e -> ((JsonObject) e).getString("type")).toList());
    JsonObject newest = events.getJsonObject(2);
    assertEquals("DE", newest.getString("country"));
    assertEquals(12.0, newest.getDouble("tokens"));
    assertEquals(1, feed.since("b", 0, 10).getLong("total"));
    assertEquals(0, feed.since("nobody", 0, 10).getJsonArray("events").size());

    // WHEN more arrive THEN a reader that saw up to seq gets only the new ones
    long seen = a.getLong("seq");
    feed.record(List.of(event("a", "t5", false)));
    JsonObject next = feed.since("a", seen, 10);
    assertEquals(1, next.getJsonArray("events").size());
    assertEquals("t5", next.getJsonArray("events").getJsonObject(0).getString("type"));
    assertEquals(6, next.getLong("total"));
    assertEquals(1, feed.since("a", 0, 1).getJsonArray("events").size(), "max respected");
    assertThrows(IllegalArgumentException.class, () -> new LiveFeed(0));
  }

  /**
   * Verifies the live window: GIVEN events 59 and 61 minutes older than their receipt and one a minute ahead WHEN
   * recorded THEN the 61-minute-old one (history arriving late) is neither counted nor shown.
   */
  @Test
  void leavesOutEventsReceivedLongAfterTheyHappened() {
    LiveFeed feed = new LiveFeed(10);
    Instant now = Instant.now();
    feed.record(List.of(event("a", "recent", false, now.minusSeconds(59 * 60)),
        event("a", "late", false, now.minusSeconds(61 * 60)),
        event("a", "ahead", false, now.plusSeconds(60))));
    JsonObject a = feed.since("a", 0, 10);
    assertEquals(2, a.getLong("total"));
    assertEquals(List.of("recent", "ahead"), a.getJsonArray("events").stream()
        .map(e -> ((JsonObject) e).getString("type")).toList());
  }
}
