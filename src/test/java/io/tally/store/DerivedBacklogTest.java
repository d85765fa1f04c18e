package io.tally.store;

import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Eventually;
import io.tally.support.Events;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that when the derived tables fall behind, the writer stops taking batches once they are
 * {@code writer.maxDerivedBacklog} events behind (memory stays bounded; the ring fills and ingestion answers 503 with
 * Retry-After), and that everything acknowledged is stored and derived once they catch up.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DerivedBacklogTest {
  private static final int BACKLOG = 300;
  private static final int BATCH = 100;
  private static final int IN_FLIGHT = 2;

  @Test
  void aStalledDerivedFlushPausesTheWriterAtItsBoundAndNothingAckedIsLost() throws Exception {
    // GIVEN a server whose derived tables may be at most 300 events behind, with a 256-event ring
    try (TestTally t = TestTally.start(c -> c.withWriter(new TallyConfig.Writer(256, BATCH, 1, IN_FLIGHT, 7, 20, 300,
        7, 100, 60_000, 7_000, BACKLOG)))) {
      // AND a derived flush that cannot write: another transaction holds the people table against writes
      List<JsonObject> bodies = new ArrayList<>();
      List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      try (Connection lock = Db.connect()) {
        lock.setAutoCommit(false);
        try (Statement s = lock.createStatement()) {
          s.execute("LOCK TABLE users IN SHARE MODE");
        }
        // WHEN 30 requests of 100 events of new persons arrive
        HttpClient client = HttpClient.newHttpClient();
        for (int i = 0; i < 30; i++) {
          JsonObject body = newPersons(BATCH);
          bodies.add(body);
          sent.add(client.sendAsync(HttpRequest.newBuilder(t.http.uri("/v1/events"))
              .header("Authorization", "Bearer " + t.writeKey)
              .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString()));
          Thread.sleep(30);
        }
        // THEN the requests beyond the bound, the batches in flight and the ring are refused: 503 + Retry-After
        Eventually.until("some requests refused with buffer_full", 60, () -> sent.stream()
            .filter(CompletableFuture::isDone).anyMatch(f -> f.join().statusCode() == 503));
        Thread.sleep(1_000);
        for (CompletableFuture<HttpResponse<String>> f : sent) {
          if (f.isDone() && f.join().statusCode() == 503) {
            assertEquals("buffer_full", new JsonObject(f.join().body()).getString("error"));
            assertTrue(f.join().headers().firstValue("Retry-After").isPresent());
          }
        }
        // AND the derived pipeline holds no more than its bound plus the batches that were already being written
        double backlog = t.metric("analytics_derived_backlog_events");
        assertTrue(backlog > 0 && backlog <= BACKLOG + IN_FLIGHT * BATCH, "backlog " + backlog);
        assertTrue(sent.stream().anyMatch(f -> !f.isDone()), "requests wait in the ring while the writer pauses");
        lock.rollback();
      }
      // WHEN the derived tables can write again
      // THEN every waiting request is acknowledged, and exactly the acknowledged events are stored and derived
      long acked = 0;
      for (int i = 0; i < sent.size(); i++) {
        HttpResponse<String> r = sent.get(i).get(120, TimeUnit.SECONDS);
        long stored = storedOf(bodies.get(i));
        if (r.statusCode() == 200) {
          assertEquals(BATCH, new JsonObject(r.body()).getInteger("accepted"));
          assertEquals(BATCH, stored, "an acknowledged request's events are stored");
          acked += BATCH;
        } else {
          assertEquals(503, r.statusCode(), r.body());
          assertEquals(0, stored, "a refused request stores nothing");
        }
      }
      assertTrue(acked > BACKLOG, "the writer went on once the derived tables caught up: " + acked);
      t.awaitDerived();
      assertEquals(acked + 0.0, (double) Db.count("SELECT count(*) FROM users WHERE project_id = ? "
          + "AND user_key LIKE 'backlog-%'", t.project), "every acknowledged person is derived");
      Eventually.until("the backlog drains to 0", 30, () -> t.metric("analytics_derived_backlog_events") == 0);
      // AND ingestion is accepted again
      assertEquals(200, t.http.post(newPersons(10).encode()).status());
    }
  }

  private static JsonObject newPersons(int n) {
    JsonArray arr = new JsonArray();
    for (int i = 0; i < n; i++) {
      arr.add(Events.event("page_view", "backlog-" + UUID.randomUUID()));
    }
    return new JsonObject().put("batch", arr);
  }

  private static long storedOf(JsonObject body) {
    List<String> ids = new ArrayList<>();
    body.getJsonArray("batch").forEach(e -> ids.add(((JsonObject) e).getString("id")));
    return Db.count("SELECT count(*) FROM events WHERE id = ANY(?::uuid[])", "{" + String.join(",", ids) + "}");
  }
}
