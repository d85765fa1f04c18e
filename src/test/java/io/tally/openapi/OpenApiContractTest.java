package io.tally.openapi;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that /openapi.json is the contract of the running server: every route the router has is in the document
 * (and nothing else), and each route's real answers — a success and at least one error — validate against the
 * document's schema for that status (JSON Schema draft 2020-12, as OpenAPI 3.1 uses it).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class OpenApiContractTest {
  static final String BASE = "https://tally.invalid/openapi.json";
  /**
   * Router routes that are not API: the dashboard's static files, the app shell ({@code GET /*}) and its webjars
   * ({@code GET /webjars/*}); the router names a wildcard route by its prefix.
   */
  static final Set<String> NOT_API = Set.of("GET /", "GET /webjars/");
  /** A client address the test gets blocked for unknown keys (forwarded by loopback, a trusted proxy). */
  static final String GUESSER = "203.0.113.9";
  static final String ADMIN = "admin-key-contract-0001";
  static TestTally t;
  static JsonObject doc;
  static SchemaRegistry registry;
  static String from;
  static String to;

  @BeforeAll
  static void start() {
    t = TestTally.startWithAdmin(ADMIN);
    Http.Response r = t.http.getWith(null, "/openapi.json");
    assertEquals(200, r.status());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
    doc = r.json();
    registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
        b -> b.schemas(Map.of(BASE, r.body())));
    // a person with a session, so the routes about one have something to answer
    JsonObject e = Events.event("message_sent", "u-contract").put("sessionId", "s-contract");
    assertEquals(200, t.http.post(Events.batch(e, Events.event("page_view", "u-contract")
        .put("sessionId", "s-contract")).encode()).status());
    // sessions are derived from committed events within a second or so (longer on a loaded machine)
    Eventually.until("the session derived", 30, () -> t.http.get("/v1/sessions/s-contract").status() == 200);
    Instant now = Instant.now();
    from = now.minus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.HOURS).toString();
    to = now.plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS).toString();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  @Test
  void verifiesThatTheDocumentIsOpenApi31WithEveryRouteOfTheRouterAndNoOther() {
    // GIVEN the routes the running server's router has
    Set<String> routed = new TreeSet<>();
    for (String r : t.tally.routes()) {
      if (!NOT_API.contains(r)) {
        routed.add(r.replaceAll(":([A-Za-z]+)", "{$1}"));
      }
    }
    // AND the operations the document describes
    Set<String> documented = new TreeSet<>();
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (Set.of("get", "put", "post", "delete", "options", "head", "patch").contains(method)) {
          documented.add(method.toUpperCase() + " " + path);
        }
      }
    }
    // THEN they are the same (a route added without its contract fails here)
    assertEquals("3.1.0", doc.getString("openapi"));
    Set<String> missing = new TreeSet<>(routed);
    missing.removeAll(documented);
    Set<String> extra = new TreeSet<>(documented);
    extra.removeAll(routed);
    assertTrue(missing.isEmpty(), "routes missing from openapi.json: " + missing);
    assertTrue(extra.isEmpty(), "openapi.json describes routes the server does not have: " + extra);
  }

  @Test
  void verifiesThatEveryRoutesRealAnswersValidateAgainstTheDocument() {
    String p = "?from=" + from + "&to=" + to;
    String w = "Bearer " + t.writeKey;
    String r = "Bearer " + t.readKey;
    String a = "Bearer " + ADMIN;
    String event = Events.event("page_view", "u-contract").encode();
    String funnel = new JsonObject().put("from", from).put("to", to).put("steps", new JsonArray()
        .add(new JsonObject().put("event", "page_view")).add(new JsonObject().put("event", "message_sent"))).encode();
    String saved = new JsonObject().put("steps", new JsonArray().add(new JsonObject().put("event", "page_view"))
        .add(new JsonObject().put("event", "message_sent"))).encode();
    String pattern = new JsonObject().put("id", "contract-pattern").put("name", "Contract").put("type", "engagement")
        .put("pattern", new JsonObject().put("conditions", new JsonArray().add(new JsonObject()
            .put("field", "messages_per_day").put("operator", "gt").put("value", 0))).put("timeWindow", 30)
            .put("minOccurrences", 1).put("aggregation", "unique")).encode();
    String basic = "Basic " + java.util.Base64.getEncoder().encodeToString((t.writeKey + ":").getBytes(
        java.nio.charset.StandardCharsets.UTF_8));
    JsonObject track = new JsonObject().put("type", "track").put("messageId", "m-contract-1").put("userId", "u-contract")
        .put("event", "Clicked").put("timestamp", from);
    String segmentBatch = new JsonObject().put("batch", new JsonArray().add(track)).encode();
    String segmentTrack = track.copy().put("messageId", "m-contract-2").encode();
    JsonObject ph = new JsonObject().put("event", "clicked").put("distinct_id", "u-contract").put("timestamp", from);
    String posthogBatch = new JsonObject().put("api_key", t.writeKey).put("batch", new JsonArray().add(ph)).encode();
    String posthogEvent = ph.copy().put("api_key", t.writeKey).encode();
    List<Probe> probes = List.of(
        new Probe("POST", "/v1/events", "/v1/events", w, event, 200),
        new Probe("POST", "/v1/events", "/v1/events", null, event, 401),
        new Probe("POST", "/v1/events", "/v1/events", w, "{\"type\":", 400),
        new Probe("POST", "/v1/events", "/v1/events", r, event, 403),
        new Probe("OPTIONS", "/v1/events", "/v1/events", null, null, 204),
        new Probe("GET", "/v1/stream", "/v1/stream", null, null, 401),
        new Probe("GET", "/v1/realtime", "/v1/realtime", r, null, 200),
        new Probe("GET", "/v1/realtime", "/v1/realtime", w, null, 403),
        new Probe("GET", "/v1/events/count", "/v1/events/count" + p, r, null, 200),
        new Probe("GET", "/v1/events/count", "/v1/events/count?from=yesterday", r, null, 400),
        new Probe("GET", "/v1/sessions/{id}", "/v1/sessions/s-contract", r, null, 200),
        new Probe("GET", "/v1/sessions/{id}", "/v1/sessions/nope", r, null, 404),
        new Probe("GET", "/v1/users/{id}/analytics", "/v1/users/u-contract/analytics" + p, r, null, 200),
        new Probe("GET", "/v1/users/{id}/analytics", "/v1/users/u-contract/analytics", null, null, 401),
        new Probe("GET", "/v1/users/{id}/sessions", "/v1/users/u-contract/sessions" + p, r, null, 200),
        new Probe("GET", "/v1/users/{id}/sessions", "/v1/users/u-contract/sessions?to=x", r, null, 400),
        new Probe("GET", "/v1/users/{id}/events", "/v1/users/u-contract/events" + p, r, null, 200),
        new Probe("GET", "/v1/users/{id}/events", "/v1/users/u-contract/events?limit=0", r, null, 400),
        new Probe("GET", "/v1/metrics/usage", "/v1/metrics/usage" + p, r, null, 200),
        new Probe("GET", "/v1/metrics/usage", "/v1/metrics/usage?from=" + to + "&to=" + from, r, null, 400),
        new Probe("GET", "/v1/people", "/v1/people" + p, r, null, 200),
        new Probe("GET", "/v1/people", "/v1/people?sort=oldest", r, null, 400),
        new Probe("GET", "/v1/retention", "/v1/retention" + p, r, null, 200),
        new Probe("GET", "/v1/retention", "/v1/retention?granularity=year", r, null, 400),
        new Probe("GET", "/v1/conversions", "/v1/conversions" + p, r, null, 200),
        new Probe("GET", "/v1/conversions", "/v1/conversions?limit=-1", r, null, 400),
        new Probe("GET", "/v1/timeseries", "/v1/timeseries" + p + "&metric=events", r, null, 200),
        new Probe("GET", "/v1/timeseries", "/v1/timeseries" + p, r, null, 400),
        new Probe("GET", "/v1/breakdown", "/v1/breakdown" + p + "&dimension=event", r, null, 200),
        new Probe("GET", "/v1/breakdown", "/v1/breakdown" + p + "&dimension=shoe", r, null, 400),
        new Probe("POST", "/v1/funnels", "/v1/funnels", r, funnel, 200),
        new Probe("POST", "/v1/funnels", "/v1/funnels", r, "{\"steps\": []}", 400),
        new Probe("GET", "/v1/patterns", "/v1/patterns", r, null, 200),
        new Probe("GET", "/v1/patterns", "/v1/patterns", "Bearer not-a-key-at-all", null, 401),
        new Probe("POST", "/v1/patterns", "/v1/patterns", r, pattern, 201),
        new Probe("POST", "/v1/patterns", "/v1/patterns", r, "{\"name\": 3}", 400),
        new Probe("GET", "/v1/patterns/detect", "/v1/patterns/detect" + p, r, null, 200),
        new Probe("GET", "/v1/patterns/detect", "/v1/patterns/detect?from=x", r, null, 400),
        new Probe("GET", "/v1/patterns/{id}/users", "/v1/patterns/churn-risk/users" + p, r, null, 200),
        new Probe("GET", "/v1/patterns/{id}/users", "/v1/patterns/no-such-pattern/users" + p, r, null, 404),
        new Probe("DELETE", "/v1/patterns/{id}", "/v1/patterns/contract-pattern", r, null, 200),
        new Probe("DELETE", "/v1/patterns/{id}", "/v1/patterns/no-such-pattern", r, null, 404),
        new Probe("GET", "/v1/anomalies", "/v1/anomalies", r, null, 200),
        new Probe("GET", "/v1/anomalies", "/v1/anomalies?country=FR", r, null, 400),
        new Probe("GET", "/v1/insights/settings", "/v1/insights/settings", r, null, 200),
        new Probe("GET", "/v1/insights/settings", "/v1/insights/settings", w, null, 403),
        new Probe("PUT", "/v1/insights/settings", "/v1/insights/settings", a, "{}", 200),
        new Probe("PUT", "/v1/insights/settings", "/v1/insights/settings", r, "{}", 403),
        new Probe("GET", "/v1/insights", "/v1/insights" + p, r, null, 200),
        new Probe("GET", "/v1/insights", "/v1/insights?wait=maybe", r, null, 400),
        new Probe("GET", "/v1/users/{id}/export", "/v1/users/u-contract/export", a, null, 200),
        new Probe("GET", "/v1/users/{id}/export", "/v1/users/u-contract/export", r, null, 403),
        new Probe("DELETE", "/v1/users/{id}", "/v1/users/u-gone?suppress=maybe", a, null, 400),
        new Probe("DELETE", "/v1/users/{id}", "/v1/users/u-gone", a, null, 200),
        new Probe("GET", "/v1/event-types", "/v1/event-types", r, null, 200),
        new Probe("GET", "/v1/event-types", "/v1/event-types", null, null, 401),
        new Probe("GET", "/v1/live", "/v1/live", null, null, 401),
        new Probe("GET", "/v1/live/ws", "/v1/live/ws", "X-Forwarded-For " + GUESSER, null, 429),
        new Probe("GET", "/v1/segments", "/v1/segments", r, null, 200),
        new Probe("GET", "/v1/segments", "/v1/segments", w, null, 403),
        new Probe("PUT", "/v1/segments/{name}", "/v1/segments/contract", r,
            "{\"filters\": {\"provider\": \"openai\"}}", 200),
        new Probe("PUT", "/v1/segments/{name}", "/v1/segments/contract", r, "{\"filters\": {\"shoe\": \"x\"}}", 400),
        new Probe("DELETE", "/v1/segments/{name}", "/v1/segments/contract", r, null, 200),
        new Probe("DELETE", "/v1/segments/{name}", "/v1/segments/contract", null, null, 401),
        new Probe("GET", "/v1/saved-funnels", "/v1/saved-funnels", r, null, 200),
        new Probe("GET", "/v1/saved-funnels", "/v1/saved-funnels", null, null, 401),
        new Probe("PUT", "/v1/saved-funnels/{name}", "/v1/saved-funnels/contract", r, saved, 200),
        new Probe("PUT", "/v1/saved-funnels/{name}", "/v1/saved-funnels/contract", r, "{\"steps\": 1}", 400),
        new Probe("DELETE", "/v1/saved-funnels/{name}", "/v1/saved-funnels/contract", r, null, 200),
        new Probe("DELETE", "/v1/saved-funnels/{name}", "/v1/saved-funnels/contract", w, null, 403),
        new Probe("GET", "/v1/export/{view}", "/v1/export/usage?format=json&from=" + from + "&to=" + to, r, null,
            200),
        new Probe("GET", "/v1/export/{view}", "/v1/export/shoes", r, null, 404),
        new Probe("GET", "/health/live", "/health/live", null, null, 200),
        new Probe("GET", "/health/ready", "/health/ready", null, null, 200),
        new Probe("GET", "/metrics", "/metrics", null, null, 200),
        new Probe("GET", "/sdk/tally.js", "/sdk/tally.js", null, null, 200),
        new Probe("GET", "/openapi.json", "/openapi.json", null, null, 200),
        new Probe("GET", "/v1/about", "/v1/about", r, null, 200),
        new Probe("GET", "/v1/about", "/v1/about", w, null, 403),
        new Probe("POST", "/v1/batch", "/v1/batch", basic, segmentBatch, 200),
        new Probe("POST", "/v1/batch", "/v1/batch", null, segmentBatch, 401),
        new Probe("POST", "/v1/track/", "/v1/track/", basic, segmentTrack, 200),
        new Probe("POST", "/v1/track/", "/v1/track/", basic, "{\"type\":", 400),
        new Probe("POST", "/batch/", "/batch/", null, posthogBatch, 200),
        new Probe("POST", "/batch/", "/batch/", null, "{\"api_key\": \"" + t.writeKey + "\", \"batch\": 3}", 400),
        new Probe("POST", "/e", "/e", null, posthogEvent, 200),
        new Probe("POST", "/e", "/e", null, "{\"api_key\": \"nope\", \"event\": \"x\", \"distinct_id\": \"d\"}",
            401),
        new Probe("OPTIONS", "/e/", "/e/", null, null, 204));

    // a client that guessed keys is blocked: the answer of routes that read their key late (the live socket)
    for (int i = 0; i < 25; i++) {
      t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/realtime")).header("Authorization", "Bearer guess-" + i)
          .header("X-Forwarded-For", GUESSER).GET().build());
    }
    List<String> failures = new ArrayList<>();
    Set<String> withSuccess = new TreeSet<>();
    Set<String> withError = new TreeSet<>();
    for (Probe probe : probes) {
      Http.Response res = probe.send();
      String op = probe.method + " " + probe.template;
      if (res.status() != probe.status) {
        failures.add(op + " (" + probe.uri + "): expected " + probe.status + ", got " + res.status() + " "
            + res.body());
        continue;
      }
      (res.status() < 400 ? withSuccess : withError).add(op);
      failures.addAll(validate(probe, res));
    }
    // THEN every answer is described by the document, and every operation was seen succeed and fail
    assertTrue(failures.isEmpty(), String.join("\n", failures));
    Set<String> ops = new TreeSet<>();
    probes.forEach(pr -> ops.add(pr.method + " " + pr.template));
    for (String op : ops) {
      boolean streamOrPublic = Set.of("GET /v1/stream", "GET /v1/live", "GET /v1/live/ws", "GET /health/live",
          "GET /health/ready", "GET /metrics", "GET /sdk/tally.js", "GET /openapi.json", "OPTIONS /v1/events",
          "OPTIONS /e/").contains(op);
      if (!streamOrPublic) {
        assertTrue(withSuccess.contains(op), op + " has no success probe");
      }
      if (!op.startsWith("GET /health") && !op.equals("GET /metrics") && !op.equals("GET /sdk/tally.js")
          && !op.equals("GET /openapi.json") && !op.startsWith("OPTIONS ")) {
        assertTrue(withError.contains(op), op + " has no error probe");
      }
    }
  }

  /** What the document says of this answer: its status is listed, its content type too, and JSON validates. */
  private static List<String> validate(Probe probe, Http.Response res) {
    String op = probe.method + " " + probe.template;
    JsonObject operation = doc.getJsonObject("paths").getJsonObject(probe.template, new JsonObject())
        .getJsonObject(probe.method.toLowerCase());
    if (operation == null) {
      return List.of(op + ": not in the document");
    }
    JsonObject responses = operation.getJsonObject("responses");
    String status = String.valueOf(res.status());
    if (!responses.containsKey(status)) {
      return List.of(op + ": status " + status + " is not documented");
    }
    JsonObject response = responses.getJsonObject(status);
    String at = "#/paths/" + escape(probe.template) + "/" + probe.method.toLowerCase() + "/responses/" + status;
    if (response.containsKey("$ref")) {
      at = response.getString("$ref"); // #/components/responses/...
      response = doc.getJsonObject("components").getJsonObject("responses")
          .getJsonObject(at.substring(at.lastIndexOf('/') + 1));
    }
    JsonObject content = response.getJsonObject("content");
    String type = res.headers().firstValue("Content-Type").orElse("").split(";")[0].trim();
    if (content == null) {
      return res.body().isEmpty() ? List.of() : List.of(op + " " + status + ": documented without a body, got " + type);
    }
    if (!content.containsKey(type)) {
      return List.of(op + " " + status + ": content type " + type + " is not documented (" + content.fieldNames()
          + ")");
    }
    if (!type.equals("application/json")) {
      return List.of();
    }
    Schema schema = registry.getSchema(SchemaLocation.of(BASE + at + "/content/application~1json/schema"));
    List<Error> errors = schema.validate(res.body(), InputFormat.JSON);
    List<String> out = new ArrayList<>();
    for (Error e : errors) {
      out.add(op + " " + status + ": " + e + "  body: " + clip(res.body()));
    }
    return out;
  }

  private static String escape(String path) {
    return path.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D");
  }

  private static String clip(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  /**
   * One request: the operation it exercises (the document's path template), and the status it must get. {@code auth}
   * is the Authorization header, or "X-Forwarded-For address" to send as that client instead.
   */
  record Probe(String method, String template, String uri, String auth, String body, int status) {
    Http.Response send() {
      HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri(uri));
      if (auth != null && auth.startsWith("X-Forwarded-For ")) {
        b.header("X-Forwarded-For", auth.substring(16));
      } else if (auth != null) {
        b.header("Authorization", auth);
      }
      if (method.equals("OPTIONS")) {
        b.header("Origin", "https://app.example").header("Access-Control-Request-Method", "POST");
      }
      b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      return t.http.send(b.build());
    }
  }
}
