package io.tally.lifecycle;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Puts archived events back into PostgreSQL: each archive is verified against its manifest first; events of deleted
 * persons (the deletion list) are skipped; events already present (same project and id within the archive's day) are
 * skipped (also across archives of the same day), so restoring twice changes nothing. Rollups, sessions and people are not touched: they were kept when the
 * raw events left. The restored project-days are held from the retention job for {@code hold}.
 */
public final class ArchiveRestore {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ArchiveRestore.class);
  private static final int BATCH = 1000;
  private final Jdbc jdbc;
  private final ArchiveStore archives;

  public ArchiveRestore(Jdbc jdbc, ArchiveStore archives) {
    this.jdbc = jdbc;
    this.archives = archives;
  }

  /** Totals of one restore. */
  public record Result(int files, long restored, long duplicates, long deletedPersons, long outOfBounds) {
    public JsonObject toJson() {
      return new JsonObject().put("files", files).put("restored", restored).put("duplicates", duplicates)
          .put("skippedDeletedPersons", deletedPersons).put("skippedOutOfBounds", outOfBounds);
    }
  }

  private final RestoreBounds bounds = new RestoreBounds();

  public Result restore(List<ArchiveStore.Manifest> manifests, Duration hold) throws SQLException, IOException {
    long[] totals = new long[4];
    try (Connection c = jdbc.open()) {
      for (ArchiveStore.Manifest m : manifests) {
        long[] counts = restore(c, m, hold);
        for (int i = 0; i < totals.length; i++) {
          totals[i] += counts[i];
        }
      }
    }
    return new Result(manifests.size(), totals[0], totals[1], totals[2], totals[3]);
  }

  /**
   * One archive in one transaction: its rows, the day's hold and the lifecycle log line. Returns {restored,
   * duplicates, deleted persons' rows, rows outside the ingest bounds}.
   */
  private long[] restore(Connection c, ArchiveStore.Manifest m, Duration hold) throws SQLException, IOException {
    Set<String> gone = deletionList(c, m.project());
    long[] counts = new long[4];
    // the ids already present for the day, read once: events has no index on id, and probing it per row is slow
    Set<String> present = presentIds(c, m);
    c.setAutoCommit(false);
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO events SELECT * FROM jsonb_populate_recordset(NULL::events, ?::jsonb)")) {
      insertRows(ps, m, gone, present, counts);
      try (PreparedStatement h = c.prepareStatement("INSERT INTO lifecycle_holds (project_id, day, until) "
          + "VALUES (?, ?, ?) ON CONFLICT (project_id, day) DO UPDATE SET until = excluded.until")) {
        h.setString(1, m.project());
        h.setObject(2, m.day());
        h.setObject(3, java.time.OffsetDateTime.ofInstant(Instant.now().plus(hold), java.time.ZoneOffset.UTC));
        h.executeUpdate();
      }
      RetentionJob.log(c, m.project(), m.day(), "restore", counts[0], m.file().getFileName().toString());
      c.commit();
    } catch (SQLException | IOException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
    return counts;
  }

  /** Inserts the archive's rows to restore, BATCH rows a statement, counting them and those left out. */
  private void insertRows(PreparedStatement ps, ArchiveStore.Manifest m, Set<String> gone, Set<String> present,
                          long[] counts) throws SQLException, IOException {
    JsonArray batch = new JsonArray();
    IOExceptionRunnable flush = () -> {
      if (batch.isEmpty()) {
        return;
      }
      ps.setString(1, batch.encode());
      counts[0] += ps.executeUpdate();
      batch.clear();
    };
    SqlException[] failure = new SqlException[1];
    archives.read(m, row -> {
      if (failure[0] != null || !restores(m, row, gone, present, counts)) {
        return;
      }
      batch.add(row);
      if (batch.size() >= BATCH) {
        try {
          flush.run();
        } catch (SQLException e) {
          failure[0] = new SqlException(e);
        }
      }
    });
    if (failure[0] != null) {
      throw failure[0].cause;
    }
    flush.run();
  }

  /** Whether an archived row is restored: the archive's project, not a deleted person's, within bounds, not present. */
  private boolean restores(ArchiveStore.Manifest m, JsonObject row, Set<String> gone, Set<String> present,
                           long[] counts) {
    if (!m.project().equals(row.getString("project_id"))) {
      return false;
    }
    if (deletedPerson(m.project(), row, gone)) {
      counts[2]++;
      return false;
    }
    String field = bounds.outOfBounds(m.project(), row);
    if (field != null) {
      if (counts[3]++ == 0) {
        LOG.warn("restore {}: an archived row is outside the ingest bounds ({}), not restored (id {})",
            m.file().getFileName(), field, row.getValue("id"));
      }
      return false;
    }
    if (!present.add(row.getString("id"))) {
      counts[1]++;
      return false;
    }
    return true;
  }

  private static boolean deletedPerson(String project, JsonObject row, Set<String> gone) {
    if (gone.isEmpty()) {
      return false;
    }
    String u = row.getString("user_id");
    String a = row.getString("anonymous_id");
    return (u != null && gone.contains(Suppressions.hash(project, u)))
        || (a != null && gone.contains(Suppressions.hash(project, a)));
  }

  private static Set<String> presentIds(Connection c, ArchiveStore.Manifest m) throws SQLException {
    Set<String> out = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT id::text FROM events WHERE project_id = ? AND ts >= ? "
        + "AND ts < ?")) {
      ps.setString(1, m.project());
      ps.setObject(2, RetentionJob.ts(m.day()));
      ps.setObject(3, RetentionJob.ts(m.day().plusDays(1)));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  static Set<String> deletionList(Connection c, String project) throws SQLException {
    Set<String> out = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT id_hash FROM privacy_deletions WHERE project_id = ?")) {
      ps.setString(1, project);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  @FunctionalInterface
  private interface IOExceptionRunnable {
    void run() throws SQLException;
  }

  private static final class SqlException extends RuntimeException {
    final SQLException cause;

    SqlException(SQLException cause) {
      super(cause);
      this.cause = cause;
    }
  }
}
