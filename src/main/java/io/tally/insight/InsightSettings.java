package io.tally.insight;

import io.tally.error.ApiError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A project's insight thresholds and alert webhook ({@code GET/PUT /v1/insights/settings}, stored in
 * {@code project_settings}); every absent key takes its default. docs/queries.md "Insights" lists them. The webhook URL is
 * shown whole to an admin key only: its path and query usually hold the receiver's secret.
 */
record InsightSettings(JsonObject values) {
  /** name → default; numbers are thresholds, lists are funnel steps / anomaly metrics, webhookUrl a URL or null. */
  static final Map<String, Object> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("userRetentionBelow", 0.5);
    DEFAULTS.put("userSpendAbove", 100.0);
    DEFAULTS.put("userErrorRateAbove", 0.1);
    DEFAULTS.put("userMinMessages", 10.0);
    DEFAULTS.put("expensiveModelShare", 0.8);
    DEFAULTS.put("cheaperModelRatio", 0.5);
    DEFAULTS.put("cheaperModelMinMessages", 20.0);
    DEFAULTS.put("errorRateAbove", 0.05);
    DEFAULTS.put("activeUsersChange", 0.2);
    DEFAULTS.put("costSpikeRatio", 2.0);
    DEFAULTS.put("costSpikeMin", 1.0);
    DEFAULTS.put("slowProviderRatio", 1.5);
    DEFAULTS.put("funnelSteps", List.of("page_view", "conversation_created", "message_sent",
        "conversation_completed"));
    DEFAULTS.put("funnelWindowSeconds", 86_400.0);
    DEFAULTS.put("anomalyMetrics", List.copyOf(new java.util.TreeSet<>(AnomalyQuery.METRICS)));
    DEFAULTS.put("maxAnomalyInsights", 20.0);
    DEFAULTS.put("webhookUrl", null);
  }

  static final InsightSettings DEFAULT = new InsightSettings(new JsonObject());

  double num(String key) {
    Object v = values.getValue(key);
    return v instanceof Number n ? n.doubleValue() : ((Number) DEFAULTS.get(key)).doubleValue();
  }

  @SuppressWarnings("unchecked")
  List<String> list(String key) {
    Object v = values.getValue(key);
    if (v instanceof JsonArray a) {
      return a.stream().map(String::valueOf).toList();
    }
    return (List<String>) DEFAULTS.get(key);
  }

  String webhookUrl() {
    return values.getString("webhookUrl");
  }

  /** Every setting with its effective value, the webhook URL redacted ({@link WebhookUrl#redacted()}). */
  JsonObject effective() {
    return effective(false);
  }

  /** Every setting with its effective value; the webhook URL whole only when {@code whole} (an admin asks). */
  JsonObject effective(boolean whole) {
    JsonObject o = new JsonObject();
    DEFAULTS.forEach((k, d) -> {
      Object v = values.getValue(k);
      if (v == null) {
        v = d instanceof List<?> l ? new JsonArray(new java.util.ArrayList<>(l)) : d;
      }
      o.put(k, v);
    });
    if (!whole && o.getValue("webhookUrl") instanceof String url) {
      o.put("webhookUrl", WebhookUrl.redact(url));
    }
    return o;
  }

  /** Validates a settings body: known keys only, each of the right kind; 400 naming the field. */
  static InsightSettings parse(JsonObject body) {
    if (body == null) {
      throw ApiError.badRequest("body", "the body must be a JSON object of settings");
    }
    JsonObject out = new JsonObject();
    for (String k : body.fieldNames()) {
      if (!DEFAULTS.containsKey(k)) {
        throw ApiError.badRequest(k, "unknown setting '" + (k.length() > 60 ? k.substring(0, 60) : k) + "': one of "
            + String.join(", ", DEFAULTS.keySet()));
      }
      Object v = body.getValue(k);
      Object d = DEFAULTS.get(k);
      if (v == null) {
        continue;
      }
      if (k.equals("webhookUrl")) {
        if (!(v instanceof String s) || s.length() > 2000) {
          throw ApiError.badRequest(k, "webhookUrl must be an http(s) URL of at most 2000 characters, or null");
        }
        try {
          WebhookUrl.parse(s);
        } catch (IllegalArgumentException e) {
          throw ApiError.badRequest(k, "webhookUrl must be an http(s) URL with a host: " + e.getMessage());
        }
      } else if (d instanceof List<?>) {
        if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > 10
            || !a.stream().allMatch(x -> x instanceof String s && !s.isBlank() && s.length() <= 200)) {
          throw ApiError.badRequest(k, k + " must be an array of 1 to 10 non-empty strings");
        }
        if (k.equals("anomalyMetrics")) {
          for (Object m : a) {
            if (!AnomalyQuery.METRICS.contains(m)) {
              throw ApiError.badRequest(k, "anomalyMetrics: unknown metric '" + m + "': one of "
                  + String.join(", ", new java.util.TreeSet<>(AnomalyQuery.METRICS)));
            }
          }
        } else if (a.size() < 2) {
          throw ApiError.badRequest(k, "funnelSteps needs 2 to 10 event types");
        }
      } else if (!(v instanceof Number n) || n.doubleValue() < 0 || Double.isNaN(n.doubleValue())
          || n.doubleValue() > 1e12) {
        throw ApiError.badRequest(k, k + " must be a non-negative number");
      }
      out.put(k, v);
    }
    return new InsightSettings(out);
  }
}
