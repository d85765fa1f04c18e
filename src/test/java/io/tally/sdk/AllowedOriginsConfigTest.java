package io.tally.sdk;

import io.tally.config.ConfigException;
import io.tally.config.ConfigLoader;
import io.tally.config.TallyConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verifies the project setting {@code allowedOrigins}: optional, inherited from ingest.allowedOrigins, validated. */
class AllowedOriginsConfigTest {

  private static JsonObject withOrigins(Object origins) {
    JsonObject json = ConfigLoader.defaults().copy();
    json.getJsonArray("projects").getJsonObject(0).put("allowedOrigins", origins);
    return json;
  }

  @Test
  void verifiesThatAProjectWithoutItsOwnOriginsTakesIngestAllowedOrigins() {
    // GIVEN the shipped configuration (no project origins) THEN the project inherits ingest.allowedOrigins ["*"]
    TallyConfig c = ConfigLoader.bind(ConfigLoader.defaults());
    assertNull(c.projects().get(0).allowedOrigins());
    assertEquals(List.of("*"), c.ingest().allowedOrigins());
  }

  @Test
  void verifiesThatAProjectsOwnOriginsAreKept() {
    TallyConfig c = ConfigLoader.bind(withOrigins(new JsonArray().add("https://app.example")
        .add("http://localhost:3000")));
    assertEquals(List.of("https://app.example", "http://localhost:3000"), c.projects().get(0).allowedOrigins());
  }

  @Test
  void verifiesThatAnOriginWithAPathOrNotAListIsRefusedNamingTheKey() {
    // GIVEN entries a browser never sends as an Origin THEN the start is refused, naming the key
    for (Object bad : List.of(new JsonArray().add("https://app.example/path"), new JsonArray().add("app.example"),
        new JsonArray().add(3), "https://app.example")) {
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(withOrigins(bad)));
      assertTrue(e.getMessage().contains("projects[0].allowedOrigins"), e.getMessage());
    }
  }
}
