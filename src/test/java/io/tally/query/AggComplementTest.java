package io.tally.query;

import io.tally.index.EventTimeline;
import io.tally.index.PersonIndex;
import io.tally.support.Eventually;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static java.time.temporal.ChronoUnit.HOURS;
import static java.time.temporal.ChronoUnit.MINUTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ragged hour at either end of a period is read as the hourly rollup less the raw events of the rest of that hour
 * when that rest is the smaller part of the past (a period ending now reads its current hour that way): the sums
 * are the same as reading the period's raw events, checked against sums computed here from the events sent.
 */
class AggComplementTest {
  static final Instant H = Instant.parse("2026-10-05T14:00:00Z");
  static final Instant D = Instant.parse("2026-10-07T00:00:00Z");
  static final Agg.Group MODEL = new Agg.Group("model", "model", "coalesce(tally_str(properties, 'model'), '')");
  static TestTally t;
  static Vertx vertx;
  static Pool pool;
  record Ev(Instant at, String type, String model, String provider, double cost, long tokens, long rt) {}
  static final List<Ev> events = new ArrayList<>();
  /**
   * Persons (each with one session of its own id) on day D: p1 before the period's end (D 14:25), p2 before and after
   * it, p3 and p6 only after it, p7 at 01:00, p4 the day before, p5 two days before (before the period's start).
   */
  static final String[][] PERSONS = {{"p1", "D09:00"}, {"p2", "D10:00"}, {"p2", "D15:00"}, {"p3", "D16:00"},
      {"p4", "P20:00"}, {"p5", "Q02:00"}, {"p6", "D17:00"}, {"p6", "D18:30"}, {"p7", "D01:00"}, {"p7", "D01:05"}};

  static Instant personAt(String at) {
    return D.minus(Duration.ofDays("DPQ".indexOf(at.charAt(0)))).plus(Duration.ofHours(Integer.parseInt(at.substring(1,
        3)))).plus(Duration.ofMinutes(Integer.parseInt(at.substring(4, 6))));
  }

  @BeforeAll
  static void start() throws Exception {
    t = TestTally.start();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(TestServers.get().pgUrl().connectOptions()).using(vertx).build();
    // every 90 s over [H - 2h, H + 1h): three models, two providers, costs in quarters (exact in binary)
    for (int i = 0; i < 120; i++) {
      boolean page = i % 5 == 0;
      events.add(new Ev(H.minus(Duration.ofHours(2)).plusSeconds(90L * i), page ? "page_view" : "message_received",
          page ? null : "m-" + (char) ('a' + i % 3), page ? null : i % 2 == 0 ? "openai" : "anthropic",
          (i % 7) * 0.25, i * 10L, 100 + i));
    }
    // a model seen only after the period's end, inside its last hour
    // (and below, persons on another day for the persons test)
    events.add(new Ev(H.plus(Duration.ofMinutes(40)), "message_received", "m-late", "openai", 2.5, 7, 300));
    events.add(new Ev(H.plus(Duration.ofMinutes(50)), "message_received", "m-late", "openai", 1.25, 9, 400));
    // in the minute of a period's end (H + 25:45), after it
    events.add(new Ev(H.plus(Duration.ofSeconds(25 * 60 + 50)), "message_received", "m-a", "openai", 0.5, 3, 500));
    // requests and errors for uptime: minute 20 up, minute 22 down (every request failed), minute 25 up before the
    // end (25:45) and down after it (two more errors, one more request)
    for (String[] r : new String[][] {{"message_sent", "1210"}, {"message_sent", "1325"}, {"error", "1350"},
        {"message_sent", "1510"}, {"error", "1550"}, {"error", "1555"}, {"message_sent", "1558"}}) {
      events.add(new Ev(H.plusSeconds(Long.parseLong(r[1])), r[0], null, null, 0, 0, 0));
    }
    JsonArray batch = new JsonArray();
    for (Ev e : events) {
      JsonObject props = e.type().equals("error") ? new JsonObject().put("code", "E1") : new JsonObject();
      if (e.model() != null) {
        props.put("model", e.model()).put("provider", e.provider()).put("cost", e.cost()).put("tokens", e.tokens())
            .put("responseTimeMs", e.rt());
      }
      batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", e.at().toString())
          .put("type", e.type()).put("properties", props)
          .put("userContext", new JsonObject().put("userId", "u1").put("sessionId", "s1")));
    }
    for (String[] p : PERSONS) {
      Instant at = personAt(p[1]);
      batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
          .put("type", "page_view").put("userContext", new JsonObject().put("userId", p[0]).put("sessionId", p[0])));
    }
    assertEquals(200, t.http.post(new JsonObject().put("batch", batch).encode()).status());
    Eventually.until("hourly rollup holds every event", 30,
        () -> rollupEvents() == events.size() + PERSONS.length);
  }

  static long rollupEvents() {
    try {
      return pool.preparedQuery("SELECT coalesce(sum(events), 0)::bigint FROM rollup_hourly WHERE project_id = $1")
          .execute(Tuple.of(t.project)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
          .iterator().next().getLong(0);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void stop() {
    pool.close();
    vertx.close();
    t.stop();
  }

  /** "model|type" → [events, cost, tokens, rt sum, rt n], from the events sent. */
  static Map<String, List<Double>> expected(Instant from, Instant to, String provider) {
    return expected(from, to, provider, true);
  }

  static Map<String, List<Double>> expected(Instant from, Instant to, String provider, boolean byModel) {
    Map<String, double[]> m = new TreeMap<>();
    for (Ev e : events) {
      if (e.at().isBefore(from) || !e.at().isBefore(to) || provider != null && !provider.equals(e.provider())) {
        continue;
      }
      double[] x = m.computeIfAbsent((e.model() == null || !byModel ? "" : e.model()) + "|" + e.type(),
          k -> new double[5]);
      x[0]++;
      if (e.model() != null) {
        x[1] += e.cost();
        x[2] += e.tokens();
        x[3] += e.rt();
        x[4]++;
      }
    }
    Map<String, List<Double>> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, List.of(v[0], v[1], v[2], v[3], v[4])));
    return out;
  }

  static Map<String, List<Double>> actual(Instant from, Instant to, Filters f, Instant now) throws Exception {
    return actual(from, to, f, now, MODEL);
  }

  static Map<String, List<Double>> actual(Instant from, Instant to, Filters f, Instant now, Agg.Group g)
      throws Exception {
    Map<String, List<Double>> out = new TreeMap<>();
    for (Agg.Row2 r : Agg.run(pool, t.project, from, to, f, g, null, now).toCompletionStage()
        .toCompletableFuture().get(20, TimeUnit.SECONDS)) {
      out.put(r.key() + "|" + r.type(), List.of((double) r.events(), r.cost(), r.tokens(), r.rtSum(),
          (double) r.rtN()));
    }
    return out;
  }

  @Test
  void raggedHoursReadAsTheRollupLessTheRestGiveTheRawSums() throws Exception {
    Instant from = H.minus(Duration.ofHours(2)).plus(Duration.ofMinutes(7));
    Instant to = H.plus(Duration.ofMinutes(25));
    Instant later = H.plus(Duration.ofHours(3));
    // now = to: both edges are complemented (7 of the head's hour is outside, and the tail's rest is the future)
    assertTrue(Agg.cheaperAsComplement(from, H.minus(Duration.ofHours(1)), to, HOURS));
    assertTrue(Agg.cheaperAsComplement(H, to, to, HOURS));
    // three hours later the tail's rest (35 min) is more of the past than the tail (25): read raw
    assertFalse(Agg.cheaperAsComplement(H, to, later, HOURS));
    // before any of it happened, nothing is cheaper: raw
    assertFalse(Agg.cheaperAsComplement(H, to, H.minus(Duration.ofDays(1)), HOURS));
    // a range over two hours is never complemented
    assertFalse(Agg.cheaperAsComplement(H.minus(Duration.ofMinutes(10)), to, to, HOURS));

    Map<String, List<Double>> want = expected(from, to, null);
    assertFalse(want.containsKey("m-late|message_received"));
    assertEquals(want, actual(from, to, Filters.NONE, to));
    assertEquals(want, actual(from, to, Filters.NONE, later));
    assertEquals(want, actual(from, to, Filters.NONE, H.minus(Duration.ofDays(1))));
    // with a filter the dimension rollup is read the same way
    Filters openai = new Filters("openai", null, null, null, false);
    assertEquals(expected(from, to, "openai"), actual(from, to, openai, to));
    // a period inside one hour, ending now
    Instant a = H.plus(Duration.ofMinutes(3));
    assertEquals(expected(a, to, null), actual(a, to, Filters.NONE, to));
  }

  @Test
  void aLastDayEndingNowTakesItsPersonsFromTheDayBitmapLessThoseSeenOnlyAfter() throws Exception {
    PersonIndex index = new PersonIndex(pool);
    index.load().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    PersonIndex.Project people = index.project(t.project);
    UsageQuery usage = new UsageQuery(pool, index, null);
    // [D - 1 day, D 14:25): the day before whole (from its bitmap), then day D's ragged start
    Instant from = D.minus(Duration.ofDays(1));
    Instant to = D.plus(Duration.ofMinutes(14 * 60 + 25));
    assertTrue(Agg.cheaperAsComplement(D, to, to, java.time.temporal.ChronoUnit.DAYS));
    java.util.BitSet want = new java.util.BitSet();
    people.addKeys(want, List.of("p1", "p2", "p4", "p7"));
    // now = to: day D from its bitmap (p1, p2, p3, p6, p7) less p3 and p6, whose events are all after the end; p2 is
    // kept
    assertEquals(want, usage.active(people, project(), from, to, to).toCompletionStage().toCompletableFuture()
        .get(20, TimeUnit.SECONDS));
    // with "now" before any of it, the same period is read raw: the same persons
    assertFalse(Agg.cheaperAsComplement(D, to, D.minus(Duration.ofDays(30)), java.time.temporal.ChronoUnit.DAYS));
    assertEquals(want, usage.active(people, project(), from, to, D.minus(Duration.ofDays(30))).toCompletionStage()
        .toCompletableFuture().get(20, TimeUnit.SECONDS));
    assertEquals(4, want.cardinality());
    // with the event timeline loaded, the persons seen only after the end come from it instead of SQL probes
    EventTimeline timeline = new EventTimeline(pool);
    timeline.load().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(List.of("p3", "p6"), timeline.project(project()).onlyAfter(D.toEpochMilli(), to.toEpochMilli(),
        D.plus(Duration.ofDays(1)).toEpochMilli()).stream().sorted().toList());
    UsageQuery inMemory = new UsageQuery(pool, index, timeline);
    assertEquals(want, inMemory.active(people, project(), from, to, to).toCompletionStage().toCompletableFuture()
        .get(20, TimeUnit.SECONDS));
  }

  static String project() {
    return t.project;
  }

  @Test
  void aRaggedMinuteIsReadAsTheMinuteRollupLessTheRest() throws Exception {
    // without a dimension the whole minutes come from the per-minute rollup, and the last, ragged one (25:00-25:45,
    // with an event at 25:30 in it and one at 25:50 after it) as its minute row less 25:45-26:00
    Instant from = H.minus(Duration.ofHours(2)).plus(Duration.ofMinutes(7));
    Instant to = H.plus(Duration.ofSeconds(25 * 60 + 45));
    assertTrue(Agg.cheaperAsComplement(H.plus(Duration.ofMinutes(25)), to, to, MINUTES));
    // later, 45 s of the minute is still more than the 15 s after it; 10 s is less than 50
    assertTrue(Agg.cheaperAsComplement(H.plus(Duration.ofMinutes(25)), to, H.plus(Duration.ofHours(3)), MINUTES));
    assertFalse(Agg.cheaperAsComplement(H.plus(Duration.ofMinutes(25)), H.plus(Duration.ofSeconds(25 * 60 + 10)),
        H.plus(Duration.ofHours(3)), MINUTES));
    Map<String, List<Double>> want = expected(from, to, null, false);
    assertEquals(want, actual(from, to, Filters.NONE, to, Agg.Group.NONE));
    assertEquals(want, actual(from, to, Filters.NONE, H.minus(Duration.ofDays(1)), Agg.Group.NONE));
    // the event after the end is not counted
    assertEquals(expected(from, H.plus(Duration.ofMinutes(26)), null, false).get("|message_received").get(0) - 1,
        want.get("|message_received").get(0));
  }

  /** [count, duration sum ms, bounces] of the sessions (one per person in PERSONS) started in [from, to). */
  static double[] expectedSessions(Instant from, Instant to) {
    Map<String, Instant[]> span = new TreeMap<>();
    for (String[] p : PERSONS) {
      Instant at = personAt(p[1]);
      span.merge(p[0], new Instant[] {at, at}, (x, y) -> new Instant[] {x[0].isBefore(y[0]) ? x[0] : y[0],
          x[1].isAfter(y[1]) ? x[1] : y[1]});
    }
    double[] out = new double[3];
    for (Instant[] s : span.values()) {
      if (!s[0].isBefore(from) && s[0].isBefore(to)) {
        long ms = Duration.between(s[0], s[1]).toMillis();
        out[0]++;
        out[1] += ms;
        out[2] += ms < 30_000 ? 1 : 0;
      }
    }
    return out;
  }

  double[] sessions(UsageQuery usage, Instant from, Instant to, Instant now) throws Exception {
    return usage.sessions(project(), from, to, Filters.NONE, now).toCompletionStage().toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  @Test
  void sessionsOfALastDayEndingNowAreItsDayRowLessTheSessionsStartedOutsideThePeriod() throws Exception {
    UsageQuery usage = new UsageQuery(pool, null, null);
    Instant to = D.plus(Duration.ofMinutes(14 * 60 + 25));
    // the sessions were applied in the flushes that start() waited for (the rollups are in the same statement)
    // [D - 1 day, D 14:25): the day before whole, then day D's row less p3 and p6 (started after the end)
    Instant from = D.minus(Duration.ofDays(1));
    double[] want = expectedSessions(from, to);
    assertEquals(4, want[0]);
    assertTrue(want[1] > 0 && want[2] > 0);
    assertTrue(Agg.cheaperAsComplement(D, to, to, java.time.temporal.ChronoUnit.DAYS));
    double[] got = sessions(usage, from, to, to);
    assertEquals(List.of(want[0], want[1], want[2]), List.of(got[0], got[1], got[2]));
    // read raw ("now" before any of it): the same
    double[] raw = sessions(usage, from, to, D.minus(Duration.ofDays(30)));
    assertEquals(List.of(want[0], want[1], want[2]), List.of(raw[0], raw[1], raw[2]));
    // a period starting at 02:00 the same day also subtracts p7, started at 01:00
    Instant two = D.plus(Duration.ofHours(2));
    assertTrue(Agg.cheaperAsComplement(two, to, to, java.time.temporal.ChronoUnit.DAYS));
    double[] head = sessions(usage, two, to, to);
    double[] wantHead = expectedSessions(two, to);
    assertEquals(2, wantHead[0]);
    assertEquals(List.of(wantHead[0], wantHead[1], wantHead[2]), List.of(head[0], head[1], head[2]));
  }

  @Test
  void uptimeOfARaggedLastMinuteIsItsRollupRowLessTheRest() throws Exception {
    UsageQuery usage = new UsageQuery(pool, null, null);
    Instant from = H.minus(Duration.ofHours(2)).plus(Duration.ofMinutes(7));
    Instant to = H.plus(Duration.ofSeconds(25 * 60 + 45));
    // minutes with requests, and with a request that did not fail, computed from the events sent
    Map<Instant, long[]> perMinute = new TreeMap<>();
    for (Ev e : events) {
      if (!e.at().isBefore(from) && e.at().isBefore(to) && (e.type().equals("message_sent")
          || e.type().equals("error"))) {
        perMinute.computeIfAbsent(e.at().truncatedTo(MINUTES), k -> new long[2])[e.type().equals("error") ? 1 : 0]++;
      }
    }
    long withRequests = perMinute.values().stream().filter(x -> x[0] > 0).count();
    long up = perMinute.values().stream().filter(x -> x[0] > 0 && x[1] < x[0]).count();
    assertEquals(List.of(3L, 2L), List.of(withRequests, up));
    for (Instant now : List.of(to, H.minus(Duration.ofDays(1)))) {
      double[] u = usage.uptime(project(), from, to, Filters.NONE, now).toCompletionStage().toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      assertEquals(List.of((double) withRequests, (double) up), List.of(u[0], u[1]), "now " + now);
    }
  }
}
