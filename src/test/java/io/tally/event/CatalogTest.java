package io.tally.event;

import io.tally.config.ProjectConfig;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CatalogTest {

  private static JsonObject ev(String type, JsonObject props) {
    return Events.event(type, "u-cat").put("type", type).put("properties", props);
  }

  @Test
  void verifiesEachSchemaRuleOfTheShippedCatalogue() {
    try (TestTally t = TestTally.start()) {
      JsonObject okReceived = ev("message_received", new JsonObject().put("provider", "openai").put("model", "gpt-4o")
          .put("tokens", 10).put("cost", 0.01).put("responseTimeMs", 850));
      JsonObject noModel = ev("message_received", new JsonObject().put("provider", "openai"));
      JsonObject tokensAsText = ev("message_sent", new JsonObject().put("tokens", "ten"));
      JsonObject paymentNoCurrency = ev("payment", new JsonObject().put("amount", 20));
      JsonObject ratingAsText = ev("feedback_given", new JsonObject().put("rating", "5"));
      JsonObject custom = ev("my_custom_thing", new JsonObject().put("anything", List.of(1, 2)));
      JsonObject pageLoad = ev("page_load", new JsonObject().put("durationMs", 812.5));
      Http.Response r = t.http.post(Events.batch(okReceived, noModel, tokensAsText, paymentNoCurrency, ratingAsText,
          custom, pageLoad).encode());
      assertEquals(200, r.status(), r.body());
      assertEquals(3, r.json().getInteger("accepted"));
      JsonArray rej = r.json().getJsonArray("rejected");
      assertEquals("properties.model", rej.getJsonObject(0).getString("field"));
      assertEquals(1, rej.getJsonObject(0).getInteger("index"));
      assertEquals("properties.tokens", rej.getJsonObject(1).getString("field"));
      assertTrue(rej.getJsonObject(1).getString("error").contains("number"), rej.encode());
      assertEquals("properties.currency", rej.getJsonObject(2).getString("field"));
      assertEquals("properties.rating", rej.getJsonObject(3).getString("field"));
      // the category comes from the catalogue when the client sends none
      JsonObject bare = new JsonObject().put("type", "payment").put("timestamp", "2026-11-24T10:00:00Z")
          .put("userId", "u-cat").put("properties", new JsonObject().put("amount", 9.99).put("currency", "EUR"));
      assertEquals(200, t.http.post(bare.encode()).status());
    }
  }

  @Test
  void verifiesThatAStrictProjectRefusesUnknownTypes() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    try (TestTally t = TestTally.start(c -> c.withProjects(List.of(new ProjectConfig("strict-" + s,
        List.of("w-strict-" + s), List.of("r-strict-" + s), ZoneOffset.UTC, true, ProjectConfig.IpMode.ANONYMIZE))))) {
      Http http = new Http(t.tally.port(), "w-strict-" + s, "r-strict-" + s);
      Http.Response r = http.post(ev("my_custom_thing", new JsonObject()).encode());
      assertEquals(400, r.status());
      assertEquals("type", r.json().getString("field"));
      assertEquals(200, http.post(ev("signup", new JsonObject()).encode()).status());
      assertTrue(http.get("/v1/event-types").json().getBoolean("strict"));
    }
  }

  @Test
  void verifiesThatTheCatalogueIsListed() {
    try (TestTally t = TestTally.start()) {
      JsonObject cat = t.http.get("/v1/event-types").json();
      JsonArray types = cat.getJsonArray("types");
      List<String> names = types.stream().map(o -> ((JsonObject) o).getString("name")).toList();
      for (String n : List.of("page_view", "session_start", "session_end", "conversation_created",
          "conversation_completed", "message_sent", "message_received", "error", "feature_used", "share_created",
          "export_generated", "customization_made", "feedback_given", "support_ticket_created", "signup",
          "subscription", "upgrade", "referral", "payment", "page_load", "identify", "alias")) {
        assertTrue(names.contains(n), n);
      }
      JsonObject received = types.stream().map(o -> (JsonObject) o)
          .filter(o -> o.getString("name").equals("message_received")).findFirst().orElseThrow();
      assertEquals("conversation", received.getString("category"));
      assertEquals("number", received.getJsonObject("schema").getJsonObject("types").getString("responseTimeMs"));
      assertEquals(false, cat.getBoolean("strict"));
    }
  }
}
