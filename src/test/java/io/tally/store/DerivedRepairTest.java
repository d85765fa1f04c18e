package io.tally.store;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DerivedRepairTest {
  static final String HOURLY = "SELECT hour, type, provider, model, events, tokens, cost, rt_n, dur_n FROM rollup_hourly "
      + "WHERE project_id = ? ORDER BY hour, type, provider, model";
  static final String TYPE_ROLLUPS = "SELECT 'h' AS k, hour::text AS at, type, events, tokens FROM rollup_hourly_t "
      + "WHERE project_id = ? UNION ALL SELECT 'd', day::text, type, events, tokens FROM rollup_daily_t "
      + "WHERE project_id = ? ORDER BY 1, 2, 3";
  static final String MINUTES = "SELECT minute, sent, errors FROM rollup_minute WHERE project_id = ? ORDER BY minute";
  static final String MINUTE_TYPES = "SELECT minute, type, events, tokens, cost, rt_n FROM rollup_minute_t "
      + "WHERE project_id = ? ORDER BY minute, type";
  static final String PAGES = "SELECT day, path, type, events, tokens FROM rollup_page_daily WHERE project_id = ? "
      + "ORDER BY day, path, type";
  static final String DAYS = "SELECT day, user_key FROM user_days WHERE project_id = ? ORDER BY day, user_key";
  static final String USER_DAILY = "SELECT day, user_key, type, provider, model, feature, events, tokens, cost, "
      + "rt_n FROM user_daily WHERE project_id = ? ORDER BY day, user_key, type, provider, model, feature";
  static final String SESSION_DAYS = "SELECT day, sessions, duration_sum, bounces FROM session_days "
      + "WHERE project_id = ? ORDER BY day";

  @Test
  void verifiesThatSessionsAndPeopleLostInACrashAreReDerivedAtStart() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String project = "p-" + s;
    // GIVEN 3 users x 4 events in 2 sessions each, derived normally
    JsonArray batch = new JsonArray();
    Instant t0 = Instant.parse("2026-11-24T08:00:00Z");
    for (int u = 0; u < 3; u++) {
      for (int i = 0; i < 4; i++) {
        batch.add(Events.event(i % 2 == 0 ? "page_view" : "message_sent", "u" + u).put("sessionId", "s" + u + "-" + (i / 2))
            .put("timestamp", t0.plusSeconds(u * 1000L + i * 60L).toString())
            .put("properties", i % 2 == 0 ? new JsonObject() : new JsonObject().put("provider", "p" + u)
                .put("model", "m" + i).put("tokens", 10 * u + i).put("cost", 0.25 * i))
            .put("page", new JsonObject().put("path", "/p" + i)));
      }
    }
    try (TestTally t = TestTally.start(project, "w-key-" + s, "r-key-" + s, UnaryOperator.identity())) {
      assertEquals(12, t.http.post(new JsonObject().put("batch", batch).encode()).json().getInteger("accepted"));
      Eventually.until("6 sessions", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ?", project) == 6);
    }
    List<Map<String, Object>> expectedSessions = Db.query("SELECT session_id, user_id, started_at, ended_at, event_count, "
        + "page_count, entry_page, exit_page FROM sessions WHERE project_id = ? ORDER BY session_id", project);
    List<Map<String, Object>> expectedPeople = Db.query("SELECT user_key, first_seen, last_seen, event_count FROM users "
        + "WHERE project_id = ? ORDER BY user_key", project);
    List<Map<String, Object>> expectedHourly = Db.query(HOURLY, project);
    List<Map<String, Object>> expectedMinutes = Db.query(MINUTES, project);
    List<Map<String, Object>> expectedDays = Db.query(DAYS, project);
    List<Map<String, Object>> expectedMinuteTypes = Db.query(MINUTE_TYPES, project);
    List<Map<String, Object>> expectedPages = Db.query(PAGES, project);
    // paths /p0 and /p2 carry page views, /p1 and /p3 messages: one row each, 3 events each (one per user)
    assertEquals(4, expectedPages.size());
    assertEquals(List.of(3L, 3L, 3L, 3L), expectedPages.stream().map(m -> m.get("events")).toList());
    // the test's own count: each event alone in its minute (60 s apart), message_sent tokens 10u + i, cost 0.25i
    assertEquals(12, expectedMinuteTypes.size());
    assertEquals(12L, expectedMinuteTypes.stream().mapToLong(m -> (Long) m.get("events")).sum());
    assertEquals(6 * 10 + 3 * (1 + 3), expectedMinuteTypes.stream().mapToDouble(m -> (Double) m.get("tokens")).sum(),
        1e-9);
    List<Map<String, Object>> expectedTypes = Db.query(TYPE_ROLLUPS, project, project);
    assertEquals(4, expectedTypes.size(), "page_view and message_sent, hourly and daily");
    List<Map<String, Object>> expectedSessionDays = Db.query(SESSION_DAYS, project);
    List<Map<String, Object>> expectedUserDaily = Db.query(USER_DAILY, project);
    assertEquals(9, expectedUserDaily.size(), "per user: page_view, and message_sent per model");
    assertEquals(12L, expectedUserDaily.stream().mapToLong(m -> (Long) m.get("events")).sum());
    assertEquals(List.of(6L), expectedSessionDays.stream().map(m -> m.get("sessions")).toList());
    assertEquals(7, expectedHourly.size(), "one page_view row, message rows per (provider, model)");
    assertEquals(6, expectedMinutes.size());
    assertEquals(3, expectedDays.size());
    // WHEN a crash lost the derived rows (simulated: deleted, watermark before the events' receipt)
    Db.query("WITH a AS (DELETE FROM sessions WHERE project_id = ? RETURNING 1), b AS (DELETE FROM users WHERE "
        + "project_id = ? RETURNING 1) SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)", project, project);
    // rollups: one row lost, one row double counted, activity lost
    Db.query("WITH a AS (DELETE FROM rollup_hourly WHERE project_id = ? AND type = 'page_view' RETURNING 1), "
        + "b AS (UPDATE rollup_minute SET sent = sent * 2 WHERE project_id = ? RETURNING 1), "
        + "c AS (DELETE FROM user_days WHERE project_id = ? RETURNING 1), "
        + "d AS (UPDATE session_days SET sessions = 0 WHERE project_id = ? RETURNING 1), "
        + "e AS (DELETE FROM rollup_hourly_t WHERE project_id = ? RETURNING 1), "
        + "f AS (UPDATE rollup_daily_t SET events = 0 WHERE project_id = ? RETURNING 1), "
        + "g AS (UPDATE user_daily SET events = events + 5 WHERE project_id = ? AND type = 'page_view' RETURNING 1), "
        + "h AS (DELETE FROM user_daily WHERE project_id = ? AND user_key = 'u1' RETURNING 1), "
        + "i AS (UPDATE rollup_minute_t SET events = events + 1 WHERE project_id = ? AND type = 'page_view' RETURNING 1), "
        + "j AS (DELETE FROM rollup_minute_t WHERE project_id = ? AND type = 'message_sent' RETURNING 1), "
        + "k AS (UPDATE rollup_page_daily SET events = 0 WHERE project_id = ? AND path = '/p1' RETURNING 1), "
        + "l AS (DELETE FROM rollup_page_daily WHERE project_id = ? AND path = '/p2' RETURNING 1) "
        + "SELECT count(*) FROM a",
        project, project, project, project, project, project, project, project, project, project, project, project);
    Db.query("UPDATE derived_progress SET applied_until = now() - interval '10 minutes' RETURNING 1");
    // THEN the next start re-derives them, identical
    try (TestTally t = TestTally.start(project, "w-key-" + s, "r-key-" + s, UnaryOperator.identity())) {
      assertEquals(expectedSessions, Db.query("SELECT session_id, user_id, started_at, ended_at, event_count, "
          + "page_count, entry_page, exit_page FROM sessions WHERE project_id = ? ORDER BY session_id", project));
      assertEquals(expectedPeople, Db.query("SELECT user_key, first_seen, last_seen, event_count FROM users "
          + "WHERE project_id = ? ORDER BY user_key", project));
      assertEquals(2, Db.query("SELECT event_count FROM sessions WHERE project_id = ? AND session_id = 's1-0'", project)
          .get(0).get("event_count"));
      assertEquals(expectedHourly, Db.query(HOURLY, project));
      assertEquals(expectedMinutes, Db.query(MINUTES, project));
      assertEquals(expectedDays, Db.query(DAYS, project));
      assertEquals(expectedMinuteTypes, Db.query(MINUTE_TYPES, project));
      assertEquals(expectedPages, Db.query(PAGES, project));
      assertEquals(expectedTypes, Db.query(TYPE_ROLLUPS, project, project));
      assertEquals(expectedSessionDays, Db.query(SESSION_DAYS, project));
      assertEquals(expectedUserDaily, Db.query(USER_DAILY, project));
    }
  }
}
