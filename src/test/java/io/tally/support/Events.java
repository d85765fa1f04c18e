package io.tally.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.UUID;

/** Builders for test events in the documented wire format. */
public final class Events {
  private Events() {
  }

  public static JsonObject event(String type, String userId) {
    return new JsonObject()
        .put("id", UUID.randomUUID().toString())
        .put("sessionId", "s-" + userId)
        .put("timestamp", Instant.now().toString())
        .put("type", new JsonObject().put("name", type).put("category", "conversation"))
        .put("category", new JsonObject().put("id", "conversation").put("name", "Conversation"))
        .put("action", "send")
        .put("properties", new JsonObject().put("provider", "openai").put("model", "gpt-4o").put("tokens", 512))
        .put("page", new JsonObject().put("url", "https://app/chat").put("path", "/chat"))
        .put("userContext", new JsonObject().put("userId", userId).put("sessionId", "s-" + userId));
  }

  public static JsonObject batch(JsonObject... events) {
    JsonArray arr = new JsonArray();
    for (JsonObject e : events) {
      arr.add(e);
    }
    return new JsonObject().put("batch", arr);
  }

  public static JsonObject batchOf(int n, String type) {
    JsonArray arr = new JsonArray();
    for (int i = 0; i < n; i++) {
      arr.add(event(type, "u-" + (i % 7)));
    }
    return new JsonObject().put("batch", arr);
  }
}
