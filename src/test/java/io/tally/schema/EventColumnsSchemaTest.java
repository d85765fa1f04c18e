package io.tally.schema;

import io.tally.support.Db;
import io.tally.support.SchemaCheck;
import io.tally.support.TestTally;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that the event's column description agrees with the migrated schema: a column described without its
 * migration fails here, before any event is written.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EventColumnsSchemaTest {
  private static final List<String> ROLLUPS = List.of("rollup_hourly", "rollup_daily", "rollup_hourly_t",
      "rollup_daily_t");

  private static TestTally tally;

  @BeforeAll
  static void migrate() {
    tally = TestTally.start();
  }

  @AfterAll
  static void stop() {
    tally.close();
  }

  /** Verifies that every described column is in {@code events} with the described type. */
  @Test
  void verifiesThatEveryDescribedColumnIsInTheEventsTable() throws SQLException {
    // GIVEN the description
    Map<String, String> described = new LinkedHashMap<>();
    for (EventColumn c : EventColumn.values()) {
      described.put(c.column, c.sqlType);
    }
    try (Connection c = Db.connect()) {
      // WHEN it is compared with the live table THEN nothing is missing or of another type
      assertEquals(List.of(), SchemaCheck.mismatches(c, "events", described));
    }
  }

  /** Verifies that every rollup dimension is a text key column of each usage rollup, in the described order. */
  @Test
  void verifiesThatEveryRollupDimensionKeysEveryUsageRollup() throws SQLException {
    Map<String, String> dims = new LinkedHashMap<>();
    RollupDimension.ALL.forEach(d -> dims.put(d.column(), "text"));
    try (Connection c = Db.connect()) {
      for (String table : ROLLUPS) {
        // GIVEN a usage rollup WHEN its columns and key are read
        List<String> key = SchemaCheck.primaryKey(c, table);
        List<String> expected = new ArrayList<>(List.of("project_id", table.startsWith("rollup_hourly") ? "hour"
            : "day"));
        expected.addAll(dims.keySet());
        // THEN every dimension is there, as text, and the key is exactly (project, time, dimensions…)
        assertEquals(List.of(), SchemaCheck.mismatches(c, table, dims), table);
        assertEquals(expected, key, table + "'s primary key (the upserts' ON CONFLICT target)");
      }
    }
  }

  /** Verifies that every session context column is in {@code sessions} with the event column's type. */
  @Test
  void verifiesThatEverySessionContextColumnIsInTheSessionsTable() throws SQLException {
    Map<String, String> described = new LinkedHashMap<>();
    EventColumns.SESSION_CONTEXT.forEach(col -> described.put(col.column, col.sqlType));
    assertTrue(!described.isEmpty());
    try (Connection c = Db.connect()) {
      assertEquals(List.of(), SchemaCheck.mismatches(c, "sessions", described));
    }
  }

  /** Verifies that the generated batch insert prepares against the real PostgreSQL. */
  @Test
  void verifiesThatTheGeneratedInsertPrepares() throws SQLException {
    try (Connection c = Db.connect()) {
      // GIVEN the insert generated from the description WHEN PostgreSQL prepares it THEN it accepts it
      SchemaCheck.prepare(c, EventColumns.INSERT);
      assertTrue(EventColumns.INSERT.contains("$" + EventColumns.SENT.size() + "::"));
      assertTrue(!EventColumns.INSERT.contains("$" + (EventColumns.SENT.size() + 1) + "::"));
    }
  }

  /** Verifies that the check fails for a column described without a migration (the check can fail). */
  @Test
  void verifiesThatAColumnWithoutAMigrationIsReported() throws SQLException {
    try (Connection c = Db.connect()) {
      // GIVEN a description naming a column no migration added
      Map<String, String> described = Map.of("os", "text");
      // WHEN it is checked THEN it is reported, and a statement naming it does not prepare
      assertEquals(List.of("events.os is described but not in the schema (a migration is missing)"),
          SchemaCheck.mismatches(c, "events", described));
      assertEquals(List.of("events.country is described as int4 but is text"),
          SchemaCheck.mismatches(c, "events", Map.of("country", "int4")));
      assertThrows(SQLException.class, () -> SchemaCheck.prepare(c, "INSERT INTO events (os) SELECT $1::text"));
    }
  }
}
