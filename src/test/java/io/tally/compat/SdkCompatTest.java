package io.tally.compat;

import io.tally.buffer.EventRing;
import io.tally.config.ProjectConfig;
import io.tally.support.Db;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that the real Segment, RudderStack and PostHog Node SDKs (pinned in src/test/node/sdk-compat), pointed at
 * Tally unchanged, store what they send, field by field, and that after a 503 (a full buffer) or a 429 (the
 * project's rate limit) they retry and every event is stored exactly once.
 */
@Timeout(value = 600, unit = java.util.concurrent.TimeUnit.SECONDS)
class SdkCompatTest {
  static final String S = UUID.randomUUID().toString().substring(0, 8);
  /** A slow key: one event a second, three at most at once. */
  static final ProjectConfig.RateLimits SLOW = new ProjectConfig.RateLimits(1, 3, 1000, 2000);
  static final Map<String, ProjectConfig> PROJECTS = new HashMap<>();
  static TestTally t;

  @BeforeAll
  static void start() throws Exception {
    NodeSdk.install();
    List<ProjectConfig> projects = new ArrayList<>();
    for (String sdk : List.of("segment", "rudder", "posthog")) {
      // Segment's project trusts the event's context.ip (a backend forwarding its users), the others do not
      projects.add(project(sdk, null).withTrustEventIp(sdk.equals("segment")));
      projects.add(project(sdk + "slow", SLOW));
      projects.add(project(sdk + "full", null));
    }
    projects.forEach(p -> PROJECTS.put(p.id().substring(0, p.id().indexOf('-')), p));
    ProjectConfig first = projects.get(0);
    t = TestTally.start(first.id(), first.writeKeys().get(0), first.readKeys().get(0), c -> c.withProjects(projects));
  }

  private static ProjectConfig project(String name, ProjectConfig.RateLimits limits) {
    ProjectConfig p = new ProjectConfig(name + "-" + S, List.of("w-" + name + "-" + S), List.of("r-" + name + "-" + S),
        ZoneOffset.UTC);
    return limits == null ? p : p.withRateLimits(limits);
  }

  @AfterAll
  static void stop() {
    if (t != null) {
      t.close();
    }
  }

  private static NodeSdk.Run run(String sdk, String project, String scenario, String runId, String ts)
      throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PORT", Integer.toString(t.tally.port()));
    env.put("WRITE_KEY", PROJECTS.get(project).writeKeys().get(0));
    env.put("RUN", runId);
    env.put("SCENARIO", scenario);
    env.put("TS", ts);
    return NodeSdk.run(sdk + ".js", env, 120);
  }

  private static Map<String, Object> row(String project, UUID id) {
    List<Map<String, Object>> rows = Db.query("SELECT type, category, action, label, ts, user_id, anonymous_id, "
        + "session_id, flags, properties::text AS properties, page::text AS page, user_context::text AS uc, "
        + "attribution::text AS attribution, browser, ip FROM events WHERE project_id = ? AND id = ?",
        PROJECTS.get(project).id(), id);
    assertEquals(1, rows.size(), "stored once: " + id + " in " + project);
    return rows.get(0);
  }

  private static Map<String, Object> row(String project, String messageId) {
    return row(project, messageId.length() == 36 ? UUID.fromString(messageId)
        : UUID.nameUUIDFromBytes(messageId.getBytes(StandardCharsets.UTF_8)));
  }

  private static JsonObject json(Map<String, Object> row, String column) {
    return new JsonObject((String) row.get(column));
  }

  private static long events(String project) {
    return Db.eventsOf(PROJECTS.get(project).id());
  }

  private static String ts() {
    return Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MILLIS).toString();
  }

  private static void assertRecent(Map<String, Object> row) {
    Instant at = ((java.sql.Timestamp) row.get("ts")).toInstant();
    assertTrue(Duration.between(at, Instant.now()).abs().toSeconds() < 120, "event time near now: " + at);
  }

  @Test
  void verifiesThatSegmentsEveryCallIsStoredFieldByField() throws Exception {
    // GIVEN the Segment SDK with explicit message ids and timestamps
    String run = "seg-" + UUID.randomUUID();
    String ts = ts();
    // WHEN it sends identify, two tracks, page, screen, group and alias
    NodeSdk.Run r = run("segment", "segment", "all", run, ts);
    // THEN it saw every call delivered, and each is stored once with its fields
    assertTrue(r.delivered(), r.output());
    assertEquals(7, events("segment"));
    Map<String, Object> track = row("segment", run + "-track");
    assertEquals("Order Completed", track.get("type"));
    assertTrue(((Integer) track.get("flags") & 32) != 0, "a custom event");
    assertEquals(Instant.parse(ts), ((java.sql.Timestamp) track.get("ts")).toInstant());
    assertEquals("u1", track.get("user_id"));
    assertEquals(42.5, json(track, "properties").getDouble("revenue"));
    JsonObject page = json(track, "page");
    assertEquals("https://example.com/pricing?plan=pro", page.getString("url"));
    assertEquals("/pricing", page.getString("path"));
    assertEquals("https://google.com/", page.getString("referrer"));
    assertEquals("Pricing", page.getString("title"));
    assertEquals("?utm_source=newsletter&utm_medium=email&utm_campaign=spring", page.getString("search"));
    JsonObject attribution = json(track, "attribution");
    assertEquals("newsletter", attribution.getString("source"));
    assertEquals("email", attribution.getString("medium"));
    assertEquals("spring", attribution.getString("campaign"));
    assertEquals("Firefox", track.get("browser"));
    assertEquals("203.0.113.0", track.get("ip"), "context.ip trusted by this project, anonymised");

    Map<String, Object> catalogued = row("segment", run + "-catalogue");
    assertEquals("message_received", catalogued.get("type"));
    assertEquals("conversation", catalogued.get("category"));
    assertEquals(30, json(catalogued, "properties").getInteger("tokens"));

    Map<String, Object> identify = row("segment", run + "-identify");
    assertEquals("identify", identify.get("type"));
    assertEquals("anon-1", identify.get("anonymous_id"));
    assertEquals("a@example.com", json(identify, "uc").getJsonObject("userProperties").getString("email"));

    Map<String, Object> pageCall = row("segment", run + "-page");
    assertEquals("page_view", pageCall.get("type"));
    assertEquals("Pricing", pageCall.get("label"));
    assertEquals("Docs", json(pageCall, "properties").getString("category"));

    Map<String, Object> screen = row("segment", run + "-screen");
    assertEquals("screen_view", screen.get("type"));
    assertEquals("Home", screen.get("label"));
    assertEquals("anon-1", screen.get("anonymous_id"));
    assertEquals("a", json(screen, "properties").getString("variant"));

    Map<String, Object> group = row("segment", run + "-group");
    assertEquals("group", group.get("type"));
    assertEquals("org_1", json(group, "properties").getString("groupId"));
    assertEquals("Acme", json(group, "properties").getJsonObject("traits").getString("name"));

    Map<String, Object> alias = row("segment", run + "-alias");
    assertEquals("alias", alias.get("type"));
    assertEquals("u1", alias.get("user_id"));
    assertEquals("anon-1", json(alias, "properties").getString("previousId"));
  }

  @Test
  void verifiesThatRudderStacksGzippedFormLabelledBatchesAreStoredFieldByField() throws Exception {
    String run = "rud-" + UUID.randomUUID();
    String ts = ts();
    NodeSdk.Run r = run("rudder", "rudder", "all", run, ts);
    assertTrue(r.delivered(), r.output());
    assertEquals(6, events("rudder"));
    Map<String, Object> track = row("rudder", run + "-track");
    assertEquals("Order Completed", track.get("type"));
    assertEquals(Instant.parse(ts), ((java.sql.Timestamp) track.get("ts")).toInstant(), "timestamp as given");
    assertEquals("?utm_source=newsletter", json(track, "page").getString("search"));
    assertNotEquals("203.0.113.0", track.get("ip"), "context.ip is not trusted by this project");
    Map<String, Object> identify = row("rudder", run + "-identify");
    assertEquals("identify", identify.get("type"));
    assertEquals("a@example.com", json(identify, "uc").getJsonObject("userProperties").getString("email"));
    assertTrue(((Integer) identify.get("flags") & 2) != 0, "originalTimestamp corrected by sentAt");
    assertRecent(identify);
    assertEquals("page_view", row("rudder", run + "-page").get("type"));
    assertEquals("screen_view", row("rudder", run + "-screen").get("type"));
    assertEquals("org_1", json(row("rudder", run + "-group"), "properties").getString("groupId"));
    assertEquals("anon-1", json(row("rudder", run + "-alias"), "properties").getString("previousId"));
  }

  @Test
  void verifiesThatPostHogsEventsAndLlmGenerationsAreStoredAndCountInUsage() throws Exception {
    NodeSdk.Run r = run("posthog", "posthog", "all", "ph", ts());
    assertTrue(r.delivered(), r.output());
    JsonObject ids = idsOf(r);
    String project = PROJECTS.get("posthog").id();
    assertEquals(7, events("posthog"));
    Map<String, Object> custom = row("posthog", ids.getString("custom"));
    assertEquals("order_completed", custom.get("type"));
    assertEquals("u1", custom.get("user_id"));
    assertEquals("sess-1", custom.get("session_id"));
    assertEquals(42.5, json(custom, "properties").getDouble("revenue"));
    assertEquals("posthog-node", json(custom, "properties").getString("$lib"));
    assertRecent(custom);
    Map<String, Object> pageview = row("posthog", ids.getString("pageview"));
    assertEquals("page_view", pageview.get("type"));
    assertEquals("$pageview", pageview.get("action"));
    assertEquals("https://example.com/pricing?utm_source=ads", json(pageview, "page").getString("url"));
    assertEquals("/pricing", json(pageview, "page").getString("path"));
    assertEquals("https://google.com/", json(pageview, "page").getString("referrer"));
    assertEquals("ads", json(pageview, "attribution").getString("source"));
    assertEquals("conversation", row("posthog", ids.getString("conversation")).get("category"));

    Map<String, Object> identify = Db.query("SELECT anonymous_id, user_context::text AS uc, properties::text AS "
        + "properties FROM events WHERE project_id = ? AND type = 'identify'", project).get(0);
    assertEquals("anon-ph", identify.get("anonymous_id"));
    assertEquals("a@example.com", json(identify, "uc").getJsonObject("userProperties").getString("email"));
    assertEquals("2024-01-01", json(identify, "properties").getJsonObject("$set_once").getString("first_seen"));
    Map<String, Object> alias = Db.query("SELECT user_id, properties::text AS properties FROM events "
        + "WHERE project_id = ? AND type = 'alias'", project).get(0);
    assertEquals("u1", alias.get("user_id"));
    assertEquals("anon-2", json(alias, "properties").getString("previousId"));

    Map<String, Object> generation = Db.query("SELECT action, properties::text AS properties FROM events "
        + "WHERE project_id = ? AND type = 'message_received'", project).get(0);
    JsonObject g = json(generation, "properties");
    assertEquals("$ai_generation", generation.get("action"));
    assertEquals("openai", g.getString("provider"));
    assertEquals("gpt-4o-mini", g.getString("model"));
    assertEquals(17, g.getInteger("tokens"));
    assertEquals(4.8e-6, g.getDouble("cost"), 1e-12);
    assertEquals(842, g.getInteger("responseTimeMs"));
    assertNull(g.getValue("$ai_input"), "prompts are not stored");
    Map<String, Object> failed = Db.query("SELECT properties::text AS properties FROM events "
        + "WHERE project_id = ? AND type = 'error'", project).get(0);
    assertEquals("429", json(failed, "properties").getString("code"));
    assertTrue(json(failed, "properties").getString("message").contains("rate limited"));

    // AND the usage figures include the generation (latency) beside the conversation (tokens and cost)
    Http read = new Http(t.tally.port(), null, PROJECTS.get("posthog").readKeys().get(0));
    String period = "from=" + Instant.now().minus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.HOURS) + "&to="
        + Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
    JsonObject[] usage = new JsonObject[1];
    Eventually.until("usage counts the generation", () -> {
      usage[0] = read.get("/v1/metrics/usage?" + period).json();
      Object rt = usage[0].getJsonObject("performance").getValue("averageResponseTime");
      return rt instanceof Number n && n.doubleValue() == 842;
    });
    JsonObject conversations = usage[0].getJsonObject("conversations");
    assertEquals(1, conversations.getInteger("total"), usage[0].encode());
    assertEquals(17.0, conversations.getDouble("averageTokens"), 1e-9, usage[0].encode());
    assertEquals(4.8e-6, conversations.getDouble("averageCost"), 1e-12, usage[0].encode());
  }

  private static JsonObject idsOf(NodeSdk.Run r) {
    return new JsonObject(r.output().lines().filter(l -> l.startsWith("IDS ")).findFirst().orElseThrow().substring(4));
  }

  @Test
  void verifiesThatEachSdkRetriesAfterA503FromAFullBufferAndStoresEveryEventOnce() throws Exception {
    for (String sdk : List.of("segment", "rudder", "posthog")) {
      // GIVEN the ingestion buffer held full (as concurrent requests would hold it)
      EventRing ring = t.tally.ring();
      int held = 0;
      while (ring.occupancy() < ring.capacity()) {
        int free = ring.capacity() - ring.occupancy();
        if (ring.tryReserve(free)) {
          held += free;
        }
      }
      double before = metric("analytics_events_rejected_total{reason=\"buffer_full\"");
      // WHEN the SDK sends three events, and the buffer is released after its first refusal
      String run = sdk + "-503-" + UUID.randomUUID();
      CompletableFuture<NodeSdk.Run> sending = runAsync(sdk, sdk + "full", run);
      try {
        Eventually.until(sdk + " refused with 503", 60,
            () -> metric("analytics_events_rejected_total{reason=\"buffer_full\"") > before);
      } finally {
        ring.release(held);
      }
      NodeSdk.Run r = sending.get();
      // THEN it retried on its own and each event is stored exactly once
      assertTrue(r.delivered(), sdk + ": " + r.output());
      assertStoredOnce(sdk, sdk + "full", run, r);
      assertEquals(3, events(sdk + "full"));
    }
  }

  @Test
  void verifiesThatEachSdkRetriesAfterA429FromTheProjectsRateLimitAndStoresEveryEventOnce() throws Exception {
    for (String sdk : List.of("segment", "rudder", "posthog")) {
      // GIVEN a key of one event a second whose burst (3) was just spent
      String project = sdk + "slow";
      Http slow = new Http(t.tally.port(), PROJECTS.get(project).writeKeys().get(0), null);
      double before = metric("analytics_events_rejected_total{reason=\"rate_limited\"");
      String spend = "{\"batch\":[" + String.join(",", java.util.Collections.nCopies(3, "{\"type\":\"spend\","
          + "\"userId\":\"x\",\"timestamp\":\"" + Instant.now() + "\"}")) + "]}";
      assertEquals(200, slow.post(spend).status());
      // WHEN the SDK sends three events at once
      String run = sdk + "-429-" + UUID.randomUUID();
      NodeSdk.Run r = runAsync(sdk, project, run).get();
      // THEN it was refused with 429 at least once, retried, and each event is stored exactly once
      assertTrue(r.delivered(), sdk + ": " + r.output());
      assertTrue(metric("analytics_events_rejected_total{reason=\"rate_limited\"") > before, sdk + " saw a 429");
      assertStoredOnce(sdk, project, run, r);
      assertEquals(3 + 3, events(project), "the three spent and the SDK's three");
    }
  }

  private static CompletableFuture<NodeSdk.Run> runAsync(String sdk, String project, String run) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return run(sdk, project, "retry", run, ts());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private static void assertStoredOnce(String sdk, String project, String run, NodeSdk.Run r) {
    for (int n = 1; n <= 3; n++) {
      String id = sdk.equals("posthog") ? idsOf(r).getString("retry-" + n) : run + "-retry-" + n;
      assertEquals(n, json(row(project, id), "properties").getInteger("n"));
    }
  }

  /** The sum of a Prometheus series of /metrics whose name and first labels start with {@code prefix}. */
  private static double metric(String prefix) {
    return t.http.get("/metrics").body().lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
