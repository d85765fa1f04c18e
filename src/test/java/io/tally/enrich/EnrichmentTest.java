package io.tally.enrich;

import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.MmdbWriter;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EnrichmentTest {
  static TestTally t;
  static Path geoDb;

  @BeforeAll
  static void start() throws Exception {
    // GIVEN a small geo-IP database in the GeoIP2 City layout, written for this test
    geoDb = Files.createTempFile(Path.of("target"), "geo-", ".mmdb");
    Files.write(geoDb, new MmdbWriter()
        .add("203.0.113.0/24", Map.of(
            "country", Map.of("iso_code", "FR", "names", Map.of("en", "France")),
            "subdivisions", List.of(Map.of("iso_code", "IDF", "names", Map.of("en", "Ile-de-France"))),
            "city", Map.of("names", Map.of("en", "Paris")),
            "location", Map.of("time_zone", "Europe/Paris"),
            "traits", Map.of("isp", "Example Telecom")))
        .add("198.51.100.0/24", Map.of(
            "country", Map.of("iso_code", "DE"),
            "city", Map.of("names", Map.of("en", "Berlin")),
            "location", Map.of("time_zone", "Europe/Berlin")))
        .build("GeoIP2-City"));
    // AND besides the test's own project (which, by default, ignores an event's context.ip) one that takes it: a
    // backend forwarding its users' addresses
    String s = UUID.randomUUID().toString().substring(0, 8);
    forwarding = "fwd-" + s;
    t = TestTally.start(c -> c.withEnrich(new TallyConfig.Enrich(geoDb.toString(), List.of("127.0.0.0/8", "::1/128"),
        30, 1000, "")).withProjects(List.of(c.projects().get(0), new ProjectConfig(forwarding, List.of("w-fwd-" + s),
        List.of("r-fwd-" + s), ZoneOffset.UTC).withTrustEventIp(true))));
    backend = new Http(t.tally.port(), "w-fwd-" + s, "r-fwd-" + s);
  }

  static String forwarding;
  /** The project that takes context.ip, with its keys. */
  static Http backend;

  @AfterAll
  static void stop() {
    t.stop();
  }

  private static Map<String, Object> row(String id) {
    return Db.query("SELECT context::text AS context, country, device_type, browser, ip, is_bot, attribution::text "
        + "AS attribution FROM events WHERE id = ?::uuid", id).get(0);
  }

  @Test
  void verifiesThatUserAgentAndForwardedIpBecomeDeviceBrowserAndLocationWithTheIpAnonymised() {
    // GIVEN a browser behind the (trusted, loopback) proxy
    JsonObject e = Events.event("page_view", "u-geo");
    e.put("context", new JsonObject().put("screenResolution", "1920x1080").put("viewport", "1280x720")
        .put("language", "fr-FR").put("timezone", "Europe/Paris").put("cookiesEnabled", true)
        .put("doNotTrack", false));
    // (logs are captured: slf4j-simple writes to the current System.err)
    java.io.PrintStream err = System.err;
    java.io.PrintStream out = System.out;
    java.io.ByteArrayOutputStream logs = new java.io.ByteArrayOutputStream();
    java.io.PrintStream capture = new java.io.PrintStream(logs, true);
    Http.Response r;
    try {
      System.setErr(capture);
      System.setOut(capture);
      r = t.http.postHeaders(e.encode(), "User-Agent", UserAgentParserTest.IPHONE, "X-Forwarded-For", "203.0.113.77");
      t.http.postHeaders("{not json", "X-Forwarded-For", "203.0.113.77");
      t.http.postHeaders(Events.event("error", "u-geo").encode(), "X-Forwarded-For", "203.0.113.77");
    } finally {
      System.setErr(err);
      System.setOut(out);
    }
    assertEquals(200, r.status(), r.body());
    assertFalse(logs.toString().contains("203.0.113.77"), logs.toString());
    // THEN device, browser and location are derived and the IP is stored with its last octet zeroed
    Map<String, Object> row = row(e.getString("id"));
    JsonObject ctx = new JsonObject((String) row.get("context"));
    assertEquals("mobile", ctx.getJsonObject("device").getString("type"));
    assertEquals("iOS", ctx.getJsonObject("device").getString("os"));
    assertEquals("1920x1080", ctx.getJsonObject("device").getString("screenResolution"));
    assertEquals("1280x720", ctx.getJsonObject("device").getString("viewport"));
    assertEquals("fr-FR", ctx.getJsonObject("device").getString("language"));
    assertEquals("Safari", ctx.getJsonObject("browser").getString("name"));
    assertEquals(true, ctx.getJsonObject("browser").getBoolean("cookiesEnabled"));
    assertEquals(false, ctx.getJsonObject("browser").getBoolean("doNotTrack"));
    JsonObject loc = ctx.getJsonObject("location");
    assertEquals("FR", loc.getString("country"));
    assertEquals("Ile-de-France", loc.getString("region"));
    assertEquals("Paris", loc.getString("city"));
    assertEquals("Europe/Paris", loc.getString("timezone"));
    assertEquals("Example Telecom", loc.getString("isp"));
    assertEquals("FR", row.get("country"));
    assertEquals("mobile", row.get("device_type"));
    assertEquals("Safari", row.get("browser"));
    assertEquals("203.0.113.0", row.get("ip"));
    // AND the raw address is nowhere in PostgreSQL or Redis
    assertEquals(0, Db.count("SELECT count(*) FROM events e WHERE e::text LIKE '%203.0.113.77%'"));
    io.tally.support.Eventually.until("the session of u-geo", () -> Db.count(
        "SELECT count(*) FROM sessions WHERE project_id = ? AND user_id = 'u-geo'", t.project) > 0);
    assertEquals(0, Db.count("SELECT count(*) FROM sessions s WHERE s::text LIKE '%203.0.113.77%'"));
    assertEquals(0, Db.count("SELECT count(*) FROM users u WHERE u::text LIKE '%203.0.113.77%'"));
    try (Jedis jedis = TestServers.get().jedis()) {
      assertTrue(jedis.keys("*203.0.113.77*").isEmpty());
      for (String key : jedis.keys("tally:" + t.project + ":*")) {
        String type = jedis.type(key);
        if (type.equals("hash")) {
          assertFalse(jedis.hgetAll(key).toString().contains("203.0.113.77"), key);
        }
      }
    }
  }

  @Test
  void verifiesThatEventsOfInterleavedOriginsEachGetTheirOwnDeviceLocationAndEnvironment() {
    // GIVEN a backend's batches that interleave users: agent, address and language change from event to event, and the
    // second request repeats the same origins in the other order (enrichment keeps recent origins across requests)
    String[][] origins = {{UserAgentParserTest.IPHONE, "203.0.113.9", "fr-FR", "mobile", "FR", "203.0.113.0"},
        {UserAgentParserTest.CHROME_WINDOWS, "198.51.100.9", "de-DE", "desktop", "DE", "198.51.100.0"},
        {UserAgentParserTest.IPHONE, "198.51.100.10", "de-DE", "mobile", "DE", "198.51.100.0"},
        {UserAgentParserTest.CHROME_WINDOWS, "203.0.113.10", "fr-FR", "desktop", "FR", "203.0.113.0"},
        {UserAgentParserTest.IPHONE, "203.0.113.9", "de-DE", "mobile", "FR", "203.0.113.0"}};
    java.util.Map<String, String[]> expected = new java.util.HashMap<>();
    for (int round = 0; round < 2; round++) {
      JsonObject[] events = new JsonObject[origins.length * 2];
      for (int i = 0; i < events.length; i++) {
        String[] o = origins[round == 0 ? i % origins.length : origins.length - 1 - i % origins.length];
        events[i] = Events.event("page_view", "u-mix-" + round + "-" + i).put("context", new JsonObject().put("userAgent", o[0])
            .put("ip", o[1]).put("language", o[2]));
        expected.put(events[i].getString("id"), o);
      }
      assertEquals(200, backend.post(Events.batch(events).encode()).status());
    }
    // THEN each stored event has its own origin's device, location and language, and an anonymised address
    expected.forEach((id, o) -> {
      Map<String, Object> row = row(id);
      JsonObject ctx = new JsonObject((String) row.get("context"));
      assertEquals(o[3], ctx.getJsonObject("device").getString("type"), id);
      assertEquals(o[3], row.get("device_type"), id);
      assertEquals(o[2], ctx.getJsonObject("device").getString("language"), id);
      assertEquals(o[4], ctx.getJsonObject("location").getString("country"), id);
      assertEquals(o[4], row.get("country"), id);
      assertEquals(o[5], ctx.getString("ip"), id);
      assertEquals(o[5], row.get("ip"), id);
    });
  }

  @Test
  void verifiesThatAnEventNamesItsOwnAddressOnlyWhereItsProjectTrustsIt() {
    // GIVEN events that each claim an address in Berlin, in each of the fields that can carry one, sent by a client
    // in Paris (through the trusted loopback proxy)
    for (String field : List.of("context", "device", "browser")) {
      // (a session of its own each: a session's later events refer to the context its first one stored)
      JsonObject plain = Events.event("page_view", "u-claim-" + field).put(field, new JsonObject()
          .put("ip", "198.51.100.9"));
      JsonObject fwd = Events.event("page_view", "u-claim-" + field).put(field, new JsonObject()
          .put("ip", "198.51.100.9"));
      // WHEN one is sent to a project with the default settings, the other to the project that trusts event addresses
      assertEquals(200, t.http.postHeaders(plain.encode(), "X-Forwarded-For", "203.0.113.77").status());
      assertEquals(200, backend.postHeaders(fwd.encode(), "X-Forwarded-For", "203.0.113.77").status());
      // THEN the first is placed where its connection came from, its claim ignored
      Map<String, Object> ignored = row(plain.getString("id"));
      assertEquals("203.0.113.0", ignored.get("ip"), field);
      assertEquals("FR", ignored.get("country"), field);
      assertEquals("FR", new JsonObject((String) ignored.get("context")).getJsonObject("location")
          .getString("country"));
      // AND the second where it says (the address still anonymised)
      Map<String, Object> taken = row(fwd.getString("id"));
      assertEquals("198.51.100.0", taken.get("ip"), field);
      assertEquals("DE", taken.get("country"), field);
      assertEquals("DE", new JsonObject((String) taken.get("context")).getJsonObject("location").getString("country"));
    }
  }

  @Test
  void verifiesThatXForwardedForIsReadRightToLeftSkippingTrustedHops() {
    JsonObject e = Events.event("page_view", "u-xff");
    // 10.1.2.3 is not trusted here, so it is the client even though a spoofed address sits to its left
    t.http.postHeaders(e.encode(), "X-Forwarded-For", "203.0.113.9, 198.51.100.20");
    assertEquals("198.51.100.0", row(e.getString("id")).get("ip"));
    assertEquals("DE", row(e.getString("id")).get("country"));
  }

  @Test
  void verifiesThatWithoutAKnownAddressLocationIsEmptyNotInvented() {
    JsonObject e = Events.event("page_view", "u-noloc");
    t.http.post(e.encode());
    JsonObject ctx = new JsonObject((String) row(e.getString("id")).get("context"));
    assertTrue(ctx.getJsonObject("location").isEmpty(), ctx.encode());
    assertNull(row(e.getString("id")).get("country"));
    assertEquals("127.0.0.0", row(e.getString("id")).get("ip"));
  }

  @Test
  void verifiesThatAProjectCanKeepTheFullIpOrNoneAtAll() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    try (TestTally full = TestTally.start(c -> c.withEnrich(t.tally.config().enrich()).withProjects(List.of(
        new ProjectConfig("full-" + s, List.of("w-full-" + s), List.of("r-full-" + s), ZoneOffset.UTC, false,
            ProjectConfig.IpMode.FULL),
        new ProjectConfig("none-" + s, List.of("w-none-" + s), List.of("r-none-" + s), ZoneOffset.UTC, false,
            ProjectConfig.IpMode.NONE))))) {
      JsonObject a = Events.event("page_view", "u-ipmode");
      JsonObject b = Events.event("page_view", "u-ipmode");
      new Http(full.tally.port(), "w-full-" + s, "r").postHeaders(a.encode(), "X-Forwarded-For", "203.0.113.77");
      new Http(full.tally.port(), "w-none-" + s, "r").postHeaders(b.encode(), "X-Forwarded-For", "203.0.113.77");
      assertEquals("203.0.113.77", row(a.getString("id")).get("ip"));
      assertEquals("FR", row(a.getString("id")).get("country"));
      assertNull(row(b.getString("id")).get("ip"));
      assertNull(row(b.getString("id")).get("country"));
    }
  }

  @Test
  void verifiesThatBotsAreFlaggedKeptForAuditAndExcludedFromAnalytics() throws Exception {
    String bot = UUID.randomUUID().toString();
    JsonObject e = Events.event("page_view", "u-bot-" + bot).put("id", bot);
    JsonObject human = Events.event("page_view", "u-human-" + bot)
        .put("context", new JsonObject().put("userAgent", UserAgentParserTest.CHROME_WINDOWS));
    double before = metric("analytics_events_bot_total");
    assertEquals(200, t.http.postHeaders(Events.batch(e, human).encode(), "User-Agent", UserAgentParserTest.GOOGLEBOT)
        .status());
    assertEquals(true, row(bot).get("is_bot"));
    assertEquals(false, row(human.getString("id")).get("is_bot"));
    // once the human's person row exists, the derived tables have seen this batch
    io.tally.support.Eventually.until("the human's person row", () -> Db.count(
        "SELECT count(*) FROM users WHERE project_id = ? AND user_key = ?", t.project, "u-human-" + bot) == 1);
    assertEquals(0, Db.count("SELECT count(*) FROM sessions WHERE project_id = ? AND session_id = ?", t.project,
        e.getString("sessionId")));
    assertEquals(0, Db.count("SELECT count(*) FROM users WHERE project_id = ? AND user_key = ?", t.project,
        "u-bot-" + bot));
    assertEquals(before + 1, metric("analytics_events_bot_total"));
    String q = "/v1/events/count?from=" + java.time.Instant.now().minus(java.time.Duration.ofDays(1)) + "&to="
        + java.time.Instant.now().plus(java.time.Duration.ofDays(1)) + "&type=page_view";
    long withBots = t.http.get(q + "&includeBots=true").json().getLong("count");
    long without = t.http.get(q).json().getLong("count");
    assertEquals(1, withBots - without);
  }

  @Test
  void verifiesThatUtmParametersAndReferrersBecomeFirstAndLastTouch() {
    String user = "u-utm-" + UUID.randomUUID();
    JsonObject first = Events.event("page_view", user).put("timestamp", "2026-11-20T10:00:00Z")
        .put("page", new JsonObject().put("url", "https://app.example/?utm_source=newsletter&utm_medium=email"
            + "&utm_campaign=launch&utm_term=llm&utm_content=hero").put("path", "/"));
    JsonObject middle = Events.event("page_view", user).put("timestamp", "2026-11-21T10:00:00Z")
        .put("page", new JsonObject().put("url", "https://app.example/chat").put("path", "/chat")
            .put("referrer", "https://app.example/"));
    JsonObject last = Events.event("page_view", user).put("timestamp", "2026-11-22T10:00:00Z")
        .put("page", new JsonObject().put("url", "https://app.example/pricing").put("path", "/pricing")
            .put("referrer", "https://www.google.com/search?q=tally"));
    assertEquals(3, t.http.post(Events.batch(last, first, middle).encode()).json().getInteger("accepted"));
    io.tally.support.Eventually.until("the touches of " + user, () -> Db.count(
        "SELECT count(*) FROM touchpoints WHERE project_id = ? AND user_key = ?", t.project, user) == 2);
    Map<String, Object> u = Db.query("SELECT first_touch::text AS f, last_touch::text AS l FROM users "
        + "WHERE project_id = ? AND user_key = ?", t.project, user).get(0);
    JsonObject f = new JsonObject((String) u.get("f"));
    assertEquals("newsletter", f.getString("source"));
    assertEquals("email", f.getString("medium"));
    assertEquals("launch", f.getString("campaign"));
    assertEquals("llm", f.getString("term"));
    assertEquals("hero", f.getString("content"));
    JsonObject l = new JsonObject((String) u.get("l"));
    assertEquals("www.google.com", l.getString("source"));
    assertEquals("organic", l.getString("medium"));
    // the internal referrer is not a touch
    assertEquals(2, Db.count("SELECT count(*) FROM touchpoints WHERE project_id = ? AND user_key = ?", t.project, user));
  }

  private static double metric(String name) {
    String text = t.http.get("/metrics").body();
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    return 0;
  }
}
