package io.tally.derive;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.TestTally;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Verifies that events stored before the ingest bounds existed (a 3,000-character model, a timestamp in 4714 BC, a
 * token count of 1e309: each of which once stopped the derived tables or the next start) neither stop the start-up
 * re-derivation nor the flush: the rows PostgreSQL refuses are set aside, the others are derived, and the pipeline goes
 * on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DerivedLegacyRowsTest {

  @Test
  void verifiesThatOutOfBoundsRowsStoredEarlierNeitherStopTheStartNorTheDerivedTables() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String project = "legacy-" + s;
    Instant t = Instant.now().minus(1, ChronoUnit.HOURS);
    Instant before = Db.instant("SELECT now()");
    // GIVEN such rows in the events table, received after the watermark (as if a crash had followed them)
    insert(project, "ok-" + s, t.toString(), "page_view", "{}");
    // random text (a repeated one compresses and fits the index)
    StringBuilder model = new StringBuilder("mmmm");
    while (model.length() < 3000) {
      model.append(UUID.randomUUID());
    }
    insert(project, "model-" + s, t.plusSeconds(1).toString(), "message_received",
        "{\"provider\": \"p\", \"model\": \"" + model + "\", \"tokens\": 5}");
    insert(project, "ancient-" + s, "4714-11-24 00:00:00+00 BC", "page_view", "{}");
    insert(project, "huge-" + s, t.plusSeconds(2).toString(), "message_received",
        "{\"provider\": \"p\", \"model\": \"m\", \"tokens\": 1e309, \"cost\": 1e-400}");
    Db.update("UPDATE derived_progress SET applied_until = ?", java.sql.Timestamp.from(before));
    // WHEN Tally starts
    try (TestTally tally = TestTally.start(project, "w-" + s, "r-" + s, UnaryOperator.identity())) {
      // THEN the start-up re-derivation derived every row it could
      assertEquals(4, Db.count("SELECT count(*) FROM sessions WHERE project_id = ?", project));
      assertEquals(4, Db.count("SELECT count(*) FROM users WHERE project_id = ?", project));
      // the unreadable numbers count as no number; the over-long model's rollup rows are set aside
      assertEquals(java.util.List.of(java.util.Map.of("events", 1L, "tokens", 0.0, "cost", 0.0)), Db.query(
          "SELECT events, tokens, cost FROM user_daily WHERE project_id = ? AND user_key = ?", project, "huge-" + s));
      assertEquals(1, Db.count("SELECT count(*) FROM derived_dead_letters WHERE project_id = ? AND target = "
          + "'rollup_hourly' AND row_key LIKE '%mmmm%'", project));
      assertEquals(1, Db.count("SELECT count(*) FROM derived_dead_letters WHERE project_id = ? AND target = "
          + "'user_daily' AND row_key LIKE '%mmmm%'", project));
      // AND the query side's event timeline loads (it skips the time no event can have any more)
      Eventually.until("the event timeline", 30, () -> tally.http.get("/metrics").body().lines()
          .anyMatch(l -> l.startsWith("analytics_event_timeline_events ") && !l.endsWith(" 0.0")));
      // AND the pipeline goes on: a new event gets its session
      assertEquals(200, tally.http.post(Events.event("page_view", "new-" + s).encode()).status());
      Eventually.until("the new session", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ? "
          + "AND session_id = ?", project, "s-new-" + s) == 1);
    }
  }

  private static void insert(String project, String user, String ts, String type, String properties) {
    Db.update("INSERT INTO events (project_id, id, ts, received_at, type, session_id, user_id, properties, flags) "
        + "VALUES (?, ?, ?::timestamptz, now(), ?, ?, ?, ?::jsonb, 0)", project, UUID.randomUUID(), ts, type,
        "s-" + user, user, properties);
  }
}
