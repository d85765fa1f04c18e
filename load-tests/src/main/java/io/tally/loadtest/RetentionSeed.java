package io.tally.loadtest;

import io.tally.store.PgUrl;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Seeds expired raw events for a retention measurement: {@code --rows} message events on one old UTC day
 * ({@code --days-ago}, default 60), alternating between project {@code default} and project {@code other}, so the
 * day's partition is shared and the retention job has to archive and delete {@code default}'s half row by row.
 * <pre>java -cp target/tally-loadtest.jar io.tally.loadtest.RetentionSeed --pg-url=postgresql://postgres@localhost:PORT/postgres</pre>
 */
public final class RetentionSeed {
  private RetentionSeed() {
  }

  public static void main(String[] args) throws Exception {
    String url = null;
    int rows = 600_000;
    int daysAgo = 60;
    for (String a : args) {
      if (a.startsWith("--pg-url=")) {
        url = a.substring(9);
      } else if (a.startsWith("--rows=")) {
        rows = Integer.parseInt(a.substring(7));
      } else if (a.startsWith("--days-ago=")) {
        daysAgo = Integer.parseInt(a.substring(11));
      }
    }
    if (url == null) {
      System.err.println("usage: RetentionSeed --pg-url=postgresql://... [--rows=600000] [--days-ago=60]");
      System.exit(2);
    }
    PgUrl pg = PgUrl.parse(url);
    LocalDate day = LocalDate.now(ZoneOffset.UTC).minusDays(daysAgo);
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
         Statement st = c.createStatement()) {
      long t = System.currentTimeMillis();
      st.execute("SELECT tally_ensure_partition('" + day + "'::date)");
      // 100 ms apart: 600,000 rows span 16.7 h of the day
      st.execute("INSERT INTO events (project_id, id, ts, received_at, type, session_id, user_id, properties, page, "
          + "user_context, flags) SELECT CASE WHEN i % 2 = 0 THEN 'default' ELSE 'other' END, gen_random_uuid(), '"
          + day + "'::timestamptz + i * interval '100 ms', now(), 'message_sent', 's' || (i % 5000), 'u' || (i % 2000), "
          + "'{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"tokens\":512,\"cost\":0.01}', "
          + "'{\"path\":\"/chat\",\"url\":\"https://app/chat\"}', '{\"userId\":\"u\"}', 0 "
          + "FROM generate_series(1, " + rows + ") i");
      st.execute("ANALYZE events");
      System.out.println("seeded " + rows + " rows on " + day + " in " + (System.currentTimeMillis() - t) + " ms");
    }
  }
}
