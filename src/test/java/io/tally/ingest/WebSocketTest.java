package io.tally.ingest;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketTest {
  static TestTally t;
  /** Held on purpose: Vert.x 5 closes a client that becomes unreachable (a Cleaner), even mid-handshake. */
  static final List<WebSocketClient> CLIENTS = new java.util.concurrent.CopyOnWriteArrayList<>();

  static WebSocketClient client(Vertx vertx) {
    WebSocketClient c = vertx.createWebSocketClient();
    CLIENTS.add(c);
    return c;
  }

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  private WebSocketConnectOptions options(String query) {
    return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(t.tally.port()).setURI("/v1/stream" + query);
  }

  @Test
  void verifiesThatEachFrameIsAckedWithItsSeqOnlyAfterCommit(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a stream authenticated with ?key=
    WebSocketClient client = client(vertx);
    List<JsonObject> frames = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      frames.add(Events.batchOf(20, "message_sent").put("seq", 100 + i));
    }
    JsonObject single = Events.event("page_view", "u-ws");
    client.connect(options("?key=" + t.writeKey)).onComplete(ctx.succeeding(ws -> {
      List<JsonObject> acks = new ArrayList<>();
      ws.textMessageHandler(text -> {
        JsonObject ack = new JsonObject(text);
        // THEN when an ack arrives, that frame's events are already in PostgreSQL
        ctx.verify(() -> {
          if (ack.getLong("ack") >= 100) {
            JsonObject frame = frames.get((int) (ack.getLong("ack") - 100));
            String firstId = frame.getJsonArray("batch").getJsonObject(0).getString("id");
            assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(firstId)));
            assertEquals(20, ack.getInteger("accepted"));
          } else {
            // a single-event frame without seq is answered with its frame ordinal
            assertEquals(6, ack.getLong("ack"));
            assertEquals(1, ack.getInteger("accepted"));
          }
        });
        acks.add(ack);
        if (acks.size() == 6) {
          ctx.verify(() -> {
            List<String> ids = new ArrayList<>();
            frames.forEach(f -> f.getJsonArray("batch").forEach(e -> ids.add(((JsonObject) e).getString("id"))));
            ids.add(single.getString("id"));
            assertEquals(101, Db.count("SELECT count(*) FROM events WHERE id::text = ANY(string_to_array(?, ','))",
                String.join(",", ids)));
            ws.close();
          });
          ctx.completeNow();
        }
      });
      // WHEN five batches with seq and one single event are streamed
      frames.forEach(f -> ws.writeTextMessage(f.encode()));
      ws.writeTextMessage(single.encode());
    }));
  }

  @Test
  void verifiesThatAMalformedFrameIsNackedAndTheStreamContinues(Vertx vertx, VertxTestContext ctx) {
    WebSocketClient client = client(vertx);
    client.connect(options("").addHeader("Authorization", "Bearer " + t.writeKey)).onComplete(ctx.succeeding(ws -> {
      List<JsonObject> answers = new ArrayList<>();
      ws.textMessageHandler(text -> {
        answers.add(new JsonObject(text));
        if (answers.size() == 3) {
          ctx.verify(() -> {
            assertEquals(1, answers.get(0).getLong("nack"));
            assertEquals(400, answers.get(0).getInteger("status"));
            assertTrue(answers.get(0).getString("error").contains("malformed"));
            assertEquals(2, answers.get(1).getLong("nack"));
            assertEquals(413, answers.get(1).getInteger("status"));
            assertEquals("ingest.maxBatchEvents", answers.get(1).getString("field"));
            assertEquals(7, answers.get(2).getLong("ack"));
            assertEquals(3, answers.get(2).getLong("frame"));
            assertEquals(1, answers.get(2).getInteger("accepted"));
          });
          ws.close();
          ctx.completeNow();
        }
      });
      ws.writeTextMessage("{not json");
      ws.writeTextMessage(Events.batchOf(1001, "page_view").encode());
      ws.writeTextMessage(Events.batch(Events.event("page_view", "u-ws2")).put("seq", 7).encode());
    }));
  }

  @Test
  void verifiesThatTheUpgradeIsRefusedWithoutAKeyOrWithAReadKey(Vertx vertx, VertxTestContext ctx) {
    WebSocketClient client = client(vertx);
    client.connect(options("")).onComplete(ctx.failing(err -> {
      ctx.verify(() -> assertTrue(err.getMessage().contains("401"), err.getMessage()));
      client.connect(options("?key=" + t.readKey)).onComplete(ctx.failing(err2 -> {
        ctx.verify(() -> assertTrue(err2.getMessage().contains("403"), err2.getMessage()));
        ctx.completeNow();
      }));
    }));
  }

  @Test
  void verifiesThatAnOriginOutsideTheAllowListIsRefused(Vertx vertx, VertxTestContext ctx) {
    try (TestTally strict = TestTally.start(c -> c.withIngest(new io.tally.config.TallyConfig.Ingest(
        c.ingest().maxEventBytes(), c.ingest().maxBodyBytes(), c.ingest().maxBatchEvents(),
        List.of("https://app.example"), c.ingest().wsPingIntervalMs(), c.ingest().wsMaxFrameBytes(),
        c.ingest().wsMaxMessageBytes(), c.ingest().wsMaxInFlightFrames(), c.ingest().retryAfterMs(),
        c.ingest().maxFutureSkewHours())))) {
      WebSocketClient client = client(vertx);
      WebSocketConnectOptions base = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(strict.tally.port())
          .setURI("/v1/stream?key=" + strict.writeKey);
      var bad = client.connect(new WebSocketConnectOptions(base).addHeader("Origin", "https://evil.example"));
      var good = client.connect(new WebSocketConnectOptions(base).addHeader("Origin", "https://app.example"));
      io.vertx.core.Future.join(bad, good).onComplete(ar -> {
        ctx.verify(() -> {
          assertTrue(bad.failed());
          assertTrue(bad.cause().getMessage().contains("403"), bad.cause().getMessage());
          assertTrue(good.succeeded());
        });
        good.result().close();
        ctx.completeNow();
      });
      assertTrue(ctx.awaitCompletion(20, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      ctx.failNow(e);
    }
  }
}
