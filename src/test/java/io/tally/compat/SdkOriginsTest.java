package io.tally.compat;

import io.tally.support.Db;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that the SDK-compatible routes follow the project's allowed origins like POST /v1/events: a page of an
 * allowed origin gets its preflight granted and its answers readable, a page of any other origin is refused 403 with
 * nothing stored, whether the key comes in the Authorization header or in the body.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SdkOriginsTest {
  static final String APP = "https://app.example";
  static final String OTHER = "https://evil.example";
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start(c -> c.withProjects(c.projects().stream()
        .map(p -> p.withAllowedOrigins(List.of(APP))).toList()));
  }

  @AfterAll
  static void stop() {
    t.close();
  }

  private static Http.Response send(String method, String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri(path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return t.http.send(b.build());
  }

  private static String posthog(String uuid) {
    return new JsonObject().put("api_key", t.writeKey).put("event", "clicked").put("distinct_id", "d-o")
        .put("uuid", uuid).encode();
  }

  private static long stored(String uuid) {
    return Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?::uuid", t.project, uuid);
  }

  @Test
  void verifiesThatAnAllowedOriginIsGrantedAndAnyOtherRefusedWithNothingStored() {
    // GIVEN a project whose pages may write only from APP
    // WHEN a page of APP asks the preflight of PostHog's /e/ THEN it is granted
    Http.Response pre = send("OPTIONS", "/e/", null, "Origin", APP, "Access-Control-Request-Method", "POST");
    assertEquals(204, pre.status());
    assertEquals(APP, pre.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    // AND its event (key in the body) is stored, the answer readable by the page
    String ok = UUID.randomUUID().toString();
    Http.Response allowed = send("POST", "/e/", posthog(ok), "Origin", APP, "Content-Type", "application/json");
    assertEquals(200, allowed.status(), allowed.body());
    assertEquals(APP, allowed.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    assertEquals(1, stored(ok));

    // WHEN a page of another origin posts with the key in the body THEN 403 naming the setting, nothing stored
    String refused = UUID.randomUUID().toString();
    Http.Response other = send("POST", "/e/", posthog(refused), "Origin", OTHER, "Content-Type", "application/json");
    assertEquals(403, other.status(), other.body());
    assertEquals("origin_not_allowed", other.json().getString("error"));
    assertEquals("projects[].allowedOrigins", other.json().getString("field"));
    assertEquals(0, stored(refused));
    // AND its preflight grants nothing
    Http.Response otherPre = send("OPTIONS", "/v1/batch", null, "Origin", OTHER);
    assertTrue(otherPre.headers().firstValue("Access-Control-Allow-Origin").isEmpty());

    // AND with the key in the Authorization header (Segment's analytics.js shape) the same rule holds
    String messageId = "o-" + UUID.randomUUID();
    String segment = new JsonObject().put("batch", new JsonArray().add(new JsonObject().put("type", "track")
        .put("messageId", messageId).put("userId", "u-o").put("event", "Clicked")
        .put("timestamp", Instant.now().toString()))).encode();
    String basic = "Basic " + Base64.getEncoder().encodeToString((t.writeKey + ":").getBytes(StandardCharsets.UTF_8));
    Http.Response seg = send("POST", "/v1/batch", segment, "Origin", OTHER, "Authorization", basic,
        "Content-Type", "application/json");
    assertEquals(403, seg.status(), seg.body());
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?", t.project,
        UUID.nameUUIDFromBytes(messageId.getBytes(StandardCharsets.UTF_8))));
  }
}
