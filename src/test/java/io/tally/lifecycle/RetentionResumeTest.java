package io.tally.lifecycle;

import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RetentionResumeTest {

  private static void insert(String project, String ts, int n) {
    for (int i = 0; i < n; i++) {
      Db.query("INSERT INTO events (project_id, id, ts, received_at, type, user_id) VALUES (?, ?::uuid, "
          + "?::timestamptz + make_interval(secs => ?), now(), 'page_view', 'u') RETURNING 1", project,
          UUID.randomUUID().toString(), ts, i);
    }
  }

  @Test
  void verifiesThatAPartitionLeftDetachedByAnInterruptedRunIsArchivedAndDroppedAndLateRowsOfOthersGoBack()
      throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String expiring = "ex-" + s;
    String keeping = "kp-" + s;
    Path dir = Files.createTempDirectory(Path.of("target"), "archive-");
    // GIVEN a day partition holding 6 rows of a project with a 10-day window and 2 rows of one keeping everything,
    // left detached as a run interrupted after its DETACH would leave it
    Db.query("SELECT tally_ensure_partition('2008-02-29'::date) AS created");
    insert(expiring, "2008-02-29T10:00:00Z", 6);
    insert(keeping, "2008-02-29T11:00:00Z", 2);
    try (var c = Db.connect(); var st = c.createStatement()) {
      st.execute("ALTER TABLE events DETACH PARTITION events_p20080229");
    }
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id IN (?, ?)", expiring, keeping));
    List<ProjectConfig> projects = List.of(
        new ProjectConfig(expiring, List.of("w1-" + s), List.of("r1-" + s), ZoneOffset.UTC)
            .withPrivacy(new ProjectConfig.Privacy(true, true, 10, 0)),
        new ProjectConfig(keeping, List.of("w2-" + s), List.of("r2-" + s), ZoneOffset.UTC));
    RetentionJob job = new RetentionJob(new Jdbc(TestServers.get().pgUrl()), projects,
        new TallyConfig.Lifecycle(dir, true, 60, 100, 0), new ArchiveStore(dir), new ReentrantLock());
    // WHEN the next run starts
    RetentionJob.Report r = job.run(LocalDate.of(2008, 3, 20));
    // THEN the expiring project's rows are archived (verified), the other project's rows are back in events, and the
    // detached table is gone
    assertEquals(6, r.eventsArchived());
    ArchiveStore store = new ArchiveStore(dir);
    assertEquals(1, store.list(expiring).size());
    assertEquals(6, store.list(expiring).get(0).rows());
    assertEquals(true, store.verify(store.list(expiring).get(0)));
    assertEquals(2, Db.count("SELECT count(*) FROM events WHERE project_id = ?", keeping));
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ?", expiring));
    assertEquals(0, Db.count("SELECT count(*) FROM pg_class WHERE relname = 'events_p20080229'"));
    // AND a second run finds nothing left to do
    RetentionJob.Report again = job.run(LocalDate.of(2008, 3, 20));
    assertEquals(0, again.eventsArchived());
    assertEquals(2, Db.count("SELECT count(*) FROM events WHERE project_id = ?", keeping));
  }

  @Test
  void verifiesThatADetachBlockedByALongQueryGivesUpAndTheRowsAreDeletedInBatchesInstead() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String expiring = "lq-" + s;
    Path dir = Files.createTempDirectory(Path.of("target"), "archive-");
    Db.query("SELECT tally_ensure_partition('2008-03-01'::date) AS created");
    insert(expiring, "2008-03-01T10:00:00Z", 5);
    RetentionJob job = new RetentionJob(new Jdbc(TestServers.get().pgUrl()), List.of(
        new ProjectConfig(expiring, List.of("w1-" + s), List.of("r1-" + s), ZoneOffset.UTC)
            .withPrivacy(new ProjectConfig.Privacy(true, true, 10, 0))),
        new TallyConfig.Lifecycle(dir, true, 60, 2, 0), new ArchiveStore(dir), new ReentrantLock());
    // GIVEN a long-running query holding the events table (as an analytics query may for up to 25 s)
    try (var c = Db.connect(); var st = c.createStatement()) {
      c.setAutoCommit(false);
      st.executeQuery("SELECT count(*) FROM events WHERE ts >= '2008-03-01' AND ts < '2008-03-02'").close();
      // AND an insert into events while the retention run tries to detach
      long[] insertMs = new long[1];
      Thread writer = new Thread(() -> {
        try {
          Thread.sleep(300);
          long t0 = System.nanoTime();
          insert("other-" + s, "2008-03-01T12:00:00Z", 1);
          insertMs[0] = (System.nanoTime() - t0) / 1_000_000;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      writer.start();
      // WHEN the retention run reaches that partition
      RetentionJob.Report r = job.run(LocalDate.of(2008, 3, 20));
      writer.join();
      c.rollback();
      // THEN the detach gave up, the expired rows were archived and deleted in batches instead, the partition stays
      assertEquals(1, r.skipped().size(), r.skipped().toString());
      assertEquals(5, r.eventsArchived());
      assertEquals(5, r.eventsDeleted());
      assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ?", expiring));
      assertEquals(1, Db.count("SELECT count(*) FROM pg_class WHERE relname = 'events_p20080301'"));
      // AND the insert waited at most about one lock timeout (100 ms), not for the long query
      assertEquals(1, Db.count("SELECT count(*) FROM events WHERE project_id = ?", "other-" + s));
      org.junit.jupiter.api.Assertions.assertTrue(insertMs[0] < 1000, "insert took " + insertMs[0] + " ms");
    }
  }
}
