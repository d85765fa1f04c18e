package io.tally.event;

import io.vertx.core.json.JsonObject;

/**
 * Why one event of a request was not stored; {@code field} names the offending field or limit, and {@code limit}
 * (null when none applies) the bound it broke.
 */
public record Rejection(int index, String field, String error, Long limit) {
  public Rejection(int index, String field, String error) {
    this(index, field, error, null);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("index", index).put("error", error);
    if (field != null) {
      o.put("field", field);
    }
    if (limit != null) {
      o.put("limit", limit);
    }
    return o;
  }
}
