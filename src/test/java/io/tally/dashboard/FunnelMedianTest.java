package io.tally.dashboard;

import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Verifies the funnel's times between steps: the median beside the mean, as the Funnels view shows them. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FunnelMedianTest {
  /**
   * Verifies the medians: GIVEN five people taking 10, 20, 30, 40 and 500 s from the first step to the second, four of
   * them 1, 2, 3 and 4 s more to the third WHEN the funnel is asked (from the event timeline and from raw events)
   * THEN the second step's median is 30 s beside a mean of 120 s, the third's 2.5 s, and the whole funnel's median is
   * that of the four complete journeys.
   */
  @Test
  void medianBesideTheMean() {
    try (TestTally t = TestTally.start()) {
      Instant base = Instant.now().minus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
      long[] toSecond = {10, 20, 30, 40, 500};
      long[] toThird = {1, 2, 3, 4};
      JsonArray batch = new JsonArray();
      for (int p = 0; p < toSecond.length; p++) {
        Instant at = base.plusSeconds(p * 1000L);
        add(batch, "p" + p, at, "page_view");
        add(batch, "p" + p, at.plusSeconds(toSecond[p]), "signup");
        if (p < toThird.length) {
          add(batch, "p" + p, at.plusSeconds(toSecond[p] + toThird[p]), "payment");
        }
      }
      assertEquals(batch.size(), t.http.post(new JsonObject().put("batch", batch).encode()).json()
          .getInteger("accepted"));
      JsonObject body = new JsonObject().put("steps", new JsonArray().add(step("page_view")).add(step("signup"))
          .add(step("payment"))).put("windowSeconds", 3600).put("from", base.minusSeconds(60).toString())
          .put("to", Instant.now().toString());
      for (String path : new String[] {"/v1/funnels", "/v1/funnels?raw=true"}) {
        Eventually.until("funnel stored", () -> funnel(t, path, body).getLong("users") == 5);
        JsonObject f = funnel(t, path, body);
        JsonArray steps = f.getJsonArray("steps");
        assertEquals(0.0, steps.getJsonObject(0).getDouble("medianTime"), path);
        assertEquals(120_000.0, steps.getJsonObject(1).getDouble("averageTime"), 1.0, path);
        assertEquals(30_000.0, steps.getJsonObject(1).getDouble("medianTime"), path);
        assertEquals(2_500.0, steps.getJsonObject(2).getDouble("medianTime"), path);
        // complete journeys: 11, 22, 33, 44 s
        assertEquals(27_500.0, f.getDouble("medianTime"), path);
        assertEquals(27_500.0, f.getDouble("averageTime"), 1.0, path);
      }
    }
  }

  static JsonObject step(String event) {
    return new JsonObject().put("event", event);
  }

  static void add(JsonArray batch, String user, Instant at, String type) {
    batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString()).put("type", type)
        .put("properties", type.equals("payment") ? new JsonObject().put("amount", 20).put("currency", "USD")
            : new JsonObject())
        .put("userContext", new JsonObject().put("userId", user)));
  }

  static JsonObject funnel(TestTally t, String path, JsonObject body) {
    Http.Response r = t.http.send(HttpRequest.newBuilder(t.http.uri(path))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
    assertEquals(200, r.status(), r.body());
    return r.json();
  }
}
