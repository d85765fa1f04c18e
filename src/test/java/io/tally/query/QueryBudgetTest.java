package io.tally.query;

import io.tally.config.ProjectConfig;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies the query budgets: a period longer than a route answers over is refused at once, naming the limit; an answer
 * larger than the answer limit is refused; and while the heaviest queries the budgets allow run, health, ingestion and
 * another project's queries keep answering promptly.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class QueryBudgetTest {
  private static final String FAR = "from=0001-01-01&to=2026-01-01";

  @Test
  void verifiesThatEveryRouteRefusesAPeriodOverItsBudgetAtOnceNamingTheLimit() {
    try (TestTally t = TestTally.start(UnaryOperator.identity())) {
      String[] routes = {"/v1/events/count?" + FAR, "/v1/users/u1/analytics?" + FAR, "/v1/metrics/usage?" + FAR,
          "/v1/retention?granularity=day&" + FAR, "/v1/conversions?" + FAR, "/v1/timeseries?metric=events&"
          + "interval=day&" + FAR, "/v1/breakdown?dimension=provider&" + FAR, "/v1/patterns/detect?" + FAR,
          "/v1/anomalies?granularity=day&" + FAR, "/v1/insights?" + FAR, "/v1/users/u1/sessions?" + FAR,
          "/v1/users/u1/events?" + FAR, "/v1/export/retention?" + FAR,
          "/v1/metrics/usage?from=2025-01-01&to=2026-01-03"};
      for (String r : routes) {
        long start = System.nanoTime();
        Http.Response res = t.http.get(r);
        // GIVEN a read key asking a period over the route's budget THEN a 400 naming the limit, answered at once
        assertEquals(400, res.status(), r + ": " + res.body());
        JsonObject e = res.json();
        assertEquals("from", e.getString("field"), r);
        assertEquals(366L, e.getLong("limit"), r);
        assertTrue((System.nanoTime() - start) / 1e6 < 2_000, r + " took " + (System.nanoTime() - start) / 1e6 + " ms");
      }
      // weekly retention allows three years, not more
      assertEquals(1098L, t.http.get("/v1/retention?granularity=week&" + FAR).json().getLong("limit"));
      assertEquals(200, t.http.get("/v1/retention?granularity=week&from=2024-01-01&to=2026-12-01").status());
      // a funnel's period in its body too
      JsonObject funnel = new JsonObject().put("steps", new JsonArray().add(new JsonObject().put("event", "a"))
          .add(new JsonObject().put("event", "b"))).put("from", "2000-01-01T00:00:00Z").put("to", "2026-01-01T00:00:00Z");
      Http.Response f = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/funnels"))
          .header("Authorization", "Bearer " + t.readKey).POST(HttpRequest.BodyPublishers.ofString(funnel.encode()))
          .build());
      assertEquals(400, f.status(), f.body());
      assertEquals(366L, f.json().getLong("limit"));
      // exactly the budget is answered
      assertEquals(200, t.http.get("/v1/metrics/usage?from=2025-01-01&to=2026-01-02").status());
    }
  }

  @Test
  void verifiesThatAnAnswerOverTheAnswerLimitIsRefusedNamingIt() {
    try (TestTally t = TestTally.start(c -> c.withQuery(c.query().withMaxAnswerBytes(300)))) {
      // GIVEN an answer limit of 300 bytes (16 MiB by default) WHEN a usage answer is larger
      Http.Response r = t.http.get("/v1/metrics/usage");
      // THEN it is a 400 naming the answer and its limit, without internal text
      assertEquals(400, r.status(), r.body());
      assertEquals("answer_too_large", r.json().getString("error"));
      assertEquals("answer", r.json().getString("field"));
      assertEquals(300L, r.json().getLong("limit"));
      // AND a smaller answer is answered
      assertEquals(200, t.http.get("/v1/events/count").status());
    }
  }

  @Test
  void verifiesThatHealthIngestAndAnotherProjectKeepAnsweringWhileTheHeaviestAllowedQueriesRun() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String a = "heavy-" + s;
    String b = "light-" + s;
    var projects = List.of(new ProjectConfig(a, List.of("wa-" + s), List.of("ra-" + s), ZoneOffset.UTC),
        new ProjectConfig(b, List.of("wb-" + s), List.of("rb-" + s), ZoneOffset.UTC));
    try (TestTally t = TestTally.start(a, "wa-" + s, "ra-" + s, c -> c.withProjects(projects))) {
      Http httpB = new Http(t.tally.port(), "wb-" + s, "rb-" + s);
      // GIVEN a year of a product's events in project A: 1,000 persons coming back on random days
      Random rnd = new Random(5);
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      for (int batch = 0; batch < 12; batch++) {
        JsonArray events = new JsonArray();
        for (int i = 0; i < 1000; i++) {
          String user = "u" + rnd.nextInt(1000);
          Instant ts = now.minus(rnd.nextInt(365 * 24), ChronoUnit.HOURS);
          events.add(Events.event(i % 3 == 0 ? "page_view" : "message_sent", user).put("timestamp", ts.toString())
              .put("sessionId", user + "-" + ts.truncatedTo(ChronoUnit.DAYS)));
        }
        assertEquals(1000, t.http.post(new JsonObject().put("batch", events).encode()).json().getInteger("accepted"));
      }
      assertEquals(12_000, io.tally.support.Db.eventsOf(a));
      // WHEN two clients run the heaviest queries the budgets allow, over and over (a year, daily retention over 90
      // periods, insights, usage over the raw events)
      String year = "from=" + now.minus(365, ChronoUnit.DAYS) + "&to=" + now;
      String[] heavy = {"/v1/retention?granularity=day&periods=90&" + year, "/v1/insights?wait=true&" + year,
          "/v1/metrics/usage?raw=true&" + year, "/v1/timeseries?metric=active_users&interval=day&" + year};
      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentLinkedQueue<String> heavyFailures = new ConcurrentLinkedQueue<>();
      int[] heavyDone = new int[1];
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 2; c++) {
        int first = c;
        Thread th = new Thread(() -> {
          for (int i = first; !stop.get(); i++) {
            Http.Response r = t.http.get(heavy[i % heavy.length]);
            if (r.status() != 200 && r.status() != 503) {
              heavyFailures.add(heavy[i % heavy.length] + " " + r.status() + " " + r.body());
            }
            synchronized (heavyDone) {
              heavyDone[0]++;
            }
          }
        });
        th.start();
        clients.add(th);
      }
      // THEN health, ingestion of project B and project B's queries answer within a second each, every time
      long worstHealth = 0;
      long worstIngest = 0;
      long worstQuery = 0;
      long end = System.currentTimeMillis() + 15_000;
      try {
        while (System.currentTimeMillis() < end) {
          worstHealth = Math.max(worstHealth, timed(() -> assertEquals(200, t.http.get("/health/ready").status())));
          worstIngest = Math.max(worstIngest, timed(() -> assertEquals(200,
              httpB.post(Events.event("page_view", "b-user").encode()).status())));
          worstQuery = Math.max(worstQuery, timed(() -> assertEquals(200, httpB.get("/v1/realtime").status())));
          Thread.sleep(100);
        }
      } finally {
        stop.set(true);
        for (Thread th : clients) {
          th.join(60_000);
        }
      }
      assertTrue(heavyFailures.isEmpty(), String.join("\n", heavyFailures));
      assertTrue(heavyDone[0] >= 2, "heavy queries completed: " + heavyDone[0]);
      assertTrue(worstHealth < 1_000, "health took " + worstHealth + " ms");
      assertTrue(worstIngest < 1_000, "ingest took " + worstIngest + " ms");
      assertTrue(worstQuery < 1_000, "project B's query took " + worstQuery + " ms");
    }
  }

  private static long timed(Runnable r) {
    long start = System.nanoTime();
    r.run();
    return (System.nanoTime() - start) / 1_000_000;
  }
}
