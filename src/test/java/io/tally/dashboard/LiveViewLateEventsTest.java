package io.tally.dashboard;

import io.tally.support.Eventually;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that history arriving late (a back-fill, an import) stays out of the live views, which count events by
 * receipt time, while every other figure counts it at its own time.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LiveViewLateEventsTest {
  static JsonObject event(Instant at, String type, String user) {
    return new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString()).put("type", type)
        .put("sessionId", "s-" + user).put("userContext", new JsonObject().put("userId", user))
        .put("properties", new JsonObject().put("feature", "voice"));
  }

  /**
   * Verifies the live window: GIVEN a live stream open WHEN one batch brings 300 events of last month, 40 of two hours
   * ago and 7 of the last 50 minutes THEN the real-time counters, the stream's commit count and its tail hold only the
   * 7, and the time series still counts all 347 at their own times.
   */
  @Test
  void backFilledHistoryStaysOutOfTheLiveViews() throws Exception {
    try (TestTally t = TestTally.start()) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<InputStream> live = client.send(HttpRequest.newBuilder(t.http.uri("/v1/live"))
          .header("Authorization", "Bearer " + t.readKey).build(), HttpResponse.BodyHandlers.ofInputStream());
      BufferedReader lines = new BufferedReader(new InputStreamReader(live.body(), StandardCharsets.UTF_8));
      assertEquals("event: hello", lines.readLine());

      // GIVEN history and a few live events in one batch, as a back-fill followed by live traffic would send them
      Instant now = Instant.now();
      JsonArray batch = new JsonArray();
      for (int i = 0; i < 300; i++) {
        batch.add(event(now.minus(30, ChronoUnit.DAYS).plusSeconds(i * 60L), "page_view", "old-" + (i % 20)));
      }
      for (int i = 0; i < 40; i++) {
        batch.add(event(now.minus(2, ChronoUnit.HOURS).plusSeconds(i), "message_sent", "late-" + (i % 5)));
      }
      for (int i = 0; i < 7; i++) {
        batch.add(event(now.minus(50, ChronoUnit.MINUTES).plusSeconds(i * 400L), "feature_used", "live-" + i));
      }
      assertEquals(347, t.http.post(new JsonObject().put("batch", batch).encode()).json().getInteger("accepted"));

      // THEN the stream's commit push counts the 7 live events only, and shows only them
      JsonObject commit = null;
      long deadline = System.currentTimeMillis() + 10_000;
      String line;
      while (commit == null && System.currentTimeMillis() < deadline && (line = lines.readLine()) != null) {
        if (line.equals("event: commit")) {
          commit = new JsonObject(lines.readLine().substring("data: ".length()));
        }
      }
      live.body().close();
      assertNotNull(commit, "a commit push arrived");
      assertEquals(7, commit.getLong("count"));
      assertEquals(7, commit.getJsonArray("events").size());
      assertTrue(commit.getJsonArray("events").stream().allMatch(e -> ((JsonObject) e).getString("type")
          .equals("feature_used")), commit.encode());
      // AND the real-time counters (per receipt minute) hold the 7 only
      Eventually.until("real-time counters written", () -> t.http.get("/v1/realtime").json().getLong("total") >= 7);
      Thread.sleep(300); // a stray count of the back-fill would land with the same pipeline
      JsonObject rt = t.http.get("/v1/realtime").json();
      assertEquals(7, rt.getLong("total"), rt.encode());
      assertEquals(new JsonObject().put("feature_used", 7), rt.getJsonObject("byType"));
      // AND the history is counted at its own time everywhere else
      Instant to = now.truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
      Eventually.until("history in the time series", () -> t.http.get("/v1/timeseries?metric=events&interval=day"
          + "&from=" + to.minus(Duration.ofDays(40)) + "&to=" + to).json().getJsonArray("points").stream()
          .mapToDouble(p -> ((JsonObject) p).getDouble("value")).sum() == 347);
    }
  }
}
