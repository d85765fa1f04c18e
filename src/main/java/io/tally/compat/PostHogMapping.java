package io.tally.compat;

import io.tally.error.ApiError;
import io.tally.event.EventCatalog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Set;

import static io.tally.compat.MappedBatch.copy;
import static io.tally.compat.MappedBatch.object;
import static io.tally.compat.MappedBatch.string;

/**
 * Translates PostHog's capture API ({@code /batch/}, {@code /capture/}, {@code /e/}, {@code /i/v0/e/}) into Tally
 * events, {@code $ai_generation} into Tally's LLM model; the table in docs/sdk-compat.md is the same mapping in words.
 */
final class PostHogMapping {
  /**
   * Moved elsewhere ($set...), or content rather than analytics: prompts and completions (often over Tally's
   * 8,192-character string bound, which would refuse the whole event) and the library's internal state.
   */
  private static final Set<String> DROPPED = Set.of("$set", "$set_once", "token", "api_key", "distinct_id",
      "$ai_input", "$ai_output_choices", "$ai_input_state", "$ai_output_state", "$ai_tools", "$ai_error");

  private final EventCatalog catalog;
  private final int maxEvents;

  PostHogMapping(EventCatalog catalog, int maxEvents) {
    this.catalog = catalog;
    this.maxEvents = maxEvents;
  }

  /** A single event, an array of events, or {@code {"api_key", "batch": [...]}}. */
  MappedBatch map(Object root) {
    MappedBatch out = new MappedBatch();
    JsonArray events;
    String sentAt = null;
    if (root instanceof JsonArray a) {
      events = a;
    } else if (root instanceof JsonObject body && body.containsKey("batch")) {
      if (!(body.getValue("batch") instanceof JsonArray a)) {
        throw ApiError.badRequest("batch", "batch must be an array of events");
      }
      events = a;
      out.bodyKey(string(body, "api_key"));
      out.bodyKey(string(body, "token"));
      sentAt = string(body, "sent_at");
    } else if (root instanceof JsonObject single) {
      events = new JsonArray().add(single);
      sentAt = string(single, "sent_at");
    } else {
      throw ApiError.badRequest("body", "body must be an event, an array of events or {\"batch\": [...]}");
    }
    if (events.size() > maxEvents) {
      throw ApiError.tooLarge("ingest.maxBatchEvents", maxEvents, "batch has " + events.size()
          + " events; the limit ingest.maxBatchEvents is " + maxEvents);
    }
    out.total(events.size());
    for (int i = 0; i < events.size(); i++) {
      if (events.getValue(i) instanceof JsonObject ev) {
        // posthog-js puts the key in each event (api_key, or properties.token)
        out.bodyKey(string(ev, "api_key"));
        out.bodyKey(string(object(ev, "properties"), "token"));
        if (out.withinSize(i, ev)) {
          event(ev, i, sentAt, out);
        }
      } else {
        out.reject(i, "event", "each event must be a JSON object", null);
      }
    }
    return out;
  }

  private void event(JsonObject ev, int index, String sentAt, MappedBatch out) {
    String name = string(ev, "event");
    if (name == null || name.isBlank()) {
      out.reject(index, "event", "event (its name, a string) is required", null);
      return;
    }
    Object propsValue = ev.getValue("properties");
    if (propsValue != null && !(propsValue instanceof JsonObject)) {
      out.reject(index, "properties", "properties must be an object", null);
      return;
    }
    JsonObject props = propsValue == null ? new JsonObject() : (JsonObject) propsValue;
    JsonObject e = new JsonObject();
    copy(ev, "uuid", e, "id");
    JsonObject user = new JsonObject();
    identity(ev, props, e, user);
    timestamp(ev, props, sentAt, e);
    copy(props, "$session_id", e, "sessionId");
    JsonObject properties = new JsonObject();
    props.forEach(p -> {
      if (!DROPPED.contains(p.getKey()) && p.getValue() != null) {
        properties.put(p.getKey(), p.getValue());
      }
    });
    String type = switch (name) {
      case "$pageview" -> "page_view";
      case "$identify", "$set" -> "identify";
      case "$create_alias" -> "alias";
      case "$groupidentify" -> "group";
      case "$ai_generation" -> generation(props, properties);
      default -> MappedBatch.typeOf(name, catalog);
    };
    if (name.equals("$create_alias")) {
      copy(props, "alias", properties, "previousId");
    }
    if (name.equals("$identify")) {
      copy(props, "$anon_distinct_id", e, "anonymousId");
      copy(props, "$anon_distinct_id", user, "anonymousId");
    }
    traits(ev, props, user, properties);
    e.put("type", type);
    if (!name.equals(type)) {
      e.put("action", name);
    }
    if (!properties.isEmpty()) {
      e.put("properties", properties);
    }
    copyGroup(props, PAGE, e, "page");
    copyGroup(props, CLIENT, e, "context");
    if (!user.isEmpty()) {
      e.put("userContext", user);
    }
    out.add(index, e);
  }

  /** PostHog's page properties and Tally's page fields (pairs). */
  private static final String[] PAGE = {"$current_url", "url", "$pathname", "path", "$referrer", "referrer",
      "title", "title"};
  /** PostHog's client properties and Tally's context fields (pairs). */
  private static final String[] CLIENT = {"$raw_user_agent", "userAgent", "$ip", "ip", "$browser_language", "language",
      "$timezone", "timezone"};

  /** Copies the {@code pairs}' properties present into one object put at {@code field} (nothing when none is). */
  private static void copyGroup(JsonObject props, String[] pairs, JsonObject e, String field) {
    JsonObject group = new JsonObject();
    for (int i = 0; i < pairs.length; i += 2) {
      copy(props, pairs[i], group, pairs[i + 1]);
    }
    if (!group.isEmpty()) {
      e.put(field, group);
    }
  }

  /** The distinct id, as the event's and the user context's user id, or anonymous id for a device id. */
  private static void identity(JsonObject ev, JsonObject props, JsonObject e, JsonObject user) {
    Object distinct = ev.getValue("distinct_id") != null ? ev.getValue("distinct_id") : props.getValue("distinct_id");
    if (distinct == null) {
      distinct = props.getValue("$distinct_id");
    }
    // a browser's id before identify() is its device id: an anonymous id, not a user
    boolean anonymous = distinct != null && distinct.equals(props.getValue("$device_id"));
    if (distinct != null) {
      e.put(anonymous ? "anonymousId" : "userId", distinct);
      user.put(anonymous ? "anonymousId" : "userId", distinct);
    }
  }

  /** The event's timestamp (now when absent) and the batch's send time that corrects it. */
  private static void timestamp(JsonObject ev, JsonObject props, String sentAt, JsonObject e) {
    if (ev.getValue("timestamp") != null) {
      e.put("timestamp", ev.getValue("timestamp"));
      if (sentAt != null && !Boolean.TRUE.equals(props.getValue("$ignore_sent_at"))) {
        e.put("sentAt", sentAt); // PostHog's rule: the client clock is corrected by its send time
      }
    } else {
      e.put("timestamp", Instant.now().toString());
    }
  }

  /** {@code $set} (else {@code $set_once}) as the user's properties. */
  private static void traits(JsonObject ev, JsonObject props, JsonObject user, JsonObject properties) {
    Object set = props.getValue("$set") != null ? props.getValue("$set") : ev.getValue("$set");
    Object setOnce = props.getValue("$set_once") != null ? props.getValue("$set_once") : ev.getValue("$set_once");
    if (set != null) {
      user.put("userProperties", set);
    } else if (setOnce != null) {
      user.put("userProperties", setOnce);
    }
    if (setOnce != null && set != null) {
      properties.put("$set_once", setOnce); // Tally's traits are last-write-wins; the once-only ones stay visible
    }
  }

  /**
   * An LLM call: {@code message_received} with Tally's measures (provider, model, tokens, cost in USD, response time
   * in ms), or {@code error} (code: the HTTP status) when the call failed, so usage, cost, latency and error figures
   * include it. Returns the type and fills {@code properties}.
   */
  private static String generation(JsonObject props, JsonObject properties) {
    copy(props, "$ai_provider", properties, "provider");
    copy(props, "$ai_model", properties, "model");
    Number in = number(props, "$ai_input_tokens");
    Number outTokens = number(props, "$ai_output_tokens");
    if (in != null || outTokens != null) {
      properties.put("tokens", (in == null ? 0 : in.longValue()) + (outTokens == null ? 0 : outTokens.longValue()));
    }
    Number cost = number(props, "$ai_total_cost_usd");
    if (cost == null && (number(props, "$ai_input_cost_usd") != null || number(props, "$ai_output_cost_usd") != null)) {
      Number a = number(props, "$ai_input_cost_usd");
      Number b = number(props, "$ai_output_cost_usd");
      cost = (a == null ? 0 : a.doubleValue()) + (b == null ? 0 : b.doubleValue());
    }
    if (cost != null) {
      properties.put("cost", cost.doubleValue());
    }
    Number latency = number(props, "$ai_latency");
    if (latency != null) {
      properties.put("responseTimeMs", Math.round(latency.doubleValue() * 1000));
    }
    Number status = number(props, "$ai_http_status");
    boolean failed = Boolean.TRUE.equals(props.getValue("$ai_is_error")) || (status != null && status.intValue() >= 400);
    if (!failed) {
      return "message_received";
    }
    properties.put("code", status != null ? String.valueOf(status.intValue()) : "ai_error");
    String text = string(props, "$ai_error");
    if (text != null) {
      int cut = Math.min(text.length(), SdkLimits.MAX_ERROR_TEXT);
      if (cut < text.length() && Character.isHighSurrogate(text.charAt(cut - 1))) {
        cut--; // never half a surrogate pair: Tally refuses a lone one
      }
      properties.put("message", text.substring(0, cut));
    }
    return "error";
  }

  private static Number number(JsonObject o, String key) {
    Object v = o.getValue(key);
    return v instanceof Number n && Double.isFinite(n.doubleValue()) ? n : null;
  }
}
