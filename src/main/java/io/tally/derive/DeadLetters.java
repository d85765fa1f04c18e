package io.tally.derive;

import io.tally.metrics.TallyMetrics;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;

/**
 * Derived rows the database refused, set aside in {@code derived_dead_letters} with their key and error so that no
 * row can stop the derived tables for the others: counted ({@code analytics_derived_set_aside_total}) and logged once
 * (a row refused again only counts up {@code times}).
 */
final class DeadLetters {
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

  private static final String SET_ASIDE = """
      INSERT INTO derived_dead_letters AS d (target, key_hash, row_key, project_id, stage, sqlstate, error, detail)
      VALUES ($1, md5($2), left($2, 4000), $3, $4, $5, $6, left($7, 4000))
      ON CONFLICT (target, key_hash) DO UPDATE SET last_at = now(), times = d.times + 1, stage = excluded.stage,
        sqlstate = excluded.sqlstate, error = excluded.error, detail = excluded.detail
      RETURNING d.times = 1 AS fresh
      """;

  /** Rows set aside since a time by the per-row inserts of the repair, to log and count them. */
  private static final String SET_ASIDE_SINCE = """
      SELECT target, row_key, error, times = 1 AS fresh FROM derived_dead_letters WHERE last_at >= $1 AND stage = $2
      """;

  private final TallyMetrics metrics;

  DeadLetters(TallyMetrics metrics) {
    this.metrics = metrics;
  }

  /** Sets one refused row aside: {@code row} is its table, project and key. */
  Future<Void> setAside(SqlClient c, String stage, String[] row, Throwable cause, String detail) {
    String sqlState = cause instanceof PgException pg ? pg.getSqlState() : null;
    String error = cause instanceof PgException pg && pg.getErrorMessage() != null ? pg.getErrorMessage()
        : String.valueOf(cause.getMessage());
    return c.preparedQuery(SET_ASIDE).execute(Tuple.of(row[0], row[2], row[1], stage, sqlState, error, detail))
        .map(rows -> {
          metrics.derivedSetAside(stage, row[0], 1);
          if (rows.iterator().next().getBoolean(0)) {
            LOG.warn("derived {}: set aside a {} row of project {} that PostgreSQL refuses ({}{}): {}; the other rows "
                + "go on (see derived_dead_letters)", stage, row[0], row[1], error,
                sqlState == null ? "" : ", SQLSTATE " + sqlState, abbreviate(row[2]));
          }
          return null;
        });
  }

  /** Logs (once each) and counts the rows a stage set aside since {@code since}; returns how many. */
  Future<Integer> report(SqlClient c, String stage, OffsetDateTime since) {
    return c.preparedQuery(SET_ASIDE_SINCE).execute(Tuple.of(since, stage)).map(rows -> {
      int n = 0;
      for (var r : rows) {
        n++;
        metrics.derivedSetAside(stage, r.getString(0), 1);
        if (r.getBoolean(3)) {
          LOG.warn("derived {}: set aside a {} row that PostgreSQL refuses ({}): {} (see derived_dead_letters)", stage,
              r.getString(0), r.getString(2), abbreviate(r.getString(1)));
        }
      }
      return n;
    });
  }

  private static String abbreviate(String key) {
    return key.length() <= 200 ? key : key.substring(0, 200) + "… (" + key.length() + " characters)";
  }
}
