package io.tally.ingest;

import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.StreamClient;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WebSocket messages over {@code ingest.wsMaxMessageBytes}, whole or fragmented, close the connection with 1009 after
 * their own nack and the answers of the messages before them; on a connection that survives, every message gets one
 * answer and the ordinals ({@code frame}) never skip or repeat.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebSocketLimitsTest {
  static final int MESSAGE = 4096;
  /** Frames may be bigger than messages here, so that a whole oversized message reaches the session. */
  static TestTally t;
  /** Frames and messages of the same size: an oversized frame is refused by the frame decoder itself. */
  static TestTally strict;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    t = TestTally.start(c -> c.withIngest(ws(c.ingest(), 65_536, MESSAGE)));
    strict = TestTally.start(c -> c.withIngest(ws(c.ingest(), MESSAGE, MESSAGE)));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
    t.stop();
    strict.stop();
  }

  static TallyConfig.Ingest ws(TallyConfig.Ingest i, int frame, int message) {
    return new TallyConfig.Ingest(i.maxEventBytes(), i.maxBodyBytes(), i.maxBatchEvents(), i.allowedOrigins(),
        i.wsPingIntervalMs(), frame, message, i.wsMaxInFlightFrames(), i.retryAfterMs(), i.maxFutureSkewHours());
  }

  @Test
  void verifiesThatAWholeMessageOverTheLimitIsNackedThenClosedWith1009AfterTheAnswersBeforeIt() {
    try (StreamClient ws = StreamClient.connect(vertx, t.tally.port(), t.writeKey)) {
      // GIVEN a valid message, and right behind it (not waiting for its ack) one of 8 KiB in a single frame
      JsonObject ok = Events.batchOf(2, "page_view").put("seq", 1);
      ws.send(ok.encode());
      ws.send(padded(8_192, 2));
      // THEN the valid one is acked, the big one nacked with 413 naming the limit, and the connection closes with 1009
      Map<Long, JsonObject> byFrame = answers(ws, 2);
      assertEquals(1, byFrame.get(1L).getLong("ack"), byFrame.toString());
      assertOversizeNack(byFrame.get(2L));
      assertEquals((short) 1009, ws.closeCode(5_000));
      assertTrue(ws.closeReason().contains("ingest.wsMaxMessageBytes"), ws.closeReason());
      assertEquals(2, stored(ids(ok)));
    }
  }

  @Test
  void verifiesThatAFragmentedMessageOverTheLimitIsNackedWithItsOwnOrdinalThenClosedWith1009() {
    try (StreamClient ws = StreamClient.connect(vertx, t.tally.port(), t.writeKey)) {
      // GIVEN a valid message, then one in three fragments of 2 KiB (each under the limit, together over it)
      ws.send(Events.batchOf(1, "page_view").put("seq", 1).encode());
      String big = padded(6_144, 2);
      ws.sendFirst(big.substring(0, 2_048));
      ws.sendContinuation(big.substring(2_048, 4_096), false);
      ws.sendContinuation(big.substring(4_096), true);
      // WHEN a message follows the oversized one
      ws.send(Events.batchOf(1, "page_view").put("seq", 3).encode());
      // THEN the fragmented one is answered with its own ordinal (2), never the next message's, then 1009
      Map<Long, JsonObject> byFrame = answers(ws, 2);
      assertEquals(1, byFrame.get(1L).getLong("ack"), byFrame.toString());
      assertOversizeNack(byFrame.get(2L));
      assertEquals((short) 1009, ws.closeCode(5_000));
      // AND the message after it was not read (no answer): the client resends it elsewhere
      assertNull(ws.answer(500));
    }
  }

  @Test
  void verifiesThatASingleFrameOverTheFrameDecodersLimitAlsoClosesWith1009() {
    try (StreamClient ws = StreamClient.connect(vertx, strict.tally.port(), strict.writeKey)) {
      // GIVEN a server whose frames and messages are both limited to 4 KiB WHEN a 10 KiB frame is sent
      ws.send(padded(10_240, 1));
      // THEN the frame decoder refuses it before buffering it, and the connection is closed with 1009 (not a bare TCP
      // close), naming the setting
      assertEquals((short) 1009, ws.closeCode(5_000));
      assertTrue(ws.closeReason().contains("ingest.wsMaxFrameBytes"), ws.closeReason());
    }
  }

  @Test
  void verifiesThatOnASurvivingConnectionEveryMessageGetsOneAnswerAndTheOrdinalsNeitherSkipNorRepeat() {
    try (StreamClient ws = StreamClient.connect(vertx, t.tally.port(), t.writeKey)) {
      // GIVEN messages of every kind: valid, binary, fragmented, malformed, a fragment starting empty, valid
      JsonObject first = Events.batchOf(1, "page_view").put("seq", 101);
      ws.send(first.encode());
      ws.sendBinary(new byte[] {1, 2, 3});
      JsonObject fragmented = Events.batchOf(3, "page_view").put("seq", 103);
      String text = fragmented.encode();
      ws.sendFirst(text.substring(0, 10));
      ws.sendContinuation(text.substring(10, 200), false);
      ws.sendContinuation(text.substring(200), true);
      ws.send("{not json");
      JsonObject emptyStart = Events.batchOf(1, "page_view").put("seq", 105);
      ws.sendFirst("");
      ws.sendContinuation(emptyStart.encode(), true);
      JsonObject last = Events.batchOf(1, "page_view").put("seq", 106);
      ws.send(last.encode());
      // THEN there is exactly one answer for each ordinal 1..6, and what each says fits its message
      Map<Long, JsonObject> byFrame = answers(ws, 6);
      assertEquals(101, byFrame.get(1L).getLong("ack"), byFrame.toString());
      assertEquals(400, byFrame.get(2L).getInteger("status"), byFrame.toString());
      assertEquals(103, byFrame.get(3L).getLong("ack"), byFrame.toString());
      assertEquals(3, byFrame.get(3L).getInteger("accepted"), byFrame.toString());
      assertEquals(400, byFrame.get(4L).getInteger("status"), byFrame.toString());
      assertEquals(105, byFrame.get(5L).getLong("ack"), byFrame.toString());
      assertEquals(106, byFrame.get(6L).getLong("ack"), byFrame.toString());
      assertNull(ws.answer(300), "more answers than messages");
      assertFalse(ws.isClosed());
      assertEquals(6, stored(concat(ids(first), ids(fragmented), ids(emptyStart), ids(last))));
    }
  }

  private static void assertOversizeNack(JsonObject nack) {
    assertNotNull(nack);
    assertEquals(2, nack.getLong("nack"), nack.encode());
    assertEquals(413, nack.getInteger("status"), nack.encode());
    assertEquals("ingest.wsMaxMessageBytes", nack.getString("field"), nack.encode());
    assertEquals(MESSAGE, nack.getLong("limit"), nack.encode());
  }

  /** {@code n} answers, by their ordinal; fails on a missing ordinal or two answers for one. */
  private static Map<Long, JsonObject> answers(StreamClient ws, int n) {
    Map<Long, JsonObject> byFrame = new HashMap<>();
    for (int i = 0; i < n; i++) {
      JsonObject a = ws.answer(10_000);
      assertNotNull(a, "only " + byFrame.size() + " answers: " + byFrame);
      assertNull(byFrame.put(a.getLong("frame"), a), "two answers for frame " + a.getLong("frame") + ": " + byFrame);
    }
    for (long f = 1; f <= n; f++) {
      assertNotNull(byFrame.get(f), "no answer for frame " + f + ": " + byFrame);
    }
    return byFrame;
  }

  /** A valid one-event message padded (in a property) to about {@code bytes} bytes. */
  private static String padded(int bytes, long seq) {
    JsonObject e = Events.event("page_view", "u-ws-big");
    e.getJsonObject("properties").put("pad", "x".repeat(Math.max(0, bytes - e.encode().length() - 40)));
    return new JsonObject().put("seq", seq).put("batch", new io.vertx.core.json.JsonArray().add(e)).encode();
  }

  private static String[] ids(JsonObject batch) {
    return batch.getJsonArray("batch").stream().map(o -> ((JsonObject) o).getString("id")).toArray(String[]::new);
  }

  private static String[] concat(String[]... parts) {
    return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
  }

  private static long stored(String... ids) {
    long n = 0;
    for (String id : ids) {
      n += Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(id));
    }
    return n;
  }
}
