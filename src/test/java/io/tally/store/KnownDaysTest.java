package io.tally.store;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Verifies that the derived flush, which does not send again a person-day it already stored in {@code user_days} nor
 * a session's context it already stored, sends them again once something else removed them: a person deleted without
 * suppression who comes back the same day, in the same session, is an active person of that day again, and the
 * session has its device and browser again.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KnownDaysTest {

  private static final String UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/120.0.0.0 Safari/537.36";

  private static JsonObject ev(String user, String session, Instant ts) {
    JsonObject e = Events.event("message_sent", "x").put("timestamp", ts.toString()).put("sessionId", session)
        .put("context", new JsonObject().put("userAgent", UA));
    return e.put("userContext", new JsonObject().put("userId", user));
  }

  private static long sessionsWithContext(String project, String session) {
    return Db.count("SELECT count(*) FROM sessions WHERE project_id = ? AND session_id = ? AND context IS NOT NULL "
        + "AND device_type = 'desktop' AND browser IS NOT NULL", project, session);
  }

  private static long activeDays(String project, String user) {
    return Db.count("SELECT count(*) FROM user_days WHERE project_id = ? AND user_key = ?", project, user);
  }

  @Test
  void aPersonDeletedAndBackTheSameDayIsActiveAgain() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String admin = "a-key-" + s;
    String carol = "carol-" + s;
    try (TestTally t = TestTally.startWithAdmin(admin)) {
      String p = t.project;
      // the three events' times must share a UTC day: a run a minute after midnight uses the day before
      Instant clock = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      Instant now = clock.minusSeconds(60).truncatedTo(ChronoUnit.DAYS).equals(clock.truncatedTo(ChronoUnit.DAYS))
          ? clock : clock.truncatedTo(ChronoUnit.DAYS).minusSeconds(3_600);
      // GIVEN carol active today, seen by two flushes (the second one does not send her day again)
      assertEquals(200, t.http.post(Events.batch(ev(carol, "k1-" + s, now.minusSeconds(60))).encode()).status());
      Eventually.until("carol's day", () -> activeDays(p, carol) == 1);
      assertEquals(200, t.http.post(Events.batch(ev(carol, "k1-" + s, now.minusSeconds(30))).encode()).status());
      Eventually.until("both events derived", () -> Db.count("SELECT event_count FROM users WHERE project_id = ? "
          + "AND user_key = ?", p, carol) == 2);
      assertEquals(1, activeDays(p, carol));
      assertEquals(1, sessionsWithContext(p, "k1-" + s));

      // WHEN she is deleted without suppression, then sends an event again the same day
      Http.Response del = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/users/" + carol + "?suppress=false"))
          .header("Authorization", "Bearer " + admin).DELETE().build());
      assertEquals(200, del.status(), del.body());
      assertEquals(0, activeDays(p, carol));
      assertEquals(0, Db.count("SELECT count(*) FROM sessions WHERE project_id = ? AND session_id = ?", p, "k1-" + s));
      assertEquals(200, t.http.post(Events.batch(ev(carol, "k2-" + s, now), ev(carol, "k1-" + s, now)).encode())
          .status());

      // THEN today is one of her active days again
      Eventually.until("carol's new session", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ? "
          + "AND session_id = ?", p, "k2-" + s) == 1);
      assertEquals(1, activeDays(p, carol));
      assertEquals(1, sessionsWithContext(p, "k1-" + s), "the session she came back to has its context again");
      Http.Response analytics = t.http.get("/v1/users/" + carol + "/analytics");
      assertEquals(200, analytics.status(), analytics.body());
    }
  }
}
