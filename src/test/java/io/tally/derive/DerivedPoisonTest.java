package io.tally.derive;

import io.tally.config.ProjectConfig;
import io.tally.support.Db;
import io.tally.support.DerivedOracle;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that a derived row PostgreSQL refuses (made so by a trigger this test installs: the refusal is real, from
 * the real server) is set aside with its error while every other row, of the same flush and of another project, is
 * written, and that a start with that row still to re-derive starts, re-derives the rest and sets the row aside again.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DerivedPoisonTest {
  private final String s = UUID.randomUUID().toString().substring(0, 8);
  private final String poisonSession = "poison-" + s;
  private final String poisonType = "poison_type_" + s;

  @AfterEach
  void dropTriggers() {
    Db.update("DROP TRIGGER IF EXISTS poison_" + s + " ON sessions");
    Db.update("DROP TRIGGER IF EXISTS poison_" + s + " ON rollup_hourly");
    Db.update("DROP FUNCTION IF EXISTS poison_" + s + "()");
  }

  private void installTriggers() {
    Db.update("CREATE FUNCTION poison_" + s + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF to_jsonb(NEW) ->> 'session_id' = '" + poisonSession + "' OR (TG_TABLE_NAME = 'rollup_hourly' "
        + "AND to_jsonb(NEW) ->> 'type' = '" + poisonType + "') THEN "
        + "RAISE EXCEPTION 'poisoned by the test' USING ERRCODE = 'data_exception'; END IF; RETURN NEW; END $$");
    Db.update("CREATE TRIGGER poison_" + s + " BEFORE INSERT OR UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION poison_"
        + s + "()");
    Db.update("CREATE TRIGGER poison_" + s + " BEFORE INSERT OR UPDATE ON rollup_hourly FOR EACH ROW EXECUTE FUNCTION "
        + "poison_" + s + "()");
  }

  private static JsonObject event(String type, String user, String session, Instant ts) {
    return Events.event(type, user).put("sessionId", session).put("timestamp", ts.toString())
        .put("userContext", new JsonObject().put("userId", user).put("sessionId", session));
  }

  @Test
  void verifiesThatARefusedRowIsSetAsideWhileOtherRowsAndProjectsFlowAndTheNextStartStarts() {
    String a = "pa-" + s;
    String b = "pb-" + s;
    var projects = List.of(new ProjectConfig(a, List.of("wa-" + s), List.of("ra-" + s), ZoneOffset.UTC),
        new ProjectConfig(b, List.of("wb-" + s), List.of("rb-" + s), ZoneOffset.UTC));
    Instant t0 = Instant.now().minus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
    Instant before = Db.instant("SELECT now()");
    installTriggers();
    try (TestTally t = TestTally.start(a, "wa-" + s, "ra-" + s, c -> c.withProjects(projects))) {
      Http httpB = new Http(t.tally.port(), "wb-" + s, "rb-" + s);
      // GIVEN one batch of project A holding a session and a rollup row PostgreSQL refuses, beside good ones
      JsonObject batch = Events.batch(
          event("page_view", "u1", poisonSession, t0),
          event("page_view", "u1", poisonSession, t0.plusSeconds(5)),
          event("page_view", "u2", "good-" + s, t0.plusSeconds(6)),
          event(poisonType, "u2", "good-" + s, t0.plusSeconds(7)),
          event("message_sent", "u3", "other-" + s, t0.plusSeconds(8)));
      assertEquals(5, t.http.post(batch.encode()).json().getInteger("accepted"));
      // AND project B's events at the same time
      assertEquals(1, httpB.post(Events.batch(event("page_view", "v1", "b-" + s, t0.plusSeconds(9))).encode()).json()
          .getInteger("accepted"));
      // THEN (once the flush has isolated the refused rows, part by part) every other row is written: both good
      // sessions of A, B's session, people, the other rollup rows
      Eventually.until("the dead letters", 30, () -> Db.count("SELECT count(*) FROM derived_dead_letters "
          + "WHERE project_id = ? AND stage = 'flush'", a) == 2);
      Eventually.until("the good sessions", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ? "
          + "AND session_id IN (?, ?)", a, "good-" + s, "other-" + s) == 2
          && Db.count("SELECT count(*) FROM sessions WHERE project_id = ?", b) == 1
          && Db.count("SELECT count(*) FROM users WHERE project_id = ?", a) == 3);
      assertEquals(0, Db.count("SELECT count(*) FROM sessions WHERE session_id = ?", poisonSession));
      assertEquals(List.of("message_sent", "page_view"), Db.query("SELECT DISTINCT type FROM rollup_hourly "
          + "WHERE project_id = ? ORDER BY type", a).stream().map(r -> r.get("type")).toList());
      // the day and type-only rollups are sums of the hourly rows: the one set aside is in none of them, the others are
      assertEquals(0, Db.count("SELECT count(*) FROM rollup_daily WHERE project_id = ? AND type = ?", a, poisonType));
      assertEquals(3, Db.count("SELECT coalesce(sum(events), 0) FROM rollup_daily_t WHERE project_id = ? "
          + "AND type = 'page_view'", a));
      // AND each refused row is set aside once, with its key and PostgreSQL's error, and counted
      assertEquals(1, Db.count("SELECT count(*) FROM derived_dead_letters WHERE target = 'sessions' AND row_key = ? "
          + "AND error = 'poisoned by the test' AND sqlstate = '22000'", a + " | " + poisonSession));
      assertEquals(1, Db.count("SELECT count(*) FROM derived_dead_letters WHERE target = 'rollup_hourly' "
          + "AND row_key LIKE ?", "%" + poisonType + "%"));
      assertTrue(t.http.get("/metrics").body().lines().anyMatch(l -> l.startsWith(
          "analytics_derived_set_aside_total{stage=\"flush\",table=\"sessions\"}")));
      // AND the pipeline goes on: a later event of A gets its session
      assertEquals(1, t.http.post(event("page_view", "u4", "later-" + s, t0.plusSeconds(60)).encode()).json()
          .getInteger("accepted"));
      Eventually.until("the later session", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ? "
          + "AND session_id = ?", a, "later-" + s) == 1);
    }
    // WHEN the next start must derive them again (a crash before the watermark passed them)
    Db.update("DELETE FROM sessions WHERE project_id IN (?, ?)", a, b);
    Db.update("DELETE FROM rollup_hourly WHERE project_id IN (?, ?)", a, b);
    Db.update("UPDATE derived_progress SET applied_until = ?", java.sql.Timestamp.from(before));
    try (TestTally t = TestTally.start(a, "wa-" + s, "ra-" + s, c -> c.withProjects(projects))) {
      // THEN it starts, re-derives every other row, and sets the refused ones aside again
      assertEquals(3, Db.count("SELECT count(*) FROM sessions WHERE project_id = ?", a));
      assertEquals(1, Db.count("SELECT count(*) FROM sessions WHERE project_id = ?", b));
      assertEquals(List.of("message_sent", "page_view"), Db.query("SELECT DISTINCT type FROM rollup_hourly "
          + "WHERE project_id = ? ORDER BY type", a).stream().map(r -> r.get("type")).toList());
      assertEquals(2, Db.count("SELECT count(*) FROM derived_dead_letters WHERE project_id = ? AND stage = 'repair'",
          a));
      assertEquals(2, Db.count("SELECT times FROM derived_dead_letters WHERE target = 'sessions' AND row_key = ?",
          a + " | " + poisonSession));
      // AND apart from what was set aside, every derived table of B equals the derivation from its events
      assertEquals(List.of(), DerivedOracle.differences(b));
    }
  }
}
