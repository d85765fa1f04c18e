package io.tally.insight;

import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Behaviour patterns over a generated population with known membership (120 users built to match churn risk, 40
 * power users, 30 conversion candidates, a rarely used feature, fillers that match nothing): frequency, matched
 * ids and backtested confidence are checked against {@link PatternOracle}, which computes them from the events.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PatternsTest {
  static final Instant TO = Instant.parse("2026-11-01T00:00:00Z");
  static final LocalDate END = LocalDate.parse("2026-11-01");
  static TestTally t;
  static final PatternOracle oracle = new PatternOracle();
  static final List<JsonObject> pending = new ArrayList<>();
  static int sessionSeq;

  @BeforeAll
  static void start() {
    t = TestTally.start();
    // churn risk (window Oct 2 – Nov 1): 120 users, 2 short sessions, last one by Oct 19
    for (int i = 0; i < 120; i++) {
      String u = String.format("c%03d", i);
      day(u, LocalDate.parse("2026-10-03").plusDays(i % 10), 3, false);
      day(u, LocalDate.parse("2026-10-05").plusDays(i % 15), 3, false);
    }
    // matched at the start of the previous window (Sep 2 – Oct 2); 40 of 50 never come back
    for (int i = 0; i < 50; i++) {
      String u = String.format("b%02d", i);
      day(u, LocalDate.parse("2026-09-10").plusDays(i % 5), 3, false);
      if (i >= 40) {
        day(u, LocalDate.parse("2026-10-30"), 3, false);
      }
    }
    // power users (window Oct 25 – Nov 1): 22 messages a day in sessions of 75 minutes; pw00-19 also the week before
    for (int i = 0; i < 40; i++) {
      String u = String.format("pw%02d", i);
      int days = i < 10 ? 2 : 3;
      for (int d = 0; d < days; d++) {
        power(u, LocalDate.parse("2026-10-26").plusDays(2L * d));
      }
      if (i < 20) {
        for (int d = 0; d < 3; d++) {
          power(u, LocalDate.parse("2026-10-19").plusDays(2L * d));
        }
      }
    }
    // conversion candidates: 11 active days using 5 features (Oct 4 – 18); 21 of 30 subscribe afterwards
    for (int i = 0; i < 30; i++) {
      String u = String.format("cv%02d", i);
      for (int d = 0; d < 11; d++) {
        features(u, LocalDate.parse("2026-10-05").plusDays(d));
      }
      LocalDate after = LocalDate.parse("2026-10-20");
      if (i < 21) {
        add(u, "cv-sub-" + u, after.atStartOfDay(ZoneOffset.UTC).toInstant().plusSeconds(3600), "subscription",
            new JsonObject().put("plan", "pro"));
      } else {
        day(u, after, 2, false);
      }
      if (i < 10) {
        for (int d = 0; d < 12; d++) {
          features(u, LocalDate.parse("2026-10-19").plusDays(d));
        }
      }
    }
    // a rarely used feature
    for (int i = 0; i < 3; i++) {
      String u = "g" + i;
      voice(u, LocalDate.parse("2026-10-01"));
      if (i < 2) {
        voice(u, LocalDate.parse("2026-10-30"));
      }
    }
    // anonymous visitors who identify: their history (and the per-person rollup) moves to the user id
    for (int i = 0; i < 3; i++) {
      String u = "m" + i;
      wireAnon = "anon-m" + i;
      day(u, LocalDate.parse("2026-10-05"), 3, false);
      wireAnon = null;
      flush();
      Instant at = Instant.parse("2026-10-06T08:00:00Z");
      oracle.events.add(new PatternOracle.Ev(u, u + "-identify", at, "identify", new JsonObject()));
      pending.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
          .put("sessionId", u + "-identify").put("type", "identify")
          .put("userContext", new JsonObject().put("anonymousId", "anon-m" + i).put("userId", u)));
      flush();
      day(u, LocalDate.parse("2026-10-07"), 3, false);
      day(u, LocalDate.parse("2026-10-30"), 3, false);
    }
    // fillers: every third day, short sessions, some errors — match no built-in pattern
    for (int i = 0; i < 40; i++) {
      String u = String.format("f%02d", i);
      for (LocalDate d = LocalDate.parse("2026-09-03").plusDays(i % 3); d.isBefore(END); d = d.plusDays(3)) {
        day(u, d, 3, (d.getDayOfMonth() + i) % 4 == 0);
      }
    }
    flush();
    Eventually.until("all events derived", () -> {
      Http.Response r = t.http.get("/v1/events/count?from=2026-09-01&to=2026-11-02");
      return r.status() == 200 && r.json().getLong("count") == oracle.events.size();
    });
    // the daily rollup is written by the same flush statement as the per-person one
    Eventually.until("rollups current", () -> {
      Http.Response r = t.http.get("/v1/timeseries?metric=events&interval=day&from=2026-09-01&to=2026-11-02");
      return r.status() == 200 && r.json().getJsonArray("points").stream()
          .mapToDouble(p -> ((JsonObject) p).getDouble("value")).sum() == oracle.events.size();
    });
    t.awaitDerived();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  // ------------------------------------------------------------------------------------------- generation

  /** While set, events go out with this anonymous id instead of the user id (the oracle keeps the final person). */
  static String wireAnon;

  static void add(String person, String session, Instant at, String type, JsonObject props) {
    boolean anthropic = Math.floorMod(person.hashCode(), 3) == 0;
    if (type.startsWith("message_")) {
      props = props.copy().put("provider", anthropic ? "anthropic" : "openai")
          .put("model", anthropic ? "claude" : "gpt-4o").put("tokens", 100 + person.length() * 10)
          .put("cost", 0.01);
      if (type.equals("message_received")) {
        props.put("responseTimeMs", anthropic ? 900 : 600);
      }
    }
    oracle.events.add(new PatternOracle.Ev(person, session, at, type, props));
    pending.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
        .put("sessionId", session).put("type", type).put("properties", props)
        .put("userContext", wireAnon != null ? new JsonObject().put("anonymousId", wireAnon).put("sessionId", session)
            : new JsonObject().put("userId", person).put("sessionId", session)));
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

  /** One short session at 10:00: page view, message sent and received (and an error when asked). */
  static void day(String u, LocalDate d, int events, boolean error) {
    String s = u + "-" + (sessionSeq++);
    Instant at = d.atStartOfDay(ZoneOffset.UTC).toInstant().plus(Duration.ofHours(10));
    add(u, s, at, "page_view", new JsonObject());
    if (events > 1) {
      add(u, s, at.plusSeconds(30), "message_sent", new JsonObject());
    }
    if (events > 2) {
      add(u, s, at.plusSeconds(40), "message_received", new JsonObject());
    }
    if (error) {
      add(u, s, at.plusSeconds(50), "error", new JsonObject().put("code", "E1"));
    }
  }

  /** 22 messages sent and received over a 75-minute session. */
  static void power(String u, LocalDate d) {
    String s = u + "-" + (sessionSeq++);
    Instant at = d.atStartOfDay(ZoneOffset.UTC).toInstant().plus(Duration.ofHours(14));
    add(u, s, at, "page_view", new JsonObject());
    for (int i = 0; i < 22; i++) {
      add(u, s, at.plusSeconds(60 + i * 200L), "message_sent", new JsonObject());
      add(u, s, at.plusSeconds(90 + i * 200L), "message_received", new JsonObject());
    }
    add(u, s, at.plusSeconds(4500), "page_view", new JsonObject());
  }

  static void features(String u, LocalDate d) {
    String s = u + "-" + (sessionSeq++);
    Instant at = d.atStartOfDay(ZoneOffset.UTC).toInstant().plus(Duration.ofHours(9));
    add(u, s, at, "message_sent", new JsonObject());
    add(u, s, at.plusSeconds(20), "share_created", new JsonObject());
    add(u, s, at.plusSeconds(40), "export_generated", new JsonObject().put("format", "pdf"));
    add(u, s, at.plusSeconds(60), "customization_made", new JsonObject().put("setting", "theme"));
    add(u, s, at.plusSeconds(80), "feature_used", new JsonObject().put("feature", "search"));
  }

  static void voice(String u, LocalDate d) {
    String s = u + "-" + (sessionSeq++);
    Instant at = d.atStartOfDay(ZoneOffset.UTC).toInstant().plus(Duration.ofHours(16));
    add(u, s, at, "page_view", new JsonObject());
    add(u, s, at.plusSeconds(10), "feature_used", new JsonObject().put("feature", "voice"));
  }

  // ------------------------------------------------------------------------------------------- helpers

  static JsonObject get(String path) {
    Http.Response r = t.http.get(path);
    assertEquals(200, r.status(), path + " -> " + r.body());
    return r.json();
  }

  static Map<String, JsonObject> detect(String query) {
    JsonObject d = get("/v1/patterns/detect?" + query + suffix);
    Map<String, JsonObject> out = new java.util.HashMap<>();
    for (String list : new String[] {"patterns", "notReported"}) {
      for (Object o : d.getJsonArray(list)) {
        JsonObject p = (JsonObject) o;
        assertEquals(list.equals("patterns"), p.getBoolean("reported"), p.encode());
        out.put(p.getString("id"), p);
      }
    }
    return out;
  }

  static JsonObject builtIn(String id) {
    return PatternDef.builtIn(id).definitionJson();
  }

  static List<String> users(String id, String query) {
    JsonObject r = get("/v1/patterns/" + id + "/users?" + query + suffix);
    List<String> out = new ArrayList<>();
    r.getJsonArray("users").forEach(u -> out.add((String) u));
    return out;
  }

  /** Checks a person-level pattern's frequency, share, confidence and users against the oracle. */
  static void checkPattern(JsonObject got, JsonObject def, String type, int windowDays) {
    LocalDate b = END;
    LocalDate a = b.minusDays(windowDays);
    LocalDate a0 = a.minusDays(windowDays);
    Map<String, Map<String, Object>> cur = oracle.features(a, b);
    Map<String, Map<String, Object>> prev = oracle.features(a0, a);
    Set<String> now = PatternOracle.matches(cur, def);
    Set<String> before = PatternOracle.matches(prev, def);
    Set<String> outcome = switch (type) {
      case "churn" -> { Set<String> s = new TreeSet<>(before); s.removeAll(cur.keySet()); yield s; }
      case "conversion" -> { Set<String> s = new TreeSet<>(before); s.retainAll(oracle.converted(a, b)); yield s; }
      case "engagement" -> { Set<String> s = new TreeSet<>(before); s.retainAll(PatternOracle.topDecile(cur));
        yield s; }
      default -> { Set<String> s = new TreeSet<>(before); s.retainAll(now); yield s; }
    };
    String id = got.getString("id");
    assertEquals(now.size(), got.getLong("frequency"), id + " frequency");
    assertEquals(cur.size(), got.getLong("activeUsers"), id + " active users");
    assertEquals((double) now.size() / cur.size(), got.getDouble("share"), 1e-9, id + " share");
    JsonObject bt = got.getJsonObject("backtest");
    assertEquals(before.size(), bt.getLong("matchedAtStart"), id + " matched at start");
    assertEquals(outcome.size(), bt.getLong("outcomeHits"), id + " outcome");
    Double expected = before.isEmpty() ? null : (double) outcome.size() / before.size();
    if (expected == null) {
      assertNull(got.getValue("confidence"), id);
    } else {
      assertEquals(expected, got.getDouble("confidence"), 1e-9, id + " confidence");
    }
    assertEquals(expected != null && expected > got.getDouble("minConfidence") && !now.isEmpty(),
        got.getBoolean("reported"), id + " reported");
    assertEquals(new ArrayList<>(now), users(id, "to=" + TO + "&from=2026-08-01&limit=100000"), id + " users");
  }

  // ------------------------------------------------------------------------------------------- tests

  @Test
  void builtInPatternsMatchTheOracle() {
    // the in-memory index (built here from flush notices only, as Tally started empty) and the SQL path
    for (String path : new String[] {"", "&index=false"}) {
      suffix = path;
      builtIns();
    }
    suffix = "";
  }

  @Test
  void theIndexLoadedAtStartGivesTheSameAnswers() {
    JsonObject before = get("/v1/patterns/detect?to=" + TO + "&from=2026-08-01&index=false");
    String project = t.project;
    String w = t.writeKey;
    String r = t.readKey;
    t.stop();
    t = TestTally.start(project, w, r, java.util.function.UnaryOperator.identity());
    Eventually.until("pattern index loaded", () -> t.http.get("/metrics").body().lines()
        .anyMatch(l -> l.startsWith("analytics_pattern_index_person_days ") && Double.parseDouble(l.substring(36)
            .trim()) > 0));
    assertEquals(before, get("/v1/patterns/detect?to=" + TO + "&from=2026-08-01"));
    suffix = "";
    builtIns();
  }

  static String suffix = "";

  private static void builtIns() {
    Map<String, JsonObject> d = detect("to=" + TO + "&from=2026-08-01");
    assertTrue(d.keySet().containsAll(Set.of("churn-risk", "power-users", "conversion-ops", "feature-gaps")));

    JsonObject churn = d.get("churn-risk");
    checkPattern(churn, builtIn("churn-risk"), "churn", 30);
    // by construction: exactly the 120 built users match, and 40 of the 50 matched a window earlier churned
    assertEquals(120, churn.getLong("frequency"));
    assertTrue(users("churn-risk", "to=" + TO + "&limit=1000").stream().allMatch(u -> u.startsWith("c")));
    assertEquals(0.8, churn.getDouble("confidence"), 1e-9);
    assertTrue(churn.getBoolean("reported"));
    assertEquals("Churn risk", churn.getString("name"));

    JsonObject power = d.get("power-users");
    checkPattern(power, builtIn("power-users"), "engagement", 7);
    assertEquals(40, power.getLong("frequency"));
    assertEquals(20, power.getJsonObject("backtest").getLong("matchedAtStart"));

    JsonObject conv = d.get("conversion-ops");
    checkPattern(conv, builtIn("conversion-ops"), "conversion", 14);
    assertEquals(30, conv.getJsonObject("backtest").getLong("matchedAtStart"));
    assertEquals(0.7, conv.getDouble("confidence"), 1e-9);
    assertEquals(10, conv.getLong("frequency"));
    assertTrue(conv.getBoolean("reported"), "0.7 > the seed's 0.6");

    // feature gaps: per feature, persons using it ÷ active persons, against the oracle
    JsonObject gap = d.get("feature-gaps");
    LocalDate a = END.minusDays(30);
    Map<String, Map<String, Object>> cur = oracle.features(a, END);
    Map<String, Map<String, Object>> prev = oracle.features(a.minusDays(30), a);
    Set<String> all = new TreeSet<>(List.of("chat", "share", "export", "settings"));
    cur.values().forEach(f -> all.addAll(((Map<String, Long>) f.get("_feats")).keySet()));
    prev.values().forEach(f -> all.addAll(((Map<String, Long>) f.get("_feats")).keySet()));
    Set<String> gaps = new TreeSet<>();
    Set<String> gaps0 = new TreeSet<>();
    for (String feature : all) {
      long users = cur.values().stream().filter(f -> ((Set<?>) f.get("features")).contains(feature)).count();
      long users0 = prev.values().stream().filter(f -> ((Set<?>) f.get("features")).contains(feature)).count();
      if ((double) users / cur.size() < 0.1) {
        gaps.add(feature);
      }
      if ((double) users0 / prev.size() < 0.1) {
        gaps0.add(feature);
      }
    }
    assertTrue(gaps.contains("voice"), gaps.toString());
    assertEquals(new JsonArray(new ArrayList<>(gaps)), gap.getJsonArray("gapFeatures"));
    long stayed = gaps0.stream().filter(gaps::contains).count();
    assertEquals((double) stayed / gaps0.size(), gap.getDouble("confidence"), 1e-9);
    long without = cur.values().stream().filter(f -> ((Set<?>) f.get("features")).stream().noneMatch(gaps::contains))
        .count();
    assertEquals(without, gap.getLong("frequency"));
    assertEquals(without, users("feature-gaps", "to=" + TO + "&limit=100000").size());
  }

  @Test
  void frenchTextsFollowAcceptLanguage() {
    Http.Response r = t.http.send(java.net.http.HttpRequest.newBuilder(t.http.uri("/v1/patterns/detect?to=" + TO))
        .header("Authorization", "Bearer " + t.readKey).header("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.8").GET()
        .build());
    assertEquals(200, r.status(), r.body());
    JsonObject churn = r.json().getJsonArray("patterns").stream().map(o -> (JsonObject) o)
        .filter(p -> p.getString("id").equals("churn-risk")).findFirst().orElseThrow();
    assertEquals("Risque de churn", churn.getString("name"));
    assertEquals("Lancer une campagne de réengagement", churn.getJsonArray("recommendations").getString(0));
  }

  @Test
  void customPatternWithWeightsAndEveryOperatorKind() {
    JsonObject def = new JsonObject()
        .put("conditions", new JsonArray()
            .add(new JsonObject().put("field", "providers").put("operator", "contains").put("value", "anthropic")
                .put("weight", 2))
            .add(new JsonObject().put("field", "messages_per_day").put("operator", "gte").put("value", 1))
            .add(new JsonObject().put("field", "usage_frequency").put("operator", "in")
                .put("value", new JsonArray().add(2).add(3).add(11)))
            .add(new JsonObject().put("field", "feature_usage_rate.search").put("operator", "lt").put("value", 0.3))
            .add(new JsonObject().put("field", "models").put("operator", "not_in")
                .put("value", new JsonArray().add("o3"))))
        .put("timeWindow", 30).put("minOccurrences", 2).put("aggregation", "unique").put("threshold", 0.66);
    Http.Response created = t.http.send(java.net.http.HttpRequest.newBuilder(t.http.uri("/v1/patterns"))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(new JsonObject().put("id", "claude-regulars")
            .put("name", "Claude regulars").put("type", "retention").put("pattern", def).put("minConfidence", 0.1)
            .put("recommendations", new JsonArray().add("Offer Claude tips")).encode())).build());
    assertEquals(201, created.status(), created.body());

    for (String path : new String[] {"", "&index=false"}) {
      suffix = path;
      JsonObject got = detect("to=" + TO + "&from=2026-08-01").get("claude-regulars");
      assertNotNull(got);
      checkPatternRetention(got, def);
    }
    suffix = "";
    List<String> ids = new ArrayList<>();
    get("/v1/patterns").getJsonArray("patterns").forEach(p -> ids.add(((JsonObject) p).getString("id")));
    assertTrue(ids.contains("claude-regulars") && ids.contains("churn-risk"), ids.toString());

    // the same id again: 409; bad definitions: 400 naming the field
    Http.Response again = postPattern(new JsonObject().put("id", "claude-regulars").put("name", "x")
        .put("pattern", def));
    assertEquals(409, again.status(), again.body());
    assertBad(new JsonObject().put("name", "x").put("pattern", new JsonObject().put("conditions", new JsonArray()
        .add(new JsonObject().put("field", "cost").put("operator", "between").put("value", 1)))),
        "pattern.conditions[0].operator");
    assertBad(new JsonObject().put("name", "x").put("pattern", new JsonObject().put("conditions", new JsonArray()
        .add(new JsonObject().put("field", "happiness").put("operator", "gt").put("value", 1)))),
        "pattern.conditions[0].field");
    assertBad(new JsonObject().put("name", "x").put("pattern", new JsonObject().put("conditions", new JsonArray()
        .add(new JsonObject().put("field", "cost").put("operator", "contains").put("value", "x")))),
        "pattern.conditions[0].operator");
    assertBad(new JsonObject().put("name", "x").put("pattern", new JsonObject().put("conditions", new JsonArray()
        .add(new JsonObject().put("field", "cost").put("operator", "in").put("value", 3)))),
        "pattern.conditions[0].value");
    assertBad(new JsonObject().put("name", "x").put("pattern", def.copy().put("aggregation", "median")),
        "pattern.aggregation");
    assertBad(new JsonObject().put("name", "x").put("pattern", def.copy().put("timeWindow", 400)),
        "pattern.timeWindow");
    assertBad(new JsonObject().put("name", "x").put("type", "vibes").put("pattern", def), "type");

    Http.Response builtInDelete = t.http.send(java.net.http.HttpRequest.newBuilder(
        t.http.uri("/v1/patterns/churn-risk")).header("Authorization", "Bearer " + t.readKey).DELETE().build());
    assertEquals(400, builtInDelete.status());
    Http.Response deleted = t.http.send(java.net.http.HttpRequest.newBuilder(
        t.http.uri("/v1/patterns/claude-regulars")).header("Authorization", "Bearer " + t.readKey).DELETE().build());
    assertEquals(200, deleted.status(), deleted.body());
    assertEquals(404, t.http.get("/v1/patterns/claude-regulars/users?to=" + TO).status());
    assertFalse(detect("to=" + TO + "&from=2026-08-01").containsKey("claude-regulars"));
  }

  private static void checkPatternRetention(JsonObject got, JsonObject def) {
    LocalDate a = END.minusDays(30);
    Map<String, Map<String, Object>> cur = oracle.features(a, END);
    Map<String, Map<String, Object>> prev = oracle.features(a.minusDays(30), a);
    Set<String> now = PatternOracle.matches(cur, def);
    Set<String> before = PatternOracle.matches(prev, def);
    Set<String> stayed = new TreeSet<>(before);
    stayed.retainAll(cur.keySet());
    assertTrue(now.size() > 10 && now.size() < cur.size(), "a discriminating pattern: " + now.size());
    List<String> gotUsers = users("claude-regulars", "to=" + TO + "&limit=100000");
    Set<String> extra = new TreeSet<>(now);
    extra.removeAll(gotUsers);
    Set<String> missing = new TreeSet<>(gotUsers);
    missing.removeAll(now);
    assertEquals(Set.of(), extra, "oracle-only; server-only: " + missing + " e.g. " + (extra.isEmpty() ? ""
        : cur.get(extra.iterator().next())));
    assertEquals(now.size(), got.getLong("frequency"));
    assertEquals(before.size(), got.getJsonObject("backtest").getLong("matchedAtStart"));
    assertEquals(stayed.size(), got.getJsonObject("backtest").getLong("outcomeHits"));
    assertEquals(new ArrayList<>(now), users("claude-regulars", "to=" + TO + "&limit=100000"));
  }

  private static Http.Response postPattern(JsonObject body) {
    return t.http.send(java.net.http.HttpRequest.newBuilder(t.http.uri("/v1/patterns"))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.encode())).build());
  }

  private static void assertBad(JsonObject body, String field) {
    Http.Response r = postPattern(body);
    assertEquals(400, r.status(), r.body());
    assertEquals(field, r.json().getString("field"), r.body());
  }
}
