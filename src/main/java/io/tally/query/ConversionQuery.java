package io.tally.query;

import io.tally.event.EventCatalog;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The seed's ConversionData over a period, with last-touch attribution from the person's touchpoints. */
final class ConversionQuery {
  static final List<String> NAMED = List.of("signup", "subscription", "upgrade", "referral");
  static final List<String> CATEGORIES = List.of("signup", "subscription", "upgrade", "referral", "engagement");
  private static final Map<String, String> DESCRIPTIONS = Map.of(
      "signup", "a person created an account",
      "subscription", "a person subscribed to a plan",
      "upgrade", "a person moved to a higher plan",
      "referral", "a person referred someone",
      "engagement", "another conversion event of the catalogue");
  private static final String VALUE = "coalesce(tally_num(properties, 'amount'), value, 0)";

  private final Pool pool;
  private final List<String> types;

  ConversionQuery(Pool pool, EventCatalog catalog) {
    this.pool = pool;
    Set<String> all = new LinkedHashSet<>(NAMED);
    for (String t : catalog.typesOf("conversion")) {
      if (!t.equals("payment")) {
        all.add(t);
      }
    }
    this.types = List.copyOf(all);
  }

  static String category(String type) {
    return NAMED.contains(type) ? type : "engagement";
  }

  Future<JsonObject> run(JsonObject q) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    int limit = q.getInteger("limit");
    Tuple t = Tuple.tuple().addString(project).addOffsetDateTime(Agg.odt(from)).addOffsetDateTime(Agg.odt(to))
        .addArrayOfString(types.toArray(String[]::new));
    String where = "WHERE project_id = $1 AND type = ANY($4) AND ts >= $2 AND ts < $3 AND NOT is_bot";
    Future<io.vertx.sqlclient.RowSet<Row>> totals = pool.preparedQuery(
        "SELECT type, count(*), sum(" + VALUE + ") FROM events " + where + " GROUP BY type").execute(t);
    Future<io.vertx.sqlclient.RowSet<Row>> list = pool.preparedQuery(
        "SELECT id, type, " + VALUE + ", tally_str(properties, 'currency'), ts, coalesce(user_id, anonymous_id), "
            + "properties FROM events " + where + " ORDER BY ts DESC, id LIMIT " + (limit + 1)).execute(t);
    return Future.all(totals, list).compose(v -> {
      List<Row> rows = new ArrayList<>();
      list.result().forEach(rows::add);
      boolean truncated = rows.size() > limit;
      if (truncated) {
        rows = rows.subList(0, limit);
      }
      Set<String> persons = new LinkedHashSet<>();
      rows.forEach(r -> {
        if (r.getString(5) != null) {
          persons.add(r.getString(5));
        }
      });
      List<Row> conv = rows;
      return touchpoints(project, persons).map(touches -> build(totals.result(), conv, truncated, touches));
    });
  }

  private Future<Map<String, List<Row>>> touchpoints(String project, Set<String> persons) {
    if (persons.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return pool.preparedQuery("SELECT user_key, ts, source, medium, campaign, event_type, attribution FROM touchpoints "
            + "WHERE project_id = $1 AND user_key = ANY($2) ORDER BY user_key, ts, event_id")
        .execute(Tuple.tuple().addString(project).addArrayOfString(persons.toArray(String[]::new))).map(rs -> {
          Map<String, List<Row>> out = new HashMap<>();
          rs.forEach(r -> out.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r));
          return out;
        });
  }

  private static JsonObject build(io.vertx.sqlclient.RowSet<Row> totals, List<Row> rows, boolean truncated,
                                  Map<String, List<Row>> touches) {
    Map<String, JsonObject> byType = new LinkedHashMap<>();
    CATEGORIES.forEach(c -> byType.put(c, new JsonObject().put("count", 0L).put("value", 0.0)));
    long count = 0;
    double value = 0;
    for (Row r : totals) {
      JsonObject c = byType.get(category(r.getString(0)));
      c.put("count", c.getLong("count") + r.getLong(1)).put("value", c.getDouble("value") + r.getDouble(2));
      count += r.getLong(1);
      value += r.getDouble(2);
    }
    JsonArray out = new JsonArray();
    for (Row r : rows) {
      String type = r.getString(1);
      String category = category(type);
      double v = r.getDouble(2);
      Instant ts = r.getOffsetDateTime(4).toInstant();
      Object props = r.getValue(6);
      JsonObject properties = props instanceof JsonObject o ? o : new JsonObject();
      out.add(new JsonObject()
          .put("id", r.getUUID(0).toString())
          .put("type", new JsonObject().put("id", category).put("name", type)
              .put("description", DESCRIPTIONS.get(category)).put("category", category).put("value", v))
          .put("value", v)
          .put("currency", r.getString(3))
          .put("timestamp", ts.toString())
          .put("userId", r.getString(5))
          .put("properties", properties)
          .put("attribution", attribution(r.getString(5) == null ? List.of()
              : touches.getOrDefault(r.getString(5), List.of()), ts)));
    }
    return new JsonObject().put("conversions", out).put("truncated", truncated)
        .put("totals", new JsonObject().put("count", count).put("value", value)
            .put("byType", new JsonObject(new LinkedHashMap<>(byType))));
  }

  /** Last-touch attribution over the touchpoints at or before the conversion. */
  static JsonObject attribution(List<Row> touches, Instant at) {
    JsonArray points = new JsonArray();
    JsonObject first = null;
    JsonObject last = null;
    for (Row t : touches) {
      Instant ts = t.getOffsetDateTime(1).toInstant();
      if (ts.isAfter(at)) {
        break;
      }
      Object a = t.getValue(6);
      JsonObject attr = a instanceof JsonObject o ? o : new JsonObject();
      String source = t.getString(2);
      String medium = t.getString(3);
      points.add(new JsonObject().put("timestamp", ts.toString()).put("channel", source + " / " + medium)
          .put("action", t.getString(5)).put("properties", attr));
      if (first == null) {
        first = attr;
      }
      last = attr;
    }
    JsonObject model = last == null ? new JsonObject().put("source", "direct").put("medium", "(none)") : last;
    return new JsonObject()
        .put("source", model.getString("source"))
        .put("medium", model.getString("medium"))
        .put("campaign", model.getString("campaign"))
        .put("term", model.getString("term"))
        .put("content", model.getString("content"))
        .put("firstTouch", first)
        .put("lastTouch", last)
        .put("touchpoints", points);
  }
}
