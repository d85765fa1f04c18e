package io.tally.compat;

import io.tally.event.EventCatalog;
import io.tally.event.Rejection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An SDK request translated into Tally's own events, one for each SDK event that could be translated, each
 * remembering its index in the SDK's batch; the ones that could not are rejections at their index. The translated
 * events then take the path of {@code POST /v1/events} unchanged, which validates them again.
 */
final class MappedBatch {
  private final List<JsonObject> events = new ArrayList<>();
  private int[] indexes = new int[16];
  private final List<Rejection> rejected = new ArrayList<>();
  private int total;
  private String bodyKey;

  void add(int index, JsonObject event) {
    if (events.size() == indexes.length) {
      indexes = Arrays.copyOf(indexes, indexes.length * 2);
    }
    indexes[events.size()] = index;
    events.add(event);
  }

  void reject(int index, String field, String error, Long limit) {
    rejected.add(new Rejection(index, field, error, limit));
  }

  /** Refuses an event over Segment's 32 KB; true when it is within. */
  boolean withinSize(int index, JsonObject sdkEvent) {
    int size = sdkEvent.toBuffer().length();
    if (size > SdkLimits.MAX_EVENT_BYTES) {
      reject(index, "event", "event is " + size + " bytes; the limit is " + SdkLimits.MAX_EVENT_BYTES
          + " bytes an event", (long) SdkLimits.MAX_EVENT_BYTES);
      return false;
    }
    return true;
  }

  void total(int n) {
    total = n;
  }

  void bodyKey(String key) {
    if (bodyKey == null && key != null && !key.isEmpty()) {
      bodyKey = key;
    }
  }

  int total() {
    return total;
  }

  String bodyKey() {
    return bodyKey;
  }

  List<JsonObject> events() {
    return events;
  }

  /** The SDK index of the {@code i}th translated event. */
  int indexOf(int i) {
    return indexes[i];
  }

  List<Rejection> rejected() {
    return rejected;
  }

  /** The translated events as a {@code POST /v1/events} body. */
  byte[] tallyBody() {
    return new JsonObject().put("batch", new JsonArray(new ArrayList<>(events))).toBuffer().getBytes();
  }

  /**
   * An event name as Tally types it: a catalogue type when the name is one, also written the Segment way
   * ("Message Received" is {@code message_received}); otherwise the name itself, a custom event.
   */
  static String typeOf(String name, EventCatalog catalog) {
    if (catalog.get(name) != null) {
      return name;
    }
    String snake = name.trim().toLowerCase(Locale.ROOT).replace(' ', '_').replace('-', '_');
    return catalog.get(snake) != null ? snake : name;
  }

  /** A string member, or null when absent or not a string. */
  static String string(JsonObject o, String key) {
    Object v = o == null ? null : o.getValue(key);
    return v instanceof String s ? s : null;
  }

  /** An object member, or null when absent or not an object. */
  static JsonObject object(JsonObject o, String key) {
    Object v = o == null ? null : o.getValue(key);
    return v instanceof JsonObject j ? j : null;
  }

  /** Copies {@code key} when present (any JSON type: Tally's parser judges it). */
  static void copy(JsonObject from, String key, JsonObject to, String as) {
    if (from != null && from.containsKey(key) && from.getValue(key) != null) {
      to.put(as, from.getValue(key));
    }
  }
}
