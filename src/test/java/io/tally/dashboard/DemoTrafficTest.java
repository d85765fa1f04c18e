package io.tally.dashboard;

import io.tally.support.Db;
import io.tally.support.Eventually;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verifies the --demo history tells its story through the real query routes, and the present streams after it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DemoTrafficTest {
  /** Five weeks: enough for weekly baselines of the incident day and two 7-day periods (the demo sends nine). */
  static final DemoTraffic.Options FIVE_WEEKS = new DemoTraffic.Options(35, DemoTraffic.Options.defaults()
      .arrivalsPerDay(), 3);

  /**
   * Verifies the demo's story: GIVEN the demo's back-fill (the same generator, five weeks of it) WHEN the Overview's
   * period (the last 7 days) is asked THEN every headline figure has a previous period to compare with, the provider
   * incident is an anomaly, the insights are of three kinds or more (the anomaly among them) and a pattern is reported.
   */
  @Test
  void backFillTellsTheStory() throws Exception {
    try (TestTally t = TestTally.start()) {
      Clock now = Clock.fixed(Instant.now(), ZoneOffset.UTC); // both runs below split history and present alike
      DemoTraffic demo = new DemoTraffic(t.tally.vertx(), t.tally.port(), t.writeKey, t.readKey, FIVE_WEEKS, now);
      DemoTraffic.Backfill b = demo.start().toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
      demo.stop();
      assertEquals(b.sent(), b.accepted(), "every event is within the ingest bounds and new");
      assertTrue(b.sent() > 20_000, "back-filled " + b.sent());
      assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND ts >= now() - interval '1 hour'",
          t.project), "nothing of the live views' last hour is sent as history");
      assertEquals(0, t.http.get("/v1/realtime").json().getLong("total"), "the back-fill is not live traffic");
      t.awaitDerived();

      Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
      Instant from = to.minus(7, ChronoUnit.DAYS);
      String period = "from=" + from + "&to=" + to;
      String previous = "from=" + from.minus(7, ChronoUnit.DAYS) + "&to=" + from;
      // THEN each headline figure of the Overview has a previous value to compare with (not "new")
      JsonObject prev = t.http.get("/v1/metrics/usage?" + previous).json();
      for (String[] f : List.of(new String[] {"users", "active"}, new String[] {"users", "new"},
          new String[] {"sessions", "total"}, new String[] {"performance", "errorRate"},
          new String[] {"performance", "averageResponseTime"}, new String[] {"conversations", "total"})) {
        assertTrue(prev.getJsonObject(f[0]).getDouble(f[1]) > 0, f[0] + "." + f[1] + " " + prev.encode());
      }
      for (String metric : List.of("events", "messages", "tokens", "cost", "errors", "revenue")) {
        double sum = t.http.get("/v1/timeseries?metric=" + metric + "&interval=day&" + previous).json()
            .getJsonArray("points").stream().mapToDouble(p -> ((JsonObject) p).getDouble("value")).sum();
        assertTrue(sum > 0, metric + " in the previous period");
      }

      // AND the provider incident is an anomaly of the error rate, on its day
      JsonObject anomalies = t.http.get("/v1/anomalies?metric=error_rate&granularity=day&" + period).json();
      LocalDate incident = LocalDate.now(ZoneOffset.UTC).minusDays(3);
      assertTrue(anomalies.getJsonArray("points").stream().map(p -> (JsonObject) p).anyMatch(p ->
          p.getString("timestamp").startsWith(incident.toString()) && p.getString("direction").equals("up")),
          anomalies.encode());

      // AND the insights are of three kinds at least, the anomaly explained among them
      JsonObject insights = t.http.get("/v1/insights?wait=true&" + period).json();
      Set<String> kinds = new HashSet<>();
      insights.getJsonArray("insights").forEach(i -> kinds.add(((JsonObject) i).getString("type")));
      assertTrue(kinds.size() >= 3 && kinds.contains("anomaly"), kinds.toString());

      // AND a pattern is reported
      JsonObject patterns = t.http.get("/v1/patterns/detect?" + period).json();
      assertTrue(patterns.getJsonArray("patterns").size() >= 1, patterns.encode());

      // AND people are placed by their address, as a proxy would forward it: every event has the country the demo's
      // catalogue gives its address, found by the bundled geo-IP database
      assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND country IS NULL", t.project));
      Set<String> countries = new HashSet<>();
      Db.query("SELECT DISTINCT country FROM events WHERE project_id = ?", t.project)
          .forEach(r -> countries.add((String) r.get("country")));
      Set<String> expected = new HashSet<>();
      for (String[] place : DemoCatalog.PLACES) {
        expected.add(place[1]);
      }
      assertEquals(expected, countries);
    }
  }

  /**
   * Verifies a restart and the present: GIVEN a project the demo back-filled WHEN the demo starts again THEN days older
   * than the dedupe window are not sent again, the recent ones come back as duplicates only; AND the present is sent
   * as its time comes, counted by the live views.
   */
  @Test
  void restartSkipsStoredHistoryAndThePresentIsLive() throws Exception {
    try (TestTally t = TestTally.start()) {
      Clock now = Clock.fixed(Instant.now(), ZoneOffset.UTC);
      DemoTraffic.Options twoWeeks = new DemoTraffic.Options(14, DemoTraffic.Options.defaults().arrivalsPerDay(), 3);
      DemoTraffic first = new DemoTraffic(t.tally.vertx(), t.tally.port(), t.writeKey, t.readKey, twoWeeks, now);
      DemoTraffic.Backfill b = first.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      first.stop();
      assertEquals(b.sent(), b.accepted());
      t.awaitDerived();

      DemoTraffic again = new DemoTraffic(t.tally.vertx(), t.tally.port(), t.writeKey, t.readKey, twoWeeks, now);
      DemoTraffic.Backfill b2 = again.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertEquals(14 - DemoTraffic.RESEND_DAYS - 1, b2.daysSkipped(), "days older than the dedupe window");
      assertTrue(b2.sent() > 0 && b2.sent() < b.sent(), b2.toString());
      assertEquals(0, b2.accepted(), "the recent days are duplicates");

      // WHEN the next three hours of the present are played THEN they are stored and counted live
      int played = again.tick(now.instant().plus(3, ChronoUnit.HOURS)).toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      again.stop();
      assertTrue(played > 0, "the world has visits in any three hours");
      Eventually.until("the present counted live", () -> t.http.get("/v1/realtime").json().getLong("total") == played);
      // every message the demo sends names its provider and model, as the catalogue requires
      assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND type = 'message_received' "
          + "AND (properties->>'provider' IS NULL OR properties->>'model' IS NULL)", t.project));
    }
  }
}
