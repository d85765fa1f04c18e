package io.tally.event;

import io.tally.error.ApiError;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventParserTest {
  private final EventParser parser = new EventParser(32768, 1000, 24 * 3600_000L);
  private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");

  private ParsedBody parse(String json) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return parser.parse(b, b.length, "p", NOW);
  }

  @Test
  void verifiesThatSubObjectsAreStoredAsTheExactTextSent() {
    ParsedBody b = parse("{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\","
        + "\"properties\": {\"a\" : [1, 2.50, {\"b\":null}], \"s\":\"é\\n\"}, \"page\":{\"path\":\"/\"}}");
    Event e = b.events().get(0);
    assertEquals("{\"a\" : [1, 2.50, {\"b\":null}], \"s\":\"é\\n\"}", e.propertiesJson());
    assertEquals("{\"path\":\"/\"}", e.pageJson());
    assertEquals("u", e.userId());
  }

  @Test
  void verifiesThatIdentityComesFromUserContextOrTopLevel() {
    Event e = parse("{\"type\":\"x\",\"timestamp\":1764000000000,\"userContext\":{\"userId\":\"u1\","
        + "\"anonymousId\":\"a1\",\"sessionId\":\"s1\",\"userProperties\":{\"plan\":\"pro\"}}}").events().get(0);
    assertEquals("u1", e.userId());
    assertEquals("a1", e.anonymousId());
    assertEquals("s1", e.sessionId());
    assertTrue(e.userContextJson().contains("\"plan\":\"pro\""));
    assertEquals(Instant.ofEpochMilli(1764000000000L), e.timestamp());
  }

  @Test
  void verifiesThatFutureTimestampsAreClampedAndFlagged() {
    Event e = parse("{\"type\":\"x\",\"timestamp\":\"2026-11-26T12:00:00Z\",\"userId\":\"u\"}").events().get(0);
    assertEquals(NOW, e.timestamp());
    assertTrue((e.flags() & Event.FLAG_FUTURE_CLAMPED) != 0);
    Event ok = parse("{\"type\":\"x\",\"timestamp\":\"2026-11-25T11:00:00Z\",\"userId\":\"u\"}").events().get(0);
    assertEquals(Instant.parse("2026-11-25T11:00:00Z"), ok.timestamp());
  }

  @Test
  void verifiesThatEachFieldErrorNamesTheField() {
    assertRejected("{\"type\":5,\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\"}", "type");
    assertRejected("{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\",\"value\":\"1\"}", "value");
    assertRejected("{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\",\"properties\":[]}",
        "properties");
    assertRejected("{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\",\"label\":\"a\\u0000\"}",
        "label");
    assertRejected("{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\","
        + "\"properties\":{\"k\":\"a\\u0000\"}}", "properties.k");
    assertRejected("{\"type\":\"x\",\"timestamp\":\"0001-01-01T00:00:00Z\",\"userId\":\"u\"}", "timestamp");
    assertRejected("{\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\"}", "type");
  }

  @Test
  void verifiesThatAnEscapedBackslashBeforeU0000IsNotMistakenForANul() {
    ParsedBody b = parse("{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\","
        + "\"properties\":{\"path\":\"C:\\\\u0000dir\"}}");
    assertEquals(1, b.events().size());
  }

  @Test
  void verifiesThatABareArrayIsABatchAndSeqIsRead() {
    ParsedBody arr = parse("[{\"type\":\"x\",\"timestamp\":\"2026-11-24T10:00:00Z\",\"userId\":\"u\"}]");
    assertTrue(arr.batch());
    assertNull(arr.seq());
    ParsedBody withSeq = parse("{\"seq\":42,\"batch\":[]}");
    assertEquals(42L, withSeq.seq());
    assertEquals(0, withSeq.total());
  }

  @Test
  void verifiesThatWholeBodyProblemsThrowWithTheirStatus() {
    assertEquals(400, assertThrows(ApiError.class, () -> parse("")).status());
    assertEquals(400, assertThrows(ApiError.class, () -> parse("\"just a string\"")).status());
    assertEquals(400, assertThrows(ApiError.class, () -> parse("{\"batch\": 3}")).status());
  }

  private void assertRejected(String json, String field) {
    ParsedBody b = parse(json);
    assertEquals(0, b.events().size(), json);
    assertEquals(field, b.rejected().get(0).field(), b.rejected().get(0).error());
  }
}
