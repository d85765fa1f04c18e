package io.tally.store;

import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PostgresDownTest {

  @Test
  void verifiesThatWhilePostgresIsDownNothingIsAckedThenTheRingFills503AndEverythingAckedIsStoredAfterwards()
      throws Exception {
    TestServers servers = TestServers.get();
    Assumptions.assumeTrue(servers.embedded(), "needs the embedded PostgreSQL to stop it");
    // GIVEN a server with a small ring (64 events) and quick retries
    try (TestTally t = TestTally.start(c -> c.withWriter(new TallyConfig.Writer(64, 1000, 1, 2, 7, 20, 300, 7, 500, 60_000)))) {
      assertEquals(200, t.http.post(Events.batchOf(10, "page_view").encode()).status());
      // WHEN PostgreSQL stops mid-stream
      servers.postgres().stop();
      HttpClient client = HttpClient.newHttpClient();
      List<JsonObject> bodies = new ArrayList<>();
      List<CompletableFuture<HttpResponse<String>>> inflight = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        JsonObject body = Events.batchOf(10, "message_sent");
        bodies.add(body);
        inflight.add(client.sendAsync(HttpRequest.newBuilder(t.http.uri("/v1/events"))
            .header("Authorization", "Bearer " + t.writeKey)
            .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString()));
        Thread.sleep(20);
      }
      // THEN readiness reports the database down
      Http.Response ready = waitForReady(t, 503);
      assertEquals("DOWN", ready.json().getString("postgres"));
      // AND once the ring (and the batches being retried) are full, requests get 503 + Retry-After
      Thread.sleep(500);
      List<Integer> early = new ArrayList<>();
      int refused = 0;
      for (CompletableFuture<HttpResponse<String>> f : inflight) {
        if (f.isDone()) {
          HttpResponse<String> r = f.get();
          early.add(r.statusCode());
          assertEquals(503, r.statusCode(), "nothing may be acked while PostgreSQL is down: " + r.body());
          assertTrue(r.headers().firstValue("Retry-After").isPresent());
          assertEquals("buffer_full", new JsonObject(r.body()).getString("error"));
          refused++;
        }
      }
      assertTrue(refused > 0, "the ring should have filled: " + early);
      assertTrue(refused < 20, "some requests should be waiting in the ring");
      // WHEN PostgreSQL comes back
      servers.postgres().restart();
      // THEN the ring drains, every waiting request is acked, and exactly the acked events are stored
      int acked = 0;
      for (int i = 0; i < inflight.size(); i++) {
        HttpResponse<String> r = inflight.get(i).get(60, TimeUnit.SECONDS);
        long stored = countIds(bodies.get(i));
        if (r.statusCode() == 200) {
          acked++;
          assertEquals(10, new JsonObject(r.body()).getInteger("accepted"));
          assertEquals(10, stored, "an acked event was lost");
        } else {
          assertEquals(503, r.statusCode());
          assertEquals(0, stored, "a refused request must store nothing");
        }
      }
      assertEquals(20 - refused, acked);
      assertEquals(200, waitForReady(t, 200).status());
      assertEquals(200, t.http.post(Events.batchOf(5, "page_view").encode()).status());
      assertEquals(10 + acked * 10 + 5, Db.eventsOf(t.project));
    } finally {
      servers.postgres().restart();
    }
  }

  private static long countIds(JsonObject batch) {
    List<String> ids = new ArrayList<>();
    batch.getJsonArray("batch").forEach(e -> ids.add(((JsonObject) e).getString("id")));
    return Db.count("SELECT count(*) FROM events WHERE id::text = ANY(string_to_array(?, ','))", String.join(",", ids));
  }

  private static Http.Response waitForReady(TestTally t, int status) throws InterruptedException {
    Http.Response r = null;
    for (int i = 0; i < 100; i++) {
      r = t.http.get("/health/ready");
      if (r.status() == status) {
        return r;
      }
      Thread.sleep(100);
    }
    assertNotNull(r);
    assertFalse(true, "readiness never became " + status + ": " + r.body());
    return r;
  }

  @SuppressWarnings("unused")
  private static String id() {
    return UUID.randomUUID().toString();
  }
}
