package io.tally.lifecycle;

import io.tally.config.ProjectConfig;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.OffsetDateTime;

/**
 * Deletes in slices of {@code rows}, each its own short transaction (row locks only, held briefly), pausing
 * {@code pauseMs} between slices so that ingestion keeps the machine.
 */
final class BatchedDeletes {
  private final int rows;
  private final long pauseMs;

  BatchedDeletes(int rows, long pauseMs) {
    if (rows < 1) {
      throw new IllegalArgumentException("deleteBatchRows must be >= 1, got " + rows);
    }
    this.rows = rows;
    this.pauseMs = pauseMs;
  }

  /** Rows of {@code table} matching {@code where} (parameters {@code args}); returns how many were deleted. */
  long batched(Connection c, String table, String where, Object... args) throws SQLException {
    long total = 0;
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM "
        + table + " WHERE " + where + " LIMIT " + rows + "))")) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      int n;
      do {
        n = ps.executeUpdate();
        total += n;
        if (n > 0) {
          pause();
        }
      } while (n >= rows);
    }
    return total;
  }

  /**
   * Rollups, per-day persons and sessions, sessions and touchpoints older than the project's rollup window (none
   * when the window is 0); returns the rows deleted and logs them.
   */
  long rollups(Connection c, ProjectConfig p, LocalDate today) throws SQLException {
    int days = p.privacy().rollupRetentionDays();
    if (days == 0) {
      return 0;
    }
    LocalDate cutoff = today.minusDays(days);
    OffsetDateTime at = RetentionJob.ts(cutoff);
    java.sql.Date day = java.sql.Date.valueOf(cutoff);
    long n = 0;
    n += batched(c, "rollup_hourly", "project_id = ? AND hour < ?", p.id(), at);
    n += batched(c, "rollup_hourly_t", "project_id = ? AND hour < ?", p.id(), at);
    n += batched(c, "rollup_daily", "project_id = ? AND day < ?", p.id(), day);
    n += batched(c, "rollup_daily_t", "project_id = ? AND day < ?", p.id(), day);
    n += batched(c, "rollup_minute", "project_id = ? AND minute < ?", p.id(), at);
    n += batched(c, "rollup_minute_t", "project_id = ? AND minute < ?", p.id(), at);
    n += batched(c, "rollup_page_daily", "project_id = ? AND day < ?", p.id(), day);
    n += batched(c, "user_days", "project_id = ? AND day < ?", p.id(), day);
    n += batched(c, "user_daily", "project_id = ? AND day < ?", p.id(), day);
    n += batched(c, "session_days", "project_id = ? AND day < ?", p.id(), day);
    n += batched(c, "sessions", "project_id = ? AND started_at < ?", p.id(), at);
    n += batched(c, "touchpoints", "project_id = ? AND ts < ?", p.id(), at);
    if (n > 0) {
      RetentionJob.log(c, p.id(), cutoff, "delete_rollups", n, "before " + cutoff);
    }
    return n;
  }

  void pause() {
    if (pauseMs > 0) {
      sleep(pauseMs);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("retention interrupted", e);
    }
  }
}
