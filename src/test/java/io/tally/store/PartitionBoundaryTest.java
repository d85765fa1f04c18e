package io.tally.store;

import io.tally.config.ConfigLoader;
import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PartitionBoundaryTest {

  private static int ensure(LocalDate today) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = PgBuilder.pool().connectingTo(TestServers.get().pgUrl().connectOptions()).using(vertx).build();
      TallyConfig.Writer w = ConfigLoader.bind(ConfigLoader.defaults()).writer();
      return new PartitionMaintainer(pool, w).ensurePartitions(today).toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The partition an instant belongs to, by the rule (UTC day), or the default one when that day has none. */
  private static String expectedPartition(Instant t, LocalDate... coveredFromTo) {
    LocalDate d = t.atZone(ZoneOffset.UTC).toLocalDate();
    for (int i = 0; i < coveredFromTo.length; i += 2) {
      if (!d.isBefore(coveredFromTo[i]) && !d.isAfter(coveredFromTo[i + 1])) {
        return "events_p" + d.format(DateTimeFormatter.BASIC_ISO_DATE);
      }
    }
    return "events_default";
  }

  @Test
  void verifiesThatPartitionsAreMadeAheadAcrossMonthAndYearEndsAndBackDatedEventsAreNeverRefused() throws Exception {
    // GIVEN partitions made ahead as the maintainer would on 2003-11-29 and on 2003-12-29 (7 days ahead, 1 back)
    ensure(LocalDate.of(2003, 11, 29));
    ensure(LocalDate.of(2003, 12, 29));
    LocalDate[] covered = {LocalDate.of(2003, 11, 28), LocalDate.of(2003, 12, 6),
        LocalDate.of(2003, 12, 28), LocalDate.of(2004, 1, 5)};
    assertEquals(1, Db.count("SELECT count(*) FROM pg_class WHERE relname = 'events_p20040105'"));
    assertEquals(0, Db.count("SELECT count(*) FROM pg_class WHERE relname = 'events_p20040106'"));
    // AND the year-end partitions meet exactly at midnight UTC
    assertEquals("FOR VALUES FROM ('2003-12-31 00:00:00+00') TO ('2004-01-01 00:00:00+00')",
        Db.query("SELECT pg_get_expr(relpartbound, oid) AS b FROM pg_class WHERE relname = 'events_p20031231'")
            .get(0).get("b"));
    try (TestTally t = TestTally.start(c -> c)) {
      // WHEN events arrive on both sides of a month end, a year end, the last partition made ahead, and far back
      String[] times = {"2003-11-30T23:59:59.999Z", "2003-12-01T00:00:00Z", "2003-12-31T23:59:59.999Z",
          "2004-01-01T00:00:00Z", "2004-01-05T23:59:59.999Z", "2004-01-06T00:00:00Z", "2001-02-03T04:05:06Z",
          "2003-02-28T12:00:00Z"};
      Map<String, Instant> ids = new LinkedHashMap<>();
      JsonArray batch = new JsonArray();
      for (String ts : times) {
        String id = UUID.randomUUID().toString();
        ids.put(id, Instant.parse(ts));
        batch.add(Events.event("page_view", "u-edge").put("id", id).put("timestamp", ts));
      }
      // and one from now, which the partitions made at start hold
      String nowId = UUID.randomUUID().toString();
      Instant now = Instant.now();
      batch.add(Events.event("page_view", "u-edge").put("id", nowId).put("timestamp", now.toString()));
      JsonObject answer = t.http.post(new JsonObject().put("batch", batch).encode()).json();
      // THEN every one is stored (none refused for a missing partition) ...
      assertEquals(times.length + 1, answer.getInteger("accepted"), answer.encode());
      assertEquals(times.length + 1, Db.eventsOf(t.project));
      // ... each in the partition of its UTC day, or in the default partition when that day has none
      for (Map.Entry<String, Instant> e : ids.entrySet()) {
        assertEquals(expectedPartition(e.getValue(), covered),
            Db.query("SELECT tableoid::regclass::text AS p FROM events WHERE id = ?::uuid", e.getKey()).get(0).get("p"),
            "partition of " + e.getValue());
      }
      LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
      assertEquals("events_p" + today.format(DateTimeFormatter.BASIC_ISO_DATE),
          Db.query("SELECT tableoid::regclass::text AS p FROM events WHERE id = ?::uuid", nowId).get(0).get("p"));
      // AND when the maintainer later makes the partition of a back-dated day, its rows move there, none lost
      ensure(LocalDate.of(2004, 1, 6));
      String late = ids.entrySet().stream().filter(e -> e.getValue().toString().startsWith("2004-01-06"))
          .findFirst().orElseThrow().getKey();
      assertEquals("events_p20040106", Db.query("SELECT tableoid::regclass::text AS p FROM events WHERE id = ?::uuid",
          late).get(0).get("p"));
      assertEquals(times.length + 1, Db.eventsOf(t.project));
    }
  }
}
