package io.tally.event;

import io.vertx.core.json.JsonObject;

/** Why one event of a request was not stored; {@code field} names the offending field or limit. */
public record Rejection(int index, String field, String error) {
  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("index", index).put("error", error);
    if (field != null) {
      o.put("field", field);
    }
    return o;
  }
}
