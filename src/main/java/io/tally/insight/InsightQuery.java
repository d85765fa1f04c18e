package io.tally.insight;

import io.tally.query.Agg;
import io.tally.query.Filters;
import io.tally.query.FunnelQuery;
import io.tally.query.PartTimes;
import io.tally.query.UsageQuery;
import io.tally.query.UserAnalyticsQuery;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The seed's {@code AnalyticsInsight}s, each with the metrics that triggered it, a severity, recommendations and its
 * texts in English or French. User insights read the user's analytics; global ones the usage metrics, anomalies,
 * a funnel, model costs, provider latency and the reported patterns. Thresholds: {@link InsightSettings}.
 */
final class InsightQuery {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(InsightQuery.class);
  private static final List<String> MSG = List.of("message_sent", "message_received");

  private final Pool pool;
  private final UserAnalyticsQuery user;
  private final UsageQuery usage;
  private final FunnelQuery funnel;
  private final AnomalyQuery anomalies;
  private final PatternEngine patterns;

  private final PatternEngine.ResultCache cache;

  InsightQuery(Pool pool, UserAnalyticsQuery user, UsageQuery usage, FunnelQuery funnel, AnomalyQuery anomalies,
               PatternEngine patterns, PatternEngine.ResultCache cache, long budgetMs) {
    this.budgetMs = budgetMs;
    this.pool = pool;
    this.cache = cache;
    this.user = user;
    this.usage = usage;
    this.funnel = funnel;
    this.anomalies = anomalies;
    this.patterns = patterns;
  }

  Future<InsightSettings> settings(String project) {
    return pool.preparedQuery("SELECT insights FROM project_settings WHERE project_id = $1")
        .execute(Tuple.of(project)).map(rows -> rows.size() == 0 ? InsightSettings.DEFAULT
            : new InsightSettings((JsonObject) rows.iterator().next().getValue(0)));
  }

  Future<JsonObject> saveSettings(JsonObject q) {
    InsightSettings s = InsightSettings.parse(q.getJsonObject("body"));
    return pool.preparedQuery("INSERT INTO project_settings (project_id, insights) VALUES ($1, $2) "
            + "ON CONFLICT (project_id) DO UPDATE SET insights = excluded.insights, updated_at = now()")
        .execute(Tuple.of(q.getString("projectId"), s.values())).map(r -> s.effective());
  }

  /** One insight: texts filled from {@code values}, metrics as given. */
  private static JsonObject insight(String type, String subject, String severity, boolean french,
                                    Map<String, Object> values, Map<String, Object> metrics, Instant to) {
    InsightTexts.Text t = InsightTexts.get(type, french);
    JsonObject m = new JsonObject();
    metrics.forEach(m::put);
    String day = to.minusMillis(1).toString().substring(0, 10);
    return new JsonObject().put("id", type + ":" + (subject == null ? "" : subject) + ":" + day).put("type", type)
        .put("subject", subject).put("severity", severity).put("title", InsightTexts.fill(t.title(), values))
        .put("description", InsightTexts.fill(t.description(), values))
        .put("recommendations", InsightTexts.recommendations(t, values)).put("metrics", m);
  }

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /**
   * How long a global insights answer waits for its slow parts (funnel, anomalies, patterns) when they are not
   * cached yet: a part not ready in time is listed in {@code pending} and keeps computing into the cache, so a
   * later call has it. 0 waits for everything (the periodic warm-up does).
   */
  private final long budgetMs;
  /**
   * Slow parts computing at once (more are reported pending without starting, so a burst cannot pile up): one answer's
   * worth (funnel, patterns, up to 7 anomaly metrics, plus room) since funnels and hourly distinct persons come from
   * the event timeline (tens of ms each at 10M events instead of 10 s of SQL).
   */
  static final int MAX_SLOW = 12;
  private int slowInFlight;
  private static final RuntimeException BUSY = new RuntimeException("busy");

  /** A slow part: gated by {@link #MAX_SLOW}, awaited at most the budget; null (and listed pending) otherwise. */
  private Future<JsonObject> slow(String name, long budget, List<String> pending,
                                  java.util.function.Function<java.util.function.Supplier<Future<JsonObject>>,
                                      Future<JsonObject>> cached, java.util.function.Supplier<Future<JsonObject>> compute) {
    Future<JsonObject> f = cached.apply(() -> {
      if (budget > 0 && slowInFlight >= MAX_SLOW) {
        return Future.failedFuture(BUSY);
      }
      slowInFlight++;
      return compute.get().onComplete(ar -> slowInFlight--);
    });
    if (budget <= 0 || f.isComplete() && f.failed() && f.cause() != BUSY) {
      return f;
    }
    return f.timeout(budget, java.util.concurrent.TimeUnit.MILLISECONDS).recover(err -> {
      if (f.isComplete() && f.failed() && f.cause() != BUSY) {
        return Future.failedFuture(err);
      }
      if (f.isComplete() && f.succeeded()) {
        return f;
      }
      pending.add(name);
      return Future.succeededFuture(null);
    });
  }

  Future<JsonObject> run(JsonObject q, ZoneId zone, InsightSettings s) {
    boolean fr = "fr".equals(q.getString("lang"));
    List<String> pending = java.util.Collections.synchronizedList(new ArrayList<>());
    Future<List<JsonObject>> out = q.getString("userId") != null ? forUser(q, zone, s, fr)
        : global(q, zone, s, fr, q.getLong("budgetMs", budgetMs), pending);
    return out.map(list -> {
      list.sort(Comparator.comparingInt((JsonObject i) -> rank(i.getString("severity"))).reversed());
      JsonObject r = new JsonObject().put("from", q.getString("from")).put("to", q.getString("to"))
          .put("lang", fr ? "fr" : "en").put("insights", new JsonArray(new ArrayList<>(list)))
          .put("settings", s.effective());
      if (!pending.isEmpty()) {
        List<String> p = new ArrayList<>(pending);
        p.sort(null);
        r.put("pending", new JsonArray(new ArrayList<>(p)));
      }
      if (q.getString("userId") != null) {
        r.put("userId", q.getString("userId"));
      }
      return r;
    });
  }

  static int rank(String severity) {
    return switch (severity) {
      case "high" -> 2;
      case "medium" -> 1;
      default -> 0;
    };
  }

  // ------------------------------------------------------------------------------------------------ user

  private Future<List<JsonObject>> forUser(JsonObject q, ZoneId zone, InsightSettings s, boolean fr) {
    String id = q.getString("userId");
    Instant to = Instant.parse(q.getString("to"));
    Future<JsonObject> ua = user.run(q.copy(), zone);
    Future<Map<String, double[]>> mine = userModels(q);
    Future<Map<String, double[]>> project = ua.compose(x -> Agg.run(pool, q.getString("projectId"),
        Instant.parse(q.getString("from")), to, Filters.NONE, MODEL, MSG).map(InsightQuery::models));
    return Future.all(ua, mine, project).map(v -> {
      JsonObject a = ua.result();
      List<JsonObject> list = new ArrayList<>();
      double retention = a.getJsonObject("activity").getDouble("retentionRate");
      if (retention < s.num("userRetentionBelow")) {
        list.add(insight("retention_warning", id, "medium", fr, map("threshold", s.num("userRetentionBelow")),
            map("retentionRate", retention, "daysActive", a.getJsonObject("activity").getValue("daysActive")), to));
      }
      double cost = a.getJsonObject("usage").getDouble("costIncurred");
      if (cost > s.num("userSpendAbove")) {
        list.add(insight("cost_optimization", id, "low", fr, map("threshold", s.num("userSpendAbove")),
            map("totalCost", cost), to));
      }
      double errorRate = a.getJsonObject("behavior").getDouble("errorRate");
      long sent = a.getJsonObject("usage").getLong("messagesSent");
      if (sent >= s.num("userMinMessages") && errorRate > s.num("userErrorRateAbove")) {
        list.add(insight("user_error_rate", id, "medium", fr, map("errorRate", errorRate,
            "threshold", s.num("userErrorRateAbove")), map("errorRate", errorRate, "messagesSent", sent), to));
      }
      cheaperModel(id, mine.result(), project.result(), cost, s, fr, to).ifPresent(list::add);
      return list;
    });
  }

  private static final Agg.Group MODEL = new Agg.Group("model", "model",
      "coalesce(tally_str(properties, 'model'), '')");
  private static final Agg.Group PROVIDER = new Agg.Group("provider", "provider",
      "coalesce(tally_str(properties, 'provider'), '')");

  /** model → {cost, message events}. */
  private static Map<String, double[]> models(List<Agg.Row2> rows) {
    Map<String, double[]> m = new HashMap<>();
    for (Agg.Row2 r : rows) {
      if (!r.key().isEmpty()) {
        double[] x = m.computeIfAbsent(r.key(), k -> new double[2]);
        x[0] += r.cost();
        x[1] += r.events();
      }
    }
    return m;
  }

  /** The user's cost and message events per model over the period (raw: one person's events are few). */
  private Future<Map<String, double[]>> userModels(JsonObject q) {
    return pool.preparedQuery("SELECT coalesce(tally_str(properties, 'model'), ''), "
            + "coalesce(sum(tally_num(properties, 'cost')), 0), count(*) FROM events WHERE project_id = $1 "
            + "AND ts >= $2 AND ts < $3 AND NOT is_bot AND type IN ('message_sent', 'message_received') "
            + "AND (user_id = $4 OR (user_id IS NULL AND anonymous_id = $4)) GROUP BY 1")
        .execute(Tuple.of(q.getString("projectId"), Agg.odt(Instant.parse(q.getString("from"))),
            Agg.odt(Instant.parse(q.getString("to"))), q.getString("userId")))
        .map(rows -> {
          Map<String, double[]> m = new HashMap<>();
          for (Row r : rows) {
            if (!r.getString(0).isEmpty()) {
              m.put(r.getString(0), new double[] {r.getDouble(1), r.getLong(2)});
            }
          }
          return m;
        });
  }

  private static java.util.Optional<JsonObject> cheaperModel(String id, Map<String, double[]> mine,
                                                            Map<String, double[]> project, double totalCost,
                                                            InsightSettings s, boolean fr, Instant to) {
    double spend = mine.values().stream().mapToDouble(x -> x[0]).sum();
    if (spend <= 0) {
      return java.util.Optional.empty();
    }
    Map.Entry<String, double[]> top = mine.entrySet().stream()
        .max(Comparator.comparingDouble((Map.Entry<String, double[]> e) -> e.getValue()[0])
            .thenComparing(Map.Entry::getKey, Comparator.reverseOrder())).orElseThrow();
    double share = top.getValue()[0] / spend;
    double[] topProject = project.get(top.getKey());
    if (share < s.num("expensiveModelShare") || topProject == null || topProject[1] == 0) {
      return java.util.Optional.empty();
    }
    double topPer = topProject[0] / topProject[1];
    String best = null;
    double bestPer = Double.MAX_VALUE;
    for (Map.Entry<String, double[]> e : new java.util.TreeMap<>(project).entrySet()) {
      if (e.getKey().equals(top.getKey()) || e.getValue()[1] < s.num("cheaperModelMinMessages")) {
        continue;
      }
      double per = e.getValue()[0] / e.getValue()[1];
      if (per <= s.num("cheaperModelRatio") * topPer && per < bestPer) {
        best = e.getKey();
        bestPer = per;
      }
    }
    if (best == null) {
      return java.util.Optional.empty();
    }
    double ratio = topPer == 0 ? 0 : bestPer / topPer;
    return java.util.Optional.of(insight("cheaper_model", id, "low", fr, map("model", top.getKey(), "cheaper", best,
            "modelShare", share, "ratio", ratio),
        map("modelShare", share, "modelCost", top.getValue()[0], "totalCost", totalCost,
            "costPerMessage", topPer, "cheaperCostPerMessage", bestPer), to));
  }

  // ------------------------------------------------------------------------------------------------ global

  private Future<List<JsonObject>> global(JsonObject q, ZoneId zone, InsightSettings s, boolean fr, long budget,
                                          List<String> pending) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    Instant prevFrom = from.minus(Duration.between(from, to));
    long t0 = System.nanoTime();
    List<JsonObject> list = java.util.Collections.synchronizedList(new ArrayList<>());

    Future<Void> metrics = usageInsights(project, from, to, s, fr, list);
    Future<Void> anomalyScan = anomalyInsights(q, zone, s, fr, list, from, to, budget, pending);
    Future<Void> funnelScan = funnelInsight(project, s, fr, list, from, to, budget, pending);
    Future<Void> costs = costSpikes(project, prevFrom, from, to, s, fr, list);
    Future<Void> slow = slowProvider(project, from, to, s, fr, list);
    Future<Void> pats = patternInsights(q, project, to, fr, budget, pending, list);
    List<Future<Void>> parts = List.of(metrics, anomalyScan, funnelScan, costs, slow, pats);
    PartTimes.log(LOG, () -> "global insights of " + project + " (budget " + budget + " ms, pending " + pending
        + ")", t0, List.of("usage", "anomalies", "funnel", "costs", "providers", "patterns"), parts);
    return Future.all(parts).map(v -> new ArrayList<>(list));
  }

  /** A high error rate, and a large change of active users against the previous period. */
  private Future<Void> usageInsights(String project, Instant from, Instant to, InsightSettings s, boolean fr,
                                     List<JsonObject> list) {
    return usage.run(new JsonObject().put("projectId", project).put("from", from.toString())
        .put("to", to.toString())).map(u -> {
          double er = u.getJsonObject("performance").getDouble("errorRate");
          if (er > s.num("errorRateAbove")) {
            list.add(insight("performance_alert", null, "high", fr, map("threshold", s.num("errorRateAbove"),
                "errorRate", er), map("errorRate", er), to));
          }
          JsonObject users = u.getJsonObject("users");
          long active = users.getLong("active");
          long prev = users.getLong("churned") + users.getLong("retained");
          if (prev > 0) {
            double change = (double) (active - prev) / prev;
            double limit = s.num("activeUsersChange");
            if (Math.abs(change) >= limit && limit > 0) {
              String type = change > 0 ? "active_users_growth" : "active_users_decline";
              String sev = change > 0 ? "low" : (-change >= 2 * limit ? "high" : "medium");
              list.add(insight(type, null, sev, fr, map("change", Math.abs(change)),
                  map("activeUsers", active, "previousActiveUsers", prev, "change", change), to));
            }
          }
          return null;
        });
  }

  /** Models whose cost grew by the settings' ratio against the previous period. */
  private Future<Void> costSpikes(String project, Instant prevFrom, Instant from, Instant to, InsightSettings s,
                                  boolean fr, List<JsonObject> list) {
    Future<List<Agg.Row2>> modelsNow = Agg.run(pool, project, from, to, Filters.NONE, MODEL, MSG);
    Future<List<Agg.Row2>> modelsPrev = Agg.run(pool, project, prevFrom, from, Filters.NONE, MODEL, MSG);
    return Future.all(modelsNow, modelsPrev).map(v -> {
      Map<String, double[]> now = models(modelsNow.result());
      Map<String, double[]> prev = models(modelsPrev.result());
      for (Map.Entry<String, double[]> e : new java.util.TreeMap<>(now).entrySet()) {
        double c = e.getValue()[0];
        double p = prev.containsKey(e.getKey()) ? prev.get(e.getKey())[0] : 0;
        if (p > 0 && c >= s.num("costSpikeMin") && c / p >= s.num("costSpikeRatio")) {
          double ratio = c / p;
          list.add(insight("cost_spike", e.getKey(), ratio >= 2 * s.num("costSpikeRatio") ? "high" : "medium", fr,
              map("model", e.getKey(), "cost", c, "previous", p, "ratio", ratio),
              map("cost", c, "previousCost", p, "ratio", ratio), to));
        }
      }
      return null;
    });
  }

  /** The provider answering slowest against the others (with at least two providers answering). */
  private Future<Void> slowProvider(String project, Instant from, Instant to, InsightSettings s, boolean fr,
                                    List<JsonObject> list) {
    return Agg.run(pool, project, from, to, Filters.NONE, PROVIDER, List.of("message_received"))
        .map(rows -> {
          Map<String, double[]> rt = new java.util.TreeMap<>();
          for (Agg.Row2 r : rows) {
            if (!r.key().isEmpty() && r.rtN() > 0) {
              double[] x = rt.computeIfAbsent(r.key(), k -> new double[2]);
              x[0] += r.rtSum();
              x[1] += r.rtN();
            }
          }
          if (rt.size() >= 2) {
            String slowest = null;
            double mean = -1;
            for (Map.Entry<String, double[]> e : rt.entrySet()) {
              double m = e.getValue()[0] / e.getValue()[1];
              if (m > mean) {
                mean = m;
                slowest = e.getKey();
              }
            }
            double sum = 0;
            double n = 0;
            for (Map.Entry<String, double[]> e : rt.entrySet()) {
              if (!e.getKey().equals(slowest)) {
                sum += e.getValue()[0];
                n += e.getValue()[1];
              }
            }
            double others = sum / n;
            double ratio = others == 0 ? 0 : mean / others;
            list.add(insight("slow_provider", slowest, ratio >= s.num("slowProviderRatio") ? "medium" : "low", fr,
                map("provider", slowest, "responseTime", mean, "others", others, "ratio", ratio),
                map("averageResponseTime", mean, "othersAverageResponseTime", others, "ratio", ratio), to));
          }
          return null;
        });
  }

  /** One insight per reported pattern (a slow part: skipped, and named pending, when it outlasts the budget). */
  private Future<Void> patternInsights(JsonObject q, String project, Instant to, boolean fr, long budget,
                                       List<String> pending, List<JsonObject> list) {
    return slow("patterns", budget, pending, c -> c.get(),
        () -> patterns.all(project).compose(defs -> patterns.detect(q, defs, fr))).map(d -> {
      if (d == null) {
        return null;
      }
      for (Object o : d.getJsonArray("patterns")) {
        JsonObject p = (JsonObject) o;
        String sev = p.getString("impact");
        list.add(insight("pattern", p.getString("id"), sev, fr, map("name", p.getString("name"),
                "frequency", p.getLong("frequency"), "share", p.getDouble("share"),
                "confidence", p.getDouble("confidence")),
            map("frequency", p.getLong("frequency"), "share", p.getDouble("share"),
                "confidence", p.getDouble("confidence")), to)
            .put("recommendations", p.getJsonArray("recommendations")).put("pattern", p.getString("id")));
      }
      return null;
    });
  }

  /** The worst step of the settings' funnel over the period's whole UTC days (a slow part, cached by those days). */
  private Future<Void> funnelInsight(String project, InsightSettings s, boolean fr, List<JsonObject> list, Instant from,
                                     Instant to, long budget, List<String> pending) {
    JsonArray steps = new JsonArray();
    s.list("funnelSteps").forEach(e -> steps.add(new JsonObject().put("event", e)));
    // over the whole UTC days of the period (the period itself when shorter): cached until a flush touches them
    Instant fa = from.truncatedTo(java.time.temporal.ChronoUnit.DAYS);
    if (fa.isBefore(from)) {
      fa = fa.plus(Duration.ofDays(1));
    }
    Instant fb = to.truncatedTo(java.time.temporal.ChronoUnit.DAYS);
    if (!fa.isBefore(fb)) {
      fa = from;
      fb = to;
    }
    JsonObject fq = new JsonObject().put("projectId", project).put("from", fa.toString()).put("to", fb.toString())
        .put("name", "insights").put("steps", steps).put("windowSeconds", (long) s.num("funnelWindowSeconds"));
    return slow("funnel_dropoff", budget, pending, c -> cache.get("funnel", fq, c),
        () -> funnel.run(fq)).map(f -> {
          if (f == null) {
            return null;
          }
          JsonArray st = f.getJsonArray("steps");
          int worst = -1;
          double worstShare = -1;
          for (int i = 1; i < st.size(); i++) {
            long before = st.getJsonObject(i - 1).getLong("users");
            if (before == 0) {
              continue;
            }
            double lost = 1.0 - (double) st.getJsonObject(i).getLong("users") / before;
            if (lost > worstShare) {
              worstShare = lost;
              worst = i;
            }
          }
          if (worst > 0 && worstShare > 0) {
            String step = st.getJsonObject(worst).getString("event");
            String previous = st.getJsonObject(worst - 1).getString("event");
            list.add(insight("funnel_dropoff", step, worstShare >= 0.5 ? "medium" : "low", fr,
                map("step", step, "previous", previous, "percentage", worstShare),
                map("dropOffRate", worstShare, "usersBefore", st.getJsonObject(worst - 1).getLong("users"),
                    "usersAfter", st.getJsonObject(worst).getLong("users"), "stepIndex", worst + 1), to));
          }
          return null;
        });
  }

  /**
   * Computes the cached slow parts of a period's global insights (the anomaly scans and the funnel, both over whole
   * buckets or days, so a flush of recent events leaves them cached) without the rest: the periodic warm-up calls this,
   * since the other parts are computed afresh by every answer and would be work thrown away (under ingestion they are
   * scans of the current hour's raw events that took CPU from the writer for seconds).
   */
  Future<Void> warm(JsonObject q, ZoneId zone, InsightSettings s) {
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    List<JsonObject> list = java.util.Collections.synchronizedList(new ArrayList<>());
    List<String> pending = java.util.Collections.synchronizedList(new ArrayList<>());
    return Future.all(anomalyInsights(q, zone, s, false, list, from, to, 0, pending),
        funnelInsight(q.getString("projectId"), s, false, list, from, to, 0, pending)).mapEmpty();
  }

  /**
   * The anomaly scan of one metric for a period's insights, with {@code from} moved back to the start of its bucket:
   * the scan judges whole buckets, so the answer is the same, and the cache key stays the same for every call whose
   * period starts in that bucket (a dashboard's default "last 30 days" moves its start on every call).
   */
  static JsonObject anomalyQuery(String project, String metric, Instant from, Instant end, boolean hourly,
                                 ZoneId zone) {
    Instant start = hourly ? from.truncatedTo(java.time.temporal.ChronoUnit.HOURS)
        : from.atZone(zone).toLocalDate().atStartOfDay(zone).toInstant();
    return new JsonObject().put("projectId", project).put("from", start.toString()).put("to", end.toString())
        .put("metric", metric).put("granularity", hourly ? "hour" : "day").put("filters", new JsonObject());
  }

  private Future<Void> anomalyInsights(JsonObject q, ZoneId zone, InsightSettings s, boolean fr,
                                       List<JsonObject> list, Instant from, Instant to, long budget,
                                       List<String> pending) {
    boolean hourly = Duration.between(from, to).compareTo(Duration.ofDays(3)) <= 0;
    List<Future<JsonObject>> runs = new ArrayList<>();
    // only complete buckets are judged: the period's end is cut to the last bucket start, so the answer is
    // cached (and shared by every call until the next bucket completes or a flush touches it)
    Instant end = hourly ? to.truncatedTo(java.time.temporal.ChronoUnit.HOURS)
        : to.atZone(zone).toLocalDate().atStartOfDay(zone).toInstant();
    if (!end.isAfter(from)) {
      end = to;
    }
    for (String metric : s.list("anomalyMetrics")) {
      JsonObject aq = anomalyQuery(q.getString("projectId"), metric, from, end, hourly, zone);
      runs.add(slow("anomaly:" + metric, budget, pending, c -> cache.get("anomalies", aq, c),
          () -> anomalies.run(aq, zone)));
    }
    Function<JsonObject, Double> score = o -> o.getDouble("score") == null ? 0.0 : Math.abs(o.getDouble("score"));
    return Future.all(new ArrayList<>(runs)).map(v -> {
      List<JsonObject> found = new ArrayList<>();
      for (Future<JsonObject> f : runs) {
        JsonObject r = f.result();
        if (r == null) {
          continue;
        }
        for (Object o : r.getJsonArray("points")) {
          JsonObject p = ((JsonObject) o).copy().put("metric", r.getString("metric"))
              .put("granularity", r.getString("granularity")).put("alertId", AnomalyQuery.alertId(r, (JsonObject) o));
          found.add(p);
        }
      }
      found.sort(Comparator.comparing(score).reversed());
      int max = (int) s.num("maxAnomalyInsights");
      for (JsonObject p : found.subList(0, Math.min(max, found.size()))) {
        Map<String, Object> values = map("metric", p.getString("metric"), "actual", p.getDouble("actual"),
            "expected", p.getDouble("expected"), "score", p.getDouble("score"), "timestamp", p.getString("timestamp"),
            "direction", p.getString("direction"));
        JsonObject i = insight("anomaly", p.getString("metric") + "@" + p.getString("timestamp"),
            p.getString("severity"), fr, values, map("actual", p.getDouble("actual"), "expected",
                p.getDouble("expected"), "score", p.getDouble("score")), to);
        list.add(i.put("anomaly", p).put("alertId", p.getString("alertId")));
      }
      return null;
    });
  }
}
