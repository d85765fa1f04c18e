package io.tally.ingest;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GracefulShutdownTest {

  @Test
  void verifiesThatShutdownRefusesNewWorkDrainsTheRingAcksEverythingAndClosesWebSocketsWith1001() throws Exception {
    TestServers servers = TestServers.get();
    Assumptions.assumeTrue(servers.embedded(), "holds PostgreSQL down to keep events in the ring");
    Vertx vertx = Vertx.vertx();
    TestTally t = TestTally.start();
    boolean stopped = false;
    try {
      // hold the client: Vert.x 5 closes an unreachable client (a Cleaner), even mid-handshake
      io.vertx.core.http.WebSocketClient wsClient = vertx.createWebSocketClient();
      WebSocket ws = wsClient.connect(new WebSocketConnectOptions().setHost("127.0.0.1")
          .setPort(t.tally.port()).setURI("/v1/stream?key=" + t.writeKey)).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      CompletableFuture<JsonObject> wsAck = new CompletableFuture<>();
      CompletableFuture<Short> wsClose = new CompletableFuture<>();
      ws.textMessageHandler(text -> wsAck.complete(new JsonObject(text)));
      ws.closeHandler(v -> wsClose.complete(ws.closeStatusCode()));
      // GIVEN events waiting in the ring because PostgreSQL is down
      servers.postgres().stop();
      HttpClient client = HttpClient.newHttpClient();
      List<JsonObject> bodies = new ArrayList<>();
      List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        JsonObject body = Events.batchOf(10, "message_sent");
        bodies.add(body);
        pending.add(client.sendAsync(HttpRequest.newBuilder(t.http.uri("/v1/events"))
            .header("Authorization", "Bearer " + t.writeKey).POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build(), HttpResponse.BodyHandlers.ofString()));
      }
      JsonObject frame = Events.batchOf(4, "page_view").put("seq", 9);
      ws.writeTextMessage(frame.encode());
      // every request has reached the server: its events are in the ring or the writer's batches (a fixed sleep
      // here let a slow first connection arrive after the shutdown had begun)
      Eventually.until("34 events buffered or being written", () -> t.http.get("/metrics").body().lines()
          .filter(l -> l.startsWith("analytics_events_buffered ") || l.startsWith("analytics_events_writing "))
          .mapToDouble(l -> Double.parseDouble(l.split(" ")[1])).sum() >= 34);
      // WHEN shutdown starts
      CompletableFuture<Void> shutdown = t.tally.shutdown().toCompletionStage().toCompletableFuture();
      stopped = true;
      Thread.sleep(200);
      // THEN readiness is 503 and new requests are refused
      Http.Response ready = t.http.get("/health/ready");
      assertEquals(503, ready.status());
      assertTrue(ready.json().getBoolean("shuttingDown"));
      Http.Response refused = t.http.post(Events.event("page_view", "u-late").encode());
      assertEquals(503, refused.status());
      assertEquals("shutting_down", refused.json().getString("error"));
      assertFalse(shutdown.isDone(), "shutdown must wait for the ring to drain");
      // WHEN PostgreSQL returns, the ring drains
      servers.postgres().restart();
      shutdown.get(30, TimeUnit.SECONDS);
      // THEN every waiting request was acked and stored, the WebSocket got its ack, then a 1001 close
      for (int i = 0; i < pending.size(); i++) {
        HttpResponse<String> r = pending.get(i).get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(10, new JsonObject(r.body()).getInteger("accepted"));
      }
      JsonObject ack = wsAck.get(10, TimeUnit.SECONDS);
      assertEquals(9, ack.getLong("ack"));
      assertEquals(4, ack.getInteger("accepted"));
      assertEquals((short) 1001, wsClose.get(10, TimeUnit.SECONDS));
      assertEquals(34, Db.eventsOf(t.project));
      wsClient.close();
    } finally {
      if (servers.postgres() != null) {
        servers.postgres().restart();
      }
      if (!stopped) {
        t.stop();
      }
      vertx.close();
    }
  }
}
