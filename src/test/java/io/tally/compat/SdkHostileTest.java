package io.tally.compat;

import io.tally.support.Db;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile requests on the SDK routes: gzip bombs, oversize events and bodies, bad keys, bad JSON, wrong types and
 * huge arrays are each refused with the status the SDKs understand and a JSON error naming the field and limit, with
 * nothing internal in it and nothing stored; good events beside bad ones are stored.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SdkHostileTest {
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.close();
  }

  private static String basic(String key) {
    return "Basic " + Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8));
  }

  private static Http.Response post(String path, byte[] body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return t.http.send(b.build());
  }

  private static Http.Response segment(String path, JsonObject body) {
    return post(path, body.toBuffer().getBytes(), "Authorization", basic(t.writeKey), "Content-Type",
        "application/json");
  }

  private static JsonObject track(String id) {
    return new JsonObject().put("type", "track").put("messageId", id).put("userId", "u-h").put("event", "Clicked")
        .put("timestamp", Instant.now().toString()).put("properties", new JsonObject().put("n", 1));
  }

  private static long stored(String messageId) {
    return Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?", t.project,
        UUID.nameUUIDFromBytes(messageId.getBytes(StandardCharsets.UTF_8)));
  }

  private static void assertError(Http.Response r, int status, String field, Long limit) {
    assertEquals(status, r.status(), r.body());
    JsonObject e = r.json();
    assertNotNull(e.getString("error"), r.body());
    assertNotNull(e.getString("message"), r.body());
    assertEquals(field, e.getString("field"), r.body());
    assertEquals(limit, e.getLong("limit"), r.body());
    for (String internal : new String[] {"Exception", "jackson", "line:", "column:", "SQL", "at io."}) {
      assertFalse(r.body().contains(internal), "internal text in " + r.body());
    }
  }

  @Test
  void verifiesThatAGzipBombIsRefused413AfterInflatingAtMostTheLimitOnBothSdkFamilies() {
    // GIVEN 20 MB of JSON whitespace-padded batch, gzipped to a few KB
    byte[] inflated = new byte[20 * 1024 * 1024];
    java.util.Arrays.fill(inflated, (byte) ' ');
    inflated[0] = '{';
    inflated[inflated.length - 1] = '}';
    byte[] bomb = Http.gzip(inflated);
    assertTrue(bomb.length < 100_000);
    // WHEN it is sent as RudderStack sends gzip (a form content type) and to PostHog without any header
    Http.Response rudder = post("/v1/batch", bomb, "Authorization", basic(t.writeKey), "Content-Encoding", "gzip",
        "Content-Type", "application/x-www-form-urlencoded");
    Http.Response posthog = post("/batch/", bomb, "Content-Type", "application/json");
    // THEN both are refused as too large, naming the body and its 500 KB limit
    assertError(rudder, 413, "body", 512_000L);
    assertError(posthog, 413, "body", 512_000L);
  }

  @Test
  void verifiesThatAnOversizeEventIsRefused413AloneAndBesideGoodEventsOnlyItIsRejected() {
    // GIVEN an event over 32 KB
    JsonObject big = track("big-" + UUID.randomUUID());
    big.getJsonObject("properties").put("blob", "x".repeat(40_000));
    // WHEN it comes alone on /v1/track
    Http.Response alone = segment("/v1/track", big);
    // THEN 413 naming the event and its limit
    assertError(alone, 413, "event", 32_768L);
    // WHEN it comes in a batch beside a good event
    String good = "good-" + UUID.randomUUID();
    Http.Response mixed = segment("/v1/batch", new JsonObject().put("batch", new JsonArray().add(big).add(track(good))));
    // THEN the good one is stored and the big one listed as rejected at its index
    assertEquals(200, mixed.status(), mixed.body());
    assertEquals(1, mixed.json().getInteger("accepted"));
    JsonObject rejected = mixed.json().getJsonArray("rejected").getJsonObject(0);
    assertEquals(0, rejected.getInteger("index"));
    assertEquals("event", rejected.getString("field"));
    assertEquals(1, stored(good));
    assertEquals(0, stored(big.getString("messageId")));
  }

  @Test
  void verifiesThatABodyOverTheBatchLimitIsRefusedBeforeItIsRead() {
    byte[] body = new byte[600_000];
    java.util.Arrays.fill(body, (byte) ' ');
    // refused on its declared length, unread: see Http.sendRefusedUnread
    assertError(t.http.sendRefusedUnread(HttpRequest.newBuilder(t.http.uri("/v1/batch"))
        .header("Authorization", basic(t.writeKey)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build()),
        413, "body", 512_000L);
  }

  @Test
  void verifiesThatBadKeysAreRefused401Or403WhereverTheKeyIsSent() {
    String body = new JsonObject().put("batch", new JsonArray().add(track("k-" + UUID.randomUUID()))).encode();
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    assertError(post("/v1/batch", bytes, "Authorization", basic("nope")), 401, "Authorization", null);
    assertError(post("/v1/batch", bytes), 401, "Authorization", null);
    assertError(post("/v1/batch", bytes, "Authorization", basic(t.readKey)), 403, "Authorization", null);
    assertError(post("/v1/batch", new JsonObject(body).put("writeKey", "nope").toBuffer().getBytes()), 401,
        "Authorization", null);
    JsonObject ph = new JsonObject().put("api_key", "nope").put("batch", new JsonArray()
        .add(new JsonObject().put("event", "x").put("distinct_id", "d")));
    assertError(post("/batch/", ph.toBuffer().getBytes()), 401, "Authorization", null);
    assertError(post("/batch/", ph.put("api_key", t.readKey).toBuffer().getBytes()), 403, "Authorization", null);
  }

  @Test
  void verifiesThatBadJsonAndBadGzipAre400WithoutTheParsersWords() {
    assertError(post("/v1/batch", "{\"batch\": [".getBytes(StandardCharsets.UTF_8), "Authorization",
        basic(t.writeKey)), 400, "body", null);
    assertError(post("/v1/batch", "{nope".getBytes(StandardCharsets.UTF_8), "Authorization", basic(t.writeKey),
        "Content-Encoding", "gzip"), 400, "Content-Encoding", null);
    assertError(post("/e/", new byte[] {0x1f, (byte) 0x8b, 1, 2, 3}), 400, "Content-Encoding", null);
    assertError(post("/capture/", new byte[0]), 400, "body", null);
  }

  @Test
  void verifiesThatWrongTypesRejectTheEventNamingTheField() {
    // a userId that is an object, a timestamp that is a boolean, a batch that is no array, a call that is no object
    JsonObject badUser = track("t1-" + UUID.randomUUID()).put("userId", new JsonObject().put("a", 1));
    assertError(segment("/v1/track", badUser), 400, "userId", null);
    assertError(segment("/v1/track", track("t2-" + UUID.randomUUID()).put("timestamp", true)), 400, "timestamp",
        null);
    assertError(segment("/v1/batch", new JsonObject().put("batch", "all")), 400, "batch", null);
    assertError(segment("/v1/batch", new JsonObject().put("batch", new JsonArray().add(42))), 400, "event", null);
    assertError(segment("/v1/track", track("t3-" + UUID.randomUUID()).put("event", 7)), 400, "event", null);
    assertError(segment("/v1/batch", new JsonObject().put("batch", new JsonArray()
        .add(track("t4-" + UUID.randomUUID()).put("type", "launch")))), 400, "type", null);
    JsonObject ph = new JsonObject().put("api_key", t.writeKey).put("event", "x").put("distinct_id", "d")
        .put("properties", "p");
    assertError(post("/capture/", ph.toBuffer().getBytes()), 400, "properties", null);
    Http.Response measures = post("/i/v0/e/", new JsonObject().put("api_key", t.writeKey).put("event",
        "$ai_generation").put("distinct_id", "d").put("properties", new JsonObject().put("$ai_provider", "openai")
        .put("$ai_model", "m").put("$ai_input_tokens", 1e12)).toBuffer().getBytes());
    assertError(measures, 400, "properties.tokens", 10_000_000L);
  }

  @Test
  void verifiesThatHugeArraysAreRefused413NamingTheBatchLimit() {
    JsonArray many = new JsonArray();
    for (int i = 0; i < 1001; i++) {
      many.add(new JsonObject());
    }
    assertError(segment("/v1/batch", new JsonObject().put("batch", many)), 413, "ingest.maxBatchEvents", 1000L);
    assertError(post("/batch", many.toBuffer().getBytes()), 413, "ingest.maxBatchEvents", 1000L);
    // a deeply nested body is malformed JSON for the parser, not a crash
    byte[] deep = ("[".repeat(5000) + "]".repeat(5000)).getBytes(StandardCharsets.UTF_8);
    assertError(post("/batch", deep), 400, "body", null);
  }

  @Test
  void verifiesThatEveryPathAnswersWithAndWithoutItsTrailingSlashAndARetryIsStoredOnce() {
    for (String path : new String[] {"/v1/batch", "/v1/batch/"}) {
      String id = "s-" + UUID.randomUUID();
      JsonObject batch = new JsonObject().put("batch", new JsonArray().add(track(id)));
      Http.Response first = segment(path, batch);
      Http.Response retry = segment(path, batch);
      assertEquals(200, first.status(), path + " " + first.body());
      assertEquals(1, first.json().getInteger("accepted"));
      assertEquals(1, retry.json().getInteger("duplicates"), retry.body());
      assertEquals(1, stored(id));
    }
    for (String path : new String[] {"/batch", "/batch/", "/capture", "/capture/", "/e", "/e/", "/i/v0/e",
        "/i/v0/e/"}) {
      String uuid = UUID.randomUUID().toString();
      Http.Response r = post(path, new JsonObject().put("api_key", t.writeKey).put("event", "clicked")
          .put("distinct_id", "d1").put("uuid", uuid).toBuffer().getBytes());
      assertEquals(200, r.status(), path + " " + r.body());
      assertEquals(1, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?::uuid", t.project, uuid));
    }
  }
}
