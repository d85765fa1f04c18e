package io.tally.query;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** Counts stored events of a project in a half-open period, optionally of one type. */
final class EventCountQuery {
  private final Pool pool;

  EventCountQuery(Pool pool) {
    this.pool = pool;
  }

  /** Bots are stored for audit but excluded from analytics unless asked for. */
  private static String bots(JsonObject q) {
    return q.getBoolean("includeBots", false) ? "" : " AND NOT is_bot";
  }

  Future<JsonObject> run(JsonObject q) {
    String project = q.getString("projectId");
    OffsetDateTime from = OffsetDateTime.ofInstant(Instant.parse(q.getString("from")), ZoneOffset.UTC);
    OffsetDateTime to = OffsetDateTime.ofInstant(Instant.parse(q.getString("to")), ZoneOffset.UTC);
    String type = q.getString("type");
    Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> rows = type == null
        ? pool.preparedQuery("SELECT count(*) FROM events WHERE project_id = $1 AND ts >= $2 AND ts < $3"
                + bots(q)).execute(Tuple.of(project, from, to))
        : pool.preparedQuery(
                "SELECT count(*) FROM events WHERE project_id = $1 AND type = $4 AND ts >= $2 AND ts < $3" + bots(q))
            .execute(Tuple.of(project, from, to, type));
    return rows.map(rs -> {
      JsonObject out = new JsonObject().put("count", rs.iterator().next().getLong(0))
          .put("from", q.getString("from")).put("to", q.getString("to"));
      if (type != null) {
        out.put("type", type);
      }
      return out;
    });
  }
}
