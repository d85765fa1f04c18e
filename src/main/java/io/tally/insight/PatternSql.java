package io.tally.insight;

import io.tally.query.Agg;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Tuple;

import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL path of pattern detection (when the index is not loaded, or {@code index=false}): the features of each
 * person over a window from the rollups, a pattern's conditions and its outcome as SQL over them.
 */
final class PatternSql {
  /** Message events: the ones tokens, cost, providers and models are read from (as in UserAnalytics). */
  private static final String MSG = "('message_sent', 'message_received')";

  private PatternSql() {
  }

  /** CTEs {@code <n>_d} (rollup rows), {@code <n>} (one row of features per person active in the window). */
  static String features(String n, PatternEngine.Window w, Tuple t, List<String> rateFeatures) {
    t.addLocalDate(w.a()).addLocalDate(w.b());
    int ia = t.size() - 1;
    int ib = t.size();
    t.addOffsetDateTime(Agg.odt(w.a().atStartOfDay(ZoneOffset.UTC).toInstant()))
        .addOffsetDateTime(Agg.odt(w.b().atStartOfDay(ZoneOffset.UTC).toInstant()));
    int sa = t.size() - 1;
    int sb = t.size();
    StringBuilder rates = new StringBuilder();
    for (int i = 0; i < rateFeatures.size(); i++) {
      t.addString(rateFeatures.get(i));
      rates.append(", coalesce(sum(events) FILTER (WHERE feat = $").append(t.size())
          .append("), 0)::float8 / sum(events) AS fr_").append(i);
    }
    return n + "_d AS (SELECT user_key, day, type, provider, model, events, tokens, cost, amount, " + PatternEngine.FEAT + " AS feat "
        + "FROM user_daily WHERE project_id = $1 AND day >= $" + ia + " AND day < $" + ib + "), "
        + n + "_s AS (SELECT coalesce(user_id, anonymous_id) AS user_key, count(*) AS sessions, "
        + "avg(duration_ms) / 1000.0 AS dur FROM sessions WHERE project_id = $1 AND started_at >= $" + sa
        + " AND started_at < $" + sb + " AND coalesce(user_id, anonymous_id) IS NOT NULL GROUP BY 1), "
        + n + "_n AS (SELECT count(DISTINCT feat) AS n FROM " + n + "_d), "
        + n + " AS (SELECT g.*, coalesce(s.sessions, 0) AS sessions, s.dur AS session_duration, "
        + "coalesce(s.sessions, 0) / (" + w.days() + " / 7.0) AS session_frequency, "
        + "g.sent::float8 / g.usage_frequency AS messages_per_day, "
        + "CASE WHEN g.sent > 0 THEN g.errors::float8 / g.sent END AS error_rate, "
        + "CASE WHEN g.messages > 0 THEN g.tokens / g.messages END AS tokens_per_message, "
        + "CASE WHEN (SELECT n FROM " + n + "_n) > 0 THEN cardinality(g.features)::float8 / (SELECT n FROM " + n
        + "_n) ELSE 0 END AS feature_adoption "
        + "FROM (SELECT user_key, ($" + ib + "::date - 1) - max(day) AS last_activity_days, "
        + "count(DISTINCT day) AS usage_frequency, sum(events) AS events, "
        + "coalesce(sum(events) FILTER (WHERE type = 'message_sent'), 0) AS sent, "
        + "coalesce(sum(events) FILTER (WHERE type IN " + MSG + "), 0) AS messages, "
        + "coalesce(sum(tokens) FILTER (WHERE type IN " + MSG + "), 0) AS tokens, "
        + "coalesce(sum(cost) FILTER (WHERE type IN " + MSG + "), 0) AS cost, "
        + "coalesce(sum(amount) FILTER (WHERE type = 'payment'), 0) AS revenue, "
        + "coalesce(sum(events) FILTER (WHERE type = 'error'), 0) AS errors, "
        + "coalesce(array_agg(DISTINCT provider) FILTER (WHERE provider <> '' AND type IN " + MSG + "), '{}') "
        + "AS providers, "
        + "coalesce(array_agg(DISTINCT model) FILTER (WHERE model <> '' AND type IN " + MSG + "), '{}') AS models, "
        + "coalesce(array_agg(DISTINCT feat) FILTER (WHERE feat IS NOT NULL), '{}') AS features" + rates
        + " FROM " + n + "_d GROUP BY user_key) g LEFT JOIN " + n + "_s s USING (user_key))";
  }

  /** Features a pattern's {@code feature_usage_rate.<f>} conditions need, in order. */
  static List<String> rateFeatures(PatternDef p) {
    List<String> out = new ArrayList<>();
    for (PatternDef.Condition c : p.conditions()) {
      if (c.field().startsWith(PatternDef.FEATURE_RATE + ".")) {
        String f = c.field().substring(PatternDef.FEATURE_RATE.length() + 1);
        if (!out.contains(f)) {
          out.add(f);
        }
      }
    }
    return out;
  }

  /** The boolean SQL of "person x matches p" (conditions, weights, threshold, minOccurrences). */
  static String match(PatternDef p, String x, Tuple t, List<String> rateFeatures) {
    List<String> terms = new ArrayList<>();
    double total = 0;
    for (PatternDef.Condition c : p.conditions()) {
      terms.add(c.weight() + " * (coalesce(" + condition(c, x, t, rateFeatures) + ", false))::int");
      total += c.weight();
    }
    String occ = switch (p.aggregation()) {
      case "count" -> x + ".events";
      case "sum" -> x + ".sent";
      case "average" -> x + ".events::float8 / " + x + ".usage_frequency";
      default -> x + ".usage_frequency";
    };
    return "((" + String.join(" + ", terms) + ") / " + total + " >= " + (p.threshold() - 1e-9) + " AND " + occ
        + " >= " + p.minOccurrences() + ")";
  }

  static String condition(PatternDef.Condition c, String x, Tuple t, List<String> rateFeatures) {
    String col;
    if (c.field().startsWith(PatternDef.FEATURE_RATE + ".")) {
      col = x + ".fr_" + rateFeatures.indexOf(c.field().substring(PatternDef.FEATURE_RATE.length() + 1));
    } else {
      col = x + "." + c.field();
    }
    if (PatternDef.ARRAYS.contains(c.field())) {
      switch (c.operator()) {
        case "in", "not_in" -> t.addArrayOfString(((JsonArray) c.value()).stream().map(String::valueOf)
            .toArray(String[]::new));
        default -> t.addString((String) c.value());
      }
      int k = t.size();
      return switch (c.operator()) {
        case "in" -> "(" + col + " && $" + k + "::text[])";
        case "not_in" -> "(NOT (" + col + " && $" + k + "::text[]))";
        case "ne" -> "(NOT ($" + k + "::text = ANY(" + col + ")))";
        default -> "($" + k + "::text = ANY(" + col + "))";
      };
    }
    if (c.operator().equals("in") || c.operator().equals("not_in")) {
      t.addArrayOfDouble(((JsonArray) c.value()).stream().map(v -> ((Number) v).doubleValue())
          .toArray(Double[]::new));
      String in = "(" + col + "::float8 = ANY($" + t.size() + "::float8[]))";
      return c.operator().equals("in") ? in : "(NOT " + in + ")";
    }
    t.addDouble(((Number) c.value()).doubleValue());
    String op = switch (c.operator()) {
      case "eq" -> "=";
      case "ne" -> "<>";
      case "gt" -> ">";
      case "gte" -> ">=";
      case "lt" -> "<";
      default -> "<=";
    };
    return "(" + col + "::float8 " + op + " $" + t.size() + "::float8)";
  }

  /** The outcome a backtest checks for a person y matched at the start of the window that followed. */
  static String outcome(PatternDef p, String y, Tuple t, List<String> conversionTypes) {
    return switch (p.type()) {
      case "churn" -> "(" + y + ".user_key NOT IN (SELECT user_key FROM cur))";
      case "retention" -> "(" + y + ".user_key IN (SELECT user_key FROM cur))";
      case "conversion" -> {
        t.addArrayOfString(conversionTypes.toArray(String[]::new));
        yield "(" + y + ".user_key IN (SELECT user_key FROM cur_d WHERE type = ANY($" + t.size() + ")))";
      }
      case "engagement" -> "(" + y + ".user_key IN (SELECT user_key FROM cur WHERE sent > 0 AND sent >= "
          + "(SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY sent) FROM cur)))";
      default -> null; // usage: matched again (needs the current match: built by the caller)
    };
  }

  static String outcomeName(PatternDef p) {
    return switch (p.type()) {
      case "churn" -> "churned (no activity in the following window)";
      case "retention" -> "stayed active in the following window";
      case "conversion" -> "converted in the following window";
      case "engagement" -> "in the top decile by messages sent in the following window";
      default -> "still matched at the end of the following window";
    };
  }

}
