package io.tally.event;

import io.tally.error.ApiError;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bounds of one event, case by case, with the exact field, limit and message a client gets. */
class EventParserBoundsTest {
  private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
  private static final String HEAD = "{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\"";
  private final EventParser parser = new EventParser(32768, 1000, 24 * 3600_000L);

  private ParsedBody parse(String json) {
    return parse(json.getBytes(StandardCharsets.UTF_8));
  }

  private ParsedBody parse(byte[] b) {
    return parser.parse(b, b.length, "p", NOW);
  }

  private Rejection rejected(String json) {
    ParsedBody b = parse(json);
    assertEquals(0, b.events().size(), json);
    return b.rejected().get(0);
  }

  @Test
  void verifiesThatARejectionCarriesTheFieldTheLimitAndTheRange() {
    // GIVEN tokens of 1e309 WHEN parsed THEN the rejection names the field, the range and the limit
    Rejection r = rejected(HEAD + ",\"properties\":{\"tokens\":1e309}}");
    assertEquals("properties.tokens", r.field());
    assertEquals("properties.tokens must be between 0 and 10000000, got 1e309", r.error());
    assertEquals(10_000_000L, r.limit());
    assertEquals(10_000_000L, r.toJson().getLong("limit"));
  }

  @Test
  void verifiesThatANumericIdIsAnIntegerBoundedByItsDigits() {
    assertEquals("1" + "0".repeat(127), parse(HEAD.replace("\"userId\":\"u\"", "\"userId\":1" + "0".repeat(127))
        + "}").events().get(0).userId());
    Rejection tooLong = rejected(HEAD.replace("\"userId\":\"u\"", "\"userId\":1" + "0".repeat(128)) + "}");
    assertEquals("userId", tooLong.field());
    assertEquals(128L, tooLong.limit());
    assertEquals("userId", rejected(HEAD.replace("\"userId\":\"u\"", "\"userId\":1.5") + "}").field());
  }

  @Test
  void verifiesThatABigIntegerDoesNotLeakIntoTheNextNumber() {
    // GIVEN an event rejected for a 101-digit integer, then a valid one with tokens 512 (jackson-core#1391)
    String big = HEAD + ",\"properties\":{\"n\":1" + "0".repeat(100) + "}}";
    String ok = HEAD + ",\"properties\":{\"tokens\":512,\"n\":1}}";
    ParsedBody b = parse("[" + big + "," + ok + "]");
    // THEN the second keeps its own value
    assertEquals(1, b.events().size(), b.rejected().toString());
    assertEquals(512.0, b.events().get(0).measures().tokens());
    ParsedBody ts = parse("[" + HEAD.replace("\"2026-11-24T10:00:00Z\"", "1" + "0".repeat(30)) + "},"
        + HEAD + ",\"value\":7}]");
    assertEquals("timestamp", ts.rejected().get(0).field());
    assertEquals(7.0, ts.events().get(0).value());
  }

  @Test
  void verifiesThatNumbersMustBeUsableAsDoublePrecision() {
    for (String ok : new String[] {"0", "-0", "-0.0", "0e-999", "1e-18", "-1e18", "1000000000000000000", "3.5"}) {
      assertEquals(1, parse(HEAD + ",\"value\":" + ok + ",\"page\":{\"n\":[" + ok + "]}}").events().size(), ok);
    }
    for (String bad : new String[] {"1e-19", "1e-400", "-1e-400", "1e19", "1000000000000000001", "1e309"}) {
      assertEquals("value", rejected(HEAD + ",\"value\":" + bad + "}").field(), bad);
      assertEquals("page.n[0]", rejected(HEAD + ",\"page\":{\"n\":[" + bad + "]}}").field(), bad);
    }
    assertEquals(1_000_000_000_000_000_000L, rejected(HEAD + ",\"value\":1e19}").limit());
  }

  @Test
  void verifiesThatStringsAndKeysAreBoundedWhereverTheyAre() {
    assertEquals("properties.model", rejected(HEAD + ",\"properties\":{\"model\":\"" + "m".repeat(129) + "\"}}")
        .field());
    Rejection nested = rejected(HEAD + ",\"userContext\":{\"userProperties\":{\"a\":[{\"b\":\""
        + "€".repeat(8193) + "\"}]}}}");
    assertEquals("userContext.userProperties.a[0].b", nested.field());
    assertEquals(8192L, nested.limit());
    Rejection key = rejected(HEAD + ",\"page\":{\"" + "k".repeat(129) + "\":1}}");
    assertEquals("page", key.field());
    assertEquals(128L, key.limit());
    assertEquals("page.path", rejected(HEAD + ",\"page\":{\"path\":{\"a\":1}}}").field());
    assertEquals("context.ip", rejected(HEAD + ",\"context\":{\"ip\":\"" + "1".repeat(65) + "\"}}").field());
    // 4-byte characters count two units each, as in JavaScript
    assertEquals(1, parse(HEAD + ",\"label\":\"" + "😀".repeat(512) + "\"}").events().size());
    assertEquals("label", rejected(HEAD + ",\"label\":\"" + "😀".repeat(512) + "a\"}").field());
  }

  @Test
  void verifiesThatNulAndUnpairedSurrogatesAreRejectedNamingThePath() {
    assertEquals("properties.note", rejected(HEAD + ",\"properties\":{\"note\":\"a\\ud800b\"}}").field());
    assertEquals("properties.note", rejected(HEAD + ",\"properties\":{\"note\":\"\\udc00\\ud800\"}}").field());
    assertEquals("userContext.userProperties.plan",
        rejected(HEAD + ",\"userContext\":{\"userProperties\":{\"plan\":\"\\u0000\"}}}").field());
    assertEquals("properties", rejected(HEAD + ",\"properties\":{\"k\\ud800\":1}}").field());
    assertEquals("action", rejected(HEAD + ",\"action\":\"\\ud83d\"}").field());
    // a pair, escaped or not, is a character
    assertEquals(1, parse(HEAD + ",\"action\":\"\\ud83d\\ude00😀\"}").events().size());
  }

  @Test
  void verifiesThatNestingIsBoundedPerObjectAndForTheWholeBody() {
    String sixteen = "[".repeat(15) + "]".repeat(15);
    assertEquals(1, parse(HEAD + ",\"properties\":{\"a\":" + sixteen + "}}").events().size());
    Rejection deep = rejected(HEAD + ",\"properties\":{\"a\":[" + sixteen + "]}}");
    assertEquals("properties", deep.field());
    assertEquals(16L, deep.limit());
    ApiError body = assertThrows(ApiError.class, () -> parse(HEAD + ",\"properties\":{\"a\":"
        + "[".repeat(10_000) + "]".repeat(10_000) + "}}"));
    assertEquals(400, body.status());
    assertEquals("body", body.field());
    assertEquals(64L, body.limit());
    assertFalse(body.getMessage().contains("StreamReadConstraints"), body.getMessage());
  }

  @Test
  void verifiesThatAHugeNumberFailsTheBodyFastWithAClearMessage() {
    ApiError e = assertThrows(ApiError.class, () -> parse(HEAD.replace("\"userId\":\"u\"", "\"userId\":"
        + "9".repeat(5000)) + "}"));
    assertEquals(400, e.status());
    assertEquals("body", e.field());
    assertEquals(256L, e.limit());
    assertEquals("body holds a number longer than 256 characters", e.getMessage());
  }

  @Test
  void verifiesThatTimestampsAreBoundedAsSentAndAfterCorrection() {
    assertEquals("timestamp", rejected(HEAD.replace("2026-11-24T10:00:00Z", "1999-12-31T23:59:59.999Z") + "}")
        .field());
    assertEquals(Instant.parse("2000-01-01T00:00:00Z"), parse(HEAD.replace("2026-11-24T10:00:00Z",
        "2000-01-01T00:00:00Z") + "}").events().get(0).timestamp());
    Rejection skewed = rejected(HEAD.replace("2026-11-24T10:00:00Z", "1970-01-01T00:00:00Z")
        + ",\"sentAt\":\"9999-12-31T23:59:59Z\"}");
    assertEquals("timestamp", skewed.field());
    assertTrue(skewed.error().contains("corrected by sentAt"), skewed.error());
    assertEquals("sentAt", rejected(HEAD + ",\"sentAt\":\"+10000-01-01T00:00:00Z\"}").field());
    assertEquals("timestamp", rejected(HEAD.replace("\"2026-11-24T10:00:00Z\"", "1.7e12") + "}").field());
    assertEquals("timestamp", rejected(HEAD.replace("\"2026-11-24T10:00:00Z\"", "-1") + "}").field());
    // the client clock at epoch 0 for both: the event happened at receipt
    Event zero = parse(HEAD.replace("\"2026-11-24T10:00:00Z\"", "0") + ",\"sentAt\":0}").events().get(0);
    assertEquals(NOW, zero.timestamp());
    // far in the future: clamped to receipt and flagged, as before
    Event future = parse(HEAD.replace("2026-11-24T10:00:00Z", "9999-12-31T23:59:59.999Z") + "}").events().get(0);
    assertEquals(NOW, future.timestamp());
    assertTrue((future.flags() & Event.FLAG_FUTURE_CLAMPED) != 0);
  }

  @Test
  void verifiesThatABodyNotInUtf8IsRefusedBeforeParsing() {
    String json = HEAD + "}";
    for (java.nio.charset.Charset cs : new java.nio.charset.Charset[] {StandardCharsets.UTF_16,
        StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE, java.nio.charset.Charset.forName("UTF-32")}) {
      ApiError e = assertThrows(ApiError.class, () -> parse(json.getBytes(cs)), cs.name());
      assertEquals(415, e.status(), cs.name());
      assertEquals("body", e.field());
    }
    // overlong NUL, CESU-8 surrogate: not UTF-8 either
    for (byte[] bad : new byte[][] {{(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}}) {
      byte[] head = (HEAD + ",\"label\":\"").getBytes(StandardCharsets.UTF_8);
      byte[] body = new byte[head.length + bad.length + 2];
      System.arraycopy(head, 0, body, 0, head.length);
      System.arraycopy(bad, 0, body, head.length, bad.length);
      body[body.length - 2] = '"';
      body[body.length - 1] = '}';
      ApiError e = assertThrows(ApiError.class, () -> parse(body));
      assertEquals(400, e.status());
      assertEquals("body", e.field());
    }
  }

  @Test
  void verifiesThatAUtf8ByteOrderMarkIsSkippedAndSlicesStayExact() {
    byte[] json = (HEAD + ",\"properties\":{\"a\":\"é\"}}").getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[json.length + 3];
    body[0] = (byte) 0xEF;
    body[1] = (byte) 0xBB;
    body[2] = (byte) 0xBF;
    System.arraycopy(json, 0, body, 3, json.length);
    assertEquals("{\"a\":\"é\"}", parse(body).events().get(0).propertiesJson());
  }

  @Test
  void verifiesThatATruncatedBodyIsMalformedWithoutInternalDetails() {
    ApiError e = assertThrows(ApiError.class, () -> parse("{\"batch\":[{\"type\":\"x\""));
    assertEquals(400, e.status());
    assertEquals("body", e.field());
    assertFalse(e.getMessage().contains("Source"), e.getMessage());
    assertNull(e.limit());
  }
}
