package io.tally.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Checks SQL generated from a description against the live schema of the test database. */
public final class SchemaCheck {
  private SchemaCheck() {
  }

  /** Each column's {@code udt_name} in {@code table} (public schema), in column order. */
  public static Map<String, String> columns(Connection c, String table) throws SQLException {
    Map<String, String> out = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT column_name, udt_name FROM information_schema.columns "
        + "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return out;
  }

  /** The columns of {@code table}'s primary key, in key order. */
  public static List<String> primaryKey(Connection c, String table) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_index i "
        + "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) ON true "
        + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        + "WHERE i.indrelid = ?::regclass AND i.indisprimary ORDER BY k.n")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /**
   * What is wrong with {@code expected} (column name to udt_name) in {@code table}: a missing column, or one of
   * another type; empty when the table holds them all.
   */
  public static List<String> mismatches(Connection c, String table, Map<String, String> expected)
      throws SQLException {
    Map<String, String> live = columns(c, table);
    List<String> out = new ArrayList<>();
    expected.forEach((name, type) -> {
      String t = live.get(name);
      if (t == null) {
        out.add(table + "." + name + " is described but not in the schema (a migration is missing)");
      } else if (!t.equals(type)) {
        out.add(table + "." + name + " is described as " + type + " but is " + t);
      }
    });
    return out;
  }

  /**
   * Has PostgreSQL parse, analyse and plan {@code sql} (PREPARE, then DEALLOCATE) without running it: every table,
   * column, type and parameter it names must exist and agree. Throws PostgreSQL's error otherwise.
   */
  public static void prepare(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("PREPARE tally_schema_check AS " + sql);
      s.execute("DEALLOCATE tally_schema_check");
    }
  }
}
