package io.tally.ingest;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.tally.ingest.HostileInputTest.RAW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile frames over WebSocket: every frame is answered (an ack listing the rejection, or a nack), with the field
 * and limit and no internal text; a valid event beside a bad one in a frame is stored, the bad one is not.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketHostileTest {
  static TestTally t;
  static final List<WebSocketClient> CLIENTS = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  /** One frame to send, and what its answer must say. */
  private record Frame(long seq, String text, String field, Long limit, int nackStatus, JsonObject ok,
                       JsonObject bad) {}

  @Test
  void verifiesThatEveryHostileFrameIsAnsweredNamingItsFieldAndTheValidEventBesideItIsStored(Vertx vertx,
                                                                                          VertxTestContext ctx) {
    // GIVEN one frame per hostile input, the per-event ones beside a valid event
    List<Frame> frames = new ArrayList<>();
    JsonObject model = Events.event("message_sent", "u-ws-h");
    model.getJsonObject("properties").put("model", "m".repeat(3000));
    frames.add(pair(1, model.encode(), model, "properties.model", 128L));
    JsonObject skew = Events.event("page_view", "u-ws-h").put("timestamp", "1970-01-01T00:00:00Z")
        .put("sentAt", "9999-12-31T23:59:59Z");
    frames.add(pair(2, skew.encode(), skew, "timestamp", null));
    JsonObject tokens = Events.event("message_sent", "u-ws-h");
    tokens.getJsonObject("properties").put("tokens", RAW);
    frames.add(pair(3, HostileInputTest.raw(tokens, "1e309"), tokens, "properties.tokens", 10_000_000L));
    JsonObject surrogate = Events.event("message_sent", "u-ws-h");
    surrogate.getJsonObject("properties").put("note", RAW);
    frames.add(pair(4, HostileInputTest.raw(surrogate, "\"\\ud800\""), surrogate, "properties.note", null));
    JsonObject digits = Events.event("page_view", "u-ws-h").put("userId", RAW);
    frames.add(whole(5, "{\"seq\":5,\"batch\":[" + HostileInputTest.raw(digits, "9".repeat(5000)) + "]}", 400,
        "body", 256L));
    frames.add(whole(6, "{\"seq\":6,\"batch\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}", 400, "body", 64L));
    frames.add(whole(7, "{\"seq\":7,\"batch\":[{\"n\":" + "1".repeat(100_000) + "}]}", 400, "body", 32768L));
    // a single event alone in its frame is answered with an ack listing its rejection
    JsonObject single = Events.event("message_sent", "u-ws-h");
    single.getJsonObject("properties").put("provider", "p".repeat(129));
    frames.add(new Frame(8, single.encode(), "properties.provider", 128L, 0, null, single));
    // zero bytes in a text frame: not UTF-8 JSON (frame ordinals answer frames without a readable seq)
    frames.add(whole(9, "\u0000{\u0000}", 415, "body", null));
    List<JsonObject> answers = new ArrayList<>();
    WebSocketClient client = vertx.createWebSocketClient();
    CLIENTS.add(client);
    client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(t.tally.port())
        .setURI("/v1/stream?key=" + t.writeKey)).onComplete(ctx.succeeding(ws -> {
          ws.textMessageHandler(text -> {
            answers.add(new JsonObject(text));
            if (answers.size() == frames.size() + 1) {
              // THEN every frame got exactly one answer, saying what its frame broke
              ctx.verify(() -> check(frames, answers));
              ws.close();
              ctx.completeNow();
            }
          });
          // WHEN the frames are streamed, and a binary frame holding UTF-16 after them
          frames.forEach(f -> ws.writeTextMessage(f.text()));
          ws.writeBinaryMessage(Buffer.buffer("{\"type\":\"x\"}".getBytes(StandardCharsets.UTF_16)));
        }));
  }

  private static void check(List<Frame> frames, List<JsonObject> answers) {
    Map<Long, JsonObject> bySeq = new LinkedHashMap<>();
    for (JsonObject a : answers) {
      assertFalse(a.encode().contains("Exception") || a.encode().contains("ERROR:") || a.encode().contains("at io.")
          || a.encode().contains("SQLSTATE"), a.encode());
      Long seq = a.containsKey("ack") ? a.getLong("ack") : a.getLong("nack");
      assertNotNull(seq, a.encode());
      assertTrue(bySeq.put(seq, a) == null, "two answers for " + seq + ": " + answers);
    }
    for (Frame f : frames) {
      JsonObject a = bySeq.get(f.seq());
      assertNotNull(a, "frame " + f.seq() + " unanswered: " + answers);
      if (f.nackStatus() > 0) {
        assertTrue(a.containsKey("nack"), a.encode());
        assertEquals(f.nackStatus(), a.getInteger("status"), a.encode());
        assertEquals(f.field(), a.getString("field"), a.encode());
        assertEquals(f.limit(), a.getLong("limit"), a.encode());
      } else {
        assertTrue(a.containsKey("ack"), a.encode());
        JsonArray rejected = a.getJsonArray("rejected");
        assertEquals(1, rejected.size(), a.encode());
        assertEquals(f.ok() == null ? 0 : 1, rejected.getJsonObject(0).getInteger("index"), a.encode());
        assertEquals(f.field(), rejected.getJsonObject(0).getString("field"), a.encode());
        assertEquals(f.limit(), rejected.getJsonObject(0).getLong("limit"), a.encode());
        assertEquals(f.ok() == null ? 0 : 1, a.getInteger("accepted"), a.encode());
        if (f.ok() != null) {
          assertEquals(1, stored(f.ok()), a.encode());
        }
        assertEquals(0, stored(f.bad()), a.encode());
      }
    }
    // the binary frame, the 10th: a nack for its ordinal
    JsonObject binary = bySeq.get(10L);
    assertNotNull(binary, answers.toString());
    assertEquals(400, binary.getInteger("status"));
  }

  /** A frame holding a valid event, then the bad one: acked, rejection at index 1. */
  private static Frame pair(long seq, String badJson, JsonObject bad, String field, Long limit) {
    JsonObject ok = Events.event("page_view", "u-ws-ok");
    return new Frame(seq, "{\"seq\":" + seq + ",\"batch\":[" + ok.encode() + "," + badJson + "]}", field, limit, 0,
        ok, bad);
  }

  private static Frame whole(long seq, String text, int status, String field, Long limit) {
    return new Frame(seq, text, field, limit, status, null, null);
  }

  private static long stored(JsonObject event) {
    return Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(event.getString("id")));
  }
}
