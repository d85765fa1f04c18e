package io.tally.dashboard;

import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verifies the dashboard's HTTP routes without a browser: saved things, recent events, exports, the live stream. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DashboardRoutesTest {
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  Http.Response send(String method, String path, String body) {
    return t.http.send(HttpRequest.newBuilder(t.http.uri(path)).header("Authorization", "Bearer " + t.readKey)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build());
  }

  @Test
  void segmentsAreStoredPerProjectAndValidated() {
    // GIVEN a segment saved twice under one name WHEN listed THEN one entry with the last filters
    assertEquals(200, send("PUT", "/v1/segments/EU%20mobile", "{\"filters\":{\"country\":\"DE\"}}").status());
    Http.Response r = send("PUT", "/v1/segments/EU%20mobile", "{\"filters\":{\"country\":\"FR\",\"device\":\"mobile\"}}");
    assertEquals(200, r.status(), r.body());
    JsonArray items = t.http.get("/v1/segments").json().getJsonArray("items");
    assertEquals(1, items.size());
    assertEquals("EU mobile", items.getJsonObject(0).getString("name"));
    assertEquals(new JsonObject().put("country", "FR").put("device", "mobile"),
        items.getJsonObject(0).getJsonObject("filters"));
    // another project does not see it
    try (TestTally other = TestTally.start()) {
      assertEquals(0, other.http.get("/v1/segments").json().getJsonArray("items").size());
    }
    Http.Response bad = send("PUT", "/v1/segments/x", "{\"filters\":{\"colour\":\"red\"}}");
    assertEquals(400, bad.status());
    assertEquals("filters.colour", bad.json().getString("field"));
    assertEquals(401, t.http.getWith(null, "/v1/segments").status());
    assertEquals(200, send("DELETE", "/v1/segments/EU%20mobile", null).status());
    assertEquals(404, send("DELETE", "/v1/segments/EU%20mobile", null).status());
  }

  @Test
  void savedFunnelsKeepTheirSteps() {
    assertEquals(400, send("PUT", "/v1/saved-funnels/one", "{\"steps\":[{\"event\":\"a\"}]}").status());
    Http.Response r = send("PUT", "/v1/saved-funnels/Activation", "{\"steps\":[{\"event\":\"signup\"},"
        + "{\"event\":\"message_sent\"}],\"windowSeconds\":3600}");
    assertEquals(200, r.status(), r.body());
    JsonObject f = t.http.get("/v1/saved-funnels").json().getJsonArray("items").getJsonObject(0);
    assertEquals(3600, f.getLong("windowSeconds"));
    assertEquals("message_sent", f.getJsonArray("steps").getJsonObject(1).getString("event"));
  }

  @Test
  void recentEventsExportsAndTheLiveStream() throws Exception {
    // GIVEN a live stream open WHEN events are committed THEN a commit push counts them and carries their enrichment
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<InputStream> live = client.send(HttpRequest.newBuilder(t.http.uri("/v1/live"))
        .header("Authorization", "Bearer " + t.readKey).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, live.statusCode());
    assertTrue(live.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    BufferedReader lines = new BufferedReader(new InputStreamReader(live.body(), StandardCharsets.UTF_8));
    assertEquals("event: hello", lines.readLine());

    String user = "u-" + UUID.randomUUID();
    JsonArray batch = new JsonArray();
    Instant at = Instant.now().minusSeconds(60).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    for (int i = 0; i < 5; i++) {
      batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.plusSeconds(i).toString())
          .put("type", i == 0 ? "page_view" : "message_sent").put("sessionId", "s-" + user)
          .put("properties", new JsonObject().put("provider", "openai").put("model", "gpt-4o").put("tokens", 10 * i)
              .put("cost", 0.01))
          .put("userContext", new JsonObject().put("userId", user)));
    }
    assertEquals(200, t.http.post(new JsonObject().put("batch", batch).encode()).status());
    String line;
    JsonObject commit = null;
    long deadline = System.currentTimeMillis() + 10_000;
    while (commit == null && System.currentTimeMillis() < deadline && (line = lines.readLine()) != null) {
      if (line.equals("event: commit")) {
        commit = new JsonObject(lines.readLine().substring("data: ".length()));
      }
    }
    live.body().close();
    assertTrue(commit != null, "a commit push arrived");
    assertEquals(5, commit.getLong("count"));
    JsonObject newest = commit.getJsonArray("events").getJsonObject(4);
    assertEquals(user, newest.getString("userId"));
    assertEquals("openai", newest.getString("provider"));
    assertEquals(40.0, newest.getDouble("tokens"));

    // recent events: newest first, limited
    JsonObject recent = t.http.get("/v1/users/" + user + "/events?limit=3").json();
    assertEquals(3, recent.getJsonArray("events").size());
    assertEquals(at.plusSeconds(4).toString(), recent.getJsonArray("events").getJsonObject(0).getString("timestamp"));

    // exports: the route's own answer as CSV / JSON, its errors as they are
    String from = at.minusSeconds(3600).toString();
    String to = Instant.now().plusSeconds(60).toString();
    Http.Response csv = t.http.get("/v1/export/events?format=csv&userId=" + user + "&from=" + from + "&to=" + to);
    assertEquals(200, csv.status(), csv.body());
    assertTrue(csv.headers().firstValue("Content-Disposition").orElse("").contains("tally-events-"));
    String[] rows = csv.body().split("\r\n");
    assertEquals(6, rows.length, csv.body());
    assertTrue(rows[0].startsWith("id,timestamp,type,"), rows[0]);
    Http.Response usage = t.http.get("/v1/export/usage?format=csv&from=" + from + "&to=" + to);
    long active = t.http.get("/v1/metrics/usage?from=" + from + "&to=" + to).json().getJsonObject("users")
        .getLong("active");
    assertTrue(active >= 1 && usage.body().contains("\r\nusers.active," + active + "\r\n"), usage.body());
    assertEquals(400, t.http.get("/v1/export/timeseries?format=csv&metric=nope").status());
    assertEquals(404, t.http.get("/v1/export/nothing?format=csv").status());
    assertEquals(400, t.http.get("/v1/export/usage?format=xml").status());
    assertEquals(401, t.http.getWith(null, "/v1/export/usage").status());
  }

  /** Verifies the dashboard's WebSocket: the key in the first frame, pushes as {event, data}, wrong keys closed. */
  @Test
  void liveWebSocket() throws Exception {
    java.util.concurrent.BlockingQueue<String> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
    java.net.http.WebSocket.Listener listener = new java.net.http.WebSocket.Listener() {
      final StringBuilder sb = new StringBuilder();

      @Override
      public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data,
                                                          boolean last) {
        sb.append(data);
        if (last) {
          frames.add(sb.toString());
          sb.setLength(0);
        }
        ws.request(1);
        return null;
      }

      @Override
      public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket ws, int code, String reason) {
        closed.complete(code);
        return null;
      }
    };
    HttpClient client = HttpClient.newHttpClient();
    java.net.URI uri = java.net.URI.create("ws://127.0.0.1:" + t.tally.port() + "/v1/live/ws");
    java.net.http.WebSocket ws = client.newWebSocketBuilder().buildAsync(uri, listener).get(10, TimeUnit.SECONDS);
    ws.sendText(new JsonObject().put("key", t.readKey).encode(), true).get(5, TimeUnit.SECONDS);
    JsonObject hello = new JsonObject(frames.poll(10, TimeUnit.SECONDS));
    assertEquals("hello", hello.getString("event"));
    JsonArray batch = new JsonArray();
    for (int i = 0; i < 3; i++) {
      batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", Instant.now().toString())
          .put("type", "page_view").put("userContext", new JsonObject().put("userId", "ws-" + i)));
    }
    assertEquals(200, t.http.post(new JsonObject().put("batch", batch).encode()).status());
    long counted = 0;
    long deadline = System.currentTimeMillis() + 10_000;
    while (counted < 3 && System.currentTimeMillis() < deadline) {
      String f = frames.poll(1, TimeUnit.SECONDS);
      if (f != null && new JsonObject(f).getString("event").equals("commit")) {
        counted += new JsonObject(f).getJsonObject("data").getLong("count");
      }
    }
    assertEquals(3, counted);
    ws.sendClose(1000, "done");

    // a write key is refused with 4403, an unknown one with 4401
    for (String[] c : new String[][] {{t.writeKey, "4403"}, {"nope", "4401"}}) {
      java.util.concurrent.CompletableFuture<Integer> code = new java.util.concurrent.CompletableFuture<>();
      java.net.http.WebSocket w = client.newWebSocketBuilder().buildAsync(uri, new java.net.http.WebSocket.Listener() {
        @Override
        public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket s, int status, String r) {
          code.complete(status);
          return null;
        }
      }).get(10, TimeUnit.SECONDS);
      w.sendText(new JsonObject().put("key", c[0]).encode(), true);
      assertEquals(Integer.parseInt(c[1]), code.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void theAppIsServedFromTheJar() {
    Http.Response index = t.http.getWith(null, "/");
    assertEquals(200, index.status());
    assertTrue(index.body().contains("Tally dashboard"));
    assertTrue(index.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"));
    assertEquals(200, t.http.getWith(null, "/webjars/chart.js/4.5.1/dist/chart.umd.min.js").status());
    assertEquals(404, t.http.getWith(null, "/nothing-here.js").status());
  }
}
