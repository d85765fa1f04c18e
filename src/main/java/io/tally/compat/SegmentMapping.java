package io.tally.compat;

import io.tally.error.ApiError;
import io.tally.event.EventCatalog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

import static io.tally.compat.MappedBatch.copy;
import static io.tally.compat.MappedBatch.object;
import static io.tally.compat.MappedBatch.string;

/**
 * Translates the Segment / RudderStack tracking API ({@code /v1/batch} and the single calls) into Tally events; the
 * table in docs/sdk-compat.md is the same mapping in words.
 */
final class SegmentMapping {
  /** Segment call type -> Tally type (track: the event's own name). */
  private static final Map<String, String> TYPES = Map.of("identify", "identify", "page", "page_view",
      "screen", "screen_view", "group", "group", "alias", "alias", "track", "");
  private static final Set<String> PAGE_FIELDS = Set.of("url", "path", "referrer", "search", "title", "hash");
  private static final String[][] CAMPAIGN = {{"source", "utm_source"}, {"medium", "utm_medium"},
      {"name", "utm_campaign"}, {"term", "utm_term"}, {"content", "utm_content"}};

  private final EventCatalog catalog;
  private final int maxEvents;

  SegmentMapping(EventCatalog catalog, int maxEvents) {
    this.catalog = catalog;
    this.maxEvents = maxEvents;
  }

  /**
   * @param call the route's call type ({@code track} for {@code /v1/track}), or null for {@code /v1/batch}
   */
  MappedBatch map(Object root, String call) {
    if (!(root instanceof JsonObject body)) {
      throw ApiError.badRequest("body", "body must be a JSON object"
          + (call == null ? " {\"batch\": [...]}" : " (one " + call + " call)"));
    }
    MappedBatch out = new MappedBatch();
    out.bodyKey(string(body, "writeKey"));
    if (call != null) {
      out.total(1);
      message(body, 0, call, null, null, out);
      return out;
    }
    Object batch = body.getValue("batch");
    if (!(batch instanceof JsonArray events)) {
      throw ApiError.badRequest("batch", "batch must be an array of calls");
    }
    if (events.size() > maxEvents) {
      throw ApiError.tooLarge("ingest.maxBatchEvents", maxEvents, "batch has " + events.size()
          + " calls; the limit ingest.maxBatchEvents is " + maxEvents);
    }
    out.total(events.size());
    JsonObject shared = object(body, "context");
    String sentAt = string(body, "sentAt");
    for (int i = 0; i < events.size(); i++) {
      Object e = events.getValue(i);
      if (e instanceof JsonObject m) {
        message(m, i, null, shared, sentAt, out);
      } else {
        out.reject(i, "event", "each call of batch must be a JSON object", null);
      }
    }
    return out;
  }

  private void message(JsonObject m, int index, String call, JsonObject sharedContext, String envelopeSentAt,
                       MappedBatch out) {
    if (!out.withinSize(index, m)) {
      return;
    }
    String kind = call != null ? call : string(m, "type");
    String type = kind == null ? null : TYPES.get(kind);
    if (type == null) {
      out.reject(index, "type", "type must be one of track, identify, page, screen, group, alias", null);
      return;
    }
    JsonObject context = object(m, "context");
    if (sharedContext != null) {
      // the envelope's context applies to every call; a call's own fields win
      context = sharedContext.copy().mergeIn(context == null ? new JsonObject() : context);
    }
    JsonObject e = new JsonObject();
    copy(m, "messageId", e, "id");
    copy(m, "userId", e, "userId");
    copy(m, "anonymousId", e, "anonymousId");
    time(m, envelopeSentAt, e);
    JsonObject props = object(m, "properties");
    JsonObject properties = props == null ? new JsonObject() : props.copy();
    type = byCall(kind, type, m, e, properties);
    if (type == null) {
      out.reject(index, "event", "a track call needs its event name (a string)", null);
      return;
    }
    e.put("type", type);
    if (!properties.isEmpty()) {
      e.put("properties", properties);
    }
    JsonObject page = page(context, kind.equals("page") ? props : null);
    if (page != null) {
      e.put("page", page);
    }
    JsonObject client = client(context);
    if (client != null) {
      e.put("context", client);
    }
    JsonObject user = user(m, kind, context);
    if (!user.isEmpty()) {
      e.put("userContext", user);
    }
    out.add(index, e);
  }

  /**
   * What each kind of call adds to the event and its properties; returns the event's type (a track call's from its
   * event name), or null for a track call without one.
   */
  private String byCall(String kind, String type, JsonObject m, JsonObject e, JsonObject properties) {
    switch (kind) {
      case "track" -> {
        String name = string(m, "event");
        return name == null || name.isBlank() ? null : MappedBatch.typeOf(name, catalog);
      }
      case "page", "screen" -> {
        String name = string(m, "name");
        if (name != null) {
          e.put("label", name);
          properties.put("name", name);
        }
        copy(m, "category", properties, "category");
      }
      case "group" -> {
        copy(m, "groupId", properties, "groupId");
        copy(m, "traits", properties, "traits");
      }
      case "alias" -> copy(m, "previousId", properties, "previousId");
      default -> { }
    }
    return type;
  }

  /** The user context: the ids and the traits (an identify call's own, else the context's). */
  private static JsonObject user(JsonObject m, String kind, JsonObject context) {
    Object traits = kind.equals("identify") ? m.getValue("traits") : context == null ? null : context.getValue("traits");
    JsonObject user = new JsonObject();
    copy(m, "userId", user, "userId");
    copy(m, "anonymousId", user, "anonymousId");
    if (traits != null) {
      user.put("userProperties", traits);
    }
    return user;
  }

  /**
   * Segment's rule: an explicit {@code timestamp} is the event time as is; otherwise {@code originalTimestamp}
   * corrected by {@code sentAt} (the call's, else the request's); with neither, the time of receipt.
   */
  private static void time(JsonObject m, String envelopeSentAt, JsonObject e) {
    if (m.getValue("timestamp") != null) {
      e.put("timestamp", m.getValue("timestamp"));
    } else if (m.getValue("originalTimestamp") != null) {
      e.put("timestamp", m.getValue("originalTimestamp"));
      Object sentAt = m.getValue("sentAt") != null ? m.getValue("sentAt") : envelopeSentAt;
      if (sentAt != null) {
        e.put("sentAt", sentAt);
      }
    } else {
      e.put("timestamp", Instant.now().toString());
    }
  }

  /** {@code context.page} (and a page call's url/path/... properties) plus {@code context.campaign} as UTM. */
  private static JsonObject page(JsonObject context, JsonObject pageProperties) {
    JsonObject page = new JsonObject();
    JsonObject sent = object(context, "page");
    for (String f : PAGE_FIELDS) {
      copy(sent, f, page, f);
      if (!page.containsKey(f)) {
        copy(pageProperties, f, page, f);
      }
    }
    JsonObject campaign = object(context, "campaign");
    Object search = page.getValue("search");
    if (campaign != null && !(search instanceof String s && s.contains("utm_"))) {
      // attribution reads UTM parameters from page.search: the campaign object becomes those parameters
      StringBuilder q = new StringBuilder();
      for (String[] c : CAMPAIGN) {
        String v = string(campaign, c[0]);
        if (v != null && !v.isEmpty()) {
          q.append(q.length() == 0 ? '?' : '&').append(c[1]).append('=')
              .append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        }
      }
      if (q.length() > 0) {
        page.put("search", q.toString());
      }
    }
    return page.isEmpty() ? null : page;
  }

  /** The client environment Tally keeps: user agent, IP (used only where the project trusts it), language, zone. */
  private static JsonObject client(JsonObject context) {
    if (context == null) {
      return null;
    }
    JsonObject c = new JsonObject();
    copy(context, "userAgent", c, "userAgent");
    copy(context, "ip", c, "ip");
    copy(context, "locale", c, "language");
    copy(context, "timezone", c, "timezone");
    return c.isEmpty() ? null : c;
  }
}
