package io.tally.lifecycle;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.Lock;

/**
 * Everything Tally holds about one person, in PostgreSQL and in the archives: found, exported, deleted. A person is
 * the id asked for plus every id linked to it by identify / alias (followed both ways), and the events of their
 * sessions that carry no id at all. Redis keys are the caller's part (it holds the Redis client).
 */
public final class PersonData {
  private final Jdbc jdbc;
  private final ArchiveStore archives;
  private final Lock archiveLock;

  public PersonData(Jdbc jdbc, ArchiveStore archives, Lock archiveLock) {
    this.jdbc = jdbc;
    this.archives = archives;
    this.archiveLock = archiveLock;
  }

  /** The person's ids and sessions. */
  public record Person(String project, List<String> ids, List<String> sessions) {
    boolean owns(JsonObject row) {
      String u = row.getString("user_id");
      String a = row.getString("anonymous_id");
      String s = row.getString("session_id");
      return (u != null && ids.contains(u)) || (a != null && ids.contains(a))
          || (u == null && a == null && s != null && sessions.contains(s));
    }
  }

  static final String EVENTS_WHERE = "project_id = ? AND (user_id = ANY(?) OR anonymous_id = ANY(?) "
      + "OR (user_id IS NULL AND anonymous_id IS NULL AND session_id = ANY(?)))";

  Person person(Connection c, String project, String id) throws SQLException {
    Set<String> ids = new LinkedHashSet<>();
    ids.add(id);
    // identity links form small trees (anonymous ids -> user id, previous id -> new id): follow them both ways
    for (int round = 0; round < 20; round++) {
      int before = ids.size();
      try (PreparedStatement ps = c.prepareStatement("SELECT anonymous_id, user_id FROM identities "
          + "WHERE project_id = ? AND (anonymous_id = ANY(?) OR user_id = ANY(?))")) {
        Array arr = c.createArrayOf("text", ids.toArray());
        ps.setString(1, project);
        ps.setArray(2, arr);
        ps.setArray(3, arr);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getString(1));
            ids.add(rs.getString(2));
          }
        }
      }
      if (ids.size() == before) {
        break;
      }
    }
    List<String> sessions = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT session_id FROM sessions WHERE project_id = ? "
        + "AND (user_id = ANY(?) OR anonymous_id = ANY(?)) ORDER BY session_id")) {
      Array arr = c.createArrayOf("text", ids.toArray());
      ps.setString(1, project);
      ps.setArray(2, arr);
      ps.setArray(3, arr);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          sessions.add(rs.getString(1));
        }
      }
    }
    return new Person(project, List.copyOf(ids), List.copyOf(sessions));
  }

  private static int bindPerson(PreparedStatement ps, Connection c, Person p, int from) throws SQLException {
    Array ids = c.createArrayOf("text", p.ids().toArray());
    ps.setString(from, p.project());
    ps.setArray(from + 1, ids);
    ps.setArray(from + 2, ids);
    ps.setArray(from + 3, c.createArrayOf("text", p.sessions().toArray()));
    return from + 4;
  }

  /** The right of access: every row about the person, as JSON. {@code redis} is filled by the caller. */
  public JsonObject export(String project, String id) throws SQLException, IOException {
    try (Connection c = jdbc.open()) {
      Person p = person(c, project, id);
      JsonObject out = new JsonObject().put("project", project).put("userId", id)
          .put("exportedAt", Instant.now().toString()).put("ids", new JsonArray(new ArrayList<>(p.ids())))
          .put("sessionIds", new JsonArray(new ArrayList<>(p.sessions())));
      out.put("people", rows(c, "SELECT row_to_json(t)::text FROM users t WHERE project_id = ? AND user_key = ANY(?) "
          + "ORDER BY user_key", p, false));
      out.put("identities", rows(c, "SELECT row_to_json(t)::text FROM identities t WHERE project_id = ? "
          + "AND (anonymous_id = ANY(?) OR user_id = ANY(?)) ORDER BY anonymous_id", p, true));
      out.put("sessions", rows(c, "SELECT row_to_json(t)::text FROM sessions t WHERE project_id = ? "
          + "AND (user_id = ANY(?) OR anonymous_id = ANY(?)) ORDER BY started_at, session_id", p, true));
      out.put("touchpoints", rows(c, "SELECT row_to_json(t)::text FROM touchpoints t WHERE project_id = ? "
          + "AND user_key = ANY(?) ORDER BY ts", p, false));
      out.put("activeDays", rows(c, "SELECT row_to_json(t)::text FROM user_days t WHERE project_id = ? "
          + "AND user_key = ANY(?) ORDER BY day, user_key", p, false));
      out.put("dailyActivity", rows(c, "SELECT row_to_json(t)::text FROM user_daily t WHERE project_id = ? "
          + "AND user_key = ANY(?) ORDER BY day, user_key, type, provider, model, feature", p, false));
      JsonArray events = new JsonArray();
      try (PreparedStatement ps = c.prepareStatement("SELECT row_to_json(t)::text FROM events t WHERE "
          + EVENTS_WHERE + " ORDER BY ts, id")) {
        bindPerson(ps, c, p, 1);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            events.add(new JsonObject(rs.getString(1)));
          }
        }
      }
      fillContexts(events, out.getJsonArray("sessions"), true);
      out.put("events", events);
      JsonArray archived = new JsonArray();
      // under the archive lock: a file being rewritten or written is read whole before or after, never between
      archiveLock.lock();
      try {
        for (ArchiveStore.Manifest m : archives.list(project)) {
          archives.read(m, row -> {
            if (p.owns(row)) {
              archived.add(row.put("_archive", m.file().getFileName().toString()));
            }
          });
        }
      } finally {
        archiveLock.unlock();
      }
      // archive rows are in no particular order: only the references are resolved there
      fillContexts(archived, out.getJsonArray("sessions"), false);
      out.put("archivedEvents", archived);
      return out;
    }
  }

  private static JsonArray rows(Connection c, String sql, Person p, boolean twice) throws SQLException {
    JsonArray out = new JsonArray();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      Array ids = c.createArrayOf("text", p.ids().toArray());
      ps.setString(1, p.project());
      ps.setArray(2, ids);
      if (twice) {
        ps.setArray(3, ids);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new JsonObject(rs.getString(1)));
        }
      }
    }
    return out;
  }

  /**
   * The writer stores an event's client context in full only when it differs from the one its session last stored in
   * full (or that one is more than an hour away): the others name that event ({@code context_from}). Each event of
   * the export gets its own back: the named event's, or its session's when that event is not among them. Rows stored
   * before anchors (neither column) get the latest stored one of their session before them in time order; before
   * the first stored one, that one. Events in time order; with {@code legacy} false, rows of neither column are left
   * as they are.
   */
  static void fillContexts(JsonArray events, JsonArray sessions, boolean legacy) {
    java.util.Map<String, Object> byId = new java.util.HashMap<>();
    java.util.Map<String, Object> last = new java.util.HashMap<>();
    java.util.Map<String, Object> first = new java.util.HashMap<>();
    java.util.Map<String, Object> ofSession = new java.util.HashMap<>();
    for (Object o : sessions) {
      JsonObject s = (JsonObject) o;
      if (s.getValue("context") != null) {
        ofSession.put(s.getString("session_id"), s.getValue("context"));
      }
    }
    for (Object o : events) {
      JsonObject e = (JsonObject) o;
      String session = e.getString("session_id");
      Object context = e.getValue("context");
      if (session != null && context != null) {
        first.putIfAbsent(session, context);
        byId.put(e.getString("id"), context);
      }
    }
    for (Object o : events) {
      JsonObject e = (JsonObject) o;
      String session = e.getString("session_id");
      Object from = e.remove("context_from");
      if (session == null) {
        continue;
      }
      if (e.getValue("context") != null) {
        last.put(session, e.getValue("context"));
      } else if (from != null) {
        Object context = byId.getOrDefault(String.valueOf(from), ofSession.get(session));
        if (context != null) {
          e.put("context", context);
        }
      } else if (legacy && first.containsKey(session)) {
        e.put("context", last.getOrDefault(session, first.get(session)));
      }
    }
  }

  /** Counts of what one deletion removed. */
  public record Receipt(List<String> ids, long events, long sessions, long people, long identities, long touchpoints,
                        long activeDays, long dailyRollupRows, long archivedEvents, long archiveFiles,
                        boolean suppressed) {
    public Receipt plus(Receipt o) {
      return new Receipt(ids, events + o.events, sessions + o.sessions, people + o.people,
          identities + o.identities, touchpoints + o.touchpoints, activeDays + o.activeDays,
          dailyRollupRows + o.dailyRollupRows, archivedEvents + o.archivedEvents, archiveFiles + o.archiveFiles, suppressed);
    }

    public JsonObject toJson() {
      return new JsonObject().put("ids", new JsonArray(new ArrayList<>(ids)))
          .put("deleted", new JsonObject().put("events", events).put("sessions", sessions).put("people", people)
              .put("identities", identities).put("touchpoints", touchpoints).put("activeDays", activeDays)
              .put("dailyRollupRows", dailyRollupRows).put("archivedEvents", archivedEvents).put("archiveFilesRewritten", archiveFiles))
          .put("suppressed", suppressed);
    }
  }

  /**
   * Deletes the person's rows (one transaction), records their ids' hashes in the deletion list (applied at restore;
   * with {@code suppress}, also to future events), then rewrites the archives holding their events.
   * {@code knownIds}: ids found by an earlier pass (a second sweep after in-flight events were derived).
   */
  public Receipt delete(String project, String id, boolean suppress, List<String> knownIds)
      throws SQLException, IOException {
    Person p;
    long[] n = new long[7];
    try (Connection c = jdbc.open()) {
      c.setAutoCommit(false);
      p = person(c, project, id);
      if (knownIds != null) {
        Set<String> all = new LinkedHashSet<>(knownIds);
        all.addAll(p.ids());
        p = new Person(project, List.copyOf(all), p.sessions());
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM events WHERE " + EVENTS_WHERE)) {
        bindPerson(ps, c, p, 1);
        n[0] = ps.executeUpdate();
      }
      n[1] = update(c, "DELETE FROM sessions WHERE project_id = ? AND (user_id = ANY(?) OR anonymous_id = ANY(?))", p,
          true);
      n[2] = update(c, "DELETE FROM users WHERE project_id = ? AND user_key = ANY(?)", p, false);
      n[3] = update(c, "DELETE FROM identities WHERE project_id = ? AND (anonymous_id = ANY(?) OR user_id = ANY(?))",
          p, true);
      n[4] = update(c, "DELETE FROM touchpoints WHERE project_id = ? AND user_key = ANY(?)", p, false);
      n[5] = update(c, "DELETE FROM user_days WHERE project_id = ? AND user_key = ANY(?)", p, false);
      n[6] = update(c, "DELETE FROM user_daily WHERE project_id = ? AND user_key = ANY(?)", p, false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO privacy_deletions (project_id, id_hash, suppress, "
          + "deleted_at) VALUES (?, ?, ?, now()) ON CONFLICT (project_id, id_hash) DO UPDATE SET "
          + "suppress = excluded.suppress, deleted_at = excluded.deleted_at")) {
        for (String i : p.ids()) {
          ps.setString(1, project);
          ps.setString(2, Suppressions.hash(project, i));
          ps.setBoolean(3, suppress);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      c.commit();
    }
    long archived = 0;
    long files = 0;
    archiveLock.lock();
    try {
      Person owner = p;
      for (ArchiveStore.Manifest m : archives.list(project)) {
        long removed = archives.rewrite(m, owner::owns);
        if (removed > 0) {
          archived += removed;
          files++;
        }
      }
    } finally {
      archiveLock.unlock();
    }
    return new Receipt(p.ids(), n[0], n[1], n[2], n[3], n[4], n[5], n[6], archived, files, suppress);
  }

  private static long update(Connection c, String sql, Person p, boolean twice) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      Array ids = c.createArrayOf("text", p.ids().toArray());
      ps.setString(1, p.project());
      ps.setArray(2, ids);
      if (twice) {
        ps.setArray(3, ids);
      }
      return ps.executeUpdate();
    }
  }
}
