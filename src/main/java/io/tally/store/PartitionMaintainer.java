package io.tally.store;

import io.tally.config.TallyConfig;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

/**
 * Keeps daily partitions ready ahead of time (an insert never waits for DDL; far back-dated events land in the
 * default partition until their day gets one) and prunes the dedupe registry past its window.
 */
public final class PartitionMaintainer {
  private final Pool pool;
  private final TallyConfig.Writer cfg;

  public PartitionMaintainer(Pool pool, TallyConfig.Writer cfg) {
    this.pool = pool;
    this.cfg = cfg;
  }

  /** Ensures partitions from yesterday to {@code partitionDaysAhead} days ahead; returns how many were created. */
  public Future<Integer> ensurePartitions() {
    return ensurePartitions(java.time.LocalDate.now(java.time.ZoneOffset.UTC));
  }

  /**
   * The same relative to the UTC day {@code today}: daily ranges in UTC, so month and year ends are ordinary
   * boundaries (events_p20261231 ends where events_p20270101 begins).
   */
  public Future<Integer> ensurePartitions(java.time.LocalDate today) {
    return pool.preparedQuery("""
            SELECT count(*) FILTER (WHERE tally_ensure_partition(d::date)) AS created
            FROM generate_series($2::date - 1, $2::date + $1::int, interval '1 day') AS d
            """)
        .execute(Tuple.of(cfg.partitionDaysAhead(), today))
        .map(rows -> rows.iterator().next().getInteger("created"));
  }

  /** Forgets event ids seen before the dedupe window, a slice at a time so no lock is held for long. */
  public Future<Integer> pruneDedupeRegistry() {
    return pool.preparedQuery("""
            DELETE FROM event_ids WHERE ctid IN (
              SELECT ctid FROM event_ids WHERE first_seen < now() - make_interval(days => $1::int + 1) LIMIT 50000)
            """)
        .execute(Tuple.of(cfg.dedupeWindowDays()))
        .map(rows -> rows.rowCount());
  }
}
