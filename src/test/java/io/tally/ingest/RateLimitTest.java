package io.tally.ingest;

import io.tally.config.ProjectConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.StreamClient;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token buckets per key over HTTP and WebSocket: writes count events (a request over the limit is refused whole and
 * nothing of it is stored), reads count requests; a refusal is a 429 with Retry-After (a nack with retryAfterMs on a
 * WebSocket that stays open) naming the limit, and what is stored is exactly what was accepted.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RateLimitTest {
  static final ProjectConfig.RateLimits LIMITS = new ProjectConfig.RateLimits(20, 100, 2, 3);
  static TestTally t;
  /** One project (and key pair) per test, so that no test spends another's tokens. */
  static final Map<String, Http> HTTP = new HashMap<>();
  static final Map<String, String> WRITE_KEYS = new HashMap<>();
  static final Map<String, String> READ_KEYS = new HashMap<>();

  @BeforeAll
  static void start() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    List<ProjectConfig> projects = new ArrayList<>();
    for (String name : List.of("http", "ws", "read", "burst", "race")) {
      ProjectConfig.RateLimits limits = name.equals("race") ? new ProjectConfig.RateLimits(200, 200, 2, 3) : LIMITS;
      projects.add(new ProjectConfig(name + "-" + s, List.of("w-" + name + "-" + s), List.of("r-" + name + "-" + s),
          ZoneOffset.UTC).withRateLimits(limits));
    }
    t = TestTally.start(projects.get(0).id(), "w-http-" + s, "r-http-" + s, c -> c.withProjects(projects));
    for (ProjectConfig p : projects) {
      String name = p.id().substring(0, p.id().indexOf('-'));
      HTTP.put(name, new Http(t.tally.port(), p.writeKeys().get(0), p.readKeys().get(0)));
      WRITE_KEYS.put(name, p.writeKeys().get(0));
      READ_KEYS.put(name, p.readKeys().get(0));
    }
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  @Test
  void verifiesThatAnHttpBatchOverTheWriteLimitIs429WithRetryAfterAndNothingOfItIsStored() throws Exception {
    Http http = HTTP.get("http");
    // GIVEN a key allowed 20 events/s with a burst of 100, which sent 60 events
    JsonObject first = Events.batchOf(60, "message_sent");
    assertEquals(60, http.post(first.encode()).json().getInteger("accepted"));
    // WHEN it sends 60 more at once
    JsonObject second = Events.batchOf(60, "message_sent");
    Http.Response refused = http.post(second.encode());
    // THEN the whole batch is refused: 429, Retry-After in whole seconds, the limit named
    assertEquals(429, refused.status(), refused.body());
    JsonObject error = refused.json();
    assertEquals("rate_limited", error.getString("error"));
    assertEquals("rateLimits.writeEventsPerSecond", error.getString("field"));
    assertEquals(20, error.getLong("limit"));
    long retryMs = error.getLong("retryAfterMs");
    assertTrue(retryMs > 0 && retryMs <= 3_000, error.encode());
    assertEquals(String.valueOf((retryMs + 999) / 1000), refused.headers().firstValue("Retry-After").orElse(null));
    assertEquals(0, stored(second));
    assertTrue(SlowClientTest.metric(t, "analytics_rate_limited_total{kind=\"write\"}") >= 1);
    // WHEN it waits as told and sends the batch again THEN it is accepted whole
    Thread.sleep(retryMs);
    assertEquals(60, http.post(second.encode()).json().getInteger("accepted"));
    // AND what is stored is exactly what was accepted
    assertEquals(120, Db.eventsOf(project("http")));
  }

  @Test
  void verifiesThatAFrameOverTheWriteLimitIsNackedWith429AndTheWebSocketStaysOpen() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (StreamClient ws = StreamClient.connect(vertx, t.tally.port(), WRITE_KEYS.get("ws"))) {
      // GIVEN a stream whose key sent 60 events
      ws.send(Events.batchOf(60, "message_sent").put("seq", 1).encode());
      JsonObject ack = ws.answer(10_000);
      assertEquals(1, ack.getLong("ack"), ack.encode());
      // WHEN it sends 60 more at once
      JsonObject over = Events.batchOf(60, "message_sent").put("seq", 2);
      ws.send(over.encode());
      // THEN the frame is nacked with 429 and retryAfterMs, naming the limit, and nothing of it is stored
      JsonObject nack = ws.answer(10_000);
      assertNotNull(nack);
      assertEquals(2, nack.getLong("nack"), nack.encode());
      assertEquals(2, nack.getLong("frame"), nack.encode());
      assertEquals(429, nack.getInteger("status"), nack.encode());
      assertEquals("rateLimits.writeEventsPerSecond", nack.getString("field"), nack.encode());
      assertEquals(20, nack.getLong("limit"), nack.encode());
      long retryMs = nack.getLong("retryAfterMs");
      assertTrue(retryMs > 0, nack.encode());
      assertEquals(0, stored(over));
      // AND the connection stays open: after the wait the same frame is acked
      Thread.sleep(retryMs);
      ws.send(over.put("seq", 3).encode());
      JsonObject again = ws.answer(10_000);
      assertEquals(3, again.getLong("ack"), String.valueOf(again));
      assertEquals(3, again.getLong("frame"), again.encode());
      assertEquals(60, again.getInteger("accepted"));
      assertFalse(ws.isClosed());
      assertEquals(120, Db.eventsOf(project("ws")));
    } finally {
      vertx.close();
    }
  }

  @Test
  void verifiesThatAReadKeyOverItsRequestRateIs429OnQueryAndDashboardRoutesBeforeAnyBodyIsRead() throws Exception {
    Http http = HTTP.get("read");
    // GIVEN a read key allowed 2 requests/s with a burst of 3, which made 3 requests
    for (int i = 0; i < 3; i++) {
      assertEquals(200, http.get("/v1/event-types").status());
    }
    // WHEN it asks again, on a query route, a dashboard route or a route with a body
    List<Http.Response> refused = List.of(http.get("/v1/event-types"), http.get("/v1/segments"),
        http.send(HttpRequest.newBuilder(http.uri("/v1/funnels")).header("Authorization", "Bearer "
            + READ_KEYS.get("read")).POST(HttpRequest.BodyPublishers.ofString("{}")).build()));
    // THEN each is 429 with Retry-After, naming the limit
    for (Http.Response r : refused) {
      assertEquals(429, r.status(), r.body());
      assertEquals("rateLimits.readRequestsPerSecond", r.json().getString("field"));
      assertEquals(2, r.json().getLong("limit"));
      assertTrue(Long.parseLong(r.headers().firstValue("Retry-After").orElse("0")) >= 1, r.headers().toString());
    }
    // AND after a second it may ask again
    Thread.sleep(1_100);
    assertEquals(200, http.get("/v1/event-types").status());
  }

  @Test
  void verifiesThatABatchLargerThanTheBurstIsRefusedWholeNamingTheBurst() {
    // GIVEN a key whose burst is 100 events WHEN it sends 150 at once
    JsonObject batch = Events.batchOf(150, "page_view");
    Http.Response r = HTTP.get("burst").post(batch.encode());
    // THEN it can never pass: 413 naming the burst, nothing stored
    assertEquals(413, r.status(), r.body());
    assertEquals("rateLimits.writeBurst", r.json().getString("field"));
    assertEquals(100, r.json().getLong("limit"));
    assertEquals(0, stored(batch));
  }

  @Test
  void verifiesThatConcurrentWritersNeverGetMoreThanTheBucketAndStoredEqualsAccepted() throws Exception {
    Http http = HTTP.get("race");
    // GIVEN a key allowed 200 events/s, burst 200, and 8 writers sending batches of 10 as fast as they can for 2 s
    ExecutorService pool = Executors.newFixedThreadPool(8);
    AtomicLong accepted = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    long start = System.nanoTime();
    List<Future<?>> writers = new ArrayList<>();
    for (int w = 0; w < 8; w++) {
      writers.add(pool.submit(() -> {
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2)) {
          Http.Response r = http.post(Events.batchOf(10, "message_sent").encode());
          if (r.status() == 200) {
            accepted.addAndGet(r.json().getInteger("accepted"));
          } else {
            assertEquals(429, r.status(), r.body());
            assertTrue(r.headers().firstValue("Retry-After").isPresent());
            refused.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (Future<?> f : writers) {
      f.get(60, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    // THEN no more than the burst plus the refill passed, some were refused, and stored equals accepted
    assertTrue(accepted.get() <= 200 + 200 * seconds + 10, accepted + " events in " + seconds + " s");
    assertTrue(accepted.get() >= 200, "the burst itself should pass: " + accepted);
    assertTrue(refused.get() > 0);
    assertEquals(accepted.get(), Db.eventsOf(project("race")));
  }

  private static String project(String name) {
    return t.tally.config().projects().stream().filter(p -> p.id().startsWith(name + "-")).findFirst().orElseThrow()
        .id();
  }

  private static long stored(JsonObject batch) {
    JsonArray events = batch.getJsonArray("batch");
    long n = 0;
    for (int i = 0; i < events.size(); i++) {
      n += Db.count("SELECT count(*) FROM events WHERE id = ?::uuid",
          UUID.fromString(events.getJsonObject(i).getString("id")));
    }
    return n;
  }
}
