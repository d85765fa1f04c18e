package io.tally.lifecycle;

import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.locks.Lock;

/**
 * Enforces each project's retention windows (rollups: {@link BatchedDeletes#rollups}). Raw events of a UTC day older than {@code today − retentionDays} are
 * archived (when archiving is on), the archive verified, then removed: a whole daily partition is detached and dropped
 * when every project present in it is past its window; otherwise the project's rows are deleted in small batches by
 * their physical address (ctid) and id, exactly the rows in the verified archive, pausing between batches. Rollups,
 * sessions and touchpoints follow their own, longer window. Blocking code: runs on the lifecycle worker thread.
 * <p>
 * Never blocks ingestion: row deletes take only row locks, and the one statement that locks the events table
 * (DETACH PARTITION, a catalogue change) runs with a 100 ms {@code lock_timeout}, so an insert waits at most that
 * long; when the lock is still not granted after a few tries, the partition's rows are deleted in batches instead. Projects not in the configuration, or with window 0, keep
 * everything.
 */
public final class RetentionJob {
  private static final Logger LOG = LoggerFactory.getLogger(RetentionJob.class);
  /**
   * While DETACH waits for its lock, inserts queue behind it: so it waits only this long, and gives up (the rows are
   * then deleted in batches instead) rather than stall ingestion behind a long analytics query.
   */
  private static final String LOCK_TIMEOUT = "SET lock_timeout = '100ms'";

  private final Jdbc jdbc;
  private final Map<String, ProjectConfig> projects = new HashMap<>();
  private final TallyConfig.Lifecycle cfg;
  private final ArchiveStore archives;
  private final Lock archiveLock;
  private final BatchedDeletes deletes;

  public RetentionJob(Jdbc jdbc, List<ProjectConfig> projects, TallyConfig.Lifecycle cfg, ArchiveStore archives,
                      Lock archiveLock) {
    this.jdbc = jdbc;
    projects.forEach(p -> this.projects.put(p.id(), p));
    this.cfg = cfg;
    this.archives = archives;
    this.archiveLock = archiveLock;
    this.deletes = new BatchedDeletes(cfg.deleteBatchRows(), cfg.deletePauseMs());
  }

  /** What one run did. */
  public record Report(long eventsArchived, long eventsDeleted, int partitionsDropped, int archiveFiles,
                       long rollupRowsDeleted, Set<String> projects, List<String> skipped) {}

  private final class Run {
    final LocalDate today;
    final Connection c;
    final Set<String> holds = new HashSet<>();
    long archived;
    long deleted;
    int dropped;
    int files;
    long rollups;
    final Set<String> touched = new HashSet<>();
    final List<String> skipped = new ArrayList<>();

    Run(LocalDate today, Connection c) {
      this.today = today;
      this.c = c;
    }

    /** Whether the project's raw events of {@code day} are past its window (and not held after a restore). */
    boolean expired(String project, LocalDate day) {
      ProjectConfig p = projects.get(project);
      if (p == null || p.privacy().retentionDays() == 0 || holds.contains(project + '|' + day)) {
        return false;
      }
      return day.isBefore(today.minusDays(p.privacy().retentionDays()));
    }
  }

  public Report run(LocalDate today) throws SQLException, IOException {
    try (Connection c = jdbc.open()) {
      Run run = new Run(today, c);
      try (Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT project_id, day FROM lifecycle_holds WHERE until > now()")) {
        while (rs.next()) {
          run.holds.add(rs.getString(1) + '|' + rs.getObject(2, LocalDate.class));
        }
      }
      // a run interrupted after a detach left the table detached: finish it first
      for (Map.Entry<String, LocalDate> t : partitions(c, false).entrySet()) {
        finishDetached(run, t.getKey(), t.getValue());
      }
      for (Map.Entry<String, LocalDate> t : partitions(c, true).entrySet()) {
        partition(run, t.getKey(), t.getValue());
      }
      defaultPartition(run);
      for (ProjectConfig p : projects.values()) {
        long n = deletes.rollups(run.c, p, run.today);
        if (n > 0) {
          run.rollups += n;
          run.touched.add(p.id());
        }
      }
      Report r = new Report(run.archived, run.deleted, run.dropped, run.files, run.rollups, run.touched, run.skipped);
      if (r.eventsDeleted() > 0 || r.rollupRowsDeleted() > 0 || r.partitionsDropped() > 0) {
        LOG.info("retention: {} events archived in {} files, {} deleted, {} partitions dropped, {} rollup rows deleted",
            r.eventsArchived(), r.archiveFiles(), r.eventsDeleted(), r.partitionsDropped(), r.rollupRowsDeleted());
      }
      return r;
    }
  }

  /** Daily partitions (events_pYYYYMMDD) attached to events, or those left detached, by name. */
  static Map<String, LocalDate> partitions(Connection c, boolean attached) throws SQLException {
    String sql = attached
        ? "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
          + "WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_p[0-9]{8}$'"
        : "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname ~ '^events_p[0-9]{8}$' "
          + "AND c.relnamespace = current_schema()::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_inherits i "
          + "WHERE i.inhrelid = c.oid)";
    Map<String, LocalDate> out = new TreeMap<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        String name = rs.getString(1);
        String d = name.substring("events_p".length());
        out.put(name, LocalDate.of(Integer.parseInt(d.substring(0, 4)), Integer.parseInt(d.substring(4, 6)),
            Integer.parseInt(d.substring(6, 8))));
      }
    }
    return out;
  }

  static List<String> projectsIn(Connection c, String table) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT tally_partition_projects(?::regclass)")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  private void partition(Run run, String table, LocalDate day) throws SQLException, IOException {
    List<String> present = projectsIn(run.c, table);
    List<String> expired = present.stream().filter(p -> run.expired(p, day)).toList();
    if (expired.isEmpty()) {
      return;
    }
    if (expired.size() == present.size()) {
      if (detach(run, table)) {
        finishDetached(run, table, day);
        return;
      }
    }
    for (String p : expired) {
      unit(run, table, p, day, true);
    }
  }

  /** DETACH PARTITION under a short lock timeout; false (retried next run) when the lock was not granted at once. */
  private boolean detach(Run run, String table) throws SQLException {
    for (int attempt = 1; attempt <= 5; attempt++) {
      try (Statement st = run.c.createStatement()) {
        st.execute(LOCK_TIMEOUT);
        st.execute("ALTER TABLE events DETACH PARTITION " + table);
        st.execute("RESET lock_timeout");
        return true;
      } catch (SQLException e) {
        try (Statement st = run.c.createStatement()) {
          st.execute("RESET lock_timeout");
        }
        if (!"55P03".equals(e.getSQLState())) {
          throw e;
        }
        BatchedDeletes.sleep(500L * attempt);
      }
    }
    run.skipped.add(table + ": detach did not get its lock; rows deleted in batches instead");
    return false;
  }

  /**
   * A detached partition: archives every expired project's rows, then drops the table. Rows of a project not (or no
   * longer) expired — a late event that arrived before the detach — go back into events.
   */
  private void finishDetached(Run run, String table, LocalDate day) throws SQLException, IOException {
    List<String> present = projectsIn(run.c, table);
    boolean all = present.stream().allMatch(p -> run.expired(p, day));
    for (String p : present) {
      if (run.expired(p, day)) {
        // when everything goes, the table is dropped whole: no row deletes
        unit(run, table, p, day, !all);
      }
    }
    long remaining;
    try (Statement st = run.c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      remaining = all ? 0 : rs.getLong(1);
    }
    if (remaining > 0) {
      try (Statement st = run.c.createStatement()) {
        st.execute("INSERT INTO events SELECT * FROM " + table);
      }
      LOG.info("retention: {} rows of projects still within their window moved back from {}", remaining, table);
    }
    try (Statement st = run.c.createStatement()) {
      st.execute("DROP TABLE " + table);
    }
    run.dropped++;
    log(run.c, null, day, "drop_partition", 0, table);
  }

  /** The expired rows of one project in one day partition (or in the default partition, for that day). */
  private void defaultPartition(Run run) throws SQLException, IOException {
    for (ProjectConfig p : projects.values()) {
      int days = p.privacy().retentionDays();
      if (days == 0) {
        continue;
      }
      LocalDate cutoff = run.today.minusDays(days);
      List<LocalDate> found = new ArrayList<>();
      try (PreparedStatement ps = run.c.prepareStatement("SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM "
          + "events_default WHERE project_id = ? AND ts < ? ORDER BY 1")) {
        ps.setString(1, p.id());
        ps.setObject(2, ts(cutoff));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            found.add(rs.getObject(1, LocalDate.class));
          }
        }
      }
      for (LocalDate d : found) {
        if (run.expired(p.id(), d)) {
          unit(run, "events_default", p.id(), d, true);
        }
      }
    }
  }

  /**
   * Archives (verified) then deletes one project's rows of one UTC day in {@code table}. The delete names each
   * archived row by ctid and id, so a row that arrived or changed after the archive was read stays for the next run.
   */
  private void unit(Run run, String table, String project, LocalDate day, boolean delete)
      throws SQLException, IOException {
    Connection c = run.c;
    archiveLock.lock();
    try {
      List<String> ctids = new ArrayList<>();
      List<UUID> ids = new ArrayList<>();
      if (cfg.archive()) {
        ArchiveStore.Manifest m = archive(c, table, project, day, ctids, ids);
        if (m == null) {
          return;
        }
        run.archived += m.rows();
        run.files++;
        log(c, project, day, "archive", m.rows(), m.file().getFileName().toString());
      }
      run.touched.add(project);
      if (!delete) {
        return;
      }
      long n = cfg.archive() ? deleteArchived(c, table, ctids, ids)
          : deletes.batched(c, table, "project_id = ? AND ts >= ? AND ts < ?", project, ts(day), ts(day.plusDays(1)));
      run.deleted += n;
      log(c, project, day, "delete_events", n, table);
    } finally {
      archiveLock.unlock();
    }
  }

  /**
   * Writes the project's rows of the day in {@code table} to a verified archive, collecting each row's ctid and id;
   * null (and no archive) when there are none.
   */
  private ArchiveStore.Manifest archive(Connection c, String table, String project, LocalDate day, List<String> ctids,
                                        List<UUID> ids) throws SQLException, IOException {
    try (ArchiveStore.Writer w = archives.begin(project, day, table)) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("SELECT ctid::text, id, ts, row_to_json(e)::text FROM "
          + table + " e WHERE project_id = ? AND ts >= ? AND ts < ?")) {
        ps.setFetchSize(2000);
        ps.setString(1, project);
        ps.setObject(2, ts(day));
        ps.setObject(3, ts(day.plusDays(1)));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ctids.add(rs.getString(1));
            ids.add(rs.getObject(2, UUID.class));
            w.add(rs.getString(4), rs.getObject(3, java.time.OffsetDateTime.class).toInstant());
          }
        }
      } finally {
        c.commit();
        c.setAutoCommit(true);
      }
      return w.rows() == 0 ? null : w.finish();
    }
  }

  /** Deletes the archived rows (by ctid and id), deleteBatchRows a statement, pausing between; how many went. */
  private long deleteArchived(Connection c, String table, List<String> ctids, List<UUID> ids) throws SQLException {
    long n = 0;
    int b = cfg.deleteBatchRows();
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table
        + " WHERE ctid = ANY(?::text[]::tid[]) AND id = ANY(?)")) {
      for (int from = 0; from < ctids.size(); from += b) {
        int to = Math.min(ctids.size(), from + b);
        ps.setArray(1, c.createArrayOf("text", ctids.subList(from, to).toArray()));
        ps.setArray(2, c.createArrayOf("uuid", ids.subList(from, to).toArray()));
        n += ps.executeUpdate();
        deletes.pause();
      }
    }
    return n;
  }

  static java.time.OffsetDateTime ts(LocalDate day) {
    return day.atStartOfDay().atOffset(ZoneOffset.UTC);
  }

  static void log(Connection c, String project, LocalDate day, String action, long rows, String detail)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO lifecycle_log (project_id, day, action, rows, detail) "
        + "VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, project);
      ps.setObject(2, day);
      ps.setString(3, action);
      ps.setLong(4, rows);
      ps.setString(5, detail);
      ps.executeUpdate();
    }
  }
}
