package io.tally.ingest;

import io.tally.auth.Perimeter;
import io.tally.config.TallyConfig;
import io.tally.support.Eventually;
import io.tally.support.RawSocket;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-address cap of open connections, WebSockets included, and the addresses exempt from it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConnectionCapTest {
  static final int CAP = 3;

  private static TallyConfig.Perimeter perimeter(List<String> exempt) {
    return new TallyConfig.Perimeter(10_000, 30_000, 30_000, CAP, exempt, 20, 60_000);
  }

  @Test
  void verifiesThatAConnectionOverThePerAddressCapIsAnswered429NamingTheLimitAndClosed() {
    try (TestTally t = TestTally.start(c -> c.withPerimeter(perimeter(List.of())))) {
      // GIVEN as many open keep-alive connections from loopback as the cap allows
      List<RawSocket> open = new ArrayList<>();
      try {
        for (int i = 0; i < CAP; i++) {
          RawSocket s = new RawSocket(t.tally.port());
          open.add(s);
          assertTrue(live(s), s.received());
        }
        // WHEN one more connects
        try (RawSocket extra = new RawSocket(t.tally.port())) {
          extra.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
          // THEN its request is answered 429 + Retry-After, naming the setting and the cap, and it is closed
          assertTrue(extra.awaitText("\r\n\r\n{", 3_000), extra.received());
          assertTrue(extra.received().startsWith("HTTP/1.1 429"), extra.received());
          assertTrue(extra.received().contains("Retry-After: "), extra.received());
          assertTrue(extra.awaitClose(3_000), "the refused connection stayed open");
          JsonObject error = new JsonObject(extra.firstBody());
          assertEquals("too_many_connections", error.getString("error"));
          assertEquals("http.maxConnectionsPerAddress", error.getString("field"));
          assertEquals(CAP, error.getInteger("limit"));
        }
        // AND the connections under the cap still work
        assertTrue(live(open.get(0)), open.get(0).received());
        // WHEN one of them closes THEN a new connection is served again
        open.remove(0).close();
        Eventually.until("a new connection served once one closed", () -> {
          try (RawSocket s = new RawSocket(t.tally.port())) {
            return live(s);
          }
        });
        // (the refusal is counted on the connection's event loop: read until it shows)
        Eventually.until("the refusal counted", () -> SlowClientTest.metric(t,
            "analytics_http_connections_refused_total") >= 1);
      } finally {
        open.forEach(RawSocket::close);
      }
    }
  }

  @Test
  void verifiesThatWebSocketsCountTowardsTheCapAndAnUpgradeOverItIsRefused() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestTally t = TestTally.start(c -> c.withPerimeter(perimeter(List.of())))) {
      WebSocketClient client = vertx.createWebSocketClient();
      // GIVEN as many open WebSockets from loopback as the cap allows
      List<WebSocket> sockets = new ArrayList<>();
      for (int i = 0; i < CAP; i++) {
        sockets.add(connect(client, t).get(10, TimeUnit.SECONDS));
      }
      // WHEN a plain request or one more WebSocket comes from the same address
      try (RawSocket extra = new RawSocket(t.tally.port())) {
        extra.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        // THEN both are refused
        assertTrue(extra.awaitText("\r\n\r\n", 3_000), extra.received());
        assertTrue(extra.received().startsWith("HTTP/1.1 429"), extra.received());
      }
      ExecutionException refused = assertThrows(ExecutionException.class,
          () -> connect(client, t).get(10, TimeUnit.SECONDS));
      assertTrue(refused.getCause().getMessage().contains("429"), refused.getCause().toString());
      // WHEN a WebSocket closes THEN a new one opens
      sockets.remove(0).close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      Eventually.until("a WebSocket opens once another closed", () -> {
        try {
          sockets.add(connect(client, t).get(10, TimeUnit.SECONDS));
          return true;
        } catch (Exception e) {
          return false;
        }
      });
      for (WebSocket ws : sockets) {
        ws.close();
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void verifiesThatExemptAddressesAreNotCapped() {
    // GIVEN a cap of 3 with loopback exempt (the shipped setting, for the load tests on this machine)
    try (TestTally t = TestTally.start(c -> c.withPerimeter(perimeter(List.of("127.0.0.0/8", "::1/128"))))) {
      List<RawSocket> open = new ArrayList<>();
      try {
        // WHEN twice as many connections come from loopback THEN all are served
        for (int i = 0; i < 2 * CAP; i++) {
          RawSocket s = new RawSocket(t.tally.port());
          open.add(s);
          assertTrue(live(s), s.received());
        }
      } finally {
        open.forEach(RawSocket::close);
      }
    }
  }

  private static java.util.concurrent.CompletableFuture<WebSocket> connect(WebSocketClient client, TestTally t) {
    return client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(t.tally.port())
        .setURI("/v1/stream?key=" + t.writeKey)).toCompletionStage().toCompletableFuture();
  }

  /** One more GET /health/live on this connection answered 200. */
  private static boolean live(RawSocket s) {
    int before = s.occurrences("HTTP/1.1 200");
    s.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    return s.awaitCount("HTTP/1.1 200", before + 1, 3_000);
  }
}
