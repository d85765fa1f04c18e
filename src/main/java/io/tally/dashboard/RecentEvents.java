package io.tally.dashboard;

import io.tally.schema.RollupDimension;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Collectors;

/** A person's most recent events in a period, newest first, with their enrichment (bots excluded). */
final class RecentEvents {
  private final Pool pool;

  RecentEvents(Pool pool) {
    this.pool = pool;
  }

  /** The event's enrichment dimensions (country, device, browser…), as the rollups and the API name them. */
  private static final List<RollupDimension> ENRICHED = RollupDimension.ALL.stream()
      .filter(d -> d.source() == RollupDimension.Source.ENRICHMENT).toList();

  Future<JsonObject> ofUser(JsonObject q) {
    String project = q.getString("projectId");
    String user = q.getString("userId");
    OffsetDateTime from = OffsetDateTime.ofInstant(Instant.parse(q.getString("from")), ZoneOffset.UTC);
    OffsetDateTime to = OffsetDateTime.ofInstant(Instant.parse(q.getString("to")), ZoneOffset.UTC);
    int limit = q.getInteger("limit");
    // two index paths (user id; anonymous id not linked to a user), each bounded by the limit
    String columns = "id, ts, type, category, session_id, user_id, anonymous_id, properties, page, "
        + ENRICHED.stream().map(RollupDimension::column).collect(Collectors.joining(", "));
    return pool.preparedQuery("(SELECT " + columns + " FROM events WHERE project_id = $1 AND user_id = $2"
            + " AND ts >= $3 AND ts < $4 AND NOT is_bot ORDER BY ts DESC LIMIT $5)"
            + " UNION ALL (SELECT " + columns + " FROM events WHERE project_id = $1 AND user_id IS NULL"
            + " AND anonymous_id = $2 AND ts >= $3 AND ts < $4 AND NOT is_bot ORDER BY ts DESC LIMIT $5)"
            + " ORDER BY ts DESC, id LIMIT $5")
        .execute(Tuple.of(project, user, from, to, limit))
        .map(rows -> {
          JsonArray events = new JsonArray();
          for (Row r : rows) {
            JsonObject event = new JsonObject()
                .put("id", r.getUUID("id").toString())
                .put("timestamp", r.getOffsetDateTime("ts").toInstant().toString())
                .put("type", r.getString("type"))
                .put("category", r.getString("category"))
                .put("sessionId", r.getString("session_id"))
                .put("properties", json(r.getValue("properties")))
                .put("page", json(r.getValue("page")));
            for (RollupDimension d : ENRICHED) {
              event.put(d.apiName(), r.getString(d.column()));
            }
            events.add(event);
          }
          return new JsonObject().put("userId", user).put("from", q.getString("from")).put("to", q.getString("to"))
              .put("limit", limit).put("events", events);
        });
  }

  private static Object json(Object v) {
    if (v instanceof JsonObject || v == null) {
      return v;
    }
    return new JsonObject(v.toString());
  }
}
