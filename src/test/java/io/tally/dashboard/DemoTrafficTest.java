package io.tally.dashboard;

import io.tally.support.Db;
import io.tally.support.Eventually;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verifies the --demo traffic: valid events through the normal ingestion path, a back-fill that restarts dedupe. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DemoTrafficTest {
  @Test
  void backfillIsStableAndLiveTrafficFlows() throws Exception {
    try (TestTally t = TestTally.start()) {
      DemoTraffic demo = new DemoTraffic(t.tally.vertx(), t.tally.port(), t.writeKey);
      // GIVEN one hour generated twice THEN the same events (ids, times), so a restart's back-fill is deduplicated
      Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(5, ChronoUnit.HOURS);
      JsonArray a = demo.backfillHour(hour);
      assertEquals(a, demo.backfillHour(hour));
      Set<String> types = new HashSet<>();
      a.forEach(e -> types.add(((JsonObject) e).getString("type")));
      assertTrue(types.containsAll(Set.of("page_view", "message_sent")), types.toString());

      demo.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      long afterBackfill = Db.eventsOf(t.project);
      assertTrue(afterBackfill > DemoTraffic.BACKFILL_HOURS * 20, "back-filled " + afterBackfill);
      assertEquals(0, t.http.post(new JsonObject().put("batch", a).encode()).json().getInteger("accepted"),
          "the hour was already stored");
      Eventually.until("live demo events", () -> Db.eventsOf(t.project) > afterBackfill);
      demo.stop();
      // every message the demo sends names its provider and model, as the catalogue requires
      assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND type = 'message_received' "
          + "AND (properties->>'provider' IS NULL OR properties->>'model' IS NULL)", t.project));
    }
  }
}
