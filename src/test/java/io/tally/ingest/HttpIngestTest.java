package io.tally.ingest;

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

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpIngestTest {
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  @Test
  void verifiesThatASingleEventIsStoredWithEveryFieldBeforeTheAck() {
    // GIVEN the seed's SessionEvent shape
    String id = UUID.randomUUID().toString();
    JsonObject e = Events.event("message_sent", "u-single").put("id", id).put("label", "hello").put("value", 2.5)
        .put("timestamp", "2026-11-24T10:00:00.000Z");
    // WHEN it is posted
    Http.Response r = t.http.post(e.encode());
    // THEN the answer counts it and the row is already committed with every field
    assertEquals(200, r.status(), r.body());
    assertEquals(1, r.json().getInteger("accepted"));
    assertEquals(0, r.json().getInteger("duplicates"));
    assertTrue(r.json().getJsonArray("rejected").isEmpty());
    List<Map<String, Object>> rows = Db.query("SELECT project_id, type, category, action, label, value, session_id, "
        + "user_id, properties->>'model' AS model, (properties->>'tokens')::int AS tokens, page->>'path' AS path, "
        + "user_context->>'userId' AS ctx_user, ts FROM events WHERE id = ?::uuid", id);
    assertEquals(1, rows.size());
    Map<String, Object> row = rows.get(0);
    assertEquals(t.project, row.get("project_id"));
    assertEquals("message_sent", row.get("type"));
    assertEquals("conversation", row.get("category"));
    assertEquals("send", row.get("action"));
    assertEquals("hello", row.get("label"));
    assertEquals(2.5, row.get("value"));
    assertEquals("s-u-single", row.get("session_id"));
    assertEquals("u-single", row.get("user_id"));
    assertEquals("gpt-4o", row.get("model"));
    assertEquals(512, row.get("tokens"));
    assertEquals("/chat", row.get("path"));
    assertEquals("u-single", row.get("ctx_user"));
    assertEquals(Instant.parse("2026-11-24T10:00:00Z"),
        Db.instant("SELECT ts FROM events WHERE id = ?::uuid", id));
  }

  @Test
  void verifiesThatTypeAndCategoryAcceptStringAndObjectForms() {
    String a = UUID.randomUUID().toString();
    String b = UUID.randomUUID().toString();
    JsonObject e1 = new JsonObject().put("id", a).put("type", "page_view").put("category", "navigation")
        .put("timestamp", Instant.now().toString()).put("userContext", new JsonObject().put("userId", "u-forms"));
    JsonObject e2 = new JsonObject().put("id", b)
        .put("type", new JsonObject().put("name", "error").put("category", new JsonObject().put("id", "error")))
        .put("properties", new JsonObject().put("code", "E42"))
        .put("timestamp", Instant.now().toString()).put("sessionId", "s-forms");
    Http.Response r = t.http.post(Events.batch(e1, e2).encode());
    assertEquals(200, r.status(), r.body());
    assertEquals(2, r.json().getInteger("accepted"));
    assertEquals("navigation", Db.query("SELECT category FROM events WHERE id = ?::uuid", a).get(0).get("category"));
    Map<String, Object> row = Db.query("SELECT type, category, user_id, session_id FROM events WHERE id = ?::uuid", b)
        .get(0);
    assertEquals("error", row.get("type"));
    assertEquals("error", row.get("category"));
    assertNull(row.get("user_id"));
    assertEquals("s-forms", row.get("session_id"));
  }

  @Test
  void verifiesThatValidEventsBesideInvalidOnesAreStoredAndEachRejectionNamesItsField() {
    // GIVEN a batch of 5 where #1 has no timestamp, #3 no identity and #4 is not an object
    JsonObject ok0 = Events.event("message_sent", "u-partial");
    JsonObject noTs = Events.event("message_sent", "u-partial");
    noTs.remove("timestamp");
    JsonObject ok2 = Events.event("message_received", "u-partial");
    JsonObject noIdentity = new JsonObject().put("type", "page_view").put("timestamp", Instant.now().toString());
    JsonObject body = Events.batch(ok0, noTs, ok2, noIdentity);
    body.getJsonArray("batch").add("not an event");
    // WHEN posted
    Http.Response r = t.http.post(body.encode());
    // THEN the two valid ones are stored and the three others reported by index and field
    assertEquals(200, r.status(), r.body());
    assertEquals(2, r.json().getInteger("accepted"));
    JsonArray rejected = r.json().getJsonArray("rejected");
    assertEquals(3, rejected.size());
    assertEquals(1, rejected.getJsonObject(0).getInteger("index"));
    assertEquals("timestamp", rejected.getJsonObject(0).getString("field"));
    assertEquals(3, rejected.getJsonObject(1).getInteger("index"));
    assertEquals("userContext", rejected.getJsonObject(1).getString("field"));
    assertEquals(4, rejected.getJsonObject(2).getInteger("index"));
    assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(ok0.getString("id"))));
    assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(ok2.getString("id"))));
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(noTs.getString("id"))));
  }

  @Test
  void verifiesThatAnInvalidSingleEventIs400NamingTheField() {
    JsonObject e = Events.event("message_sent", "u-bad").put("timestamp", "yesterday");
    Http.Response r = t.http.post(e.encode());
    assertEquals(400, r.status());
    assertEquals("timestamp", r.json().getString("field"));
    assertTrue(r.json().getString("message").contains("ISO-8601"), r.body());
  }

  @Test
  void verifiesThatMalformedJsonIs400AndNothingIsStored() {
    long before = Db.eventsOf(t.project);
    Http.Response r = t.http.post("{\"batch\": [{\"type\": \"x\", \"timestamp\": ");
    assertEquals(400, r.status());
    assertEquals("malformed_json", r.json().getString("error"));
    Http.Response r2 = t.http.post("{\"type\":\"page_view\"} trailing");
    assertEquals(400, r2.status());
    assertEquals(before, Db.eventsOf(t.project));
  }

  @Test
  void verifiesThatAMissingIdIsAssignedAndReported() {
    JsonObject e = Events.event("page_view", "u-noid");
    e.remove("id");
    Http.Response r = t.http.post(Events.batch(Events.event("page_view", "u-noid"), e).encode());
    assertEquals(200, r.status(), r.body());
    JsonArray assigned = r.json().getJsonArray("assignedIds");
    assertNotNull(assigned, r.body());
    assertEquals(1, assigned.size());
    assertEquals(1, assigned.getJsonObject(0).getInteger("index"));
    String id = assigned.getJsonObject(0).getString("id");
    assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(id)));
  }

  @Test
  void verifiesThatAGzipBodyIsAccepted() {
    JsonObject body = Events.batchOf(50, "message_sent");
    Http.Response r = t.http.postGzip(Http.gzip(body.encode().getBytes(StandardCharsets.UTF_8)));
    assertEquals(200, r.status(), r.body());
    assertEquals(50, r.json().getInteger("accepted"));
    String firstId = body.getJsonArray("batch").getJsonObject(0).getString("id");
    assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(firstId)));
  }

  @Test
  void verifiesThatSentAtCorrectsClientClockSkew() {
    // GIVEN a client clock one hour fast: the event happened 2 s before it was sent
    Instant clientNow = Instant.now().plusSeconds(3600);
    String id = UUID.randomUUID().toString();
    JsonObject e = Events.event("page_view", "u-skew").put("id", id)
        .put("timestamp", clientNow.minusSeconds(2).toString()).put("sentAt", clientNow.toString());
    Instant before = Instant.now();
    assertEquals(200, t.http.post(e.encode()).status());
    Instant after = Instant.now();
    Instant stored = Db.instant("SELECT ts FROM events WHERE id = ?::uuid", id);
    // THEN the stored time is receipt - 2 s, on the server clock
    assertTrue(!stored.isBefore(before.minusSeconds(2).minusMillis(5)) && !stored.isAfter(after.minusSeconds(2)),
        "stored " + stored + " not within [" + before + ", " + after + "] - 2s");
  }

  @Test
  void verifiesThatUnknownRoutesAnswerJson404() {
    Http.Response r = t.http.get("/v1/nothing-here");
    assertEquals(404, r.status());
    assertEquals("not_found", r.json().getString("error"));
  }
}
