package io.tally.loadtest;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

import java.io.StringReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The physical limit: the same kind of rows written straight into Tally's own events table with COPY (pgjdbc
 * CopyManager), no HTTP, no dedupe, no Redis. Rows are generated before the clock starts.
 */
final class BenchCopy {
  private BenchCopy() {
  }

  /** Returns rows/s over {@code rows} rows sent in COPY chunks of {@code chunk}. */
  static double run(String jdbcUrl, String user, String password, BenchEvents events, int rows, int chunk)
      throws SQLException, java.io.IOException {
    int chunks = Math.max(1, rows / chunk);
    String[] data = new String[chunks];
    for (int c = 0; c < chunks; c++) {
      StringBuilder sb = new StringBuilder(chunk * 700);
      for (int i = 0; i < chunk; i++) {
        sb.append(events.csvRow("bench-copy"));
      }
      data[c] = sb.toString();
    }
    try (Connection conn = DriverManager.getConnection(jdbcUrl, user, password)) {
      CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
      String sql = "COPY events (" + BenchEvents.COPY_COLUMNS + ") FROM STDIN WITH (FORMAT csv)";
      long start = System.nanoTime();
      long written = 0;
      for (String d : data) {
        written += copy.copyIn(sql, new StringReader(d));
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      return written / seconds;
    }
  }
}
