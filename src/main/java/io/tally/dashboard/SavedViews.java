package io.tally.dashboard;

import io.tally.error.ApiError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * What the dashboard saves per project: named segments (filter sets) and funnel definitions, one table each
 * ({@code dashboard_segments}, {@code dashboard_funnels}), at most {@value #MAX_PER_PROJECT} of each.
 */
final class SavedViews {
  static final int MAX_PER_PROJECT = 200;
  /** kind → table; the only identifiers ever spliced into SQL. */
  private static final java.util.Map<String, String[]> TABLES = java.util.Map.of(
      "segment", new String[] {"dashboard_segments", "filters"},
      "funnel", new String[] {"dashboard_funnels", "definition"});
  private final Pool pool;

  SavedViews(Pool pool) {
    this.pool = pool;
  }

  Future<JsonObject> list(JsonObject q) {
    String[] t = table(q);
    return pool.preparedQuery("SELECT name, " + t[1] + " AS body, updated_at FROM " + t[0]
            + " WHERE project_id = $1 ORDER BY lower(name), name")
        .execute(Tuple.of(q.getString("projectId")))
        .map(rows -> {
          JsonArray items = new JsonArray();
          for (Row r : rows) {
            items.add(item(r.getString("name"), r.getValue("body"), r.getOffsetDateTime("updated_at").toInstant()));
          }
          return new JsonObject().put("items", items);
        });
  }

  Future<JsonObject> save(JsonObject q) {
    String[] t = table(q);
    String body = q.getJsonObject("body").encode();
    // the cap is checked in the same statement: a full project saves nothing (0 rows) unless the name exists
    return pool.preparedQuery("INSERT INTO " + t[0] + " (project_id, name, " + t[1] + ") "
            + "SELECT $1, $2, $3::jsonb WHERE (SELECT count(*) FROM " + t[0] + " WHERE project_id = $1) < $4 "
            + "OR EXISTS (SELECT 1 FROM " + t[0] + " WHERE project_id = $1 AND name = $2) "
            + "ON CONFLICT (project_id, name) DO UPDATE SET " + t[1] + " = excluded." + t[1] + ", updated_at = now() "
            + "RETURNING updated_at")
        .execute(Tuple.of(q.getString("projectId"), q.getString("name"), body, MAX_PER_PROJECT))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new ApiError(409, "limit_reached", "a project keeps at most "
                + MAX_PER_PROJECT + " saved " + q.getString("kind") + "s: delete one first", "name",
                (long) MAX_PER_PROJECT, null));
          }
          return Future.succeededFuture(item(q.getString("name"), q.getJsonObject("body"),
              rows.iterator().next().getOffsetDateTime(0).toInstant()));
        });
  }

  Future<JsonObject> delete(JsonObject q) {
    String[] t = table(q);
    return pool.preparedQuery("DELETE FROM " + t[0] + " WHERE project_id = $1 AND name = $2")
        .execute(Tuple.of(q.getString("projectId"), q.getString("name")))
        .compose(r -> r.rowCount() == 0
            ? Future.failedFuture(ApiError.notFound("no saved " + q.getString("kind") + " named '"
                + q.getString("name") + "'"))
            : Future.succeededFuture(new JsonObject().put("deleted", q.getString("name"))));
  }

  private static String[] table(JsonObject q) {
    String[] t = TABLES.get(q.getString("kind"));
    if (t == null) {
      throw new IllegalArgumentException("unknown kind " + q.getString("kind"));
    }
    return t;
  }

  private static JsonObject item(String name, Object body, java.time.Instant updated) {
    JsonObject b = body instanceof JsonObject o ? o : new JsonObject(String.valueOf(body));
    return b.copy().put("name", name).put("updatedAt", updated.toString());
  }
}
