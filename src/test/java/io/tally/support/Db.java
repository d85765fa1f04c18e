package io.tally.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads PostgreSQL directly over JDBC: the tests' independent view of what was stored. */
public final class Db {
  private Db() {
  }

  public static Connection connect() throws SQLException {
    var pg = TestServers.get().pgUrl();
    return DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
  }

  public static long count(String sql, Object... args) {
    List<Map<String, Object>> rows = query(sql, args);
    return ((Number) rows.get(0).values().iterator().next()).longValue();
  }

  public static List<Map<String, Object>> query(String sql, Object... args) {
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        List<Map<String, Object>> out = new ArrayList<>();
        int cols = rs.getMetaData().getColumnCount();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= cols; i++) {
            row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
          }
          out.add(row);
        }
        return out;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs one statement that changes rows; returns how many. */
  public static int update(String sql, Object... args) {
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public static java.time.Instant instant(String sql, Object... args) {
    return ((java.sql.Timestamp) query(sql, args).get(0).values().iterator().next()).toInstant();
  }

  public static long eventsOf(String project) {
    return count("SELECT count(*) FROM events WHERE project_id = ?", project);
  }
}
