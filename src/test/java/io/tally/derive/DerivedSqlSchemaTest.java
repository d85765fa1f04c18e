package io.tally.derive;

import io.tally.schema.EventColumns;
import io.tally.schema.RollupDimension;
import io.tally.support.Db;
import io.tally.support.SchemaCheck;
import io.tally.support.TestTally;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that every derived-table statement built from the event's column description prepares against the real,
 * migrated PostgreSQL: the flush, and the re-derivation's inserts of sessions and usage rollups.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DerivedSqlSchemaTest {

  /** Verifies that the flush prepares and numbers its parameters without a gap. */
  @Test
  void verifiesThatTheFlushPrepares() throws Exception {
    try (TestTally t = TestTally.start(); Connection c = Db.connect()) {
      // GIVEN the flush generated from the description
      int last = FlushColumns.FIXED + EventColumns.SESSION_CONTEXT.size() + 2 + RollupDimension.ALL.size() + 8;
      // WHEN PostgreSQL prepares it THEN it accepts it, with every parameter up to the last one a batch sends
      SchemaCheck.prepare(c, DerivedSql.FLUSH);
      for (int n = 1; n <= last; n++) {
        assertTrue(Pattern.compile("\\$" + n + "(?!\\d)").matcher(DerivedSql.FLUSH).find(), "$" + n + " is used");
      }
      assertTrue(!Pattern.compile("\\$" + (last + 1) + "(?!\\d)").matcher(DerivedSql.FLUSH).find());
      // AND a batch's tuple has exactly that many parameters
      assertEquals(last, new DerivedBatch().tuple(null, java.util.Map.of()).size());
    }
  }

  /** Verifies that the re-derivation's session and rollup inserts prepare. */
  @Test
  void verifiesThatTheRebuildInsertsPrepare() throws Exception {
    try (TestTally t = TestTally.start(); Connection c = Db.connect(); Statement s = c.createStatement()) {
      // GIVEN the repair's temporary tables, and a (empty) block of session events
      s.execute(RebuildSql.CREATE_TEMP);
      s.execute(RebuildSql.SESSION_EVENTS.replace("$1", "0").replace("$2", "0"));
      // WHEN each generated insert is prepared THEN PostgreSQL accepts it
      SchemaCheck.prepare(c, "INSERT INTO sessions (" + RebuildSql.SESSION_COLUMNS + ") " + RebuildSql.SESSION_ROWS);
      SchemaCheck.prepare(c, "INSERT INTO rollup_hourly (" + RebuildSql.ROLLUP_COLUMNS.formatted("hour") + ") "
          + RebuildSql.HOURLY_ROWS);
      SchemaCheck.prepare(c, "INSERT INTO rollup_hourly_t (" + RebuildSql.ROLLUP_COLUMNS.formatted("hour") + ") "
          + RebuildSql.HOURLY_T_ROWS);
      SchemaCheck.prepare(c, "INSERT INTO rollup_daily (" + RebuildSql.ROLLUP_COLUMNS.formatted("day") + ") "
          + RebuildSql.DAILY_ROWS);
      SchemaCheck.prepare(c, "INSERT INTO rollup_daily_t (" + RebuildSql.ROLLUP_COLUMNS.formatted("day") + ") "
          + RebuildSql.DAILY_T_ROWS);
    }
  }
}
