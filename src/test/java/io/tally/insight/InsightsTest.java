package io.tally.insight;

import com.sun.net.httpserver.HttpServer;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Anomalies on a generated hourly series with an injected spike; user and global insights whose triggers are
 * computed independently from the generated events (thresholds moved around each value through the per-project
 * settings so both sides of every trigger are seen); French texts; the webhook receiving each high alert once.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class InsightsTest {
  static final Instant SPIKE = Instant.parse("2026-08-16T13:00:00Z");
  static final Instant FROM = Instant.parse("2026-10-18T00:00:00Z");
  static final Instant TO = Instant.parse("2026-11-01T00:00:00Z");
  static final Instant PREV = Instant.parse("2026-10-04T00:00:00Z");
  static TestTally t;
  static final List<PatternOracle.Ev> events = new ArrayList<>();
  static final List<JsonObject> pending = new ArrayList<>();
  static final Map<Long, Integer> hourly = new TreeMap<>();
  static final String ADMIN_KEY = "a-key-" + java.util.UUID.randomUUID();
  static HttpServer receiver;
  static final List<JsonObject> received = new CopyOnWriteArrayList<>();
  static int seq;

  @BeforeAll
  static void start() throws Exception {
    // settings change with an admin key; the webhook receiver below listens on loopback, which the operator allows
    t = TestTally.startWithAdmin(ADMIN_KEY, c -> c.withAlerts(new io.tally.config.TallyConfig.Alerts(
        List.of("127.0.0.1/32"))));
    Random rnd = new Random(7);
    // an hourly series (Jul 19 – Aug 16) with a daily shape and noise, and a spike at Aug 16 13:00
    for (Instant h = Instant.parse("2026-07-19T00:00:00Z"); h.isBefore(Instant.parse("2026-08-17T00:00:00Z"));
         h = h.plus(Duration.ofHours(1))) {
      int hour = h.atOffset(ZoneOffset.UTC).getHour();
      int n = (int) Math.round(8 + 4 * Math.sin(2 * Math.PI * hour / 24.0)) + rnd.nextInt(3);
      if (h.equals(SPIKE)) {
        n += 60;
      }
      for (int i = 0; i < n; i++) {
        add("a" + (i % 6), "a-" + h.toEpochMilli() + "-" + (i % 6), h.plusSeconds(i * 30L), "page_view",
            new JsonObject());
      }
      // per provider: 2 openai and 2 anthropic messages an hour; anthropic spikes with the rest
      int anthropic = h.equals(SPIKE) ? 30 : 2;
      for (int i = 0; i < 2 + anthropic; i++) {
        boolean a = i >= 2;
        add("a" + (i % 6), "a-" + h.toEpochMilli() + "-" + (i % 6), h.plusSeconds(1 + i * 20L), "message_sent",
            msg(a ? "anthropic" : "openai", a ? "claude" : "gpt-4o", 0.01));
      }
      hourly.put(h.toEpochMilli(), n + 2 + anthropic);
    }
    // the previous period (Oct 4 – 18): 30 users; o3 costs 2.0 in all
    for (int i = 0; i < 30; i++) {
      String u = "u" + i;
      Instant at = PREV.plus(Duration.ofDays(i % 14)).plus(Duration.ofHours(9));
      session(u, at, "gpt-4o", 0.01, i % 2 == 0 ? "openai" : "anthropic", false);
    }
    add("u0", "u0-o3", PREV.plus(Duration.ofHours(30)), "message_sent", msg("openai", "o3", 2.0));
    // this period (Oct 18 – Nov 1): 20 of them, anthropic answers slower, some errors, funnel drop-offs
    for (int i = 0; i < 20; i++) {
      String u = "u" + i;
      Instant at = FROM.plus(Duration.ofDays(i % 13)).plus(Duration.ofHours(11));
      session(u, at, i % 3 == 0 ? "claude" : "gpt-4o", 0.01, i % 2 == 0 ? "openai" : "anthropic", i % 4 == 0);
    }
    // "rich": 25 messages on o3 at 5 each over 2 days, 5 errors — every user insight
    for (int i = 0; i < 25; i++) {
      Instant at = FROM.plus(Duration.ofDays(2 + (i % 2))).plus(Duration.ofMinutes(10 + i));
      add("rich", "rich-" + (i % 2), at, "message_sent", msg("openai", "o3", 5.0));
      if (i < 5) {
        add("rich", "rich-" + (i % 2), at.plusSeconds(5), "error", new JsonObject().put("code", "E9")
            .put("provider", "openai"));
      }
    }
    flush();
    Eventually.until("rollups current", () -> {
      Http.Response r = t.http.get("/v1/timeseries?metric=events&interval=day&from=2026-07-01&to=2026-11-02");
      return r.status() == 200 && r.json().getJsonArray("points").stream()
          .mapToDouble(p -> ((JsonObject) p).getDouble("value")).sum() == events.size();
    });
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/hook", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      received.add(new JsonObject(new String(body, StandardCharsets.UTF_8)).put("_header",
          ex.getRequestHeaders().getFirst("Tally-Alert-Id")));
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    receiver.start();
  }

  @AfterAll
  static void stop() {
    receiver.stop(0);
    t.stop();
  }

  static JsonObject msg(String provider, String model, double cost) {
    return new JsonObject().put("provider", provider).put("model", model).put("cost", cost).put("tokens", 100);
  }

  /** page view, conversation created, message sent and received; completed unless it errs. */
  static void session(String u, Instant at, String model, double cost, String provider, boolean error) {
    String s = u + "-" + (seq++);
    add(u, s, at, "page_view", new JsonObject());
    add(u, s, at.plusSeconds(10), "conversation_created", new JsonObject());
    add(u, s, at.plusSeconds(20), "message_sent", msg(provider, model, cost));
    add(u, s, at.plusSeconds(30), "message_received", msg(provider, model, cost)
        .put("responseTimeMs", provider.equals("anthropic") ? 1500 : 600));
    if (error) {
      add(u, s, at.plusSeconds(40), "error", new JsonObject().put("code", "E1").put("provider", provider));
    } else {
      add(u, s, at.plusSeconds(40), "conversation_completed", new JsonObject());
    }
  }

  static void add(String person, String session, Instant at, String type, JsonObject props) {
    events.add(new PatternOracle.Ev(person, session, at, type, props));
    pending.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
        .put("sessionId", session).put("type", type).put("properties", props)
        .put("userContext", new JsonObject().put("userId", person).put("sessionId", session)));
    if (pending.size() >= 500) {
      flush();
    }
  }

  static void flush() {
    if (pending.isEmpty()) {
      return;
    }
    JsonArray batch = new JsonArray(new ArrayList<>(pending));
    pending.clear();
    Http.Response r = t.http.post(new JsonObject().put("batch", batch).encode());
    assertEquals(200, r.status(), r.body());
    assertEquals(batch.size(), r.json().getInteger("accepted"), r.body());
  }

  static JsonObject get(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri(path)).header("Authorization", "Bearer " + t.readKey);
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    Http.Response r = t.http.send(b.GET().build());
    assertEquals(200, r.status(), path + " -> " + r.body());
    return r.json();
  }

  static Http.Response put(JsonObject settings) {
    return t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/insights/settings"))
        .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(settings.encode())).build());
  }

  static void settings(JsonObject s) {
    Http.Response r = put(s);
    assertEquals(200, r.status(), r.body());
  }

  static Map<String, JsonObject> insights(String query, String... headers) {
    Map<String, JsonObject> out = new HashMap<>();
    JsonObject answer = get("/v1/insights?wait=true&" + query, headers);
    assertFalse(answer.containsKey("pending"), answer.encode());
    for (Object o : answer.getJsonArray("insights")) {
      JsonObject i = (JsonObject) o;
      out.put(i.getString("type") + (i.getString("subject") == null ? "" : "/" + i.getString("subject")), i);
    }
    return out;
  }

  static boolean in(Instant a, Instant from, Instant to) {
    return !a.isBefore(from) && a.isBefore(to);
  }

  // ------------------------------------------------------------------------------------------- anomalies

  @Test
  void theInjectedSpikeIsTheOnlyAnomalyOfItsDay() {
    JsonObject r = get("/v1/anomalies?metric=events&granularity=hour&from=2026-08-16T00:00:00Z"
        + "&to=2026-08-17T00:00:00Z");
    JsonArray points = r.getJsonArray("points");
    assertEquals(1, points.size(), points.encode());
    JsonObject p = points.getJsonObject(0);
    assertEquals(SPIKE.toString(), p.getString("timestamp"));
    assertEquals("up", p.getString("direction"));
    assertEquals("high", p.getString("severity"));
    assertEquals(hourly.get(SPIKE.toEpochMilli()).doubleValue(), p.getDouble("actual"));
    // expected: near the same hour of the previous 14 days (weekday-adjusted median)
    List<Integer> same = new ArrayList<>();
    for (int d = 1; d <= 14; d++) {
      same.add(hourly.get(SPIKE.minus(Duration.ofDays(d)).toEpochMilli()));
    }
    double lo = same.stream().mapToInt(x -> x).min().orElseThrow() * 0.8;
    double hi = same.stream().mapToInt(x -> x).max().orElseThrow() * 1.2;
    assertTrue(p.getDouble("expected") >= lo && p.getDouble("expected") <= hi, p.encode() + " vs " + same);
    assertEquals(24, r.getJsonArray("series").size());
    assertEquals(0, r.getInteger("insufficientHistory"), r.getJsonArray("series").getJsonObject(0).encode());
    // a period starting inside a bucket judges that whole bucket: the same answer as from the bucket's start (the
    // insights' anomaly scans rely on it to share one cached answer per bucket)
    JsonObject inside = get("/v1/anomalies?metric=events&granularity=hour&from=2026-08-16T00:20:07Z"
        + "&to=2026-08-17T00:00:00Z");
    assertEquals(r.getJsonArray("points"), inside.getJsonArray("points"));
    assertEquals(r.getJsonArray("series"), inside.getJsonArray("series"));
    // no verdict without history: the first day of the series
    JsonObject early = get("/v1/anomalies?metric=events&granularity=hour&from=2026-07-19T00:00:00Z"
        + "&to=2026-07-20T00:00:00Z");
    assertEquals(0, early.getJsonArray("points").size());
    assertEquals(24, early.getInteger("insufficientHistory"));
    // per provider: the spike is anthropic's; openai's series is flat
    JsonObject claude = get("/v1/anomalies?metric=messages&granularity=hour&provider=anthropic"
        + "&from=2026-08-16T00:00:00Z&to=2026-08-17T00:00:00Z");
    assertEquals(1, claude.getJsonArray("points").size(), claude.getJsonArray("points").encode());
    assertEquals(SPIKE.toString(), claude.getJsonArray("points").getJsonObject(0).getString("timestamp"));
    assertEquals(30.0, claude.getJsonArray("points").getJsonObject(0).getDouble("actual"));
    assertEquals(2.0, claude.getJsonArray("points").getJsonObject(0).getDouble("expected"));
    JsonObject openai = get("/v1/anomalies?metric=messages&granularity=hour&model=gpt-4o"
        + "&from=2026-08-16T00:00:00Z&to=2026-08-17T00:00:00Z");
    assertEquals(0, openai.getJsonArray("points").size(), openai.getJsonArray("points").encode());
    assertEquals(2.0, openai.getJsonArray("series").getJsonObject(13).getDouble("actual"));
    // bad parameters
    assertEquals("metric", t.http.get("/v1/anomalies?metric=vibes").json().getString("field"));
    assertEquals(400, t.http.get("/v1/anomalies?metric=events&country=FR").status());
    assertEquals(400, t.http.get("/v1/anomalies?metric=events&granularity=hour&from=2026-01-01&to=2026-11-01")
        .status());
  }

  // ------------------------------------------------------------------------------------------- user insights

  @Test
  void userInsightsFollowTheirTriggers() {
    String q = "userId=rich&from=" + FROM + "&to=" + TO;
    // the oracle: rich's figures over the period
    double cost = 0;
    long sent = 0;
    long errors = 0;
    Set<LocalDate> days = new HashSet<>();
    Instant first = null;
    Map<String, double[]> perModel = new TreeMap<>();
    for (PatternOracle.Ev e : events) {
      if (!in(e.at(), FROM, TO)) {
        continue;
      }
      if (e.message()) {
        perModel.computeIfAbsent(e.props().getString("model"), k -> new double[2])[0] += e.props().getDouble("cost");
        perModel.get(e.props().getString("model"))[1]++;
      }
      if (!e.person().equals("rich")) {
        continue;
      }
      days.add(e.day());
      first = first == null || e.at().isBefore(first) ? e.at() : first;
      if (e.type().equals("message_sent")) {
        sent++;
        cost += e.props().getDouble("cost");
      }
      if (e.type().equals("error")) {
        errors++;
      }
    }
    long span = TO.atOffset(ZoneOffset.UTC).toLocalDate().minusDays(1).toEpochDay()
        - first.atOffset(ZoneOffset.UTC).toLocalDate().toEpochDay() + 1;
    double retention = (double) days.size() / span;
    double errorRate = (double) errors / sent;

    Map<String, JsonObject> got = insights(q);
    assertEquals(retention, got.get("retention_warning/rich").getJsonObject("metrics").getDouble("retentionRate"),
        1e-9);
    assertEquals("medium", got.get("retention_warning/rich").getString("severity"));
    assertEquals(cost, got.get("cost_optimization/rich").getJsonObject("metrics").getDouble("totalCost"), 1e-9);
    assertEquals(errorRate, got.get("user_error_rate/rich").getJsonObject("metrics").getDouble("errorRate"), 1e-9);
    // cheaper model: rich spends all on o3; the cheapest model with >= 20 messages costs per message ...
    double o3 = perModel.get("o3")[0] / perModel.get("o3")[1];
    String cheapest = null;
    double best = Double.MAX_VALUE;
    for (Map.Entry<String, double[]> e : perModel.entrySet()) {
      double per = e.getValue()[0] / e.getValue()[1];
      if (!e.getKey().equals("o3") && e.getValue()[1] >= 20 && per <= 0.5 * o3 && per < best) {
        cheapest = e.getKey();
        best = per;
      }
    }
    assertNotNull(cheapest);
    JsonObject cheaper = got.get("cheaper_model/rich");
    assertNotNull(cheaper, got.keySet().toString());
    assertEquals(best, cheaper.getJsonObject("metrics").getDouble("cheaperCostPerMessage"), 1e-12);
    assertTrue(cheaper.getString("description").contains(cheapest), cheaper.encode());

    // thresholds are per project: just above each value, the insight is gone
    settings(new JsonObject().put("userRetentionBelow", retention).put("userSpendAbove", cost)
        .put("userErrorRateAbove", errorRate).put("expensiveModelShare", 1.0).put("cheaperModelRatio", 0.0));
    Map<String, JsonObject> none = insights(q);
    assertTrue(none.isEmpty() || none.keySet().stream().noneMatch(k -> k.endsWith("/rich")), none.keySet().toString());
    settings(new JsonObject());
    // French
    Map<String, JsonObject> fr = insights(q, "Accept-Language", "fr");
    assertEquals("Faible taux de rétention", fr.get("retention_warning/rich").getString("title"));
    assertEquals("Envoyer des emails de réengagement",
        fr.get("retention_warning/rich").getJsonArray("recommendations").getString(0));
    assertEquals(404, t.http.get("/v1/insights?userId=nobody&from=" + FROM + "&to=" + TO).status());
  }

  // ------------------------------------------------------------------------------------------- global insights

  @Test
  void globalInsightsFollowTheirTriggers() {
    String q = "from=" + FROM + "&to=" + TO;
    long sent = 0;
    long errors = 0;
    Set<String> active = new HashSet<>();
    Set<String> previous = new HashSet<>();
    Map<String, double[]> rt = new TreeMap<>();
    Map<String, Double> costNow = new TreeMap<>();
    Map<String, Double> costPrev = new TreeMap<>();
    for (PatternOracle.Ev e : events) {
      if (in(e.at(), PREV, FROM)) {
        previous.add(e.person());
        if (e.message()) {
          costPrev.merge(e.props().getString("model"), e.props().getDouble("cost"), Double::sum);
        }
      }
      if (!in(e.at(), FROM, TO)) {
        continue;
      }
      active.add(e.person());
      sent += e.type().equals("message_sent") ? 1 : 0;
      errors += e.type().equals("error") ? 1 : 0;
      if (e.message()) {
        costNow.merge(e.props().getString("model"), e.props().getDouble("cost"), Double::sum);
      }
      if (e.type().equals("message_received")) {
        double[] x = rt.computeIfAbsent(e.props().getString("provider"), k -> new double[2]);
        x[0] += e.props().getDouble("responseTimeMs");
        x[1]++;
      }
    }
    double errorRate = (double) errors / sent;
    double change = (double) (active.size() - previous.size()) / previous.size();
    double anthropic = rt.get("anthropic")[0] / rt.get("anthropic")[1];
    double openai = rt.get("openai")[0] / rt.get("openai")[1];
    double o3Ratio = costNow.get("o3") / costPrev.get("o3");

    settings(new JsonObject().put("errorRateAbove", errorRate - 1e-6).put("activeUsersChange", Math.abs(change) - 1e-6)
        .put("costSpikeRatio", o3Ratio - 1e-6).put("slowProviderRatio", anthropic / openai - 1e-6));
    Map<String, JsonObject> got = insights(q);
    JsonObject perf = got.get("performance_alert");
    assertEquals("high", perf.getString("severity"));
    assertEquals(errorRate, perf.getJsonObject("metrics").getDouble("errorRate"), 1e-9);
    JsonObject decline = got.get("active_users_decline");
    assertNotNull(decline, got.keySet().toString());
    assertEquals(change, decline.getJsonObject("metrics").getDouble("change"), 1e-9);
    assertEquals(active.size(), decline.getJsonObject("metrics").getLong("activeUsers"));
    JsonObject spike = got.get("cost_spike/o3");
    assertEquals(o3Ratio, spike.getJsonObject("metrics").getDouble("ratio"), 1e-9);
    assertFalse(got.containsKey("cost_spike/gpt-4o"), "gpt-4o cost fell");
    JsonObject slow = got.get("slow_provider/anthropic");
    assertEquals(anthropic, slow.getJsonObject("metrics").getDouble("averageResponseTime"), 1e-9);
    assertEquals(openai, slow.getJsonObject("metrics").getDouble("othersAverageResponseTime"), 1e-9);
    assertEquals("medium", slow.getString("severity"));
    // the funnel step with the worst drop-off, as the funnel route computes it
    JsonObject funnel = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/funnels"))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("from", FROM.toString())
            .put("to", TO.toString()).put("windowSeconds", 86_400).put("steps", new JsonArray()
                .add(new JsonObject().put("event", "page_view")).add(new JsonObject().put("event", "conversation_created"))
                .add(new JsonObject().put("event", "message_sent"))
                .add(new JsonObject().put("event", "conversation_completed"))).encode())).build()).json();
    JsonArray steps = funnel.getJsonArray("steps");
    int worst = -1;
    double worstLost = -1;
    for (int i = 1; i < steps.size(); i++) {
      double lost = 1 - (double) steps.getJsonObject(i).getLong("users") / steps.getJsonObject(i - 1).getLong("users");
      if (lost > worstLost) {
        worstLost = lost;
        worst = i;
      }
    }
    JsonObject drop = got.get("funnel_dropoff/" + steps.getJsonObject(worst).getString("event"));
    assertNotNull(drop, got.keySet().toString());
    assertEquals(worstLost, drop.getJsonObject("metrics").getDouble("dropOffRate"), 1e-9);
    // every reported pattern is an insight
    Set<String> reported = new HashSet<>();
    get("/v1/patterns/detect?" + q).getJsonArray("patterns").forEach(p -> reported.add(((JsonObject) p)
        .getString("id")));
    Set<String> patternInsights = new HashSet<>();
    got.keySet().stream().filter(k -> k.startsWith("pattern/")).forEach(k -> patternInsights.add(k.substring(8)));
    assertEquals(reported, patternInsights);

    // just above each value: gone
    settings(new JsonObject().put("errorRateAbove", errorRate + 1e-6).put("activeUsersChange", Math.abs(change) + 1e-6)
        .put("costSpikeRatio", o3Ratio + 1e-6).put("slowProviderRatio", anthropic / openai + 1e-6));
    Map<String, JsonObject> after = insights(q);
    assertFalse(after.containsKey("performance_alert"));
    assertFalse(after.containsKey("active_users_decline"));
    assertFalse(after.containsKey("cost_spike/o3"));
    assertEquals("low", after.get("slow_provider/anthropic").getString("severity"));
    // French texts of the seed
    settings(new JsonObject().put("errorRateAbove", 0.0));
    assertEquals("Taux d'erreurs élevé", insights(q, "Accept-Language", "fr-FR,fr;q=0.9").get("performance_alert")
        .getString("title"));
    settings(new JsonObject());

    // bad settings
    Http.Response bad = put(new JsonObject().put("errorRateAbove", "high"));
    assertEquals(400, bad.status());
    assertEquals("errorRateAbove", bad.json().getString("field"));
    assertEquals("mood", put(new JsonObject().put("mood", 1)).json().getString("field"));
    assertEquals("webhookUrl", put(new JsonObject().put("webhookUrl", "ftp://x")).json().getString("field"));
  }

  // ------------------------------------------------------------------------------------------- alerting

  @Test
  void eachHighAlertReachesTheWebhookOnce() throws Exception {
    String url = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
    settings(new JsonObject().put("webhookUrl", url));
    try {
      // the spike, from the anomalies route and again as an insight: one alert
      get("/v1/anomalies?metric=events&granularity=hour&from=2026-08-16T00:00:00Z&to=2026-08-17T00:00:00Z");
      Map<String, JsonObject> day = insights("from=2026-08-16T00:00:00Z&to=2026-08-17T00:00:00Z");
      JsonObject anomaly = day.values().stream().filter(i -> i.getString("type").equals("anomaly")
          && i.getString("subject").startsWith("events@")).findFirst().orElseThrow();
      assertEquals("high", anomaly.getString("severity"));
      Eventually.until("the spike alert", () -> received.stream().anyMatch(r -> r.getString("kind")
          .equals("anomaly") && r.encode().contains(SPIKE.toString())));
      Thread.sleep(1000);
      // the events spike: once, although both the anomalies route and the insights reported it
      List<JsonObject> spikes = received.stream().filter(r -> r.getString("id").contains("anomaly:events:hour:")
          && r.encode().contains(SPIKE.toString())).toList();
      assertEquals(1, spikes.size(), received.toString());
      assertEquals(spikes.get(0).getString("id"), spikes.get(0).getString("_header"));
      assertEquals(t.project, spikes.get(0).getString("project"));

      // a high insight: one POST; asked again (other language, so computed again): no second POST
      settings(new JsonObject().put("webhookUrl", url).put("errorRateAbove", 0.0));
      int before = received.size();
      insights("from=" + FROM + "&to=" + TO);
      Eventually.until("the error-rate alert", () -> received.stream().anyMatch(r -> r.getString("kind")
          .equals("insight") && r.getJsonObject("insight").getString("type").equals("performance_alert")));
      insights("from=" + FROM + "&to=" + TO, "Accept-Language", "fr");
      Thread.sleep(1500);
      long perf = received.stream().filter(r -> r.getString("kind").equals("insight")
          && r.getJsonObject("insight").getString("type").equals("performance_alert")).count();
      assertEquals(1, perf);
      assertTrue(received.subList(before, received.size()).stream()
          .allMatch(r -> r.getString("severity").equals("high")), received.toString());
      String metrics = t.http.get("/metrics").body();
      assertTrue(metrics.contains("analytics_insights_generated_total{"), "insights counter");
      assertTrue(metrics.contains("analytics_alerts_total{result=\"delivered\""), "alerts counter");
    } finally {
      settings(new JsonObject());
    }
  }
}
