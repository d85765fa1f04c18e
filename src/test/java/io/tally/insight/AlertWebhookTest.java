package io.tally.insight;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AlertWebhookTest {
  /** The receivers here listen on loopback, which a webhook may reach only when the operator allows it. */
  static final WebhookAddresses LOOPBACK = new WebhookAddresses(List.of("127.0.0.0/8"));
  /** Short waits: 100 ms, then 200, 400...; no jitter so the spacing is predictable; 300 ms per attempt. */
  private static final AlertWebhook.Options FAST = new AlertWebhook.Options(4, 100, 2.0, 2_000, 300, 0);

  private record Received(long atNanos, HttpServerRequest request, String body) {
  }

  /** A local receiver: records each request with its body, then lets answer decide (n = 1-based request number). */
  private static final class Receiver {
    final List<Received> requests = new CopyOnWriteArrayList<>();
    HttpServer server;

    Future<Receiver> start(Vertx vertx, BiConsumer<Integer, HttpServerRequest> answer) {
      server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
        requests.add(new Received(System.nanoTime(), req, b.toString()));
        answer.accept(requests.size(), req);
      }));
      return server.listen(0, "127.0.0.1").map(s -> this);
    }

    String url() {
      return "http://127.0.0.1:" + server.actualPort() + "/hooks/tally";
    }

    long gapMs(int from, int to) {
      return TimeUnit.NANOSECONDS.toMillis(requests.get(to).atNanos() - requests.get(from).atNanos());
    }
  }

  private AlertWebhook webhook;

  /** The JVM's first HTTP exchange loads Netty's classes: slower than the short attempt timeouts used here. */
  @BeforeAll
  static void warmUp() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Receiver rx = new Receiver();
      rx.start(vertx, (n, req) -> req.response().end()).await(30, TimeUnit.SECONDS);
      AlertWebhook w = new AlertWebhook(vertx, AlertWebhook.Options.defaults(), LOOPBACK);
      w.send(rx.url(), payload("warm-up")).await(30, TimeUnit.SECONDS);
      w.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @AfterEach
  void close() {
    if (webhook != null) {
      webhook.close();
    }
  }

  private static JsonObject payload(String id) {
    return new JsonObject().put("id", id).put("project", "p1").put("kind", "anomaly").put("severity", "high")
        .put("anomaly", new JsonObject().put("metric", "errors").put("expected", 12.5).put("actual", 80)
            .put("score", 11.2).put("direction", "up").put("text", "Fehler — erreurs ↑"));
  }

  @Test
  void verifiesThatOnePostArrivesWithTheExactJsonAndHeaders(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a receiver answering 204
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    JsonObject p = payload("p1:anomaly:errors:2026-11-25T10");
    rx.start(vertx, (n, req) -> req.response().setStatusCode(204).end())
        // WHEN an alert is sent
        .compose(r -> webhook.send(rx.url(), p))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          // THEN exactly one POST arrived, with the payload and the headers
          assertEquals(1, rx.requests.size());
          Received got = rx.requests.get(0);
          assertEquals("POST", got.request().method().name());
          assertEquals("/hooks/tally", got.request().path());
          assertEquals("application/json", got.request().getHeader("Content-Type"));
          assertEquals("tally-alerts", got.request().getHeader("User-Agent"));
          // one Host header, naming the URL's host (the connection went to the address it was checked to be)
          assertEquals(List.of("127.0.0.1:" + rx.server.actualPort()), got.request().headers().getAll("Host"));
          assertEquals("p1:anomaly:errors:2026-11-25T10", got.request().getHeader("Tally-Alert-Id"));
          assertEquals(p, new JsonObject(got.body()));
          assertEquals(1, webhook.attempts());
          assertEquals(1, webhook.delivered());
          assertEquals(0, webhook.failed());
          assertEquals(0, webhook.inFlight());
          ctx.completeNow();
        })));
  }

  @Test
  void verifiesThatTwoServerErrorsAreRetriedWithGrowingBackoffUntilDelivered(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a receiver answering 500, 500, then 200
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    rx.start(vertx, (n, req) -> req.response().setStatusCode(n <= 2 ? 500 : 200).end("ok"))
        // WHEN an alert is sent
        .compose(r -> webhook.send(rx.url(), payload("a-500")))
        // (and a little time passes, in which no further attempt may come)
        .compose(v -> vertx.timer(500).map(t -> v))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          // THEN 3 attempts, one delivery, and the second wait is twice the first (100 ms, then 200 ms)
          assertEquals(3, rx.requests.size());
          assertEquals(3, webhook.attempts());
          assertEquals(1, webhook.delivered());
          assertEquals(0, webhook.failed());
          long first = rx.gapMs(0, 1);
          long second = rx.gapMs(1, 2);
          assertTrue(first >= 100 && first < 1_000, "first wait " + first);
          assertTrue(second >= 200 && second < 2_000, "second wait " + second);
          assertTrue(second > first * 1.4, "waits " + first + ", " + second);
          rx.requests.forEach(r -> {
            assertEquals("a-500", r.request().getHeader("Tally-Alert-Id"));
            assertEquals(payload("a-500"), new JsonObject(r.body()));
          });
          ctx.completeNow();
        })));
  }

  @Test
  void verifiesThatARetryAfterOnA429LengthensTheWait(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a receiver answering 429 with Retry-After: 1, then 200
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    rx.start(vertx, (n, req) -> {
      if (n == 1) {
        req.response().setStatusCode(429).putHeader("Retry-After", "1").end();
      } else {
        req.response().end();
      }
    }).compose(r -> webhook.send(rx.url(), payload("a-429")))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          // THEN the retry waited the second asked for, not the 100 ms backoff
          assertEquals(2, rx.requests.size());
          assertTrue(rx.gapMs(0, 1) >= 950, "wait " + rx.gapMs(0, 1));
          ctx.completeNow();
        })));
  }

  @Test
  void verifiesThatAReceiverThatNeverAnswersTimesOutAndIsRetried(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a receiver that never answers its first two requests, then answers 200
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    long[] started = new long[1];
    rx.start(vertx, (n, req) -> {
      if (n >= 3) {
        req.response().end();
      }
    }).compose(r -> {
      started[0] = System.nanoTime();
      // WHEN an alert is sent
      return webhook.send(rx.url(), payload("a-silent"));
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      // THEN each silent attempt ended at the 300 ms attempt timeout and the third one delivered
      long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started[0]);
      assertEquals(3, rx.requests.size());
      assertEquals(1, webhook.delivered());
      assertTrue(rx.gapMs(0, 1) >= 300 + 100 - 50, "timeout then first wait: " + rx.gapMs(0, 1));
      assertTrue(rx.gapMs(1, 2) >= 300 + 200 - 50, "timeout then second wait: " + rx.gapMs(1, 2));
      assertTrue(elapsed >= 2 * 300 + 100 + 200, "elapsed " + elapsed);
      ctx.completeNow();
    })));
  }

  @Test
  void verifiesThatTheSendFailsAfterMaxAttemptsWithTheLastCause(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a receiver that always answers 503
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    rx.start(vertx, (n, req) -> req.response().setStatusCode(503).end())
        // WHEN an alert is sent
        .compose(r -> webhook.send(rx.url(), payload("a-503")))
        .onComplete(ctx.failing(err -> vertx.timer(500).onComplete(t -> ctx.verify(() -> {
          // THEN it gives up after exactly maxAttempts (4), reporting the status, and tries no more
          assertInstanceOf(AlertWebhook.StatusException.class, err);
          assertEquals(503, ((AlertWebhook.StatusException) err).status());
          assertEquals(4, rx.requests.size());
          assertEquals(4, webhook.attempts());
          assertEquals(0, webhook.delivered());
          assertEquals(1, webhook.failed());
          assertEquals(0, webhook.inFlight());
          ctx.completeNow();
        }))));
  }

  @Test
  void verifiesThatAnUnreachableReceiverIsRetriedThenReportedAsFailed(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a port nobody listens on (a receiver started, then closed)
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, new AlertWebhook.Options(3, 50, 2.0, 1_000, 300, 0), LOOPBACK);
    rx.start(vertx, (n, req) -> req.response().end())
        .compose(r -> {
          String url = rx.url();
          return rx.server.close().map(v -> url);
        })
        // WHEN an alert is sent there
        .compose(url -> webhook.send(url, payload("a-down")))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          // THEN all 3 attempts were made and the send failed
          assertEquals(3, webhook.attempts());
          assertEquals(1, webhook.failed());
          assertEquals(0, rx.requests.size());
          ctx.completeNow();
        })));
  }

  @Test
  void verifiesThatTheSameIdSentTwiceConcurrentlyIsDeliveredOnce(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a receiver that takes 200 ms to answer
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    rx.start(vertx, (n, req) -> vertx.setTimer(200, t -> req.response().end()))
        .compose(r -> {
          // WHEN the same id is sent twice at once, and another id too
          Future<Void> a = webhook.send(rx.url(), payload("same"));
          Future<Void> b = webhook.send(rx.url(), payload("same"));
          Future<Void> c = webhook.send(rx.url(), payload("other"));
          return Future.all(a, b, c);
        })
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          // THEN both sends of "same" succeed on one delivery; "other" has its own
          assertEquals(2, rx.requests.size());
          assertEquals(1, rx.requests.stream().filter(r -> "same".equals(r.request().getHeader("Tally-Alert-Id")))
              .count());
          assertEquals(2, webhook.delivered());
          assertEquals(1, webhook.joined());
          assertEquals(0, webhook.inFlight());
          ctx.completeNow();
        })));
  }

  @Test
  void verifiesThatTheSameIdSentFromManyThreadsAtOnceIsDeliveredOnce(Vertx vertx, VertxTestContext ctx)
      throws Exception {
    // GIVEN a slow receiver and 8 threads racing to send the same id
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    rx.start(vertx, (n, req) -> vertx.setTimer(200, t -> req.response().end())).await(10, TimeUnit.SECONDS);
    List<Future<Void>> sends = new CopyOnWriteArrayList<>();
    List<Thread> threads = new java.util.ArrayList<>();
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    for (int i = 0; i < 8; i++) {
      Thread t = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        sends.add(webhook.send(rx.url(), payload("raced")));
      });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    // THEN one request, all 8 sends succeed
    Future.all(sends).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals(1, rx.requests.size());
      assertEquals(1, webhook.delivered());
      assertEquals(7, webhook.joined());
      ctx.completeNow();
    })));
  }

  @Test
  void verifiesThatAPayloadWithoutIdOrABadUrlIsRefusedAtOnce(Vertx vertx, VertxTestContext ctx) {
    webhook = new AlertWebhook(vertx, FAST, LOOPBACK);
    webhook.send("http://127.0.0.1:1/x", new JsonObject().put("kind", "anomaly"))
        .recover(err -> {
          ctx.verify(() -> assertTrue(err.getMessage().contains("id"), err.getMessage()));
          return webhook.send("ftp://example.org/x", payload("x"));
        })
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertInstanceOf(IllegalArgumentException.class, err);
          assertEquals(0, webhook.attempts());
          ctx.completeNow();
        })));
  }

  @Test
  void verifiesThatOptionsAreValidatedAndTheDefaultBackoffIsCapped() {
    AlertWebhook.Options d = AlertWebhook.Options.defaults();
    assertEquals(6, d.maxAttempts());
    assertEquals(5_000, d.attemptTimeoutMs());
    assertEquals(500, d.backoffMs(1));
    assertEquals(1_000, d.backoffMs(2));
    assertEquals(8_000, d.backoffMs(5));
    assertEquals(30_000, d.backoffMs(7));
    assertEquals(30_000, d.backoffMs(60));
    assertThrows(IllegalArgumentException.class, () -> new AlertWebhook.Options(0, 500, 2, 30_000, 5_000, 0));
    assertThrows(IllegalArgumentException.class, () -> new AlertWebhook.Options(6, 500, 2, 100, 5_000, 0));
    assertThrows(IllegalArgumentException.class, () -> new AlertWebhook.Options(6, 500, 2, 30_000, 5_000, 1));
  }

  @Test
  void verifiesThatATimeoutIsReportedAsSuch(Vertx vertx, VertxTestContext ctx) {
    // GIVEN a receiver that never answers and a single attempt
    Receiver rx = new Receiver();
    webhook = new AlertWebhook(vertx, new AlertWebhook.Options(1, 100, 2.0, 1_000, 200, 0), LOOPBACK);
    rx.start(vertx, (n, req) -> { })
        .compose(r -> webhook.send(rx.url(), payload("a-timeout")))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertInstanceOf(TimeoutException.class, err);
          assertEquals(1, webhook.attempts());
          assertEquals(1, webhook.failed());
          ctx.completeNow();
        })));
  }
}
