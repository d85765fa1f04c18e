package io.tally.query;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Verifies that {@code GET /v1/sessions/{id}} answers a session whose newer events still wait to be written into its
 * row (under load, up to {@code writer.derivedRefreshMs}) from the events themselves: its end, duration, counts, exit
 * page and bounce, and every event. The wait is reproduced by putting the stored row back to what it held after the
 * session's first two events.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionLiveEndTest {

  private static JsonObject ev(String type, String page, Instant ts) {
    return Events.event(type, "lou").put("sessionId", "live-s").put("timestamp", ts.toString())
        .put("page", new JsonObject().put("url", "https://app" + page).put("path", page));
  }

  @Test
  void aSessionWhoseRowWaitsIsAnsweredFromItsEvents() {
    try (TestTally t = TestTally.start()) {
      Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(300);
      // GIVEN four events of one session: two page views, two messages, 45 s from first to last
      assertEquals(200, t.http.post(Events.batch(ev("page_view", "/a", t0), ev("message_sent", "/a", t0.plusSeconds(10)),
          ev("page_view", "/b", t0.plusSeconds(20)), ev("message_sent", "/c", t0.plusSeconds(45))).encode()).status());
      Eventually.until("the session derived", () -> Db.count("SELECT coalesce(sum(event_count), 0) FROM sessions "
          + "WHERE project_id = ? AND session_id = 'live-s'", t.project) == 4);
      // AND its row as it was after the first two (the last two waiting to be written)
      assertEquals(1, Db.update("UPDATE sessions SET ended_at = ?::timestamptz, event_count = 2, page_count = 1, "
          + "exit_page = '/a' WHERE project_id = ? AND session_id = 'live-s'", t0.plusSeconds(10).toString(), t.project));

      // WHEN it is asked for
      Http.Response r = t.http.get("/v1/sessions/live-s");

      // THEN the answer is the session as its events make it
      assertEquals(200, r.status(), r.body());
      JsonObject s = r.json();
      assertEquals(4, s.getJsonArray("events").size());
      assertEquals(t0.plusSeconds(45).toString(), s.getString("endTime"));
      assertEquals(45_000L, s.getLong("duration"));
      assertEquals(4, s.getInteger("eventCount"));
      assertEquals(2, s.getInteger("pageCount"));
      assertEquals("/c", s.getString("exitPage"));
      assertEquals(false, s.getBoolean("bounce"));
      assertEquals("/a", s.getString("entryPage"));
    }
  }
}
