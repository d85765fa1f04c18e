package io.tally.query;

import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.query.KatOracle.Filters;
import io.tally.query.KatOracle.Row;
import io.tally.query.KatOracle.Step;
import io.tally.support.Db;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.MmdbWriter;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.tally.query.KatOracle.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Known-answer test of the analytics query routes (README, "Analytics routes and metrics glossary"): a deterministic
 * generated dataset is sent over HTTP, every expected figure is computed here from the generated events alone
 * ({@link KatOracle}), and every field of every route is compared (doubles with a small tolerance). A second project in
 * America/New_York checks that days, hours and day buckets follow the project's time zone (including the 25-hour day
 * of 1 November 2026). Mismatches are collected per route and reported together (field, expected, actual).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AnalyticsKnownAnswerTest {
  static final Instant FROM = Instant.parse("2026-10-05T00:00:00Z");
  static final Instant TO = Instant.parse("2026-10-19T00:00:00Z");
  static final Instant PREV_FROM = Instant.parse("2026-09-21T00:00:00Z");
  static final Instant EMPTY_FROM = Instant.parse("2026-08-01T00:00:00Z");
  static final Instant EMPTY_TO = Instant.parse("2026-08-08T00:00:00Z");
  /** New York: 28 October 00:00 EDT to 4 November 00:00 EST. */
  static final Instant NY_FROM = Instant.parse("2026-10-28T04:00:00Z");
  static final Instant NY_TO = Instant.parse("2026-11-04T05:00:00Z");

  static TestTally t;
  static Http ny;
  static String nyWrite;
  static String nyRead;
  static KatDataset data;
  static KatDataset nyData;
  static KatOracle o;
  static KatOracle on;
  static Path geoDb;

  @BeforeAll
  static void start() throws Exception {
    data = KatDataset.utc();
    nyData = KatDataset.newYork();
    o = new KatOracle(data);
    on = new KatOracle(nyData);
    geoDb = Files.createTempFile(Path.of("target"), "kat-geo-", ".mmdb");
    Files.write(geoDb, new MmdbWriter()
        .add("203.0.113.0/24", Map.of("country", Map.of("iso_code", "FR")))
        .add("198.51.100.0/24", Map.of("country", Map.of("iso_code", "DE")))
        .add("192.0.2.0/24", Map.of("country", Map.of("iso_code", "US")))
        .build("GeoIP2-City"));
    String s = UUID.randomUUID().toString().substring(0, 8);
    String nyProject = "kat-ny-" + s;
    nyWrite = "w-ny-" + s;
    nyRead = "r-ny-" + s;
    t = TestTally.start(c -> {
      TallyConfig.Writer w = c.writer();
      TallyConfig.Enrich en = c.enrich();
      // the dataset's events name their users' addresses (context.ip), as a backend forwarding them does
      List<ProjectConfig> projects = new ArrayList<>();
      c.projects().forEach(p -> projects.add(p.withTrustEventIp(true)));
      projects.add(new ProjectConfig(nyProject, List.of(nyWrite), List.of(nyRead), KatDataset.NEW_YORK)
          .withTrustEventIp(true));
      return c.withWriter(new TallyConfig.Writer(w.ringCapacity(), w.batchSize(), w.flushIntervalMs(),
              w.maxInFlightBatches(), w.dedupeWindowDays(), w.retryBackoffMinMs(), w.retryBackoffMaxMs(),
              w.partitionDaysAhead(), 100, w.derivedRefreshMs()))
          .withEnrich(new TallyConfig.Enrich(geoDb.toString(), en.trustedProxies(), en.sessionTimeoutMinutes(),
              en.userAgentCacheSize(), en.eventTypesFile()))
          .withProjects(projects);
    });
    ny = new Http(t.tally.port(), nyWrite, nyRead);

    // round 1: everything but the anonymous-only events sent after the link
    ingest(t.http, data.events);
    ingest(ny, nyData.events);
    awaitSession(t.http, data.events);
    awaitSession(ny, nyData.events);
    awaitMerged();
    // round 2: anonymous-only events of the linked visitor
    ingest(t.http, data.late);
    awaitSession(t.http, data.late);
    awaitMerged();
    Thread.sleep(1500); // the query side's person index follows the flush notices
  }

  @AfterAll
  static void stop() {
    if (t != null) {
      t.stop();
    }
  }

  static void ingest(Http http, List<KatEvent> events) {
    for (int i = 0; i < events.size(); i += 400) {
      List<KatEvent> part = events.subList(i, Math.min(events.size(), i + 400));
      Http.Response r = http.post(new JsonObject().put("batch", KatDataset.json(part)).encode());
      assertEquals(200, r.status(), r.body());
      assertEquals(part.size(), r.json().getInteger("accepted"), r.body());
    }
  }

  /** Waits until the last person's session of the list is derived with all its events. */
  static void awaitSession(Http http, List<KatEvent> events) {
    KatEvent last = null;
    for (KatEvent e : events) {
      if (!e.bot && e.person != null) {
        last = e;
      }
    }
    String sid = last.sessionId;
    long n = events.stream().filter(e -> e.sessionId.equals(sid)).count();
    Eventually.until("session " + sid + " with " + n + " events", () -> {
      Http.Response r = http.get("/v1/sessions/" + sid);
      return r.status() == 200 && r.json().getLong("eventCount") == n;
    });
  }

  static void awaitMerged() {
    Eventually.until("the anonymous history handed to " + KatDataset.IDENT, () ->
        Db.count("SELECT count(*) FROM events WHERE project_id = ? AND anonymous_id = ? AND user_id IS NULL",
            t.project, KatDataset.ANON) == 0
            && Db.count("SELECT count(*) FROM users WHERE project_id = ? AND user_key = ?", t.project, KatDataset.ANON) == 0
            && Db.count("SELECT count(*) FROM sessions WHERE project_id = ? AND anonymous_id = ? AND user_id IS NULL",
            t.project, KatDataset.ANON) == 0);
  }

  static String q(Instant from, Instant to) {
    return "from=" + from + "&to=" + to;
  }

  static JsonObject get(KatCheck c, String group, Http http, String path) {
    Http.Response r = http.get(path);
    if (r.status() != 200) {
      c.failMessage(group, "GET " + path + " answered " + r.status() + " " + r.body());
      return null;
    }
    return r.json();
  }

  static Http.Response postFunnel(Http http, String key, JsonObject body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(http.uri("/v1/funnels")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build());
  }

  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void datasetHasTheEdgeCasesTheChecksRelyOn() {
    List<KatEvent> all = data.all();
    Set<String> types = all.stream().map(e -> e.type).collect(Collectors.toCollection(TreeSet::new));
    for (String type : List.of("page_view", "conversation_created", "conversation_completed", "message_sent",
        "message_received", "error", "feature_used", "share_created", "export_generated", "customization_made",
        "feedback_given", "support_ticket_created", "signup", "subscription", "upgrade", "referral", "payment",
        "page_load", "identify", "trial_started")) {
      assertTrue(types.contains(type), "dataset lacks " + type);
    }
    assertTrue(o.byPerson.size() >= 8 && o.byPerson.size() <= 15, "persons: " + o.byPerson.keySet());
    assertTrue(o.revenue(FROM, TO) > 0 && o.revenue(PREV_FROM, FROM) > 0, "revenue in both periods");
    Map<String, Object> u = o.usage(Filters.NONE, FROM, TO);
    @SuppressWarnings("unchecked") Map<String, Object> users = (Map<String, Object>) u.get("users");
    assertTrue((Long) users.get("churned") > 0 && (Long) users.get("retained") > 0 && (Long) users.get("new") > 0
        && (Long) users.get("returning") > 0, users.toString());
    assertTrue(o.userAnalytics("u-nomsg", FROM, TO).toString().contains("preferredProvider=null"));
    assertEquals("anthropic", KatOracle.preferred(KatOracle.messages(o.byPerson.get("u-tie")), "provider"));
    assertEquals("claude-3-haiku", KatOracle.preferred(KatOracle.messages(o.byPerson.get("u-tie")), "model"));
    System.out.printf("KAT dataset: %d events (%d late) in %d sessions of %d persons; NY: %d events%n", all.size(),
        data.late.size(), o.sessions.size(), o.byPerson.size(), nyData.all().size());
  }

  @Test
  void userAnalytics() {
    KatCheck c = new KatCheck("GET /v1/users/{id}/analytics");
    for (String person : o.byPerson.keySet()) {
      String g = "user " + person + " [main period]";
      JsonObject a = get(c, g, t.http, "/v1/users/" + person + "/analytics?" + q(FROM, TO));
      if (a != null) {
        c.object(g, person, o.userAnalytics(person, FROM, TO), a);
      }
    }
    // a period ending at midnight while u02's session crosses it: the session started in the period counts whole
    Instant cut = Instant.parse("2026-10-11T00:00:00Z");
    for (String person : List.of("u02", KatDataset.IDENT)) {
      String g = "user " + person + " [5-11 Oct, session across the end]";
      JsonObject a = get(c, g, t.http, "/v1/users/" + person + "/analytics?" + q(FROM, cut));
      if (a != null) {
        c.object(g, person, o.userAnalytics(person, FROM, cut), a);
      }
    }
    // an empty period
    for (String person : List.of("u01", "u-tie")) {
      String g = "user " + person + " [empty period]";
      JsonObject a = get(c, g, t.http, "/v1/users/" + person + "/analytics?" + q(EMPTY_FROM, EMPTY_TO));
      if (a != null) {
        c.object(g, person, o.userAnalytics(person, EMPTY_FROM, EMPTY_TO), a);
      }
    }
    // a person never seen: 404
    Http.Response r = t.http.get("/v1/users/u-nobody-" + UUID.randomUUID() + "/analytics?" + q(FROM, TO));
    c.truth("unknown user", "status", r.status() == 404, "expected 404, got " + r.status() + " " + r.body());
    c.done();
  }

  static final List<Filters> USAGE_FILTERS = List.of(
      Filters.NONE,
      new Filters("openai", null, null, null),
      new Filters("anthropic", null, null, null),
      new Filters("google", null, null, null),
      new Filters(null, "claude-3-5-sonnet", null, null),
      new Filters(null, "gpt-4o-mini", null, null),
      new Filters(null, null, null, "desktop"),
      new Filters(null, null, null, "mobile"),
      new Filters(null, null, null, "tablet"),
      new Filters(null, null, "FR", null),
      new Filters(null, null, "DE", null),
      new Filters(null, null, "US", null),
      new Filters("openai", null, null, "desktop"),
      new Filters("anthropic", "claude-3-5-sonnet", "DE", "mobile"));

  @Test
  void usageMetrics() {
    KatCheck c = new KatCheck("GET /v1/metrics/usage");
    for (Filters f : USAGE_FILTERS) {
      usage(c, "usage " + f + " [main period]", f, FROM, TO, "");
    }
    usage(c, "usage unfiltered [previous period]", Filters.NONE, PREV_FROM, FROM, "");
    usage(c, "usage unfiltered [one day, 10 Oct]", Filters.NONE, Instant.parse("2026-10-10T00:00:00Z"),
        Instant.parse("2026-10-11T00:00:00Z"), "");
    usage(c, "usage unfiltered [6 h, not day-aligned]", Filters.NONE, Instant.parse("2026-10-10T09:30:00Z"),
        Instant.parse("2026-10-10T15:30:00Z"), "");
    usage(c, "usage unfiltered [empty period]", Filters.NONE, EMPTY_FROM, EMPTY_TO, "");
    usage(c, "usage unfiltered [main period, raw=true]", Filters.NONE, FROM, TO, "&raw=true");
    usage(c, "usage device=mobile [main period, raw=true]", new Filters(null, null, null, "mobile"), FROM, TO,
        "&raw=true");
    c.done();
  }

  static void usage(KatCheck c, String g, Filters f, Instant from, Instant to, String extra) {
    JsonObject a = get(c, g, t.http, "/v1/metrics/usage?" + q(from, to) + f.query() + extra);
    if (a != null) {
      c.object(g, "usage", o.usage(f, from, to), a);
    }
  }

  @Test
  void funnels() {
    KatCheck c = new KatCheck("POST /v1/funnels");
    List<Step> f1 = List.of(new Step("page_view", Map.of()),
        new Step("conversation_created", Map.of("provider", "openai")),
        new Step("message_received", Map.of()));
    funnel(c, "funnel page_view>conversation_created{openai}>message_received, 30 min", "openai chat", f1, 1800L,
        FROM, TO);
    List<Step> f2 = List.of(new Step("signup", Map.of()), new Step("message_sent", Map.of()),
        new Step("payment", Map.of()));
    funnel(c, "funnel signup>message_sent>payment, default window", "monetisation", f2, null, PREV_FROM, TO);
    List<Step> f3 = List.of(new Step("conversation_created", Map.of()), new Step("message_sent", Map.of()),
        new Step("error", Map.of()));
    funnel(c, "funnel conversation_created>message_sent>error, 2 min", "errors", f3, 120L, FROM, TO);
    List<Step> f4 = List.of(new Step("page_view", Map.of()), new Step("feedback_given", Map.of("rating", 5)),
        new Step("page_view", Map.of()));
    funnel(c, "funnel page_view>feedback_given{rating=5}>page_view, 1 h", "happy", f4, 3600L, PREV_FROM, TO);
    List<Step> f5 = List.of(new Step("conversation_created", Map.of("provider", "anthropic", "model", "claude-3-haiku")),
        new Step("message_sent", Map.of()), new Step("message_received", Map.of()));
    funnel(c, "funnel conversation_created{anthropic,claude-3-haiku}>message_sent>message_received, 10 min", "haiku",
        f5, 600L, FROM, TO);
    funnel(c, "funnel [empty period]", "empty", f1, 1800L, EMPTY_FROM, EMPTY_TO);
    c.done();
  }

  static void funnel(KatCheck c, String g, String name, List<Step> steps, Long window, Instant from, Instant to) {
    JsonArray s = new JsonArray();
    for (Step st : steps) {
      JsonObject j = new JsonObject().put("event", st.event());
      if (!st.where().isEmpty()) {
        j.put("where", new JsonObject(new LinkedHashMap<>(st.where())));
      }
      s.add(j);
    }
    JsonObject body = new JsonObject().put("name", name).put("steps", s).put("from", from.toString())
        .put("to", to.toString());
    if (window != null) {
      body.put("windowSeconds", window);
    }
    Http.Response r = postFunnel(t.http, t.readKey, body);
    if (r.status() != 200) {
      c.failMessage(g, "POST /v1/funnels answered " + r.status() + " " + r.body());
      return;
    }
    Map<String, Object> expected = o.funnel(name, steps, window == null ? 7 * 86400L : window, from, to);
    c.object(g, "funnel", expected, r.json());
  }

  @Test
  void retention() {
    KatCheck c = new KatCheck("GET /v1/retention");
    retention(c, "retention day x7 [5-12 Oct]", t.http, o, "day", 7, FROM, Instant.parse("2026-10-12T00:00:00Z"), "");
    retention(c, "retention week x4 [14 Sep-19 Oct]", t.http, o, "week", 4, Instant.parse("2026-09-14T00:00:00Z"), TO,
        "");
    retention(c, "retention day default periods [1-15 Oct]", t.http, o, "day", null,
        Instant.parse("2026-10-01T00:00:00Z"), Instant.parse("2026-10-15T00:00:00Z"), "");
    retention(c, "retention day x7 [5-12 Oct, raw=true]", t.http, o, "day", 7, FROM,
        Instant.parse("2026-10-12T00:00:00Z"), "&raw=true");
    retention(c, "retention day x3 [empty period]", t.http, o, "day", 3, EMPTY_FROM, EMPTY_TO, "");
    c.done();
  }

  static void retention(KatCheck c, String g, Http http, KatOracle oracle, String granularity, Integer periods,
                        Instant from, Instant to, String extra) {
    String path = "/v1/retention?" + q(from, to) + "&granularity=" + granularity
        + (periods == null ? "" : "&periods=" + periods) + extra;
    JsonObject a = get(c, g, http, path);
    if (a != null) {
      c.object(g, "retention", oracle.retention(granularity, periods == null ? 7 : periods, from, to), a);
    }
  }

  @Test
  void conversions() {
    KatCheck c = new KatCheck("GET /v1/conversions");
    conversions(c, "conversions [main period]", FROM, TO, null);
    conversions(c, "conversions [main period, limit=3]", FROM, TO, 3);
    // one person's conversions only (newest first with limit=1, or a period holding one conversion)
    conversions(c, "conversions [main period, limit=1]", FROM, TO, 1);
    conversions(c, "conversions [previous period, limit=1]", PREV_FROM, FROM, 1);
    KatEvent late = data.late.stream().filter(e -> e.type.equals("subscription")).findFirst().orElseThrow();
    conversions(c, "conversions [the late anonymous subscription only]", late.ts, late.ts.plusSeconds(1), null);
    KatEvent engagement = data.events.stream().filter(e -> e.type.equals("trial_started") && !e.bot
        && e.ts.isAfter(FROM)).findFirst().orElseThrow();
    conversions(c, "conversions [a session without a person: 12 Oct 14:00-14:10]", Instant.parse("2026-10-12T14:00:00Z"),
        Instant.parse("2026-10-12T14:10:00Z"), null);
    conversions(c, "conversions [one custom conversion-category event]", engagement.ts, engagement.ts.plusMillis(1),
        null);
    conversions(c, "conversions [previous period]", PREV_FROM, FROM, null);
    conversions(c, "conversions [empty period]", EMPTY_FROM, EMPTY_TO, null);
    c.done();
  }

  static void conversions(KatCheck c, String g, Instant from, Instant to, Integer limit) {
    JsonObject a = get(c, g, t.http, "/v1/conversions?" + q(from, to) + (limit == null ? "" : "&limit=" + limit));
    if (a != null) {
      c.object(g, "conversions", o.conversions(from, to, limit == null ? 1000 : limit), a);
    }
  }

  @Test
  void timeseries() {
    KatCheck c = new KatCheck("GET /v1/timeseries");
    Instant day10 = Instant.parse("2026-10-10T00:00:00Z");
    Instant day11 = Instant.parse("2026-10-11T00:00:00Z");
    // the busiest UTC hour of the main period (from the dataset), for minute buckets
    Map<Instant, Long> perHour = new TreeMap<>();
    o.matching(Filters.NONE, FROM, TO).forEach(e -> perHour.merge(e.ts.truncatedTo(ChronoUnit.HOURS), 1L, Long::sum));
    Instant busy = perHour.entrySet().stream().max(Map.Entry.<Instant, Long>comparingByValue()
        .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder()))).orElseThrow().getKey();
    for (String m : KatOracle.METRICS) {
      series(c, "timeseries day [main period]", t.http, o, m, "day", Filters.NONE, FROM, TO, "");
      series(c, "timeseries hour [10 Oct]", t.http, o, m, "hour", Filters.NONE, day10, day11, "");
      series(c, "timeseries minute [busiest hour " + busy + " +2h]", t.http, o, m, "minute", Filters.NONE, busy,
          busy.plus(2, ChronoUnit.HOURS), "");
      series(c, "timeseries day provider=anthropic", t.http, o, m, "day", new Filters("anthropic", null, null, null),
          FROM, TO, "");
      series(c, "timeseries day model=gpt-4o", t.http, o, m, "day", new Filters(null, "gpt-4o", null, null), FROM, TO,
          "");
      series(c, "timeseries day country=FR", t.http, o, m, "day", new Filters(null, null, "FR", null), FROM, TO, "");
      series(c, "timeseries hour device=mobile [10 Oct]", t.http, o, m, "hour", new Filters(null, null, null, "mobile"),
          day10, day11, "");
      series(c, "timeseries day [main period, raw=true]", t.http, o, m, "day", Filters.NONE, FROM, TO, "&raw=true");
    }
    series(c, "timeseries day [empty period]", t.http, o, "events", "day", Filters.NONE, EMPTY_FROM, EMPTY_TO, "");
    c.done();
  }

  static void series(KatCheck c, String g, Http http, KatOracle oracle, String metric, String interval, Filters f,
                     Instant from, Instant to, String extra) {
    JsonObject a = get(c, g, http, "/v1/timeseries?metric=" + metric + "&interval=" + interval + "&" + q(from, to)
        + f.query() + extra);
    if (a != null) {
      c.object(g, metric, oracle.timeseries(metric, interval, f, from, to), a);
    }
  }

  static final List<String> DIMENSIONS = List.of("event", "provider", "model", "country", "device", "browser", "page");

  @Test
  void breakdown() {
    KatCheck c = new KatCheck("GET /v1/breakdown");
    for (String d : DIMENSIONS) {
      for (String m : KatOracle.METRICS) {
        breakdown(c, "breakdown " + d, d, m, Filters.NONE, FROM, TO, null, "");
      }
    }
    breakdown(c, "breakdown event limit=3", "event", "events", Filters.NONE, FROM, TO, 3, "");
    breakdown(c, "breakdown event limit=1000", "event", "events", Filters.NONE, FROM, TO, 1000, "");
    breakdown(c, "breakdown page limit=1000 active_users", "page", "active_users", Filters.NONE, FROM, TO, 1000, "");
    for (String m : KatOracle.METRICS) {
      breakdown(c, "breakdown provider device=desktop", "provider", m, new Filters(null, null, null, "desktop"), FROM,
          TO, null, "");
      breakdown(c, "breakdown country model=claude-3-haiku", "country", m,
          new Filters(null, "claude-3-haiku", null, null), FROM, TO, null, "");
      breakdown(c, "breakdown device [10 Oct]", "device", m, Filters.NONE, Instant.parse("2026-10-10T00:00:00Z"),
          Instant.parse("2026-10-11T00:00:00Z"), null, "");
      breakdown(c, "breakdown event [raw=true]", "event", m, Filters.NONE, FROM, TO, null, "&raw=true");
    }
    breakdown(c, "breakdown event [empty period]", "event", "events", Filters.NONE, EMPTY_FROM, EMPTY_TO, null, "");
    c.done();
  }

  static void breakdown(KatCheck c, String g, String dimension, String metric, Filters f, Instant from, Instant to,
                        Integer limit, String extra) {
    String path = "/v1/breakdown?dimension=" + dimension + "&metric=" + metric + "&" + q(from, to) + f.query()
        + (limit == null ? "" : "&limit=" + limit) + extra;
    JsonObject a = get(c, g, t.http, path);
    if (a == null) {
      return;
    }
    String p = dimension + "/" + metric;
    c.compare(g, p + ".dimension", dimension, a.getValue("dimension"), a.containsKey("dimension"));
    c.compare(g, p + ".metric", metric, a.getValue("metric"), a.containsKey("metric"));
    c.compare(g, p + ".total", o.breakdownTotal(metric, f, from, to), a.getValue("total"), a.containsKey("total"));
    if (!(a.getValue("rows") instanceof JsonArray rows)) {
      c.fail(g, p + ".rows", "an array", a.getValue("rows"));
      return;
    }
    int lim = limit == null ? 10 : limit;
    // rows: the keys of the events the metric counts (README), e.g. only message events under metric=messages
    List<Row> all = o.breakdownRowsOfMetricEvents(dimension, metric, f, from, to);
    List<Row> actual = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      JsonObject r = rows.getJsonObject(i);
      if (!r.containsKey("key") || !(r.getValue("value") instanceof Number)) {
        c.fail(g, p + ".rows[" + i + "]", "{key, value}", r);
        return;
      }
      actual.add(new Row(r.getString("key"), r.getValue("value")));
    }
    // order: value descending, then key (ascending; where a null key sorts is not specified)
    boolean ordered = true;
    for (int i = 1; i < actual.size(); i++) {
      Row x = actual.get(i - 1);
      Row y = actual.get(i);
      if (x.v() < y.v() - 1e-9 || (Math.abs(x.v() - y.v()) <= 1e-9 && x.key() != null && y.key() != null
          && x.key().compareTo(y.key()) > 0)) {
        ordered = false;
      }
    }
    c.truth(g, p + ".rows (order)", ordered, "not by value descending then key: " + rows.encode());
    // rows with a value: compared as a set of (key, value) in canonical order
    List<Row> expNonZero = all.stream().limit(lim).filter(r -> r.v() != 0).toList();
    List<Row> gotNonZero = actual.stream().filter(r -> r.v() != 0).sorted(KatOracle.ROW_ORDER).toList();
    if (!sameRows(expNonZero, gotNonZero)) {
      c.fail(g, p + ".rows (non-zero)", expNonZero, gotNonZero);
    } else {
      c.pass(g);
    }
    List<Row> expZero = all.stream().limit(lim).filter(r -> r.v() == 0).toList();
    List<Row> gotZero = actual.stream().filter(r -> r.v() == 0).sorted(KatOracle.ROW_ORDER).toList();
    if (!sameRows(expZero, gotZero)) {
      c.fail(g, p + ".rows (value 0)", expZero, gotZero);
    } else {
      c.pass(g);
    }
  }

  static boolean sameRows(List<Row> a, List<Row> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!java.util.Objects.equals(a.get(i).key(), b.get(i).key())
          || Math.abs(a.get(i).v() - b.get(i).v()) > 1e-6 + Math.abs(a.get(i).v()) * 1e-9) {
        return false;
      }
    }
    return true;
  }

  @Test
  void identity() {
    KatCheck c = new KatCheck("identity (identify + later anonymous-only events)");
    JsonObject s = get(c, "identity", t.http, "/v1/sessions/s-anon-late");
    if (s != null) {
      c.compare("identity", "sessions/s-anon-late.userId", KatDataset.IDENT, s.getValue("userId"), true);
    }
    JsonObject s1 = get(c, "identity", t.http, "/v1/sessions/s-anon-1");
    if (s1 != null) {
      c.compare("identity", "sessions/s-anon-1.userId", KatDataset.IDENT, s1.getValue("userId"), true);
    }
    c.done();
  }

  @Test
  void newYorkProjectFollowsItsTimeZone() {
    KatCheck c = new KatCheck("project in America/New_York");
    for (String person : on.byPerson.keySet()) {
      String g = "NY user " + person;
      JsonObject a = get(c, g, ny, "/v1/users/" + person + "/analytics?" + q(NY_FROM, NY_TO));
      if (a != null) {
        c.object(g, person, on.userAnalytics(person, NY_FROM, NY_TO), a);
      }
    }
    // 30 Oct - 3 Nov local: four day buckets, the third (1 Nov) 25 hours long
    Instant dayFrom = Instant.parse("2026-10-30T04:00:00Z");
    Instant dayTo = Instant.parse("2026-11-03T05:00:00Z");
    // 1 November local: 25 hour buckets
    Instant nov1 = Instant.parse("2026-11-01T04:00:00Z");
    Instant nov2 = Instant.parse("2026-11-02T05:00:00Z");
    for (String m : KatOracle.METRICS) {
      series(c, "NY timeseries day [30 Oct-3 Nov local]", ny, on, m, "day", Filters.NONE, dayFrom, dayTo, "");
      series(c, "NY timeseries day [whole period]", ny, on, m, "day", Filters.NONE, NY_FROM, NY_TO, "");
      series(c, "NY timeseries hour [1 Nov local, 25 h]", ny, on, m, "hour", Filters.NONE, nov1, nov2, "");
    }
    retention(c, "NY retention day x3", ny, on, "day", 3, NY_FROM, NY_TO, "");
    retention(c, "NY retention week x1 [26 Oct-9 Nov local]", ny, on, "week", 1,
        Instant.parse("2026-10-26T04:00:00Z"), Instant.parse("2026-11-09T05:00:00Z"), "");
    String g = "NY usage";
    JsonObject u = get(c, g, ny, "/v1/metrics/usage?" + q(NY_FROM, NY_TO));
    if (u != null) {
      c.object(g, "usage", on.usage(Filters.NONE, NY_FROM, NY_TO), u);
    }
    c.done();
  }

  @Test
  void errors() {
    KatCheck c = new KatCheck("errors");
    String p = "&" + q(FROM, TO);
    badRequest(c, "/v1/users/u01/analytics?from=yesterday", "from");
    badRequest(c, "/v1/metrics/usage?from=2026-13-45", "from");
    badRequest(c, "/v1/metrics/usage?to=soon", "to");
    badRequest(c, "/v1/timeseries?metric=nope&interval=day" + p, "metric");
    badRequest(c, "/v1/timeseries?metric=events&interval=week" + p, "interval");
    badRequest(c, "/v1/timeseries?metric=events&interval=day&from=bad", "from");
    badRequest(c, "/v1/breakdown?dimension=nope&metric=events" + p, "dimension");
    badRequest(c, "/v1/breakdown?dimension=event&metric=nope" + p, "metric");
    badRequest(c, "/v1/retention?granularity=month" + p, "granularity");
    badRequest(c, "/v1/retention?granularity=day&periods=0" + p, "periods");
    badRequest(c, "/v1/retention?granularity=day&periods=91" + p, "periods");
    badRequest(c, "/v1/conversions?from=nope", "from");
    JsonObject one = new JsonObject().put("name", "x").put("from", FROM.toString()).put("to", TO.toString())
        .put("steps", new JsonArray().add(new JsonObject().put("event", "signup")));
    funnelBad(c, one, "steps", "funnel with 1 step");
    JsonArray eleven = new JsonArray();
    for (int i = 0; i < 11; i++) {
      eleven.add(new JsonObject().put("event", "page_view"));
    }
    funnelBad(c, one.copy().put("steps", eleven), "steps", "funnel with 11 steps");
    JsonArray two = new JsonArray().add(new JsonObject().put("event", "signup"))
        .add(new JsonObject().put("event", "payment"));
    funnelBad(c, one.copy().put("steps", two).put("windowSeconds", 0), "windowSeconds", "funnel window 0 s");
    funnelBad(c, one.copy().put("steps", two).put("from", "bad"), "from", "funnel bad from");
    // keys
    List<String> gets = List.of("/v1/users/u01/analytics?" + q(FROM, TO), "/v1/metrics/usage?" + q(FROM, TO),
        "/v1/retention?granularity=day&" + q(FROM, TO), "/v1/conversions?" + q(FROM, TO),
        "/v1/timeseries?metric=events&interval=day&" + q(FROM, TO),
        "/v1/breakdown?dimension=event&metric=events&" + q(FROM, TO));
    for (String path : gets) {
      int none = t.http.getWith(null, path).status();
      c.truth("no key: 401", path, none == 401, "expected 401, got " + none);
      int write = t.http.getWith("Bearer " + t.writeKey, path).status();
      c.truth("write key: 403", path, write == 403, "expected 403, got " + write);
      int other = t.http.getWith("Bearer " + nyRead, path.replace("/users/u01/", "/users/n1/")).status();
      c.truth("other project's read key: 200", path, other == 200, "expected 200, got " + other);
    }
    JsonObject ok = one.copy().put("steps", two);
    int none = postFunnel(t.http, null, ok).status();
    c.truth("no key: 401", "POST /v1/funnels", none == 401, "expected 401, got " + none);
    int write = postFunnel(t.http, t.writeKey, ok).status();
    c.truth("write key: 403", "POST /v1/funnels", write == 403, "expected 403, got " + write);
    // the other project's read key sees only its own project
    Http.Response r = ny.get("/v1/users/u01/analytics?" + q(FROM, TO));
    c.truth("project scope", "u01 via the New York project's key", r.status() == 404,
        "expected 404, got " + r.status() + " " + r.body());
    c.done();
  }

  static void badRequest(KatCheck c, String path, String field) {
    Http.Response r = t.http.get(path);
    check400(c, "GET " + path, r, field);
  }

  static void funnelBad(KatCheck c, JsonObject body, String field, String what) {
    check400(c, "POST /v1/funnels (" + what + ")", postFunnel(t.http, t.readKey, body), field);
  }

  static void check400(KatCheck c, String what, Http.Response r, String field) {
    String g = "400 naming the field";
    if (r.status() != 400) {
      c.failMessage(g, what + ": expected 400 naming " + field + ", got " + r.status() + " " + r.body());
      return;
    }
    JsonObject j;
    try {
      j = r.json();
    } catch (RuntimeException e) {
      c.failMessage(g, what + ": body is not JSON: " + r.body());
      return;
    }
    c.truth(g, what + ".field", field.equals(j.getString("field")) && j.getString("error") != null,
        "expected {error, field: " + field + "}, got " + r.body());
  }
}
