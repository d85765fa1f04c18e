package io.tally.sdk;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies the server side of the browser SDK: /sdk/tally.js (type, caching, gzip, ETag), CORS of POST /v1/events
 * following the project's allowedOrigins (preflight, readable errors, 403 for another origin, WebSocket upgrade too),
 * and the beacon's key in the query string, accepted only for a text/plain body and throttled like any key.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BrowserWritePathTest {
  static final String APP = "https://app.example";
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start(c -> c.withProjects(c.projects().stream()
        .map(p -> p.withAllowedOrigins(List.of(APP))).toList()));
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  @Test
  void verifiesThatTheSdkIsServedAsJavaScriptGzippedCachedAndRevalidatedByEtag() throws IOException {
    // GIVEN a browser asking for the SDK with gzip
    Http.Response plain = t.http.send(HttpRequest.newBuilder(t.http.uri("/sdk/tally.js")).GET().build());
    var gz = HttpResponseBytes.get(t, "/sdk/tally.js", "Accept-Encoding", "gzip, deflate");
    // THEN it is JavaScript, cacheable for an hour, and its gzip inflates to the same bytes
    assertEquals(200, plain.status());
    assertEquals("text/javascript; charset=utf-8", plain.headers().firstValue("Content-Type").orElseThrow());
    assertEquals("public, max-age=3600", plain.headers().firstValue("Cache-Control").orElseThrow());
    assertTrue(plain.body().contains("Tally"));
    assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElseThrow());
    String inflated = new String(new GZIPInputStream(new ByteArrayInputStream(gz.body())).readAllBytes(),
        StandardCharsets.UTF_8);
    assertEquals(plain.body(), inflated);
    assertTrue(gz.body().length < 6_000, "tally.js gzipped is " + gz.body().length + " bytes");
    System.out.println("tally.js: " + plain.body().getBytes(StandardCharsets.UTF_8).length + " bytes, gzipped "
        + gz.body().length);
    // WHEN it is revalidated with its ETag THEN 304 and no body
    String etag = plain.headers().firstValue("ETag").orElseThrow();
    Http.Response again = t.http.send(HttpRequest.newBuilder(t.http.uri("/sdk/tally.js"))
        .header("If-None-Match", etag).GET().build());
    assertEquals(304, again.status());
    assertEquals("", again.body());
  }

  @Test
  void verifiesThatAPreflightFromAnAllowedOriginIsGrantedAndOneFromAnotherIsNot() {
    // WHEN a page of the project's origin asks before a POST with a key header
    Http.Response ok = preflight(APP);
    // THEN it may send Authorization and a JSON body, and keep the answer two hours
    assertEquals(204, ok.status());
    assertEquals(APP, ok.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
    assertTrue(ok.headers().firstValue("Access-Control-Allow-Headers").orElseThrow().contains("Authorization"));
    assertEquals("7200", ok.headers().firstValue("Access-Control-Max-Age").orElseThrow());
    // WHEN another origin asks THEN no grant (the browser then sends nothing)
    Http.Response other = preflight("https://evil.example");
    assertEquals(204, other.status());
    assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
  }

  @Test
  void verifiesThatAPostFromAnOriginTheProjectDoesNotAllowIsRefusedAndStoresNothing() {
    // GIVEN an event sent with a valid key from a page of another origin
    JsonObject e = Events.event("page_view", "u-origin");
    Http.Response r = t.http.postHeaders(e.encode(), "Origin", "https://evil.example");
    // THEN 403 naming the setting, and the event is not stored
    assertEquals(403, r.status());
    assertEquals("origin_not_allowed", r.json().getString("error"));
    assertEquals("projects[].allowedOrigins", r.json().getString("field"));
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?::uuid", t.project,
        e.getString("id")));
    // WHEN the same comes from the project's origin THEN it is stored, and the answer is readable by that page
    Http.Response ok = t.http.postHeaders(e.encode(), "Origin", APP);
    assertEquals(200, ok.status());
    assertEquals(APP, ok.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
    assertEquals(1, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?::uuid", t.project,
        e.getString("id")));
    // AND a refusal before the key (no key) is readable by the page too, so the SDK can tell it from a network error
    Http.Response noKey = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/events")).header("Origin", APP)
        .POST(HttpRequest.BodyPublishers.ofString(e.encode())).build());
    assertEquals(401, noKey.status());
    assertEquals(APP, noKey.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
  }

  @Test
  void verifiesThatTheWebSocketUpgradeFollowsTheProjectsOrigins() {
    // GIVEN an upgrade with a valid key from another origin THEN 403 before any upgrade
    Http.Response r = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/stream?key=" + t.writeKey))
        .header("Origin", "https://evil.example").GET().build());
    assertEquals(403, r.status());
    assertEquals("origin_not_allowed", r.json().getString("error"));
  }

  @Test
  void verifiesThatABeaconsKeyInTheQueryIsTakenOnlyForATextPlainBody() {
    // GIVEN what navigator.sendBeacon sends: no header, text/plain, the key in the URL
    JsonObject e = Events.event("page_view", "u-beacon");
    Http.Response r = beacon("?key=" + t.writeKey, "text/plain;charset=UTF-8", e.encode());
    // THEN it is stored
    assertEquals(200, r.status(), r.body());
    assertEquals(1, r.json().getInteger("accepted"));
    // WHEN the same query key comes with a JSON body (a client that could have sent the header) THEN 401
    Http.Response json = beacon("?key=" + t.writeKey, "application/json", Events.event("page_view", "u-b").encode());
    assertEquals(401, json.status());
    // WHEN a read key is put there THEN 403
    assertEquals(403, beacon("?key=" + t.readKey, "text/plain", Events.event("page_view", "u-b").encode()).status());
  }

  @Test
  void verifiesThatUnknownKeysInTheBeaconQueryAreThrottledLikeAnyKey() {
    // GIVEN a client guessing keys through the beacon path, from an address that is not exempt
    String client = "198.51.100.77";
    int status = 0;
    for (int i = 0; i < 25 && status != 429; i++) {
      status = send("?key=guess-" + i, "text/plain", "{}", "X-Forwarded-For", client).status();
    }
    // THEN it is blocked after http.keyFailuresPerMinute (20), a valid key included
    Http.Response blocked = send("?key=" + t.writeKey, "text/plain", Events.event("page_view", "u").encode(),
        "X-Forwarded-For", client);
    assertEquals(429, blocked.status());
    assertEquals("http.keyFailuresPerMinute", blocked.json().getString("field"));
    assertFalse(blocked.headers().firstValue("Retry-After").isEmpty());
  }

  private static Http.Response beacon(String query, String type, String body) {
    return send(query, type, body);
  }

  private static Http.Response send(String query, String type, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri("/v1/events" + query)).header("Content-Type", type)
        .header("Origin", APP).POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return t.http.send(b.build());
  }

  private static Http.Response preflight(String origin) {
    return t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/events")).header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization,content-type")
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
  }

  /** A GET answered as bytes (a gzipped body). */
  private static final class HttpResponseBytes {
    static HttpResponse<byte[]> get(TestTally t, String path, String... headers) {
      try {
        HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri(path)).GET();
        for (int i = 0; i < headers.length; i += 2) {
          b.header(headers[i], headers[i + 1]);
        }
        return java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build()
            .send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
