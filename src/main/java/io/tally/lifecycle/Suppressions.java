package io.tally.lifecycle;

import io.tally.ingest.SuppressionList;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ids of deleted persons whose future events are dropped, per project, as hashes (see {@code privacy_deletions}).
 * Read on the ingest event loops, written by the deletion worker: concurrent sets, and a per-event hash only for
 * projects that have any.
 */
public final class Suppressions implements SuppressionList {
  private final Map<String, Set<String>> byProject = new ConcurrentHashMap<>();

  /** sha256(project ':' id) in hex: what the deletion list stores instead of the id. */
  public static String hash(String project, String id) {
    return HexFormat.of().formatHex(ArchiveStore.sha256().digest((project + ':' + id)
        .getBytes(StandardCharsets.UTF_8)));
  }

  public void load(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT project_id, id_hash FROM privacy_deletions WHERE suppress")) {
      while (rs.next()) {
        add(rs.getString(1), rs.getString(2));
      }
    }
  }

  public void add(String project, String idHash) {
    byProject.computeIfAbsent(project, p -> ConcurrentHashMap.newKeySet()).add(idHash);
  }

  public void remove(String project, String idHash) {
    Set<String> s = byProject.get(project);
    if (s != null) {
      s.remove(idHash);
    }
  }

  /** Whether an event of this project carrying these ids must be dropped. */
  @Override
  public boolean suppressed(String project, String userId, String anonymousId) {
    Set<String> s = byProject.get(project);
    if (s == null || s.isEmpty()) {
      return false;
    }
    return (userId != null && s.contains(hash(project, userId)))
        || (anonymousId != null && s.contains(hash(project, anonymousId)));
  }
}
