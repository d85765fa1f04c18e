package io.tally.insight;

import io.tally.error.ApiError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A behaviour pattern (the seed's {@code BehaviorPattern} / {@code PatternDefinition}): conditions on per-person
 * features over a window of {@code timeWindow} days, optional weights (a person matches when the weighted share of
 * satisfied conditions reaches {@code threshold}), {@code minOccurrences} counted as {@code aggregation} says, and
 * the confidence a backtest must exceed for the pattern to be reported.
 */
public record PatternDef(String id, String name, String description, String type, List<Condition> conditions,
                  int timeWindow, long minOccurrences, String aggregation, double threshold, double minConfidence,
                  List<String> recommendations, boolean builtIn, JsonObject texts) {

  public record Condition(String field, String operator, Object value, double weight) {
    JsonObject toJson() {
      JsonObject o = new JsonObject().put("field", field).put("operator", operator).put("value", value);
      if (weight != 1.0) {
        o.put("weight", weight);
      }
      return o;
    }
  }

  /** Numeric per-person fields (see docs/queries.md "Behaviour patterns"). */
  static final Set<String> NUMERIC = Set.of("last_activity_days", "session_frequency", "messages_per_day",
      "session_duration", "usage_frequency", "feature_adoption", "cost", "error_rate", "tokens_per_message",
      "events", "messages", "revenue", "sessions", "tokens");
  /** Per-person text-array fields (distinct values over the window). */
  public static final Set<String> ARRAYS = Set.of("providers", "models", "features");
  /** {@code feature_usage_rate.<feature>}: the person's uses of that feature ÷ the person's events. */
  public static final String FEATURE_RATE = "feature_usage_rate";
  static final List<String> OPERATORS = List.of("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains");
  static final List<String> TYPES = List.of("usage", "engagement", "retention", "churn", "conversion");
  static final List<String> AGGREGATIONS = List.of("count", "sum", "average", "unique");
  static final int MAX_CONDITIONS = 20;
  static final int MAX_WINDOW_DAYS = 365;
  static final int MAX_PATTERNS = 100;
  private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

  /** The seed's four patterns, with its conditions, windows, thresholds (reported above 0.7/0.8/0.6/0.5). */
  static final List<PatternDef> BUILT_IN = List.of(
      new PatternDef("churn-risk", "Churn risk", "Users at risk of churning", "churn",
          List.of(new Condition("last_activity_days", "gt", 7, 1), new Condition("session_frequency", "lt", 1, 1)),
          30, 1, "unique", 1.0, 0.7, List.of("Launch a re-engagement campaign", "Offer incentives to stay",
              "Contact the users at risk"), true,
          fr("Risque de churn", "Utilisateurs à risque de désabonnement", "Lancer une campagne de réengagement",
              "Offrir des incitations à rester", "Contacter les utilisateurs à risque")),
      new PatternDef("power-users", "Power users", "Very active users", "engagement",
          List.of(new Condition("messages_per_day", "gt", 20, 1), new Condition("session_duration", "gt", 3600, 1)),
          7, 5, "count", 1.0, 0.8, List.of("Create a VIP programme", "Ask for detailed feedback",
              "Offer priority access"), true,
          fr("Power users", "Utilisateurs très actifs", "Créer un programme VIP", "Demander des feedbacks détaillés",
              "Offrir un accès prioritaire")),
      new PatternDef("conversion-ops", "Conversion opportunities", "Users ready to convert", "conversion",
          List.of(new Condition("usage_frequency", "gte", 10, 1), new Condition("feature_adoption", "gte", 0.7, 1)),
          14, 3, "unique", 1.0, 0.6, List.of("Send targeted offers", "Offer a personalised demo",
              "Simplify the conversion process"), true,
          fr("Opportunités de conversion", "Utilisateurs prêts à convertir", "Envoyer des offres ciblées",
              "Proposer une démo personnalisée", "Simplifier le processus de conversion")),
      new PatternDef("feature-gaps", "Feature adoption gaps", "Under-used features", "usage",
          List.of(new Condition(FEATURE_RATE, "lt", 0.1, 1)),
          30, 1, "unique", 1.0, 0.5, List.of("Improve feature discovery", "Create tutorials",
              "Simplify the interface"), true,
          fr("Gaps d'adoption de fonctionnalités", "Fonctionnalités sous-utilisées",
              "Améliorer la découverte des fonctionnalités", "Créer des tutoriels", "Simplifier l'interface")));

  private static JsonObject fr(String name, String description, String... recommendations) {
    return new JsonObject().put("fr", new JsonObject().put("name", name).put("description", description)
        .put("recommendations", new JsonArray(List.of((Object[]) recommendations))));
  }

  static PatternDef builtIn(String id) {
    return BUILT_IN.stream().filter(p -> p.id.equals(id)).findFirst().orElse(null);
  }

  boolean featureGap() {
    return builtIn && id.equals("feature-gaps");
  }

  String name(boolean french) {
    return french && texts.getJsonObject("fr") != null ? texts.getJsonObject("fr").getString("name", name) : name;
  }

  String description(boolean french) {
    return french && texts.getJsonObject("fr") != null
        ? texts.getJsonObject("fr").getString("description", description) : description;
  }

  JsonArray recommendations(boolean french) {
    if (french && texts.getJsonObject("fr") != null && texts.getJsonObject("fr").getJsonArray("recommendations") != null) {
      return texts.getJsonObject("fr").getJsonArray("recommendations");
    }
    return new JsonArray(new ArrayList<>(recommendations));
  }

  JsonObject definitionJson() {
    JsonArray cs = new JsonArray();
    conditions.forEach(c -> cs.add(c.toJson()));
    return new JsonObject().put("conditions", cs).put("timeWindow", timeWindow).put("minOccurrences", minOccurrences)
        .put("aggregation", aggregation).put("threshold", threshold);
  }

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("name", name).put("description", description).put("type", type)
        .put("pattern", definitionJson()).put("minConfidence", minConfidence)
        .put("recommendations", new JsonArray(new ArrayList<>(recommendations))).put("builtIn", builtIn)
        .put("texts", texts);
  }

  /** Validates a custom pattern (POST /v1/patterns); every problem is a 400 naming the field. */
  static PatternDef parse(JsonObject body, String generatedId) {
    if (body == null) {
      throw ApiError.badRequest("body", "the body must be a JSON object {name, type, pattern: {conditions, "
          + "timeWindow, minOccurrences, aggregation}}");
    }
    String id = body.getValue("id") == null ? generatedId : str(body, "id", 64);
    if (!ID.matcher(id).matches()) {
      throw ApiError.badRequest("id", "id must be 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a "
          + "letter or digit");
    }
    if (builtIn(id) != null) {
      throw new ApiError(409, "conflict", "id '" + id + "' is a built-in pattern", "id", null, null);
    }
    String name = str(body, "name", 200);
    String description = body.getValue("description") == null ? "" : str(body, "description", 1000);
    String type = body.getValue("type") == null ? "usage" : str(body, "type", 20);
    if (!TYPES.contains(type)) {
      throw ApiError.badRequest("type", "type must be one of " + String.join(", ", TYPES));
    }
    if (!(body.getValue("pattern") instanceof JsonObject p)) {
      throw ApiError.badRequest("pattern", "pattern must be an object {conditions, timeWindow, minOccurrences, "
          + "aggregation, threshold?}");
    }
    if (!(p.getValue("conditions") instanceof JsonArray cs) || cs.isEmpty() || cs.size() > MAX_CONDITIONS) {
      throw new ApiError(400, "invalid_request", "pattern.conditions must be an array of 1 to " + MAX_CONDITIONS
          + " conditions", "pattern.conditions", (long) MAX_CONDITIONS, null);
    }
    List<Condition> conditions = new ArrayList<>();
    for (int i = 0; i < cs.size(); i++) {
      conditions.add(condition(cs.getValue(i), "pattern.conditions[" + i + "]"));
    }
    int window = (int) integer(p, "pattern.timeWindow", "timeWindow", 1, MAX_WINDOW_DAYS, 30);
    long minOcc = integer(p, "pattern.minOccurrences", "minOccurrences", 0, 1_000_000_000L, 1);
    String agg = p.getValue("aggregation") == null ? "unique" : String.valueOf(p.getValue("aggregation"));
    if (!AGGREGATIONS.contains(agg)) {
      throw ApiError.badRequest("pattern.aggregation", "pattern.aggregation must be one of "
          + String.join(", ", AGGREGATIONS));
    }
    double threshold = fraction(p, "pattern.threshold", "threshold", 1.0, false);
    double minConfidence = fraction(body, "minConfidence", "minConfidence", 0.5, true);
    List<String> recs = new ArrayList<>();
    if (body.getValue("recommendations") != null) {
      if (!(body.getValue("recommendations") instanceof JsonArray ra) || ra.size() > 20) {
        throw ApiError.badRequest("recommendations", "recommendations must be an array of at most 20 strings");
      }
      for (int i = 0; i < ra.size(); i++) {
        if (!(ra.getValue(i) instanceof String s) || s.isBlank() || s.length() > 500) {
          throw ApiError.badRequest("recommendations[" + i + "]", "each recommendation must be a non-empty string "
              + "of at most 500 characters");
        }
        recs.add(s);
      }
    }
    return new PatternDef(id, name, description, type, conditions, window, minOcc, agg, threshold, minConfidence,
        recs, false, new JsonObject());
  }

  static PatternDef fromStored(String id, JsonObject d) {
    List<Condition> cs = new ArrayList<>();
    JsonObject p = d.getJsonObject("pattern");
    for (Object o : p.getJsonArray("conditions")) {
      JsonObject c = (JsonObject) o;
      cs.add(new Condition(c.getString("field"), c.getString("operator"), c.getValue("value"),
          c.getDouble("weight", 1.0)));
    }
    List<String> recs = new ArrayList<>();
    d.getJsonArray("recommendations", new JsonArray()).forEach(r -> recs.add((String) r));
    return new PatternDef(id, d.getString("name"), d.getString("description", ""), d.getString("type"), cs,
        p.getInteger("timeWindow"), p.getLong("minOccurrences"), p.getString("aggregation"),
        p.getDouble("threshold", 1.0), d.getDouble("minConfidence", 0.5), recs, false, new JsonObject());
  }

  private static Condition condition(Object raw, String at) {
    if (!(raw instanceof JsonObject c)) {
      throw ApiError.badRequest(at, at + " must be an object {field, operator, value, weight?}");
    }
    if (!(c.getValue("field") instanceof String field) || field.isBlank()) {
      throw ApiError.badRequest(at + ".field", at + ".field is required: one of " + fieldList());
    }
    boolean array = ARRAYS.contains(field);
    boolean rate = field.startsWith(FEATURE_RATE + ".") && field.length() > FEATURE_RATE.length() + 1
        && field.length() <= 200;
    if (!NUMERIC.contains(field) && !array && !rate) {
      throw ApiError.badRequest(at + ".field", "unknown field '" + (field.length() > 60 ? field.substring(0, 60)
          : field) + "': one of " + fieldList());
    }
    if (!(c.getValue("operator") instanceof String op) || !OPERATORS.contains(op)) {
      throw ApiError.badRequest(at + ".operator", at + ".operator must be one of " + String.join(", ", OPERATORS));
    }
    Object v = c.getValue("value");
    if (array) {
      switch (op) {
        case "contains", "eq", "ne" -> {
          if (!(v instanceof String)) {
            throw ApiError.badRequest(at + ".value", field + " " + op + " compares with a string");
          }
        }
        case "in", "not_in" -> stringArray(v, at + ".value", field + " " + op);
        default -> throw ApiError.badRequest(at + ".operator", field + " is a list of names: use contains, in, "
            + "not_in, eq or ne");
      }
    } else {
      switch (op) {
        case "in", "not_in" -> {
          if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > 1000
              || !a.stream().allMatch(x -> x instanceof Number)) {
            throw ApiError.badRequest(at + ".value", field + " " + op + " takes an array of 1 to 1000 numbers");
          }
        }
        case "contains" -> throw ApiError.badRequest(at + ".operator", field + " is a number: contains applies to "
            + "providers, models and features");
        default -> {
          if (!(v instanceof Number)) {
            throw ApiError.badRequest(at + ".value", field + " " + op + " compares with a number");
          }
        }
      }
    }
    Object w = c.getValue("weight", 1.0);
    if (!(w instanceof Number wn) || !(wn.doubleValue() > 0) || wn.doubleValue() > 1000) {
      throw ApiError.badRequest(at + ".weight", at + ".weight must be a number above 0 and at most 1000");
    }
    return new Condition(field, op, v, wn.doubleValue());
  }

  private static void stringArray(Object v, String at, String what) {
    if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > 1000
        || !a.stream().allMatch(x -> x instanceof String)) {
      throw ApiError.badRequest(at, what + " takes an array of 1 to 1000 strings");
    }
  }

  private static String fieldList() {
    List<String> all = new ArrayList<>(NUMERIC);
    all.addAll(ARRAYS);
    all.add(FEATURE_RATE + ".<feature>");
    all.sort(null);
    return String.join(", ", all);
  }

  private static String str(JsonObject o, String field, int max) {
    if (!(o.getValue(field) instanceof String s) || s.isBlank() || s.length() > max) {
      throw ApiError.badRequest(field, field + " must be a non-empty string of at most " + max + " characters");
    }
    return s;
  }

  private static long integer(JsonObject o, String at, String key, long min, long max, long dflt) {
    Object v = o.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < min
        || n.longValue() > max) {
      throw new ApiError(400, "invalid_request", at + " must be an integer from " + min + " to " + max, at, max,
          null);
    }
    return n.longValue();
  }

  private static double fraction(JsonObject o, String at, String key, double dflt, boolean zeroOk) {
    Object v = o.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n) || n.doubleValue() > 1 || n.doubleValue() < 0 || (!zeroOk && n.doubleValue() == 0)) {
      throw ApiError.badRequest(at, at + " must be a number " + (zeroOk ? "from 0" : "above 0") + " to 1");
    }
    return n.doubleValue();
  }
}
