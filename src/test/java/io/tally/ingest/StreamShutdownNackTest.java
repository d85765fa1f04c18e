package io.tally.ingest;

import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.StreamClient;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** A message still uncommitted when shutdown closes its WebSocket is nacked first: never left unanswered. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StreamShutdownNackTest {

  @Test
  void verifiesThatAMessageNotCommittedWhenShutdownGivesUpDrainingIsNackedBeforeThe1001Close() throws Exception {
    TestServers servers = TestServers.get();
    Assumptions.assumeTrue(servers.embedded(), "holds PostgreSQL down so that the drain cannot finish");
    Vertx vertx = Vertx.vertx();
    TestTally t = TestTally.start();
    boolean stopped = false;
    try (StreamClient ws = StreamClient.connect(vertx, t.tally.port(), t.writeKey)) {
      // GIVEN a message waiting in the ring because PostgreSQL is down
      servers.postgres().stop();
      ws.send(Events.batchOf(3, "page_view").put("seq", 7).encode());
      Eventually.until("3 events buffered or being written", () -> t.http.get("/metrics").body().lines()
          .filter(l -> l.startsWith("analytics_events_buffered ") || l.startsWith("analytics_events_writing "))
          .mapToDouble(l -> Double.parseDouble(l.split(" ")[1])).sum() >= 3);
      // WHEN shutdown drains as long as it may, gives up, and closes the WebSockets
      CompletableFuture<Void> shutdown = t.tally.shutdown().toCompletionStage().toCompletableFuture();
      stopped = true;
      // THEN the message is nacked (retry elsewhere: it was not acknowledged as committed), then 1001 follows
      JsonObject nack = ws.answer(30_000);
      assertNotNull(nack, "the in-flight message was left unanswered");
      assertEquals(7, nack.getLong("nack"), nack.encode());
      assertEquals(1, nack.getLong("frame"), nack.encode());
      assertEquals(503, nack.getInteger("status"), nack.encode());
      assertEquals("shutting_down", nack.getString("code"), nack.encode());
      assertEquals((short) 1001, ws.closeCode(10_000));
      shutdown.get(30, TimeUnit.SECONDS);
    } finally {
      servers.postgres().restart();
      if (!stopped) {
        t.stop();
      }
      vertx.close();
    }
  }
}
