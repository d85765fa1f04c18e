package io.tally.lifecycle;

import io.tally.store.PgUrl;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * Plain JDBC connections for the lifecycle work: it runs on its own worker thread, off the event loops, and reads
 * large result sets with a cursor (fetch size) and writes files as it goes, which blocking code does simply.
 */
public final class Jdbc {
  private final PgUrl pg;

  public Jdbc(PgUrl pg) {
    this.pg = pg;
  }

  public Connection open() throws SQLException {
    Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
    try (var st = c.createStatement()) {
      st.execute("SET application_name = 'tally-lifecycle'");
    }
    return c;
  }
}
