package io.tally.ingest;

import io.tally.auth.Perimeter;
import io.tally.config.TallyConfig;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failed keys per client address: after {@code http.keyFailuresPerMinute} unknown keys an address gets 429 on every
 * request carrying a key, a valid one included, until the block ends. Each test is its own client address, set with
 * X-Forwarded-For (loopback is a trusted proxy by default), which also shows the throttle follows the client, not the
 * proxy.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KeyThrottleTest {
  static final int FAILURES = 5;
  static final long BLOCK_MS = 1_500;
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start(c -> c.withPerimeter(new TallyConfig.Perimeter(10_000, 30_000, 30_000, 1_000,
        List.of("127.0.0.0/8", "::1/128"), FAILURES, BLOCK_MS)));
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  @Test
  void verifiesThatAnAddressGuessingKeysIsBlockedWith429EvenWithAValidKeyUntilTheBlockEnds() throws Exception {
    String client = "203.0.113.10";
    // GIVEN an address that sent as many unknown keys as allowed, each answered 401
    for (int i = 0; i < FAILURES; i++) {
      assertEquals(401, post(client, "Bearer guess-" + i + "-xxxxxxxx").status());
    }
    // WHEN it tries once more THEN it gets 429 naming the setting, with Retry-After
    Http.Response blocked = post(client, "Bearer guess-last-xxxxxxxx");
    assertEquals(429, blocked.status(), blocked.body());
    assertEquals("too_many_key_failures", blocked.json().getString("error"));
    assertEquals("http.keyFailuresPerMinute", blocked.json().getString("field"));
    assertEquals(FAILURES, blocked.json().getInteger("limit"));
    assertTrue(Long.parseLong(blocked.headers().firstValue("Retry-After").orElse("0")) >= 1);
    assertTrue(SlowClientTest.metric(t, "analytics_auth_blocks_total") >= 1);
    assertTrue(SlowClientTest.metric(t, "analytics_auth_throttled_total") >= 1);
    // AND so does a valid write key, a valid read key and a WebSocket, from that address
    assertEquals(429, post(client, "Bearer " + t.writeKey).status());
    assertEquals(429, get(client, "/v1/event-types").status());
    Vertx vertx = Vertx.vertx();
    try {
      WebSocketClient ws = vertx.createWebSocketClient();
      ExecutionException e = assertThrows(ExecutionException.class, () -> stream(ws, client).get(10,
          TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().contains("429"), e.getCause().toString());
      // AND another address is not affected
      assertEquals(200, post("203.0.113.11", "Bearer " + t.writeKey).status());
      // WHEN the block ends THEN the valid key works again from that address
      Thread.sleep(BLOCK_MS + 200);
      assertEquals(200, post(client, "Bearer " + t.writeKey).status());
      stream(ws, client).get(10, TimeUnit.SECONDS).close();
    } finally {
      vertx.close();
    }
  }

  @Test
  void verifiesThatMissingKeysAndValidKeysOfTheWrongRoleAreNotCountedAsGuesses() {
    String client = "203.0.113.20";
    // GIVEN requests with no key and with a read key on ingestion, well over the allowed failures
    for (int i = 0; i < 3 * FAILURES; i++) {
      // THEN each keeps its own answer: 401 for no key, 403 for the wrong role, never 429
      assertEquals(401, post(client, null).status());
      assertEquals(403, post(client, "Bearer " + t.readKey).status());
    }
    assertEquals(200, post(client, "Bearer " + t.writeKey).status());
  }

  @Test
  void verifiesThatKeysGuessedOverTheLiveWebSocketAreCountedToo() throws Exception {
    String client = "203.0.113.30";
    Vertx vertx = Vertx.vertx();
    try {
      WebSocketClient ws = vertx.createWebSocketClient();
      // GIVEN an address that sent unknown keys as the first frame of the live WebSocket, each closed with 4401
      for (int i = 0; i < FAILURES; i++) {
        WebSocket live = ws.connect(options(client, "/v1/live/ws")).toCompletionStage().toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
        CompletableFuture<Short> closed = new CompletableFuture<>();
        live.closeHandler(v -> closed.complete(live.closeStatusCode()));
        live.writeTextMessage(new JsonObject().put("key", "guess-" + i + "-xxxxxxxx").encode());
        assertEquals((short) 4401, closed.get(10, TimeUnit.SECONDS));
      }
      // WHEN it opens the live WebSocket again THEN the upgrade itself is refused with 429
      ExecutionException e = assertThrows(ExecutionException.class, () -> ws.connect(options(client, "/v1/live/ws"))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().contains("429"), e.getCause().toString());
      // AND a read request from it too
      assertEquals(429, get(client, "/v1/event-types").status());
    } finally {
      vertx.close();
    }
  }

  private static CompletableFuture<WebSocket> stream(WebSocketClient ws, String client) {
    return ws.connect(options(client, "/v1/stream?key=" + t.writeKey)).toCompletionStage().toCompletableFuture();
  }

  private static WebSocketConnectOptions options(String client, String uri) {
    return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(t.tally.port()).setURI(uri)
        .addHeader("X-Forwarded-For", client);
  }

  private static Http.Response post(String client, String authorization) {
    HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri("/v1/events")).header("X-Forwarded-For", client)
        .POST(HttpRequest.BodyPublishers.ofString(Events.event("page_view", "u-throttle").encode()));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return t.http.send(b.build());
  }

  private static Http.Response get(String client, String path) {
    return t.http.send(HttpRequest.newBuilder(t.http.uri(path)).header("X-Forwarded-For", client)
        .header("Authorization", "Bearer " + t.readKey).GET().build());
  }
}
