package io.tally.index;

import io.tally.derive.DerivedAddresses;
import io.tally.derive.DerivedRewrite;
import io.tally.query.KatEvent;
import io.tally.support.Db;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The in-memory event timeline behind funnels, hourly distinct persons and per-type distinct persons: its answers
 * equal what the test computes from the events it sent (persons resolved as the spec says: anonymous history belongs
 * to the user it was identified as; bots excluded) and what the SQL path ({@code raw=true}) gives. A restart while
 * events keep arriving holds every stored event exactly once.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EventTimelineTest {
  static final String[] TYPES = {"page_view", "conversation_created", "message_sent", "share_created", "signup",
      "export_generated", "tl_custom", "error"};
  static final Instant T0 = Instant.parse("2026-09-14T00:00:00Z");
  static final String SUFFIX = Long.toString(System.nanoTime(), 36);
  static TestTally t;

  /** What the test sent: person (as finally resolved), time ms, type. */
  record Sent(String person, long ms, String type, String page, String provider) {}

  static final List<Sent> sent = new ArrayList<>();
  /** Events without a person (a session id only): time ms, type, provider. */
  static final List<Sent> personless = new ArrayList<>();

  @BeforeAll
  static void start() {
    t = TestTally.start("timeline-" + SUFFIX, "w-" + SUFFIX, "r-" + SUFFIX, UnaryOperator.identity());
  }

  @AfterAll
  static void stop() {
    if (t != null) {
      t.stop();
    }
  }

  private static JsonObject event(String type, Instant at, String user, String anon, boolean bot) {
    JsonObject ctx = new JsonObject();
    if (user != null) {
      ctx.put("userId", user);
    }
    if (anon != null) {
      ctx.put("anonymousId", anon);
    }
    JsonObject props = type.equals("error") ? new JsonObject().put("code", "E" + (at.getEpochSecond() % 3))
        : new JsonObject();
    JsonObject e = new JsonObject().put("id", UUID.randomUUID().toString()).put("type", type)
        .put("timestamp", at.toString()).put("properties", props).put("userContext", ctx);
    if (bot) {
      e.put("context", new JsonObject().put("userAgent", KatEvent.GOOGLEBOT));
    }
    return e;
  }

  private static void post(List<JsonObject> batch) {
    for (int i = 0; i < batch.size(); i += 500) {
      List<JsonObject> part = batch.subList(i, Math.min(batch.size(), i + 500));
      Http.Response r = t.http.post(new JsonObject().put("batch", new JsonArray(new ArrayList<>(part))).encode());
      assertEquals(200, r.status(), r.body());
      assertEquals(part.size(), r.json().getInteger("accepted"), r.body());
    }
  }

  private static double metric(String name) {
    return t.http.get("/metrics").body().lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l ->
        Double.parseDouble(l.substring(name.length()).trim())).findFirst().orElse(-1);
  }

  /**
   * 40 users, 16 anonymous visitors of whom 8 identify (then keep sending some events with the anonymous id only),
   * a bot; 3 days of events with repeated milliseconds; the events before the identify are sent first.
   */
  @Test
  @Order(1)
  void funnelsSeriesAndBreakdownsFromMemoryEqualTheTestsOwnCountAndTheSqlPath() throws InterruptedException {
    Random rnd = new Random(20261202);
    List<JsonObject> before = new ArrayList<>();
    List<JsonObject> after = new ArrayList<>();
    for (int i = 0; i < 56; i++) {
      boolean anonymous = i >= 40;
      boolean identifies = anonymous && i < 48;
      String user = anonymous ? null : "tl-u" + i;
      String anon = anonymous ? "tl-a" + i : null;
      String person = identifies ? "tl-ua" + i : anonymous ? anon : user;
      int n = 10 + rnd.nextInt(40);
      long ms = T0.toEpochMilli() + rnd.nextInt(3_600_000);
      for (int k = 0; k < n; k++) {
        // mostly seconds to minutes apart, sometimes the same millisecond, sometimes hours
        int gap = rnd.nextInt(10);
        ms += gap == 0 ? 0 : gap < 7 ? rnd.nextInt(300_000) : rnd.nextInt(8 * 3_600_000);
        if (ms >= T0.plus(Duration.ofDays(3)).toEpochMilli()) {
          break;
        }
        String type = TYPES[rnd.nextInt(TYPES.length)];
        // dimensions: a page path, a provider and model on messages, a desktop or a mobile browser per person
        String page = "/p" + rnd.nextInt(5);
        String provider = type.equals("message_sent") || type.equals("error")
            ? (rnd.nextBoolean() ? "openai" : "anthropic") : null;
        JsonObject e = event(type, Instant.ofEpochMilli(ms), user, anon, false)
            .put("page", new JsonObject().put("path", page))
            .put("context", new JsonObject().put("userAgent", i % 2 == 0 ? KatEvent.CHROME_WINDOWS : KatEvent.IPHONE));
        if (provider != null) {
          e.getJsonObject("properties").put("provider", provider).put("model", provider + "-m" + rnd.nextInt(2));
        }
        (k < n / 2 ? before : after).add(e);
        sent.add(new Sent(person, ms, type, page, provider));
      }
      if (identifies) {
        long at = ms + 1000;
        after.add(0, event("identify", Instant.ofEpochMilli(at), person, anon, false));
        sent.add(new Sent(person, at, "identify", null, null));
      }
    }
    for (int k = 0; k < 20; k++) {
      before.add(event(TYPES[k % TYPES.length], T0.plusSeconds(600L * k), "tl-bot", null, true));
    }
    // person-less sessions (a session id only): messages and errors, desktop or mobile, some crossing `mid` below
    for (int s = 0; s < 12; s++) {
      long ms = T0.toEpochMilli() + 30 * 3_600_000L - 600_000L + s * 97_000L;
      for (int k = 0; k < 2 + s % 5; k++) {
        ms += rnd.nextInt(s % 3 == 0 ? 5_000 : 200_000);
        String type = k % 3 == 2 ? "error" : "message_sent";
        String provider = rnd.nextBoolean() ? "openai" : "anthropic";
        JsonObject e = event(type, Instant.ofEpochMilli(ms), null, null, false).put("sessionId", "tl-s" + s)
            .put("context", new JsonObject().put("userAgent", s % 2 == 0 ? KatEvent.CHROME_WINDOWS : KatEvent.IPHONE));
        e.getJsonObject("properties").put("provider", provider).put("model", provider + "-m" + rnd.nextInt(2));
        e.remove("userContext");
        before.add(e);
        personless.add(new Sent(null, ms, type, null, provider));
      }
    }
    post(before);
    post(after);
    long expectedEvents = sent.size() + personless.size();
    Eventually.until("events stored and identities merged", 60, () ->
        Db.count("SELECT count(*) FROM events WHERE project_id = ? AND NOT is_bot", t.project) == expectedEvents
            && Db.count("SELECT count(*) FROM events WHERE project_id = ? AND user_id IS NULL AND anonymous_id "
            + "IN ('tl-a40','tl-a41','tl-a42','tl-a43','tl-a44','tl-a45','tl-a46','tl-a47')", t.project) == 0);
    Eventually.until("the timeline holds them", 60, () ->
        metric("analytics_event_timeline_events") >= expectedEvents);

    String from = T0.toString();
    String to = T0.plus(Duration.ofDays(3)).toString();
    String mid = T0.plus(Duration.ofHours(30)).plusMillis(123).toString();
    List<Object[]> funnels = List.of(
        new Object[] {List.of("page_view", "conversation_created", "message_sent"), 3600L, from, to},
        new Object[] {List.of("signup", "message_sent", "share_created", "export_generated"), 86_400L, from, to},
        new Object[] {List.of("message_sent", "message_sent"), 600L, from, mid},
        new Object[] {List.of("tl_custom", "identify", "page_view"), 7L * 86_400, mid, to},
        new Object[] {List.of("page_view", "no_such_type"), 3600L, from, to});
    for (Object[] f : funnels) {
      @SuppressWarnings("unchecked") List<String> steps = (List<String>) f[0];
      long window = (Long) f[1];
      JsonObject body = new JsonObject().put("name", "tl").put("windowSeconds", window)
          .put("from", f[2]).put("to", f[3]);
      JsonArray st = new JsonArray();
      steps.forEach(s -> st.add(new JsonObject().put("event", s)));
      body.put("steps", st);
      JsonObject expected = oracleFunnel(steps, window * 1000, Instant.parse((String) f[2]).toEpochMilli(),
          Instant.parse((String) f[3]).toEpochMilli());
      // an identity merge reaches the index just after SQL: allow it a moment (and the cache its invalidation)
      long deadline = System.currentTimeMillis() + 30_000;
      JsonObject memory = funnel(body, false);
      while (!essentials(memory).equals(expected) && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
        memory = funnel(body, false);
      }
      JsonObject sql = funnel(body, true);
      assertEquals(expected, essentials(memory), "memory funnel " + steps);
      assertEquals(expected, essentials(sql), "SQL funnel " + steps);
      assertEquals(sql.getJsonArray("steps"), memory.getJsonArray("steps"), "steps " + steps);
      assertEquals(sql.getJsonArray("dropOffPoints"), memory.getJsonArray("dropOffPoints"), "drop-offs " + steps);
    }

    // distinct persons per hour and per minute over ragged bounds, and per event type
    for (String[] p : new String[][] {{"hour", from, to}, {"hour", T0.plusSeconds(5400).toString(), mid},
        {"minute", T0.plusSeconds(3600).toString(), T0.plusSeconds(3 * 3600 + 17).toString()}}) {
      String q = "/v1/timeseries?metric=active_users&interval=" + p[0] + "&from=" + p[1] + "&to=" + p[2];
      JsonArray memory = t.http.get(q).json().getJsonArray("points");
      JsonArray sql = t.http.get(q + "&raw=true").json().getJsonArray("points");
      assertEquals(oracleSeries(p[0], Instant.parse(p[1]), Instant.parse(p[2])), memory, q);
      assertEquals(sql, memory, q + " (SQL)");
    }
    // filtered: the same as the SQL path
    for (String filter : List.of("&provider=openai", "&device=mobile&model=anthropic-m0")) {
      for (String interval : List.of("hour", "day")) {
        String q = "/v1/timeseries?metric=active_users&interval=" + interval + "&from=" + from + "&to=" + mid + filter;
        JsonArray memory = t.http.get(q).json().getJsonArray("points");
        assertEquals(t.http.get(q + "&raw=true").json().getJsonArray("points"), memory, q + " (SQL)");
        assertTrue(memory.stream().anyMatch(o -> ((JsonObject) o).getDouble("value") > 0), q);
      }
    }
    String b = "/v1/breakdown?dimension=event&metric=active_users&limit=50&from=" + from + "&to=" + mid;
    JsonObject memory = t.http.get(b).json();
    JsonObject sql = t.http.get(b + "&raw=true").json();
    Map<String, Set<String>> byType = new TreeMap<>();
    Set<String> all = new HashSet<>();
    long midMs = Instant.parse(mid).toEpochMilli();
    for (Sent s : sent) {
      if (s.ms() < midMs) {
        byType.computeIfAbsent(s.type(), k -> new HashSet<>()).add(s.person());
        all.add(s.person());
      }
    }
    Map<String, Double> got = new TreeMap<>();
    memory.getJsonArray("rows").forEach(o -> got.put(((JsonObject) o).getString("key"),
        ((JsonObject) o).getDouble("value")));
    Map<String, Double> want = new TreeMap<>();
    byType.forEach((k, v) -> want.put(k, (double) v.size()));
    assertEquals(want, got, b);
    assertEquals((double) all.size(), memory.getDouble("total"), b);
    assertEquals(sql.getJsonArray("rows"), memory.getJsonArray("rows"), b + " (SQL)");
    assertEquals(sql.getDouble("total"), memory.getDouble("total"), b + " (SQL)");

    // distinct persons per page and per provider (the test's own count), with and without a provider filter
    for (String[] d : new String[][] {{"page", ""}, {"provider", ""}, {"page", "&provider=openai"}}) {
      String q = "/v1/breakdown?dimension=" + d[0] + "&metric=active_users&limit=50&from=" + from + "&to=" + to + d[1];
      Map<String, Set<String>> persons = new TreeMap<>();
      Set<String> any = new HashSet<>();
      for (Sent s : sent) {
        if (!d[1].isEmpty() && !"openai".equals(s.provider()) || s.ms() >= Instant.parse(to).toEpochMilli()) {
          continue;
        }
        String key = d[0].equals("page") ? s.page() : s.provider();
        persons.computeIfAbsent(key == null ? "(none)" : key, k -> new HashSet<>()).add(s.person());
        any.add(s.person());
      }
      JsonObject r = t.http.get(q).json();
      Map<String, Double> gotRows = new TreeMap<>();
      r.getJsonArray("rows").forEach(o -> gotRows.put(((JsonObject) o).getString("key") == null ? "(none)"
          : ((JsonObject) o).getString("key"), ((JsonObject) o).getDouble("value")));
      Map<String, Double> wantRows = new TreeMap<>();
      persons.forEach((k, v) -> wantRows.put(k, (double) v.size()));
      assertEquals(wantRows, gotRows, q);
      assertEquals((double) any.size(), r.getDouble("total"), q);
    }
    // every dimension, with and without filters: the same rows as the SQL path
    for (String dim : List.of("event", "provider", "model", "country", "device", "browser", "page")) {
      for (String filter : List.of("", "&provider=anthropic", "&device=mobile", "&model=openai-m1&device=desktop")) {
        String q = "/v1/breakdown?dimension=" + dim + "&metric=active_users&limit=50&from=" + from + "&to=" + mid
            + filter;
        JsonObject m = t.http.get(q).json();
        JsonObject r = t.http.get(q + "&raw=true").json();
        assertEquals(r.getJsonArray("rows"), m.getJsonArray("rows"), q);
        assertEquals(r.getDouble("total"), m.getDouble("total"), q);
      }
    }

    // filtered usage: persons, sessions (person-less ones too) and uptime from memory; the test's own count of the
    // active persons and the uptime, and the SQL path for every field
    long fromMs = T0.toEpochMilli();
    long toMs = Instant.parse(to).toEpochMilli();
    Set<String> openai = new HashSet<>();
    Map<Long, int[]> perMinute = new TreeMap<>();
    for (List<Sent> list : List.of(sent, personless)) {
      for (Sent s : list) {
        if ("openai".equals(s.provider()) && s.ms() >= fromMs && s.ms() < toMs) {
          if (s.person() != null) {
            openai.add(s.person());
          }
          perMinute.computeIfAbsent(s.ms() / 60_000, k -> new int[2])[s.type().equals("error") ? 1 : 0]++;
        }
      }
    }
    long withRequests = perMinute.values().stream().filter(c -> c[0] > 0).count();
    long up = perMinute.values().stream().filter(c -> c[0] > 0 && c[1] < c[0]).count();
    JsonObject openaiUsage = t.http.get("/v1/metrics/usage?from=" + from + "&to=" + to + "&provider=openai").json();
    assertEquals(openai.size(), openaiUsage.getJsonObject("users").getLong("active"));
    assertTrue(withRequests > up && up > 0, "the data has minutes with every request failed, and others");
    assertEquals(100.0 * up / withRequests, openaiUsage.getJsonObject("performance").getDouble("uptime"), 1e-9);
    assertUsageEqualsSql(List.of("provider=openai", "device=mobile", "device=desktop&provider=anthropic",
        "model=openai-m1", "country=ZZ"), new String[][] {{from, to}, {from, mid}, {mid, to}});
  }

  /** Filtered usage from memory equals the SQL path's (given the derived tables a moment to catch up). */
  private static void assertUsageEqualsSql(List<String> filters, String[][] periods) throws InterruptedException {
    for (String filter : filters) {
      for (String[] period : periods) {
        String q = "/v1/metrics/usage?from=" + period[0] + "&to=" + period[1] + "&" + filter;
        long deadline = System.currentTimeMillis() + 30_000;
        JsonObject m = t.http.get(q).json();
        JsonObject r = t.http.get(q + "&raw=true").json();
        while (!r.equals(m) && System.currentTimeMillis() < deadline) {
          Thread.sleep(200);
          m = t.http.get(q).json();
          r = t.http.get(q + "&raw=true").json();
        }
        assertEquals(r, m, q);
        if (!filter.startsWith("country")) {
          assertTrue(m.getJsonObject("sessions").getLong("total") > 0, q);
        }
      }
    }
  }

  /**
   * A restart, then a reload (what a retention run's notice causes) while events keep arriving from another thread:
   * the load and the hand-over of new batches (skipped when the load's snapshot already saw them) hold each event
   * exactly once.
   */
  @Test
  @Order(2)
  void aRestartAndAReloadWhileEventsArriveHoldEveryStoredEventOnce() throws Exception {
    t.stop();
    // each load waits 300 ms between keeping new batches and taking its snapshot: batches committed then are in
    // both, and must be applied once
    t = TestTally.start(t.project, t.writeKey, t.readKey, c -> c.withQuery(c.query().withTimelineLoadDelayMs(300)));
    String stored = "SELECT count(*) FROM events WHERE NOT is_bot";
    // every project of the shared database is held; nothing else writes while this test runs
    Eventually.until("the timeline loaded after the restart", 60, () ->
        metric("analytics_event_timeline_events") == Db.count(stored));
    Thread sender = new Thread(() -> {
      Random rnd = new Random(7);
      for (int round = 0; round < 40; round++) {
        List<JsonObject> batch = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
          String type = TYPES[rnd.nextInt(TYPES.length)];
          JsonObject e = event(type, T0.plus(Duration.ofDays(rnd.nextInt(3))).plusMillis(rnd.nextInt(86_400_000)),
              "tl-r" + rnd.nextInt(50), null, false);
          if (type.equals("message_sent") || type.equals("error")) {
            e.getJsonObject("properties").put("provider", rnd.nextBoolean() ? "openai" : "anthropic");
          }
          batch.add(e);
        }
        post(batch);
      }
    });
    sender.start();
    for (int i = 0; i < 3; i++) {
      Thread.sleep(150);
      // what the retention job publishes after deleting old events: indexes holding events reload
      t.tally.vertx().eventBus().publish(DerivedAddresses.DERIVED_REWRITTEN,
          new DerivedRewrite(Set.of(t.project), List.of(), List.of(), true));
    }
    sender.join();
    Eventually.until("the timeline holds every stored event once", 60, () ->
        metric("analytics_event_timeline_events") == Db.count(stored));
    assertEquals(Db.count(stored), (long) metric("analytics_event_timeline_events"));
    // the sessions rebuilt by the load and widened by the hand-over: filtered usage still equals the SQL path
    assertUsageEqualsSql(List.of("provider=openai", "device=mobile"),
        new String[][] {{T0.toString(), T0.plus(Duration.ofDays(3)).toString()}});
  }

  private static JsonObject funnel(JsonObject body, boolean raw) {
    Http.Response r = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/funnels" + (raw ? "?raw=true" : "")))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  /** Users per step, time between steps, drop-off users and reasons. */
  private static JsonObject essentials(JsonObject f) {
    JsonArray steps = new JsonArray();
    f.getJsonArray("steps").forEach(o -> steps.add(new JsonObject().put("users", ((JsonObject) o).getLong("users"))
        .put("averageTime", Math.round(((JsonObject) o).getDouble("averageTime")))));
    JsonArray drops = new JsonArray();
    f.getJsonArray("dropOffPoints").forEach(o -> drops.add(new JsonObject()
        .put("users", ((JsonObject) o).getLong("users")).put("reasons", ((JsonObject) o).getJsonArray("reasons"))));
    return new JsonObject().put("steps", steps).put("drops", drops);
  }

  /**
   * The funnel as the README defines it, by brute force: per person, each event of the first step in the period
   * starts an attempt that takes, in order, the earliest later event of each next step within the window; the person
   * counts with their attempt reaching the most steps (the earliest such). Drop-off reasons: the three event types
   * (most frequent first, then by name) the persons stopped before step i did after their last step, within the
   * window and the period, other than step i's type.
   */
  private static JsonObject oracleFunnel(List<String> steps, long windowMs, long fromMs, long toMs) {
    int n = steps.size();
    Map<String, List<Sent>> byPerson = new HashMap<>();
    sent.forEach(s -> byPerson.computeIfAbsent(s.person(), k -> new ArrayList<>()).add(s));
    long[] users = new long[n];
    double[] timeSum = new double[n];
    List<Map<String, Integer>> reasons = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      reasons.add(new HashMap<>());
    }
    for (List<Sent> evs : byPerson.values()) {
      evs.sort(Comparator.comparingLong(Sent::ms));
      long[] best = null;
      int bestReached = 0;
      for (Sent start : evs) {
        if (start.ms() < fromMs || start.ms() >= toMs || !start.type().equals(steps.get(0))) {
          continue;
        }
        long[] times = new long[n];
        times[0] = start.ms();
        int reached = 1;
        for (Sent e : evs) {
          if (reached == n) {
            break;
          }
          if (e.ms() > times[reached - 1] && e.ms() < toMs && e.ms() - start.ms() <= windowMs
              && e.type().equals(steps.get(reached))) {
            times[reached++] = e.ms();
          }
        }
        if (reached > bestReached) {
          bestReached = reached;
          best = times;
        }
      }
      if (best == null) {
        continue;
      }
      for (int i = 0; i < bestReached; i++) {
        users[i]++;
        if (i > 0) {
          timeSum[i] += best[i] - best[i - 1];
        }
      }
      if (bestReached < n) {
        long last = best[bestReached - 1];
        long end = Math.min(best[0] + windowMs, toMs - 1);
        for (Sent e : evs) {
          if (e.ms() > last && e.ms() <= end && !e.type().equals(steps.get(bestReached))) {
            reasons.get(bestReached).merge(e.type(), 1, Integer::sum);
          }
        }
      }
    }
    JsonArray outSteps = new JsonArray();
    JsonArray drops = new JsonArray();
    for (int i = 0; i < n; i++) {
      outSteps.add(new JsonObject().put("users", users[i])
          .put("averageTime", i == 0 || users[i] == 0 ? 0L : Math.round(timeSum[i] / users[i])));
      if (i > 0) {
        List<Map.Entry<String, Integer>> rs = new ArrayList<>(reasons.get(i).entrySet());
        rs.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        JsonArray top = new JsonArray();
        rs.stream().limit(3).forEach(e -> top.add(e.getKey()));
        drops.add(new JsonObject().put("users", users[i - 1] - users[i]).put("reasons", top));
      }
    }
    return new JsonObject().put("steps", outSteps).put("drops", drops);
  }

  /** Distinct persons per UTC hour or minute, every bucket of [from, to) listed (0 when empty). */
  private static JsonArray oracleSeries(String interval, Instant from, Instant to) {
    long size = interval.equals("hour") ? 3_600_000L : 60_000L;
    TreeMap<Long, Set<String>> by = new TreeMap<>();
    long first = Math.floorDiv(from.toEpochMilli(), size) * size;
    for (long b = first; b < to.toEpochMilli(); b += size) {
      by.put(b, new HashSet<>());
    }
    for (Sent s : sent) {
      if (s.ms() >= from.toEpochMilli() && s.ms() < to.toEpochMilli()) {
        by.get(Math.floorDiv(s.ms(), size) * size).add(s.person());
      }
    }
    JsonArray out = new JsonArray();
    by.forEach((b, persons) -> out.add(new JsonObject().put("t", Instant.ofEpochMilli(b).toString())
        .put("value", (double) persons.size())));
    return out;
  }
}
