package io.tally.store;

import io.tally.support.Db;
import io.tally.support.DerivedOracle;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Verifies that each input that once froze the derived tables or stopped the next start (a 3,000- and a 9,000-character
 * model, a 1970 timestamp corrected by a 9999 sentAt, tokens of 1e309), sent beside a good event, is rejected at the
 * door while the good event is stored, and that a start after a crash that followed them re-derives cleanly.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostileRestartTest {

  @Test
  void verifiesThatTheInputsThatStoppedTheDerivedTablesAreRejectedAndTheNextStartIsClean() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String project = "hostile-" + s;
    Instant before = Db.instant("SELECT now()");
    Instant t = Instant.now().minus(10, ChronoUnit.MINUTES);
    JsonObject longModel = Events.event("message_received", "u-a").put("timestamp", t.toString());
    longModel.getJsonObject("properties").put("model", "m".repeat(3000));
    JsonObject longerModel = Events.event("message_received", "u-b").put("timestamp", t.toString());
    longerModel.getJsonObject("properties").put("model", UUID.randomUUID().toString().repeat(250));
    JsonObject epoch = Events.event("page_view", "u-c").put("timestamp", "1970-01-01T00:00:00Z")
        .put("sentAt", "9999-12-31T00:00:00Z");
    JsonObject huge = Events.event("message_received", "u-d").put("timestamp", t.toString());
    String hugeBody = huge.encode().replace("\"tokens\":512", "\"tokens\":1e309");
    JsonObject good = Events.event("page_view", "u-good").put("timestamp", t.toString());
    try (TestTally tally = TestTally.start(project, "w-" + s, "r-" + s, UnaryOperator.identity())) {
      // GIVEN each hostile event in a batch beside a good one
      String batch = "{\"batch\": [" + longModel.encode() + "," + longerModel.encode() + "," + epoch.encode() + ","
          + hugeBody + "," + good.encode() + "]}";
      JsonObject answer = tally.http.post(batch).json();
      // THEN the four are rejected naming their field, the good one is stored
      assertEquals(1, answer.getInteger("accepted"), answer.encode());
      JsonArray rejected = answer.getJsonArray("rejected");
      assertEquals(List.of("properties.model", "properties.model", "timestamp", "properties.tokens"),
          rejected.stream().map(r -> ((JsonObject) r).getString("field")).toList(), answer.encode());
      assertEquals(1, Db.eventsOf(project));
      Eventually.until("the good session", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ?",
          project) == 1);
    }
    // WHEN the next start follows a crash that left the watermark before them
    Db.update("UPDATE derived_progress SET applied_until = ?", java.sql.Timestamp.from(before));
    try (TestTally tally = TestTally.start(project, "w-" + s, "r-" + s, UnaryOperator.identity())) {
      // THEN it starts, sets nothing aside, and every derived table equals the derivation from the stored events
      assertEquals(0, Db.count("SELECT count(*) FROM derived_dead_letters WHERE project_id = ?", project));
      assertEquals(List.of(), DerivedOracle.differences(project));
      assertEquals(200, tally.http.post(Events.event("page_view", "u-later").encode()).status());
      Eventually.until("a later session", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ?",
          project) == 2);
    }
  }
}
