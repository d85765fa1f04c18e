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
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile events over HTTP: each is answered 4xx naming its field (and limit), never 500, never with internal text;
 * nothing of it is stored, and a valid event beside it in the same batch is.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostileInputTest {
  /** Replaced, quotes included, by raw JSON text that a JsonObject cannot hold (1e309, a lone \ud800...). */
  static final String RAW = "__raw__";
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
  void verifiesThatALongModelIsRejectedNamingItAndItsLimit() {
    JsonObject bad = Events.event("message_sent", "u-model");
    bad.getJsonObject("properties").put("model", "m".repeat(3000));
    assertRejectedAlone(bad.encode(), bad, "properties.model", 128L);
  }

  @Test
  void verifiesThatA1970TimestampCorrectedByA9999SentAtIsRejectedSayingSo() {
    JsonObject bad = Events.event("page_view", "u-1970").put("timestamp", "1970-01-01T00:00:00Z")
        .put("sentAt", "9999-12-31T23:59:59Z");
    JsonObject answer = assertRejectedAlone(bad.encode(), bad, "timestamp", null);
    assertTrue(answer.getString("message").contains("sentAt"), answer.encode());
  }

  @Test
  void verifiesThatTokensOf1e309AreRejectedWithTheirRange() {
    JsonObject bad = Events.event("message_sent", "u-tokens");
    bad.getJsonObject("properties").put("tokens", RAW);
    JsonObject answer = assertRejectedAlone(raw(bad, "1e309"), bad, "properties.tokens", 10_000_000L);
    assertEquals("properties.tokens must be between 0 and 10000000, got 1e309", answer.getString("message"));
  }

  @Test
  void verifiesThatALoneSurrogateInPropertiesIsRejectedNamingTheProperty() {
    JsonObject bad = Events.event("message_sent", "u-surrogate");
    bad.getJsonObject("properties").put("note", RAW);
    assertRejectedAlone(raw(bad, "\"a\\ud800b\""), bad, "properties.note", null);
  }

  @Test
  void verifiesThatANulInTraitsIsRejectedNamingTheTrait() {
    JsonObject bad = Events.event("message_sent", "u-nul");
    bad.getJsonObject("userContext").put("userProperties", new JsonObject().put("plan", "pro\u0000"));
    assertRejectedAlone(bad.encode(), bad, "userContext.userProperties.plan", null);
  }

  @Test
  void verifiesThatANumericIdOverTheIdLimitIsRejectedNamingIt() {
    JsonObject bad = Events.event("page_view", "u-digits").put("userId", RAW);
    assertRejectedAlone(raw(bad, "1".repeat(129)), bad, "userId", 128L);
  }

  @Test
  void verifiesThatPropertiesNestedSeventeenLevelsAreRejectedNamingTheLimit() {
    JsonObject bad = Events.event("page_view", "u-deep");
    JsonObject inner = new JsonObject().put("leaf", 1);
    for (int level = 16; level > 1; level--) {
      inner = new JsonObject().put("n", inner);
    }
    // properties (level 1) → 15 "n" levels → {"leaf": 1} is level 17
    bad.put("properties", new JsonObject().put("n", inner));
    assertRejectedAlone(bad.encode(), bad, "properties", 16L);
  }

  @Test
  void verifiesThatAPagePathThatIsNotAStringIsRejectedNamingIt() {
    JsonObject bad = Events.event("page_view", "u-path");
    bad.getJsonObject("page").put("path", new JsonArray().add("/a"));
    assertRejectedAlone(bad.encode(), bad, "page.path", null);
  }

  @Test
  void verifiesThatA5000DigitNumericUserIdIsA400NamingTheBody() {
    JsonObject bad = Events.event("page_view", "u-5000").put("userId", RAW);
    assertBodyRefused(Events.batch(Events.event("page_view", "u-5000-ok"), bad).encode().replace("\"" + RAW + "\"",
        "9".repeat(5000)).getBytes(StandardCharsets.UTF_8), 400, 256L);
  }

  @Test
  void verifiesThatA100000DigitNumberIsA400NamingTheBody() {
    JsonObject bad = Events.event("page_view", "u-100k");
    bad.getJsonObject("properties").put("n", RAW);
    // Jackson meets it as text longer than any event first (ingest.maxEventBytes)
    assertBodyRefused(raw(bad, "1".repeat(100_000)).getBytes(StandardCharsets.UTF_8), 400, 32768L);
  }

  @Test
  void verifiesThatA10000DeepBodyIsA400NamingTheBody() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    assertBodyRefused(("{\"batch\":" + deep + "}").getBytes(StandardCharsets.UTF_8), 400, 64L);
  }

  @Test
  void verifiesThatAUtf16BodyIsRefusedAsNotUtf8() {
    String json = Events.batch(Events.event("page_view", "u-utf16")).encode();
    assertBodyRefused(json.getBytes(StandardCharsets.UTF_16LE), 415, null);
    // with its byte-order mark too
    assertBodyRefused(json.getBytes(StandardCharsets.UTF_16), 415, null);
  }

  @Test
  void verifiesThatAUtf8ByteOrderMarkIsSkipped() {
    JsonObject ok = Events.event("page_view", "u-bom");
    byte[] json = ok.encode().getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[json.length + 3];
    body[0] = (byte) 0xEF;
    body[1] = (byte) 0xBB;
    body[2] = (byte) 0xBF;
    System.arraycopy(json, 0, body, 3, json.length);
    Http.Response r = t.http.postBytes(body);
    assertEquals(200, r.status(), r.body());
    assertEquals("gpt-4o", Db.query("SELECT properties->>'model' AS m FROM events WHERE id = ?::uuid",
        ok.getString("id")).get(0).get("m"));
  }

  @Test
  void verifiesThatAJsonBodySentAsATwoKilobyteFormIsStillParsedAsJson() {
    // GIVEN what `curl -d` sends: a JSON batch of ~2 KB labelled as a form
    JsonObject a = Events.event("page_view", "u-form");
    a.getJsonObject("properties").put("pad", "x".repeat(1500));
    JsonObject b = Events.event("page_view", "u-form");
    String body = Events.batch(a, b).encode();
    assertTrue(body.length() > 2048, "the body must be over the form decoder's 1 KiB");
    // WHEN posted with that Content-Type
    Http.Response r = t.http.postHeaders(body, "Content-Type", "application/x-www-form-urlencoded");
    // THEN it is read as JSON and both events are stored
    assertEquals(200, r.status(), r.body());
    assertEquals(2, r.json().getInteger("accepted"));
    assertEquals(1, stored(a));
    assertEquals(1, stored(b));
  }

  @Test
  void verifiesThatATwoKilobyteRealFormIsA400NotA500() {
    String form = "a=" + "x".repeat(1000) + "&b=" + "y".repeat(1000);
    Http.Response r = t.http.postHeaders(form, "Content-Type", "application/x-www-form-urlencoded");
    assertClean(r);
    assertEquals(400, r.status(), r.body());
    assertEquals("body", r.json().getString("field"));
  }

  @Test
  void verifiesThatAMultipartBodyIsReadAsJsonBytesNotAsUploads() {
    Http.Response r = t.http.postHeaders("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
        + "v".repeat(2000) + "\r\n--x--\r\n", "Content-Type", "multipart/form-data; boundary=x");
    assertClean(r);
    assertEquals(400, r.status(), r.body());
    assertEquals("body", r.json().getString("field"));
  }

  /**
   * Posts {@code bad} beside a valid event, then alone: the batch stores the valid one and rejects index 1 naming
   * {@code field} and {@code limit}; alone it is a 400 with the same. Returns the 400's body.
   */
  private static JsonObject assertRejectedAlone(String badJson, JsonObject bad, String field, Long limit) {
    // GIVEN a valid event and the bad one in one batch
    JsonObject ok = Events.event("page_view", "u-beside");
    String batch = "{\"batch\":[" + ok.encode() + "," + badJson + "]}";
    // WHEN posted
    Http.Response r = t.http.post(batch);
    // THEN the valid one is stored and the bad one rejected, named, and not stored
    assertClean(r);
    assertEquals(200, r.status(), r.body());
    assertEquals(1, r.json().getInteger("accepted"), r.body());
    JsonObject rejection = r.json().getJsonArray("rejected").getJsonObject(0);
    assertEquals(1, rejection.getInteger("index"), r.body());
    assertEquals(field, rejection.getString("field"), r.body());
    assertEquals(limit, rejection.getLong("limit"), r.body());
    assertEquals(1, stored(ok));
    assertEquals(0, stored(bad));
    // AND alone it is a 400 naming the same field and limit
    Http.Response single = t.http.post(badJson);
    assertClean(single);
    assertEquals(400, single.status(), single.body());
    assertEquals(field, single.json().getString("field"), single.body());
    assertEquals(limit, single.json().getLong("limit"), single.body());
    assertEquals(0, stored(bad));
    return single.json();
  }

  /** A body refused whole: the status, field {@code body}, the limit, and nothing stored. */
  private static void assertBodyRefused(byte[] body, int status, Long limit) {
    long before = Db.eventsOf(t.project);
    Http.Response r = t.http.postBytes(body);
    assertClean(r);
    assertEquals(status, r.status(), r.body());
    assertEquals("body", r.json().getString("field"), r.body());
    assertEquals(limit, r.json().getLong("limit"), r.body());
    assertFalse(r.json().getString("message").isBlank());
    assertEquals(before, Db.eventsOf(t.project));
  }

  /** No internal or PostgreSQL text in an answer. */
  static void assertClean(Http.Response r) {
    for (String leak : new String[] {"ERROR:", "Exception", "at io.", "SQLSTATE", "jackson", "Source:"}) {
      assertFalse(r.body().contains(leak), "answer leaks '" + leak + "': " + r.body());
    }
    assertTrue(r.status() < 500, r.body());
    assertNull(r.json().getString("stack"));
  }

  static String raw(JsonObject event, String rawJson) {
    return event.encode().replace("\"" + RAW + "\"", rawJson);
  }

  private static long stored(JsonObject event) {
    return Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(event.getString("id")));
  }
}
