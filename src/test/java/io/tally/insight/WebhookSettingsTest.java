package io.tally.insight;

import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The alert webhook over HTTP: only an admin key sets it, a read key sees it redacted, no spelling of a non-public
 * address is accepted, and a URL stored behind the route's back is refused again at delivery.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WebhookSettingsTest {
  private static final String PUBLIC_URL = "https://93.184.215.14/services/T000/B000/s3cret?token=t0ken";

  private static Http.Response call(TestTally t, String key, String method, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(t.http.uri(path)).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return t.http.send(b.build());
  }

  private static String webhook(String url) {
    return new JsonObject().put("webhookUrl", url).encode();
  }

  @Test
  void verifiesThatOnlyAnAdminKeyChangesTheSettingsAndOnlyItSeesTheWebhookWhole() {
    String admin = "a-key-" + UUID.randomUUID();
    try (TestTally t = TestTally.startWithAdmin(admin)) {
      // WHEN a read key, a write key, or no key sets a webhook
      Http.Response read = call(t, t.readKey, "PUT", "/v1/insights/settings", webhook(PUBLIC_URL));
      Http.Response write = call(t, t.writeKey, "PUT", "/v1/insights/settings", webhook(PUBLIC_URL));
      Http.Response none = call(t, null, "PUT", "/v1/insights/settings", webhook(PUBLIC_URL));
      // THEN each is refused (403, 403, 401), with a JSON error, and nothing was stored
      assertEquals(403, read.status(), read.body());
      assertEquals(403, write.status(), write.body());
      assertEquals(401, none.status(), none.body());
      assertTrue(read.json().containsKey("error") && read.json().containsKey("message"), read.body());
      assertEquals(0, Db.count("SELECT count(*) FROM project_settings WHERE project_id = ?", t.project));
      // WHEN the admin key sets it
      Http.Response set = call(t, admin, "PUT", "/v1/insights/settings", webhook(PUBLIC_URL));
      assertEquals(200, set.status(), set.body());
      // THEN a read key sees where it goes, not its path and query (the receiver's secret)
      Http.Response readView = call(t, t.readKey, "GET", "/v1/insights/settings", null);
      assertEquals(200, readView.status(), readView.body());
      assertEquals("https://93.184.215.14/…", readView.json().getString("webhookUrl"));
      assertFalse(readView.body().contains("s3cret"), readView.body());
      // AND neither do the insights a read key asks for, which list the settings
      Http.Response insights = t.http.get("/v1/insights?wait=true");
      assertEquals(200, insights.status(), insights.body());
      assertEquals("https://93.184.215.14/…", insights.json().getJsonObject("settings").getString("webhookUrl"));
      assertFalse(insights.body().contains("s3cret"), insights.body());
      // AND the admin key sees it whole; a write key sees nothing
      Http.Response adminView = call(t, admin, "GET", "/v1/insights/settings", null);
      assertEquals(PUBLIC_URL, adminView.json().getString("webhookUrl"));
      assertEquals(403, call(t, t.writeKey, "GET", "/v1/insights/settings", null).status());
      // AND the admin key removes it
      assertEquals(200, call(t, admin, "PUT", "/v1/insights/settings", "{}").status());
      assertNull(call(t, admin, "GET", "/v1/insights/settings", null).json().getString("webhookUrl"));
    }
  }

  @Test
  void verifiesThatEverySpellingOfANonPublicAddressIsRefusedWhenSet() {
    String admin = "a-key-" + UUID.randomUUID();
    List<String> hosts = new ArrayList<>(WebhookUrlTest.LOOPBACK_HOSTS);
    hosts.addAll(List.of("localhost", "LOCALHOST.", "LocalHost", "169.254.169.254", "0xa9fea9fe", "10.0.0.1",
        "172.16.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.1", "[::]", "[fe80::1]",
        "[fc00::1]", "[fd00::1]", "[ff02::1]", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "[::ffff:10.0.0.1]",
        "[2002:7f00:1::1]", "[2002:a9fe:a9fe::1]", "[64:ff9b::7f00:1]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]"));
    try (TestTally t = TestTally.startWithAdmin(admin)) {
      for (String host : hosts) {
        // WHEN the admin key sets a webhook on each
        Http.Response r = call(t, admin, "PUT", "/v1/insights/settings", webhook("http://" + host + ":8080/hook"));
        // THEN it is refused, naming the field, with a message that says why and nothing internal
        assertEquals(400, r.status(), host + " -> " + r.body());
        JsonObject e = r.json();
        assertEquals("webhookUrl", e.getString("field"), r.body());
        assertTrue(e.containsKey("error") && e.containsKey("message"), r.body());
        assertTrue(e.getString("message").startsWith("webhookUrl"), r.body());
        assertFalse(e.getString("message").contains("Exception"), r.body());
      }
      // AND nothing was stored
      assertEquals(0, Db.count("SELECT count(*) FROM project_settings WHERE project_id = ?", t.project));
      // AND a public address is accepted
      assertEquals(200, call(t, admin, "PUT", "/v1/insights/settings", webhook("http://8.8.8.8:8080/x")).status());
    }
  }

  /** A project whose settings send its high alerts to {@code url}: stored directly, as the PUT check never would. */
  private static void storeBehindTheRoute(String project, String url) {
    Db.update("INSERT INTO project_settings (project_id, insights) VALUES (?, ?::jsonb) ON CONFLICT (project_id) DO "
        + "UPDATE SET insights = excluded.insights", project, new JsonObject().put("webhookUrl", url)
        .put("errorRateAbove", 0.0).encode());
  }

  /** Sends messages and an error (an error rate above 0: a high performance_alert), then asks for the insights. */
  private static void raiseAnAlert(Http http) {
    JsonObject error = Events.event("error", "u1").put("properties", new JsonObject().put("code", "E1"));
    JsonObject answer = http.post(Events.batch(Events.event("message_sent", "u1"), Events.event("message_sent", "u2"),
        error).encode()).json();
    assertEquals(3, answer.getInteger("accepted"), answer.encode());
    String[] last = new String[1];
    try {
      Eventually.until("the performance alert", () -> {
        last[0] = http.get("/v1/insights?wait=true").body();
        return new JsonObject(last[0]).getJsonArray("insights").stream().anyMatch(i -> ((JsonObject) i)
            .getString("type").equals("performance_alert"));
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + ": " + last[0], e);
    }
  }

  private static double alerts(TestTally t, String result) {
    return t.http.get("/metrics").body().lines().filter(l -> l.startsWith("analytics_alerts_total{")
        && l.contains("result=\"" + result + "\"")).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ')
        + 1))).sum();
  }

  @Test
  void verifiesThatAWebhookStoredBehindTheRoutesBackIsRefusedAtDeliveryUnlessTheOperatorAllowsIt() throws Exception {
    // GIVEN sockets listening on both loopback addresses
    try (WebhookDeliveryTest.Listener v4 = new WebhookDeliveryTest.Listener("127.0.0.1", 0);
         WebhookDeliveryTest.Listener v6 = new WebhookDeliveryTest.Listener("::1", v4.port())) {
      int port = v4.port();
      List<String> hosts = new ArrayList<>(WebhookUrlTest.LOOPBACK_HOSTS);
      hosts.addAll(List.of("localhost", "LOCALHOST."));
      // AND a Tally with one project per spelling, each with a webhook stored directly in the database
      String s = UUID.randomUUID().toString().substring(0, 8);
      List<ProjectConfig> projects = new ArrayList<>();
      for (int i = 0; i < hosts.size(); i++) {
        projects.add(new ProjectConfig("hook-" + i + "-" + s, List.of("w-hook-" + i + "-" + s),
            List.of("r-hook-" + i + "-" + s), ZoneOffset.UTC));
        storeBehindTheRoute("hook-" + i + "-" + s, "http://" + hosts.get(i) + ":" + port + "/hook");
      }
      try (TestTally t = TestTally.start(c -> c.withProjects(projects))) {
        // WHEN each project raises a high alert
        for (int i = 0; i < hosts.size(); i++) {
          raiseAnAlert(new Http(t.tally.port(), "w-hook-" + i + "-" + s, "r-hook-" + i + "-" + s));
        }
        // THEN every delivery fails, refused, and no connection ever reached the listeners
        Eventually.until("every delivery refused", () -> alerts(t, "failed") >= hosts.size());
        assertEquals(0, alerts(t, "delivered"));
        assertEquals(0, v4.connections.get() + v6.connections.get(), "a refused webhook connected");
        for (int i = 0; i < hosts.size(); i++) {
          assertTrue(Db.count("SELECT count(*) FROM alerts_sent WHERE project_id = ? AND NOT delivered",
              "hook-" + i + "-" + s) > 0, hosts.get(i));
        }
      }
      // AND the same delivery to 127.0.0.1 arrives where the operator allows loopback
      String allowed = "hook-allowed-" + s;
      storeBehindTheRoute(allowed, "http://127.0.0.1:" + port + "/hook");
      try (TestTally t = TestTally.start(c -> c.withProjects(List.of(new ProjectConfig(allowed,
              List.of("w-" + allowed), List.of("r-" + allowed), ZoneOffset.UTC)))
          .withAlerts(new TallyConfig.Alerts(List.of("127.0.0.0/8", "::1/128"))))) {
        raiseAnAlert(new Http(t.tally.port(), "w-" + allowed, "r-" + allowed));
        Eventually.until("the delivery", () -> alerts(t, "delivered") >= 1);
        assertTrue(v4.connections.get() >= 1);
        assertTrue(v4.requests.get(0).startsWith("POST /hook "), v4.requests.get(0));
      }
    }
  }
}
