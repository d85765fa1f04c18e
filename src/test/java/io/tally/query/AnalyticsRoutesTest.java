package io.tally.query;

import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Analytics routes: the rollup paths agree with the raw-event computation over aligned and ragged periods, the
 * result cache is invalidated by new data, and bad parameters get a 400 naming the field.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AnalyticsRoutesTest {
  static final String[] AGENTS = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          + "Version/17.1 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
          + "Mobile/15E148 Safari/604.1"};
  static final String[] TYPES = {"page_view", "message_sent", "message_received", "error", "conversation_created",
      "conversation_completed", "payment", "page_load", "feature_used", "signup"};
  static final Instant DAY0 = Instant.parse("2026-10-05T00:00:00Z");
  static TestTally t;
  static String lastSession;
  static int lastSessionEvents;

  @BeforeAll
  static void start() {
    t = TestTally.start();
    // 40 persons, sessions over 4 days at random hours, every type that feeds the rollups
    Random rnd = new Random(42);
    JsonArray batch = new JsonArray();
    for (int p = 0; p < 40; p++) {
      String person = "p" + p;
      boolean anon = p % 9 == 0;
      String agent = AGENTS[p % AGENTS.length];
      int sessions = 1 + rnd.nextInt(4);
      for (int s = 0; s < sessions; s++) {
        String session = person + "-s" + s;
        Instant at = DAY0.plusSeconds(rnd.nextInt(4 * 86_400));
        int n = 1 + rnd.nextInt(12);
        for (int i = 0; i < n; i++) {
          at = at.plusMillis(500 + rnd.nextInt(400_000));
          batch.add(event(rnd, person, anon, session, at, agent));
          lastSession = session;
          lastSessionEvents = i + 1;
        }
        if (batch.size() >= 400) {
          post(batch);
          batch = new JsonArray();
        }
      }
    }
    // anonymous p9 identifies as a user: its history moves to the user id (rollups, person index)
    batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("type", "identify")
        .put("timestamp", DAY0.plus(Duration.ofDays(3)).plusSeconds(7).toString()).put("sessionId", "p9-id")
        .put("userContext", new JsonObject().put("userId", "p9-known").put("anonymousId", "p9")));
    post(batch);
    Eventually.until("p9 merged", () -> t.http.get("/v1/users/p9-known/analytics?from=2026-10-01&to=2026-10-10")
        .status() == 200 && t.http.get("/v1/users/p9/analytics?from=2026-10-01&to=2026-10-10").status() == 404);
    Eventually.until("last session derived", () -> {
      Http.Response r = t.http.get("/v1/sessions/" + lastSession);
      return r.status() == 200 && r.json().getInteger("eventCount") == lastSessionEvents;
    });
  }

  private static void post(JsonArray batch) {
    Http.Response r = t.http.send(java.net.http.HttpRequest.newBuilder(t.http.uri("/v1/events"))
        .header("Authorization", "Bearer " + t.writeKey).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(new JsonObject().put("batch", batch).encode()))
        .build());
    assertEquals(200, r.status(), r.body());
    assertEquals(batch.size(), r.json().getInteger("accepted"), r.body());
  }

  static JsonObject event(Random rnd, String person, boolean anon, String session, Instant at, String agent) {
    String type = TYPES[rnd.nextInt(TYPES.length)];
    String provider = rnd.nextBoolean() ? "openai" : "anthropic";
    String model = provider.equals("openai") ? (rnd.nextBoolean() ? "gpt-4o" : "o3") : "claude";
    JsonObject props = switch (type) {
      case "message_sent" -> new JsonObject().put("provider", provider).put("model", model)
          .put("tokens", rnd.nextInt(900)).put("cost", rnd.nextInt(100) / 1000.0);
      case "message_received" -> new JsonObject().put("provider", provider).put("model", model)
          .put("tokens", rnd.nextInt(2000)).put("cost", rnd.nextInt(300) / 1000.0)
          .put("responseTimeMs", 100 + rnd.nextInt(5000));
      case "error" -> new JsonObject().put("code", "E" + rnd.nextInt(3)).put("provider", provider);
      case "conversation_created" -> new JsonObject().put("provider", provider).put("model", model);
      case "payment" -> new JsonObject().put("amount", 5 + rnd.nextInt(50)).put("currency", "EUR");
      case "page_load" -> new JsonObject().put("durationMs", 50 + rnd.nextInt(3000));
      case "feature_used" -> new JsonObject().put("feature", rnd.nextBoolean() ? "voice" : "search");
      default -> new JsonObject();
    };
    JsonObject ctx = new JsonObject().put("sessionId", session);
    ctx.put(anon ? "anonymousId" : "userId", person);
    return new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
        .put("sessionId", session).put("type", type).put("properties", props)
        .put("page", new JsonObject().put("url", "https://app.example/p" + rnd.nextInt(5))
            .put("path", "/p" + rnd.nextInt(5)))
        .put("userContext", ctx).put("context", new JsonObject().put("userAgent", agent));
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  private static JsonObject get(String path) {
    Http.Response r = t.http.get(path);
    assertEquals(200, r.status(), path + " -> " + r.body());
    return r.json();
  }

  private static String enc(Instant i) {
    return URLEncoder.encode(i.toString(), StandardCharsets.UTF_8);
  }

  /** Equal JSON, numbers compared within 1e-9 relative. */
  static void assertJsonEquals(Object expected, Object actual, String path) {
    if (expected instanceof Number a && actual instanceof Number b) {
      double x = a.doubleValue();
      double y = b.doubleValue();
      assertTrue(Math.abs(x - y) <= 1e-9 * Math.max(1, Math.max(Math.abs(x), Math.abs(y))),
          path + ": expected " + x + " but was " + y);
    } else if (expected instanceof JsonObject a && actual instanceof JsonObject b) {
      assertEquals(a.fieldNames(), b.fieldNames(), path);
      for (String k : a.fieldNames()) {
        assertJsonEquals(a.getValue(k), b.getValue(k), path + "." + k);
      }
    } else if (expected instanceof JsonArray a && actual instanceof JsonArray b) {
      assertEquals(a.size(), b.size(), path + " size");
      for (int i = 0; i < a.size(); i++) {
        assertJsonEquals(a.getValue(i), b.getValue(i), path + "[" + i + "]");
      }
    } else {
      assertEquals(expected, actual, path);
    }
  }

  @Test
  void verifiesThatRollupAnswersEqualRawAnswersOverAlignedAndRaggedPeriods() {
    List<Instant[]> periods = List.of(
        new Instant[] {DAY0, DAY0.plus(Duration.ofDays(4))},
        new Instant[] {DAY0.plus(Duration.ofDays(1)), DAY0.plus(Duration.ofDays(3))},
        new Instant[] {DAY0.plusSeconds(5_432), DAY0.plus(Duration.ofDays(2)).plusSeconds(40_001)},
        new Instant[] {DAY0.plus(Duration.ofHours(30)).plusMillis(17), DAY0.plus(Duration.ofHours(31)).minusMillis(3)},
        new Instant[] {DAY0.plus(Duration.ofDays(1)).plusSeconds(100), DAY0.plus(Duration.ofDays(3)).minusSeconds(70)});
    List<String> filters = List.of("", "&provider=openai", "&model=o3&device=mobile");
    int compared = 0;
    for (Instant[] p : periods) {
      String period = "from=" + enc(p[0]) + "&to=" + enc(p[1]);
      for (String f : filters) {
        compare("/v1/metrics/usage?" + period + f);
        compared++;
        for (String metric : SeriesQuery.METRICS) {
          for (String interval : List.of("hour", "day")) {
            compare("/v1/timeseries?" + period + "&metric=" + metric + "&interval=" + interval + f);
            compared++;
          }
          if (!List.of("events", "tokens", "active_users", "revenue").contains(metric)) {
            continue;
          }
          for (String dim : List.of("event", "provider", "model", "device", "browser")) {
            compare("/v1/breakdown?" + period + "&metric=" + metric + "&dimension=" + dim + "&limit=50" + f);
            compared++;
          }
        }
      }
      compare("/v1/retention?" + period + "&granularity=day&periods=3");
      compare("/v1/retention?" + period + "&granularity=week&periods=2");
      compared += 2;
    }
    // and after a restart (person index loaded from the tables), the answers are the same
    JsonObject before = get("/v1/metrics/usage?from=" + enc(periods.get(2)[0]) + "&to=" + enc(periods.get(2)[1]));
    JsonObject beforeRetention = get("/v1/retention?from=" + enc(DAY0) + "&to=" + enc(DAY0.plus(Duration.ofDays(4)))
        + "&periods=3");
    String project = t.project;
    t.stop();
    t = TestTally.start(project, t.writeKey, t.readKey, java.util.function.UnaryOperator.identity());
    Eventually.until("person index loaded", () -> t.tally.toString() != null && personIndexReady());
    assertJsonEquals(before, get("/v1/metrics/usage?from=" + enc(periods.get(2)[0]) + "&to=" + enc(periods.get(2)[1])),
        "after restart");
    assertJsonEquals(beforeRetention, get("/v1/retention?from=" + enc(DAY0) + "&to=" + enc(DAY0.plus(Duration.ofDays(4)))
        + "&periods=3"), "retention after restart");
    // the comparison is not vacuous: the full period holds every kind of figure
    JsonObject all = get("/v1/metrics/usage?from=" + enc(DAY0) + "&to=" + enc(DAY0.plus(Duration.ofDays(4))));
    assertTrue(all.getJsonObject("users").getLong("active") == 40, all.encode());
    assertTrue(all.getJsonObject("revenue").getDouble("total") > 0, all.encode());
    assertTrue(all.getJsonObject("performance").getDouble("uptime") < 100, all.encode());
    assertTrue(compared > 250, "compared " + compared);
  }

  private static void compare(String path) {
    JsonObject rolled = get(path);
    JsonObject raw = get(path + "&raw=true");
    assertJsonEquals(raw, rolled, path);
  }

  @Test
  void verifiesThatANewEventInvalidatesCachedAnswersOfItsPeriod() {
    Instant from = Instant.parse("2026-09-01T00:00:00Z");
    Instant to = from.plus(Duration.ofDays(1));
    String usage = "/v1/metrics/usage?from=" + enc(from) + "&to=" + enc(to);
    String series = "/v1/timeseries?metric=revenue&interval=day&from=" + enc(from) + "&to=" + enc(to);
    String earlier = "/v1/metrics/usage?from=" + enc(from.minus(Duration.ofDays(2))) + "&to=" + enc(from);
    assertEquals(0.0, get(usage).getJsonObject("revenue").getDouble("total"));
    assertEquals(0.0, get(series).getJsonArray("points").getJsonObject(0).getDouble("value"));
    JsonObject before = get(earlier);
    // a repeat is served from the cache
    double hits = cacheHits();
    assertEquals(0.0, get(usage).getJsonObject("revenue").getDouble("total"));
    assertTrue(cacheHits() > hits, "a repeated query is a cache hit");
    // WHEN a payment lands in the period
    JsonObject pay = new JsonObject().put("id", UUID.randomUUID().toString()).put("type", "payment")
        .put("timestamp", from.plusSeconds(3600).toString()).put("sessionId", "cache-s")
        .put("properties", new JsonObject().put("amount", 42.5).put("currency", "EUR"))
        .put("userContext", new JsonObject().put("userId", "cache-u"));
    post(new JsonArray().add(pay));
    // THEN both cached answers of that period are recomputed
    Eventually.until("usage sees the payment",
        () -> get(usage).getJsonObject("revenue").getDouble("total") == 42.5);
    Eventually.until("series sees the payment",
        () -> get(series).getJsonArray("points").getJsonObject(0).getDouble("value") == 42.5);
    assertEquals(1L, get(usage).getJsonObject("users").getLong("new"));
    // AND the answer for the earlier period is unchanged
    assertJsonEquals(before, get(earlier), "earlier");
    // WHEN the payment's session is extended by an event after the period's end
    assertEquals(0.0, get(usage).getJsonObject("sessions").getDouble("averageDuration"));
    JsonObject later = new JsonObject().put("id", UUID.randomUUID().toString()).put("type", "page_view")
        .put("timestamp", to.plusSeconds(600).toString()).put("sessionId", "cache-s")
        .put("userContext", new JsonObject().put("userId", "cache-u"));
    post(new JsonArray().add(later));
    // THEN the cached answer (sessions are counted whole in the period of their start) is recomputed too
    double expected = Duration.between(from.plusSeconds(3600), to.plusSeconds(600)).toMillis();
    Eventually.until("usage sees the longer session",
        () -> get(usage).getJsonObject("sessions").getDouble("averageDuration") == expected);
  }

  private static boolean personIndexReady() {
    for (String line : t.http.get("/metrics").body().split("\n")) {
      if (line.startsWith("analytics_person_index_persons ") && Double.parseDouble(line.substring(30).trim()) > 0) {
        return true;
      }
    }
    return false;
  }

  private static double cacheHits() {
    Http.Response r = t.http.get("/metrics");
    for (String line : r.body().split("\n")) {
      if (line.startsWith("analytics_query_cache_total{") && line.contains("result=\"hit\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  @Test
  void verifiesThatBadParametersAreRefusedWithTheFieldNamed() {
    String p = "from=2026-10-01&to=2026-10-08";
    expect400("/v1/timeseries?" + p + "&metric=bogus", "metric");
    expect400("/v1/timeseries?" + p, "metric");
    expect400("/v1/timeseries?" + p + "&metric=events&interval=week", "interval");
    expect400("/v1/timeseries?from=2026-01-01&to=2026-12-01&metric=events&interval=minute", "interval");
    expect400("/v1/breakdown?" + p + "&dimension=planet", "dimension");
    expect400("/v1/breakdown?" + p + "&dimension=event&limit=0", "limit");
    expect400("/v1/retention?" + p + "&periods=91", "periods");
    expect400("/v1/retention?" + p + "&granularity=month", "granularity");
    expect400("/v1/metrics/usage?from=yesterday", "from");
    expect400("/v1/metrics/usage?from=2026-10-08&to=2026-10-01", "from");
    expect400("/v1/metrics/usage?" + p + "&provider=", "provider");
    expect400("/v1/conversions?" + p + "&limit=10001", "limit");
    expectFunnel400(new JsonObject().put("steps", new JsonArray().add(new JsonObject().put("event", "a"))), "steps");
    expectFunnel400(new JsonObject().put("steps", new JsonArray().add(new JsonObject().put("event", "a"))
        .add(new JsonObject())), "steps[1].event");
    expectFunnel400(new JsonObject().put("steps", new JsonArray().add(new JsonObject().put("event", "a"))
        .add(new JsonObject().put("event", "b").put("where", new JsonObject().put("x", new JsonObject())))),
        "steps[1].where.x");
    expectFunnel400(new JsonObject().put("windowSeconds", 0).put("steps", new JsonArray()
        .add(new JsonObject().put("event", "a")).add(new JsonObject().put("event", "b"))), "windowSeconds");
    Http.Response r = t.http.getWith(null, "/v1/metrics/usage");
    assertEquals(401, r.status(), r.body());
    Http.Response w = t.http.getWith("Bearer " + t.writeKey, "/v1/metrics/usage");
    assertEquals(403, w.status(), w.body());
    Http.Response unknown = t.http.get("/v1/users/nobody-" + UUID.randomUUID() + "/analytics");
    assertEquals(404, unknown.status(), unknown.body());
  }

  private static void expect400(String path, String field) {
    Http.Response r = t.http.get(path);
    assertEquals(400, r.status(), path + " -> " + r.body());
    assertEquals(field, r.json().getString("field"), r.body());
  }

  private static void expectFunnel400(JsonObject body, String field) {
    Http.Response r = t.http.send(java.net.http.HttpRequest.newBuilder(t.http.uri("/v1/funnels"))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.encode())).build());
    if (r.status() != 400) {
      fail("funnel " + body.encode() + " -> " + r.status() + " " + r.body());
    }
    assertEquals(field, r.json().getString("field"), r.body());
  }
}
