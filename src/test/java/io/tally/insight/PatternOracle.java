package io.tally.insight;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The test's own computation of the pattern features and matches, straight from the generated events and the
 * README's definitions (no SQL, no rollups).
 */
final class PatternOracle {
  record Ev(String person, String session, Instant at, String type, JsonObject props) {
    LocalDate day() {
      return at.atOffset(ZoneOffset.UTC).toLocalDate();
    }

    boolean message() {
      return type.equals("message_sent") || type.equals("message_received");
    }

    String feat() {
      return switch (type) {
        case "feature_used" -> props.getValue("feature") instanceof String s && !s.isEmpty() ? s : null;
        case "message_sent" -> "chat";
        case "share_created" -> "share";
        case "export_generated" -> "export";
        case "customization_made" -> "settings";
        default -> null;
      };
    }
  }

  static final Set<String> CONVERSIONS = Set.of("signup", "subscription", "upgrade", "referral", "payment");

  final List<Ev> events = new ArrayList<>();

  /** Per person features over the days [a, b). */
  Map<String, Map<String, Object>> features(LocalDate a, LocalDate b) {
    Map<String, List<Ev>> by = new TreeMap<>();
    Set<String> catalogue = new HashSet<>();
    for (Ev e : events) {
      if (!e.day().isBefore(a) && e.day().isBefore(b)) {
        by.computeIfAbsent(e.person(), k -> new ArrayList<>()).add(e);
        if (e.feat() != null) {
          catalogue.add(e.feat());
        }
      }
    }
    // sessions: whole, counted in the window holding their start
    Map<String, long[]> sessions = new HashMap<>();
    Map<String, String> sessionPerson = new HashMap<>();
    for (Ev e : events) {
      long[] s = sessions.computeIfAbsent(e.session(), k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
      s[0] = Math.min(s[0], e.at().toEpochMilli());
      s[1] = Math.max(s[1], e.at().toEpochMilli());
      sessionPerson.put(e.session(), e.person());
    }
    long wa = a.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    long wb = b.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    Map<String, List<Long>> durations = new HashMap<>();
    sessions.forEach((id, s) -> {
      if (s[0] >= wa && s[0] < wb) {
        durations.computeIfAbsent(sessionPerson.get(id), k -> new ArrayList<>()).add(s[1] - s[0]);
      }
    });
    int days = (int) (b.toEpochDay() - a.toEpochDay());
    Map<String, Map<String, Object>> out = new TreeMap<>();
    by.forEach((person, evs) -> {
      Map<String, Object> f = new HashMap<>();
      Set<LocalDate> active = new HashSet<>();
      long sent = 0;
      long msgs = 0;
      long errors = 0;
      double tokens = 0;
      double cost = 0;
      double revenue = 0;
      Set<String> providers = new TreeSet<>();
      Set<String> models = new TreeSet<>();
      Map<String, Long> feats = new HashMap<>();
      LocalDate last = null;
      for (Ev e : evs) {
        active.add(e.day());
        last = last == null || e.day().isAfter(last) ? e.day() : last;
        if (e.type().equals("message_sent")) {
          sent++;
        }
        if (e.type().equals("error")) {
          errors++;
        }
        if (e.message()) {
          msgs++;
          tokens += e.props().getDouble("tokens", 0.0);
          cost += e.props().getDouble("cost", 0.0);
          if (e.props().getString("provider") != null) {
            providers.add(e.props().getString("provider"));
          }
          if (e.props().getString("model") != null) {
            models.add(e.props().getString("model"));
          }
        }
        if (e.type().equals("payment")) {
          revenue += e.props().getDouble("amount", 0.0);
        }
        if (e.feat() != null) {
          feats.merge(e.feat(), 1L, Long::sum);
        }
      }
      List<Long> durs = durations.getOrDefault(person, List.of());
      f.put("last_activity_days", (double) (b.minusDays(1).toEpochDay() - last.toEpochDay()));
      f.put("usage_frequency", (double) active.size());
      f.put("events", (double) evs.size());
      f.put("sent", (double) sent);
      f.put("messages", (double) msgs);
      f.put("tokens", tokens);
      f.put("cost", cost);
      f.put("revenue", revenue);
      f.put("sessions", (double) durs.size());
      f.put("session_frequency", durs.size() / (days / 7.0));
      f.put("session_duration", durs.isEmpty() ? null : durs.stream().mapToLong(x -> x).average().orElse(0) / 1000.0);
      f.put("messages_per_day", (double) sent / active.size());
      f.put("error_rate", sent > 0 ? (double) errors / sent : null);
      f.put("tokens_per_message", msgs > 0 ? tokens / msgs : null);
      f.put("feature_adoption", catalogue.isEmpty() ? 0.0 : (double) feats.size() / catalogue.size());
      f.put("providers", providers);
      f.put("models", models);
      f.put("features", feats.keySet());
      for (Map.Entry<String, Long> x : feats.entrySet()) {
        f.put("feature_usage_rate." + x.getKey(), (double) x.getValue() / evs.size());
      }
      f.put("_feats", feats);
      out.put(person, f);
    });
    return out;
  }

  /** Persons matching a pattern definition ({conditions, minOccurrences, aggregation, threshold}). */
  static Set<String> matches(Map<String, Map<String, Object>> features, JsonObject def) {
    Set<String> out = new TreeSet<>();
    features.forEach((person, f) -> {
      double total = 0;
      double sat = 0;
      for (Object o : def.getJsonArray("conditions")) {
        JsonObject c = (JsonObject) o;
        double w = c.getDouble("weight", 1.0);
        total += w;
        if (holds(f, c)) {
          sat += w;
        }
      }
      double occ = switch (def.getString("aggregation", "unique")) {
        case "count" -> (double) f.get("events");
        case "sum" -> (double) f.get("sent");
        case "average" -> (double) f.get("events") / (double) f.get("usage_frequency");
        default -> (double) f.get("usage_frequency");
      };
      if (sat / total >= def.getDouble("threshold", 1.0) - 1e-9 && occ >= def.getLong("minOccurrences", 1L)) {
        out.add(person);
      }
    });
    return out;
  }

  @SuppressWarnings("unchecked")
  static boolean holds(Map<String, Object> f, JsonObject c) {
    String field = c.getString("field");
    String op = c.getString("operator");
    Object v = c.getValue("value");
    Object x = f.get(field);
    if (field.startsWith("feature_usage_rate.") && x == null) {
      x = 0.0;
    }
    if (x instanceof Set<?> set) {
      Set<String> s = (Set<String>) set;
      return switch (op) {
        case "in" -> ((JsonArray) v).stream().anyMatch(s::contains);
        case "not_in" -> ((JsonArray) v).stream().noneMatch(s::contains);
        case "ne" -> !s.contains(v);
        default -> s.contains(v);
      };
    }
    if (x == null) {
      return false;
    }
    double d = (double) x;
    return switch (op) {
      case "eq" -> d == ((Number) v).doubleValue();
      case "ne" -> d != ((Number) v).doubleValue();
      case "gt" -> d > ((Number) v).doubleValue();
      case "gte" -> d >= ((Number) v).doubleValue();
      case "lt" -> d < ((Number) v).doubleValue();
      case "lte" -> d <= ((Number) v).doubleValue();
      case "in" -> ((JsonArray) v).stream().anyMatch(n -> ((Number) n).doubleValue() == d);
      case "not_in" -> ((JsonArray) v).stream().noneMatch(n -> ((Number) n).doubleValue() == d);
      default -> throw new IllegalArgumentException(op);
    };
  }

  /** Persons with a conversion event in [a, b). */
  Set<String> converted(LocalDate a, LocalDate b) {
    Set<String> out = new HashSet<>();
    for (Ev e : events) {
      if (!e.day().isBefore(a) && e.day().isBefore(b) && CONVERSIONS.contains(e.type())) {
        out.add(e.person());
      }
    }
    return out;
  }

  /** Persons active in [a, b) whose messages sent reach the 90th percentile (percentile_disc) and are above 0. */
  static Set<String> topDecile(Map<String, Map<String, Object>> features) {
    List<Double> sent = new ArrayList<>();
    features.values().forEach(f -> sent.add((double) f.get("sent")));
    sent.sort(null);
    if (sent.isEmpty()) {
      return Set.of();
    }
    double p90 = sent.get((int) Math.ceil(0.9 * sent.size()) - 1);
    Set<String> out = new HashSet<>();
    features.forEach((p, f) -> {
      double s = (double) f.get("sent");
      if (s > 0 && s >= p90) {
        out.add(p);
      }
    });
    return out;
  }
}
