package io.tally.store;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.TestTally;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PartitionTest {

  @Test
  void verifiesThatEventsLandInDailyPartitionsAndBackDatedOnesAreNeverRefused() {
    try (TestTally t = TestTally.start()) {
      // GIVEN partitions were created ahead at start
      String today = "events_p" + LocalDate.now(ZoneOffset.UTC).toString().replace("-", "");
      assertEquals(1, Db.count("SELECT count(*) FROM pg_class WHERE relname = ?", today));
      // WHEN an event from today and one from 2019 arrive
      String nowId = UUID.randomUUID().toString();
      String oldId = UUID.randomUUID().toString();
      assertEquals(200, t.http.post(Events.event("page_view", "u-part").put("id", nowId).encode()).status());
      assertEquals(200, t.http.post(Events.event("page_view", "u-part").put("id", oldId)
          .put("timestamp", "2019-12-31T23:59:59Z").encode()).status());
      // THEN today's goes to today's partition, the old one to the default partition, each with its project id
      assertEquals(today, Db.query("SELECT tableoid::regclass::text AS p FROM events WHERE id = ?::uuid", nowId)
          .get(0).get("p"));
      assertEquals("events_default", Db.query("SELECT tableoid::regclass::text AS p FROM events WHERE id = ?::uuid",
          oldId).get(0).get("p"));
      // AND creating that day's partition later moves the row into it
      Db.query("SELECT tally_ensure_partition('2019-12-31'::date) AS created");
      assertEquals("events_p20191231", Db.query("SELECT tableoid::regclass::text AS p FROM events WHERE id = ?::uuid",
          oldId).get(0).get("p"));
      assertTrue(Db.count("SELECT count(*) FROM events WHERE project_id IS NULL") == 0);
    }
  }
}
