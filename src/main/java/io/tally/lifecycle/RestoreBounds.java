package io.tally.lifecycle;

import io.tally.error.ApiError;
import io.tally.event.EventCatalog;
import io.tally.event.EventParser;
import io.tally.event.ParsedBody;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;

/**
 * The ingest bounds applied to an archived row before it is restored: the row, written back as the event it was, goes
 * through the same parser and bounds as an event posted today (the catalogue's schemas aside: the catalogue may have
 * changed since). A row outside them (stored by an earlier release, or an edited archive) is not restored.
 */
final class RestoreBounds {
  /** Archived rows held events of at most {@code ingest.maxEventBytes} (32 KiB by default) plus their enrichment. */
  private static final int MAX_ROW_BYTES = 1 << 20;
  private final EventParser parser = new EventParser(MAX_ROW_BYTES, 1, 24 * 3_600_000L, EventCatalog.empty());

  /** Null when the row is within the bounds, else the field at fault. */
  String outOfBounds(String project, JsonObject row) {
    JsonObject uc = row.getValue("user_context") instanceof JsonObject o ? o.copy() : new JsonObject();
    JsonObject e = new JsonObject().put("id", row.getValue("id")).put("type", row.getValue("type"))
        .put("timestamp", row.getValue("ts")).put("category", row.getValue("category"))
        .put("action", row.getValue("action")).put("label", row.getValue("label")).put("value", row.getValue("value"))
        .put("sessionId", row.getValue("session_id")).put("userId", row.getValue("user_id"))
        .put("anonymousId", row.getValue("anonymous_id")).put("properties", row.getValue("properties"))
        .put("page", row.getValue("page")).put("userContext", uc);
    byte[] b = e.encode().getBytes(StandardCharsets.UTF_8);
    Instant received;
    try {
      received = OffsetDateTime.parse(String.valueOf(row.getValue("received_at"))).toInstant();
    } catch (RuntimeException unreadable) {
      return "received_at";
    }
    try {
      ParsedBody parsed = parser.parse(b, b.length, project, received);
      return parsed.rejected().isEmpty() ? null : parsed.rejected().get(0).field();
    } catch (ApiError whole) {
      return whole.field() == null ? "event" : whole.field();
    }
  }
}
