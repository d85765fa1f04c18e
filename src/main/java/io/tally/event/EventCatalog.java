package io.tally.event;

import io.tally.config.ConfigException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The catalogue of known event types ({@code config/event-types.json}): each with its category and the seed's
 * {@code EventSchema} (required and optional properties, and their JSON types). Known types are validated against
 * it; unknown types are custom events unless the project is strict.
 */
public final class EventCatalog {
  static final Set<String> JSON_TYPES = Set.of("string", "number", "boolean", "object", "array");

  /** One catalogue entry. */
  public record EventType(String name, String category, List<String> required, List<String> optional,
                          Map<String, String> types) {}

  private final Map<String, EventType> types;
  private final JsonObject json;

  private EventCatalog(Map<String, EventType> types, JsonObject json) {
    this.types = types;
    this.json = json;
  }

  public static EventCatalog empty() {
    return new EventCatalog(Map.of(), new JsonObject().put("types", new JsonArray()));
  }

  /** Parses and validates a catalogue; errors name the offending entry. */
  public static EventCatalog from(JsonObject json) {
    JsonArray categories = json.getJsonArray("categories", new JsonArray());
    Map<String, EventType> out = new LinkedHashMap<>();
    JsonArray arr = json.getJsonArray("types");
    if (arr == null) {
      throw new ConfigException("event-types.json: 'types' must be an array");
    }
    for (int i = 0; i < arr.size(); i++) {
      String where = "event-types.json types[" + i + "]";
      JsonObject t = arr.getJsonObject(i);
      String name = t.getString("name");
      if (name == null || name.isBlank()) {
        throw new ConfigException(where + ".name is required");
      }
      String category = t.getString("category");
      if (!categories.isEmpty() && !categories.contains(category)) {
        throw new ConfigException(where + ".category '" + category + "' is not one of " + categories);
      }
      JsonObject schema = t.getJsonObject("schema", new JsonObject());
      Map<String, String> propTypes = new HashMap<>();
      schema.getJsonObject("types", new JsonObject()).forEach(e -> {
        if (!JSON_TYPES.contains(String.valueOf(e.getValue()))) {
          throw new ConfigException(where + ".schema.types." + e.getKey() + " must be one of " + JSON_TYPES);
        }
        propTypes.put(e.getKey(), (String) e.getValue());
      });
      List<String> required = strings(schema.getJsonArray("required", new JsonArray()));
      List<String> optional = strings(schema.getJsonArray("optional", new JsonArray()));
      if (out.put(name, new EventType(name, category, required, optional, Map.copyOf(propTypes))) != null) {
        throw new ConfigException(where + ": type '" + name + "' is defined twice");
      }
    }
    return new EventCatalog(Map.copyOf(out), json.copy());
  }

  /** From {@code path}, else {@code ./config/event-types.json}, else the catalogue shipped in the jar. */
  public static EventCatalog load(String path) {
    try {
      java.nio.file.Path file = path != null && !path.isBlank() ? java.nio.file.Path.of(path)
          : java.nio.file.Path.of("config", "event-types.json");
      if (java.nio.file.Files.isRegularFile(file)) {
        return from(new JsonObject(java.nio.file.Files.readString(file)));
      }
      if (path != null && !path.isBlank()) {
        throw new ConfigException("enrich.eventTypesFile '" + path + "' does not exist");
      }
      try (java.io.InputStream in = EventCatalog.class.getResourceAsStream("/config/event-types.json")) {
        if (in == null) {
          throw new ConfigException("config/event-types.json is missing from the classpath");
        }
        return from(new JsonObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)));
      }
    } catch (java.io.IOException | io.vertx.core.json.DecodeException e) {
      throw new ConfigException("cannot read the event catalogue: " + e.getMessage());
    }
  }

  private static List<String> strings(JsonArray a) {
    return a.stream().map(String::valueOf).toList();
  }

  public EventType get(String name) {
    return types.get(name);
  }

  /** Names of the catalogue's types of one category, in catalogue order. */
  public List<String> typesOf(String category) {
    return types.values().stream().filter(t -> category.equals(t.category())).map(EventType::name).toList();
  }

  public JsonObject toJson() {
    return json.copy();
  }

  /**
   * Checks one event's properties against its type; returns null when valid, else {field, message}.
   *
   * @param present property name → JSON type of the value the client sent (nulls omitted)
   */
  public String[] check(String type, Map<String, String> present, boolean strict) {
    EventType t = types.get(type);
    if (t == null) {
      return strict ? new String[] {"type", "unknown event type '" + type
          + "' (this project accepts only catalogue types: GET /v1/event-types)"} : null;
    }
    for (String req : t.required()) {
      if (!present.containsKey(req)) {
        return new String[] {"properties." + req, type + " requires properties." + req};
      }
    }
    for (Map.Entry<String, String> p : present.entrySet()) {
      String expected = t.types().get(p.getKey());
      if (expected != null && !expected.equals(p.getValue())) {
        return new String[] {"properties." + p.getKey(),
            "properties." + p.getKey() + " of " + type + " must be a " + expected + ", got a " + p.getValue()};
      }
    }
    return null;
  }
}
