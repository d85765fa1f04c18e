package io.tally.enrich;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionsIdentityTest {
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  private static JsonObject pv(String user, Instant at, String path) {
    JsonObject e = Events.event("page_view", user).put("timestamp", at.toString())
        .put("page", new JsonObject().put("url", "https://app.example" + path).put("path", path))
        .put("context", new JsonObject().put("userAgent", UserAgentParserTest.FIREFOX_MAC));
    e.remove("sessionId");
    e.put("userContext", new JsonObject().put("userId", user));
    return e;
  }

  @Test
  void verifiesThatServerSessionsAreCutAfterThirtyMinutesOfInactivity() {
    // GIVEN one user's events without a session id: 0, 10, 35 min (a 25 min gap), then 70 min (a 35 min gap)
    String user = "u-sess-" + UUID.randomUUID();
    Instant t0 = Instant.parse("2026-11-23T09:00:00Z");
    JsonObject a = pv(user, t0, "/a");
    JsonObject b = pv(user, t0.plus(Duration.ofMinutes(10)), "/b");
    JsonObject c = pv(user, t0.plus(Duration.ofMinutes(35)), "/c");
    JsonObject d = pv(user, t0.plus(Duration.ofMinutes(70)), "/d");
    assertEquals(2, t.http.post(Events.batch(a, b).encode()).json().getInteger("accepted"));
    assertEquals(2, t.http.post(Events.batch(c, d).encode()).json().getInteger("accepted"));
    // THEN two sessions: {a, b, c} and {d}
    io.tally.support.Eventually.until("4 events in sessions of " + user, () -> Db.count(
        "SELECT coalesce(sum(event_count), 0) FROM sessions WHERE project_id = ? AND user_id = ?", t.project, user) == 4);
    List<Map<String, Object>> sessions = Db.query("SELECT session_id, event_count, page_count, entry_page, exit_page, "
        + "duration_ms, bounce, server_assigned, device_type, browser FROM sessions WHERE project_id = ? AND user_id = ? "
        + "ORDER BY started_at", t.project, user);
    assertEquals(2, sessions.size());
    Map<String, Object> first = sessions.get(0);
    assertEquals(3, first.get("event_count"));
    assertEquals(3, first.get("page_count"));
    assertEquals("/a", first.get("entry_page"));
    assertEquals("/c", first.get("exit_page"));
    assertEquals(35L * 60_000, first.get("duration_ms"));
    assertEquals(false, first.get("bounce"));
    assertEquals(true, first.get("server_assigned"));
    assertEquals("desktop", first.get("device_type"));
    assertEquals("Firefox", first.get("browser"));
    Map<String, Object> second = sessions.get(1);
    assertEquals(1, second.get("event_count"));
    assertEquals(true, second.get("bounce"));
    // AND each event carries its session's id
    assertEquals(first.get("session_id"), Db.query("SELECT session_id FROM events WHERE id = ?::uuid",
        c.getString("id")).get(0).get("session_id"));
    assertNotEquals(first.get("session_id"), second.get("session_id"));
  }

  @Test
  void verifiesThatAClientSessionIsHonouredAndServedAsSessionAnalytics() {
    String user = "u-client-" + UUID.randomUUID();
    String session = "s-client-" + UUID.randomUUID();
    Instant t0 = Instant.parse("2026-11-23T23:50:00Z");
    JsonObject start = pv(user, t0, "/home").put("sessionId", session);
    // crossing midnight, and with a gap over 30 minutes: the client's session id wins
    JsonObject msg = Events.event("message_sent", user).put("sessionId", session)
        .put("timestamp", t0.plus(Duration.ofMinutes(50)).toString());
    JsonObject pay = Events.event("payment", user).put("sessionId", session).put("type", "payment")
        .put("timestamp", t0.plus(Duration.ofMinutes(55)).toString())
        .put("properties", new JsonObject().put("amount", 20).put("currency", "EUR"));
    assertEquals(3, t.http.post(Events.batch(pay, start, msg).encode()).json().getInteger("accepted"));
    io.tally.support.Eventually.until("session " + session, () -> t.http.get("/v1/sessions/" + session).status() == 200);
    Http.Response r = t.http.get("/v1/sessions/" + session);
    assertEquals(200, r.status(), r.body());
    JsonObject s = r.json();
    assertEquals(session, s.getString("sessionId"));
    assertEquals(user, s.getString("userId"));
    assertEquals(t0.toString(), s.getString("startTime"));
    assertEquals(t0.plus(Duration.ofMinutes(55)).toString(), s.getString("endTime"));
    assertEquals(55L * 60_000, s.getLong("duration"));
    assertEquals(3, s.getJsonArray("events").size());
    assertEquals("page_view", s.getJsonArray("events").getJsonObject(0).getJsonObject("type").getString("name"));
    assertEquals("desktop", s.getJsonObject("device").getString("type"));
    assertEquals("Firefox", s.getJsonObject("browser").getString("name"));
    assertTrue(s.getJsonObject("location").isEmpty());
    assertEquals(true, s.getBoolean("isNewUser"));
    JsonArray conversions = s.getJsonArray("conversions");
    assertEquals(1, conversions.size());
    assertEquals("payment", conversions.getJsonObject(0).getString("type"));
    assertEquals("EUR", conversions.getJsonObject(0).getString("currency"));
    // the user's sessions over a period
    JsonObject list = t.http.get("/v1/users/" + user + "/sessions?from=2026-11-23&to=2026-11-25").json();
    assertEquals(1, list.getJsonArray("sessions").size());
    assertEquals(0, t.http.get("/v1/users/" + user + "/sessions?from=2026-11-24&to=2026-11-25").json()
        .getJsonArray("sessions").size());
    assertEquals(404, t.http.get("/v1/sessions/nope-" + UUID.randomUUID()).status());
  }

  @Test
  void verifiesThatIdentifyHandsTheAnonymousHistoryToTheUser() {
    String anon = "anon-" + UUID.randomUUID();
    String user = "u-known-" + UUID.randomUUID();
    Instant t0 = Instant.parse("2026-11-22T08:00:00Z");
    // GIVEN an anonymous visitor with two events
    JsonObject a1 = pv("x", t0, "/landing").put("userContext", new JsonObject().put("anonymousId", anon));
    JsonObject a2 = pv("x", t0.plusSeconds(60), "/signup").put("userContext", new JsonObject().put("anonymousId", anon));
    t.http.post(Events.batch(a1, a2).encode());
    io.tally.support.Eventually.until("the anonymous person", () -> Db.count(
        "SELECT count(*) FROM users WHERE project_id = ? AND user_key = ?", t.project, anon) == 1);
    // WHEN an identify event links the anonymous id to a user id
    JsonObject identify = new JsonObject().put("type", "identify").put("timestamp", t0.plusSeconds(120).toString())
        .put("userContext", new JsonObject().put("anonymousId", anon).put("userId", user)
            .put("userProperties", new JsonObject().put("plan", "pro")));
    assertEquals(200, t.http.post(identify.encode()).status());
    io.tally.support.Eventually.until("the link of " + anon, () -> Db.count(
        "SELECT count(*) FROM users WHERE project_id = ? AND user_key = ?", t.project, anon) == 0);
    // AND the visitor keeps sending only the anonymous id
    JsonObject a3 = pv("x", t0.plusSeconds(180), "/chat").put("userContext", new JsonObject().put("anonymousId", anon));
    t.http.post(a3.encode());
    // THEN every event, the session and the person belong to the user: one person, history included
    io.tally.support.Eventually.until("4 events counted for " + user, () -> Db.count(
        "SELECT coalesce(sum(event_count), 0) FROM users WHERE project_id = ? AND user_key = ?", t.project, user) == 4);
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND anonymous_id = ? AND user_id IS NULL",
        t.project, anon));
    assertEquals(4, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND user_id = ?", t.project, user));
    assertEquals(0, Db.count("SELECT count(*) FROM users WHERE project_id = ? AND user_key = ?", t.project, anon));
    Map<String, Object> person = Db.query("SELECT identified, first_seen, event_count, traits->>'plan' AS plan "
        + "FROM users WHERE project_id = ? AND user_key = ?", t.project, user).get(0);
    assertEquals(true, person.get("identified"));
    assertEquals(4L, person.get("event_count"));
    assertEquals("pro", person.get("plan"));
    assertEquals(t0, ((java.sql.Timestamp) person.get("first_seen")).toInstant());
    assertEquals(0, Db.count("SELECT count(*) FROM sessions WHERE project_id = ? AND anonymous_id = ? AND user_id IS NULL",
        t.project, anon));
    // the per-person daily rollup moved too: the 3 page views (2 before the link, 1 after) and the identify
    io.tally.support.Eventually.until("per-person rollup re-keyed", () -> Db.count(
        "SELECT coalesce(sum(events), 0) FROM user_daily WHERE project_id = ? AND user_key = ?", t.project, user) == 4);
    assertEquals(0, Db.count("SELECT count(*) FROM user_daily WHERE project_id = ? AND user_key = ?", t.project, anon));
    assertEquals(3, Db.count("SELECT coalesce(sum(events), 0) FROM user_daily WHERE project_id = ? AND user_key = ? "
        + "AND type = 'page_view'", t.project, user));
  }

  @Test
  void verifiesThatAliasMergesAPreviousIdIntoTheNewOne() {
    String oldId = "u-old-" + UUID.randomUUID();
    String newId = "u-new-" + UUID.randomUUID();
    t.http.post(Events.event("message_sent", oldId).put("timestamp", "2026-11-20T10:00:00Z").encode());
    JsonObject alias = new JsonObject().put("type", "alias").put("timestamp", "2026-11-21T10:00:00Z")
        .put("userContext", new JsonObject().put("userId", newId))
        .put("properties", new JsonObject().put("previousId", oldId));
    assertEquals(200, t.http.post(alias.encode()).status());
    io.tally.support.Eventually.until("the alias merge", () -> Db.count(
        "SELECT count(*) FROM events WHERE project_id = ? AND user_id = ?", t.project, oldId) == 0);
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND user_id = ?", t.project, oldId));
    assertEquals(2, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND user_id = ?", t.project, newId));
    assertEquals(1, Db.count("SELECT count(*) FROM users WHERE project_id = ? AND user_key IN (?, ?)", t.project,
        oldId, newId));
    JsonObject bad = new JsonObject().put("type", "alias").put("timestamp", "2026-11-21T10:00:00Z")
        .put("userContext", new JsonObject().put("userId", newId));
    Http.Response r = t.http.post(bad.encode());
    assertEquals(400, r.status());
    assertEquals("properties.previousId", r.json().getString("field"));
    assertNull(null);
  }
}
