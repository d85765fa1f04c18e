package io.tally.lifecycle;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Verifies that an archived row is restored only within the ingest bounds, judged by the ingest parser itself. */
class RestoreBoundsTest {
  private final RestoreBounds bounds = new RestoreBounds();

  /** An events row as the archive holds it ({@code row_to_json}). */
  private static JsonObject row() {
    return new JsonObject().put("project_id", "p").put("id", "3f1c2a9e-6f1e-4c1b-9a53-0f6d3f0c0a01")
        .put("ts", "2026-01-10T12:00:00.123456+00:00").put("received_at", "2026-01-10T12:00:01+00:00")
        .put("type", "message_received").put("category", "conversation").put("session_id", "s-1").put("user_id", "u-1")
        .put("properties", new JsonObject().put("provider", "openai").put("model", "gpt-4o").put("tokens", 512))
        .put("page", new JsonObject().put("path", "/chat")).put("user_context", new JsonObject().put("userId", "u-1"))
        .put("flags", 0).put("value", null).put("action", null).put("label", null).put("anonymous_id", null);
  }

  @Test
  void verifiesThatARowWithinTheBoundsIsRestoredAndOneOutsideNamesItsField() {
    assertNull(bounds.outOfBounds("p", row()));
    JsonObject model = row();
    model.getJsonObject("properties").put("model", "m".repeat(3000));
    assertEquals("properties.model", bounds.outOfBounds("p", model));
    assertEquals("timestamp", bounds.outOfBounds("p", row().put("ts", "1999-12-31T23:59:59+00:00")));
    JsonObject tokens = row();
    tokens.getJsonObject("properties").put("tokens", 1e20);
    assertEquals("properties.tokens", bounds.outOfBounds("p", tokens));
    assertEquals("userId", bounds.outOfBounds("p", row().put("user_id", "u".repeat(129))));
  }
}
