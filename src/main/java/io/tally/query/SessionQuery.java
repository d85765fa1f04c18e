package io.tally.query;

import io.tally.error.ApiError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** The seed's SessionAnalytics for one session, and a user's sessions over a period. */
final class SessionQuery {
  static final int MAX_EVENTS = 1000;
  static final java.util.Set<String> CONVERSION_TYPES = java.util.Set.of("signup", "subscription", "upgrade",
      "referral", "payment");
  private static final String SESSION_COLUMNS = """
      s.session_id, s.user_id, s.anonymous_id, s.started_at, s.ended_at, s.duration_ms, s.event_count, s.page_count,
      s.entry_page, s.exit_page, s.bounce, s.context, s.attribution, s.server_assigned,
      (u.first_seen IS NOT NULL AND u.first_seen >= s.started_at) AS is_new_user
      """;
  private final Pool pool;

  SessionQuery(Pool pool) {
    this.pool = pool;
  }

  Future<JsonObject> one(JsonObject q) {
    String project = q.getString("projectId");
    String id = q.getString("sessionId");
    return pool.preparedQuery("SELECT " + SESSION_COLUMNS + """
            FROM sessions s LEFT JOIN users u ON u.project_id = s.project_id
              AND u.user_key = coalesce(s.user_id, s.anonymous_id)
            WHERE s.project_id = $1 AND s.session_id = $2
            """).execute(Tuple.of(project, id))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(ApiError.notFound("no session '" + id + "' in this project"));
          }
          JsonObject session = session(rows.iterator().next());
          return events(project, id, rows.iterator().next(), session).map(events -> {
            JsonArray conversions = new JsonArray();
            for (Object o : events) {
              JsonObject e = (JsonObject) o;
              String type = e.getJsonObject("type").getString("name");
              if (CONVERSION_TYPES.contains(type)
                  || "conversion".equals(e.getJsonObject("category", new JsonObject()).getString("id"))) {
                JsonObject props = e.getJsonObject("properties", new JsonObject());
                conversions.add(new JsonObject().put("id", e.getString("id"))
                    .put("type", e.getJsonObject("type").getString("name"))
                    .put("value", props.getValue("amount", e.getValue("value")))
                    .put("currency", props.getString("currency"))
                    .put("timestamp", e.getString("timestamp")));
              }
            }
            return session.put("events", events).put("conversions", conversions).put("funnels", new JsonArray());
          });
        });
  }

  /**
   * Events of the session, found through the session's person and time range (indexed), in time order. Under load a
   * session still going on may have newer events waiting to be written into its row (up to
   * {@code writer.derivedRefreshMs}): the range reaches an hour past the stored end, and when the events found hold
   * more of the session than the row counts, {@code session}'s end, duration, counts, exit page and bounce are taken
   * from them (as the writer will store them).
   */
  private Future<JsonArray> events(String project, String sessionId, Row s, JsonObject session) {
    String user = s.getString("user_id");
    String anon = s.getString("anonymous_id");
    String who = user != null ? "user_id = $4" : anon != null ? "anonymous_id = $4 AND user_id IS NULL" : "true";
    String person = user != null ? user : anon != null ? anon : "";
    return pool.preparedQuery("""
            SELECT id, ts, type, category, action, label, value, session_id, user_id, anonymous_id, properties, page,
                   context, context_from, attribution, is_bot
            FROM events WHERE project_id = $1 AND session_id = $2 AND ts >= $3
              AND ts <= $5::timestamptz + interval '1 hour' AND\s"""
            + who + " ORDER BY ts, id LIMIT " + MAX_EVENTS)
        .execute(Tuple.of(project, sessionId, s.getOffsetDateTime("started_at"), person,
            s.getOffsetDateTime("ended_at")))
        .map(rows -> withContexts(rows, s, session));
  }

  /**
   * The session's events, each with its context; when they hold more of the session than its row counts, corrects
   * {@code session} (see {@link #events}).
   */
  private static JsonArray withContexts(io.vertx.sqlclient.RowSet<Row> rows, Row s, JsonObject session) {
    JsonArray out = new JsonArray();
    // an event stored without its context names the event of its session that stored it (context_from);
    // if that one is not among these rows, the session's context stands in. Rows stored before anchors
    // (neither column) have their session's previous stored one, in time order; before it, the session's.
    JsonObject sessionContext = json(s.getValue("context"));
    java.util.Map<java.util.UUID, Object> stored = storedContexts(rows);
    JsonObject previous = sessionContext;
    int counted = 0;
    int pages = 0;
    OffsetDateTime last = null;
    String exit = null;
    for (Row r : rows) {
      JsonObject context;
      java.util.UUID from = r.getUUID("context_from");
      if (r.getValue("context") != null) {
        context = json(r.getValue("context"));
        previous = context;
      } else if (from != null) {
        context = stored.containsKey(from) ? json(stored.get(from)) : sessionContext;
      } else {
        context = previous;
      }
      out.add(event(r, context));
      if (!Boolean.TRUE.equals(r.getBoolean("is_bot"))) {
        counted++;
        pages += "page_view".equals(r.getString("type")) ? 1 : 0;
        last = r.getOffsetDateTime("ts");
        Object path = json(r.getValue("page")).getValue("path");
        exit = path instanceof String p ? p : exit;
      }
    }
    if (rows.size() < MAX_EVENTS && counted > s.getInteger("event_count") && last != null) {
      long duration = java.time.Duration.between(s.getOffsetDateTime("started_at"), last).toMillis();
      session.put("endTime", last.toInstant().toString()).put("duration", duration).put("eventCount", counted)
          .put("pageCount", pages).put("bounce", duration < 30_000);
      if (exit != null) {
        session.put("exitPage", exit);
      }
    }
    return out;
  }

  /** The contexts stored with the rows, by event id. */
  private static java.util.Map<java.util.UUID, Object> storedContexts(Iterable<Row> rows) {
    java.util.Map<java.util.UUID, Object> stored = new java.util.HashMap<>();
    for (Row r : rows) {
      if (r.getValue("context") != null) {
        stored.put(r.getUUID("id"), r.getValue("context"));
      }
    }
    return stored;
  }

  Future<JsonObject> ofUser(JsonObject q) {
    String project = q.getString("projectId");
    String user = q.getString("userId");
    OffsetDateTime from = OffsetDateTime.ofInstant(Instant.parse(q.getString("from")), ZoneOffset.UTC);
    OffsetDateTime to = OffsetDateTime.ofInstant(Instant.parse(q.getString("to")), ZoneOffset.UTC);
    return pool.preparedQuery("SELECT " + SESSION_COLUMNS + """
            FROM sessions s LEFT JOIN users u ON u.project_id = s.project_id
              AND u.user_key = coalesce(s.user_id, s.anonymous_id)
            WHERE s.project_id = $1 AND (s.user_id = $2 OR (s.user_id IS NULL AND s.anonymous_id = $2))
              AND s.started_at >= $3 AND s.started_at < $4
            ORDER BY s.started_at DESC LIMIT 1000
            """).execute(Tuple.of(project, user, from, to))
        .map(rows -> {
          JsonArray list = new JsonArray();
          for (Row r : rows) {
            list.add(session(r));
          }
          return new JsonObject().put("userId", user).put("from", q.getString("from")).put("to", q.getString("to"))
              .put("sessions", list);
        });
  }

  private static JsonObject session(Row r) {
    JsonObject context = json(r.getValue("context"));
    JsonObject o = new JsonObject()
        .put("sessionId", r.getString("session_id"))
        .put("userId", r.getString("user_id"))
        .put("anonymousId", r.getString("anonymous_id"))
        .put("startTime", r.getOffsetDateTime("started_at").toInstant().toString())
        .put("endTime", r.getOffsetDateTime("ended_at").toInstant().toString())
        .put("duration", r.getLong("duration_ms"))
        .put("eventCount", r.getInteger("event_count"))
        .put("pageCount", r.getInteger("page_count"))
        .put("entryPage", r.getString("entry_page"))
        .put("exitPage", r.getString("exit_page"))
        .put("bounce", r.getBoolean("bounce"))
        .put("isNewUser", r.getBoolean("is_new_user"))
        .put("serverAssigned", r.getBoolean("server_assigned"))
        .put("device", context.getJsonObject("device", new JsonObject()))
        .put("browser", context.getJsonObject("browser", new JsonObject()))
        .put("location", context.getJsonObject("location", new JsonObject()));
    Object attribution = r.getValue("attribution");
    o.put("attribution", attribution == null ? null : json(attribution));
    return o;
  }

  private static JsonObject event(Row r, JsonObject context) {
    JsonObject e = new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("sessionId", r.getString("session_id"))
        .put("timestamp", r.getOffsetDateTime("ts").toInstant().toString())
        .put("type", new JsonObject().put("name", r.getString("type")).put("category", r.getString("category")))
        .put("category", new JsonObject().put("id", r.getString("category")))
        .put("action", r.getString("action"))
        .put("label", r.getString("label"))
        .put("value", r.getDouble("value"))
        .put("properties", json(r.getValue("properties")))
        .put("page", json(r.getValue("page")))
        .put("userContext", new JsonObject().put("userId", r.getString("user_id"))
            .put("anonymousId", r.getString("anonymous_id")).put("sessionId", r.getString("session_id")))
        .put("device", context.getJsonObject("device", new JsonObject()))
        .put("browser", context.getJsonObject("browser", new JsonObject()))
        .put("location", context.getJsonObject("location", new JsonObject()));
    Object attribution = r.getValue("attribution");
    if (attribution != null) {
      e.put("attribution", json(attribution));
    }
    return e;
  }

  static JsonObject json(Object v) {
    if (v instanceof JsonObject o) {
      return o;
    }
    if (v instanceof String s) {
      return new JsonObject(s);
    }
    return new JsonObject();
  }
}
