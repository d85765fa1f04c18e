package io.tally.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

  private static TallyConfig withEnv(Map<String, String> env) {
    JsonObject json = ConfigLoader.defaults();
    ConfigLoader.applyEnv(json, env);
    return ConfigLoader.bind(json);
  }

  @Test
  void verifiesThatTheShippedDefaultsAreTheDocumentedOnes() {
    TallyConfig c = ConfigLoader.bind(ConfigLoader.defaults());
    assertEquals(8080, c.http().port());
    assertTrue(c.storage().embeddedPg());
    assertTrue(c.storage().embeddedRedis());
    assertEquals(32768, c.ingest().maxEventBytes());
    assertEquals(1 << 20, c.ingest().maxBodyBytes());
    assertEquals(1000, c.ingest().maxBatchEvents());
    assertEquals("default", c.projects().get(0).id());
    assertEquals("dev-write-key", c.projects().get(0).writeKeys().get(0));
    assertEquals("dev-read-key", c.projects().get(0).readKeys().get(0));
  }

  @Test
  void verifiesThatEnvironmentVariablesOverrideKeys() {
    TallyConfig c = withEnv(Map.of("TALLY_HTTP_PORT", "9090", "TALLY_PG_URL", "postgresql://u:p@db:5433/tally",
        "TALLY_WRITER_BATCH_SIZE", "250", "TALLY_INGEST_ALLOWED_ORIGINS", "https://a.example,https://b.example"));
    assertEquals(9090, c.http().port());
    assertEquals("postgresql://u:p@db:5433/tally", c.storage().pgUrl());
    assertEquals(250, c.writer().batchSize());
    assertEquals(2, c.ingest().allowedOrigins().size());
  }

  @Test
  void verifiesThatEveryErrorNamesTheBadKey() {
    assertMessage(Map.of("TALLY_HTTP_PORT", "abc"), "http.port");
    assertMessage(Map.of("TALLY_HTTP_PORT", "70000"), "http.port");
    assertMessage(Map.of("TALLY_PG_URL", "mysql://x"), "storage.pgUrl");
    assertMessage(Map.of("TALLY_REDIS_URL", "http://x"), "storage.redisUrl");
    assertMessage(Map.of("TALLY_WRITER_RING_CAPACITY", "1000"), "writer.ringCapacity");
    assertMessage(Map.of("TALLY_NO_SUCH_THING", "1"), "TALLY_NO_SUCH_THING");
    JsonObject json = ConfigLoader.defaults();
    json.getJsonArray("projects").getJsonObject(0).put("timezone", "Mars/Olympus");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(json));
    assertTrue(e.getMessage().contains("projects[0].timezone"), e.getMessage());
    JsonObject dupKeys = ConfigLoader.defaults();
    dupKeys.getJsonArray("projects").getJsonObject(0).put("readKeys", new JsonArray().add("dev-write-key"));
    ConfigException e2 = assertThrows(ConfigException.class, () -> ConfigLoader.bind(dupKeys));
    assertTrue(e2.getMessage().contains("projects[0].readKeys"), e2.getMessage());
  }

  @Test
  void verifiesThatAFileLackingNewerKeysTakesTheirDefaultsAndTheirVariables() {
    // a file from before writer.derivedFlushMs and storage.pgPoolSize existed, with its own port and project
    JsonObject file = ConfigLoader.defaults();
    file.getJsonObject("writer").remove("derivedFlushMs");
    file.getJsonObject("storage").remove("pgPoolSize");
    file.getJsonObject("http").put("port", 9999);
    file.put("projects", new JsonArray().add(file.getJsonArray("projects").getJsonObject(0).copy().put("id", "mine")));
    JsonObject merged = ConfigLoader.overDefaults(file);
    TallyConfig c = ConfigLoader.bind(merged.copy());
    assertEquals(ConfigLoader.defaults().getJsonObject("writer").getLong("derivedFlushMs"),
        c.writer().derivedFlushMs());
    assertEquals(ConfigLoader.defaults().getJsonObject("storage").getInteger("pgPoolSize"), c.storage().pgPoolSize());
    assertEquals(9999, c.http().port());
    assertEquals(1, c.projects().size());
    assertEquals("mine", c.projects().get(0).id());
    // without the defaults beneath, the file alone is refused, naming the key
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(file.copy()));
    assertTrue(e.getMessage().contains("storage.pgPoolSize"), e.getMessage());
    ConfigLoader.applyEnv(merged, Map.of("TALLY_WRITER_DERIVED_FLUSH_MS", "750", "TALLY_STORAGE_PG_POOL_SIZE", "3"));
    TallyConfig fromEnv = ConfigLoader.bind(merged);
    assertEquals(750, fromEnv.writer().derivedFlushMs());
    assertEquals(3, fromEnv.storage().pgPoolSize());
  }

  @Test
  void verifiesThatAProjectIdIsAtMost64CharactersOfASafeAlphabetNamingTheKey() {
    // GIVEN project ids, which end up in every index key and in URLs
    for (String ok : new String[] {"a", "p.1_x-Y", "p".repeat(64)}) {
      JsonObject json = ConfigLoader.defaults();
      json.getJsonArray("projects").getJsonObject(0).put("id", ok);
      // WHEN bound THEN a safe one is kept as is
      assertEquals(ok, ConfigLoader.bind(json).projects().get(0).id());
    }
    for (Object bad : new Object[] {"", "p".repeat(65), "a b", "ü", "a/b", "a\u0000", 5}) {
      JsonObject json = ConfigLoader.defaults();
      json.getJsonArray("projects").getJsonObject(0).put("id", bad);
      // THEN anything else is refused, naming the key and the rule
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(json), String.valueOf(bad));
      assertTrue(e.getMessage().contains("projects[0].id") && e.getMessage().contains("64"), e.getMessage());
    }
  }

  @Test
  void verifiesThatThePerimeterAndRateLimitsAreReadValidatedAndNamedInErrors() {
    // GIVEN the shipped defaults
    TallyConfig c = ConfigLoader.bind(ConfigLoader.defaults());
    // THEN the timeouts, the cap (loopback exempt, for the load tests) and the key throttling are the documented ones
    assertEquals(new TallyConfig.Perimeter(10_000, 30_000, 30_000, 1_000, List.of("127.0.0.0/8", "::1/128"), 20,
        60_000), c.perimeter());
    assertEquals(new ProjectConfig.RateLimits(50_000, 50_000, 1_000, 2_000), c.projects().get(0).rateLimits());
    // WHEN a variable empties the exemptions and sets a timeout THEN they apply
    TallyConfig env = withEnv(Map.of("TALLY_HTTP_CONNECTION_CAP_EXEMPT", "", "TALLY_HTTP_HEADER_TIMEOUT_MS", "2500"));
    assertEquals(List.of(), env.perimeter().connectionCapExempt());
    assertEquals(2500, env.perimeter().headerTimeoutMs());
    // AND a project without rateLimits, or with some of them, takes the defaults for the rest
    JsonObject partial = ConfigLoader.defaults();
    partial.getJsonArray("projects").getJsonObject(0).put("rateLimits", new JsonObject().put("readBurst", 7));
    assertEquals(new ProjectConfig.RateLimits(50_000, 50_000, 1_000, 7),
        ConfigLoader.bind(partial).projects().get(0).rateLimits());
    // THEN every bad value is refused naming its key
    assertMessage(Map.of("TALLY_HTTP_HEADER_TIMEOUT_MS", "0"), "http.headerTimeoutMs");
    assertMessage(Map.of("TALLY_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "0"), "http.maxConnectionsPerAddress");
    assertMessage(Map.of("TALLY_HTTP_CONNECTION_CAP_EXEMPT", "example.com"), "http.connectionCapExempt");
    assertMessage(Map.of("TALLY_HTTP_KEY_FAILURE_BLOCK_MS", "-1"), "http.keyFailureBlockMs");
    assertRateLimitRefused(new JsonObject().put("writeBurst", 999), "projects[0].rateLimits.writeBurst");
    assertRateLimitRefused(new JsonObject().put("writeEventsPerSecond", 0),
        "projects[0].rateLimits.writeEventsPerSecond");
    assertRateLimitRefused(new JsonObject().put("readRequestsPerSecond", 1.5),
        "projects[0].rateLimits.readRequestsPerSecond");
    assertRateLimitRefused(new JsonObject().put("readsPerSecond", 5), "projects[0].rateLimits.readsPerSecond");
    JsonObject notObject = ConfigLoader.defaults();
    notObject.getJsonArray("projects").getJsonObject(0).put("rateLimits", 5);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(notObject));
    assertTrue(e.getMessage().contains("projects[0].rateLimits"), e.getMessage());
  }

  private static void assertRateLimitRefused(JsonObject limits, String key) {
    JsonObject json = ConfigLoader.defaults();
    json.getJsonArray("projects").getJsonObject(0).put("rateLimits", limits);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(json));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  /** Verifies that the former JVM properties and start-up constants are configuration keys, settable by env. */
  @Test
  void verifiesThatTheQueryRedisAndDrainKnobsAreKeysWithDefaultsAndVariables() {
    // GIVEN the shipped defaults THEN the knobs hold the values they had as constants
    TallyConfig d = ConfigLoader.bind(ConfigLoader.defaults());
    assertEquals(TallyConfig.Query.DEFAULTS, d.query());
    assertEquals(16 << 20, d.query().maxAnswerBytes());
    assertEquals(25_000, d.query().statementTimeoutMs());
    assertEquals(8, d.redis().poolSize());
    assertEquals(65_536, d.redis().maxWaitingHandlers());
    assertEquals(7_000, d.writer().shutdownDrainMs());
    // WHEN variables set them THEN they take
    TallyConfig c = withEnv(Map.of("TALLY_QUERY_MAX_ANSWER_BYTES", "1000", "TALLY_QUERY_TIMELINE_LOAD_DELAY_MS", "300",
        "TALLY_REDIS_POOL_SIZE", "3", "TALLY_WRITER_SHUTDOWN_DRAIN_MS", "1234"));
    assertEquals(1000, c.query().maxAnswerBytes());
    assertEquals(300, c.query().timelineLoadDelayMs());
    assertEquals(3, c.redis().poolSize());
    assertEquals(1234, c.writer().shutdownDrainMs());
    // AND a bad value names its key
    assertMessage(Map.of("TALLY_QUERY_MAX_ANSWER_BYTES", "1"), "query.maxAnswerBytes");
    assertMessage(Map.of("TALLY_REDIS_POOL_SIZE", "0"), "redis.poolSize");
  }

  private static void assertMessage(Map<String, String> env, String key) {
    ConfigException e = assertThrows(ConfigException.class, () -> withEnv(env));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  @Test
  void verifiesThatTheWebhookAllowanceIsEmptyByDefaultAndSetFromTheEnvironment() {
    // GIVEN the shipped defaults: webhooks reach public addresses only, and no project takes an event's address
    TallyConfig d = ConfigLoader.bind(ConfigLoader.defaults());
    assertTrue(d.alerts().allowedWebhookNetworks().isEmpty());
    assertFalse(d.projects().get(0).trustEventIp());
    // WHEN the operator allows networks from the environment
    TallyConfig c = withEnv(Map.of("TALLY_ALERTS_ALLOWED_WEBHOOK_NETWORKS", "10.1.0.0/16, fd00::/8,127.0.0.1"));
    // THEN they are read as written
    assertEquals(java.util.List.of("10.1.0.0/16", "fd00::/8", "127.0.0.1"), c.alerts().allowedWebhookNetworks());
    // AND a file without the alerts section (an earlier release's) takes the default
    JsonObject old = ConfigLoader.defaults();
    old.remove("alerts");
    assertTrue(ConfigLoader.bind(old).alerts().allowedWebhookNetworks().isEmpty());
    // AND an entry that is no address or block is refused, naming the key (a name is never looked up)
    for (String bad : java.util.List.of("localhost", "10.0.0.0/33", "fd00::/129", "256.0.0.0/8", "10.0.0.0/8/8",
        "2130706433", "0x7f000001")) {
      assertMessage(Map.of("TALLY_ALERTS_ALLOWED_WEBHOOK_NETWORKS", bad), "alerts.allowedWebhookNetworks");
    }
  }

  @Test
  void verifiesThatAProjectTakesEventAddressesOnlyWhenItSaysSo() {
    JsonObject json = ConfigLoader.defaults();
    json.getJsonArray("projects").getJsonObject(0).put("trustEventIp", true);
    assertTrue(ConfigLoader.bind(json).projects().get(0).trustEventIp());
    json.getJsonArray("projects").getJsonObject(0).remove("trustEventIp");
    assertFalse(ConfigLoader.bind(json).projects().get(0).trustEventIp());
    json.getJsonArray("projects").getJsonObject(0).put("trustEventIp", "yes");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.bind(json));
    assertTrue(e.getMessage().contains("projects[0].trustEventIp"), e.getMessage());
  }

  @Test
  void verifiesThatAStorageUrlsPasswordIsNeverInAnError() {
    for (String var : java.util.List.of("TALLY_PG_URL", "TALLY_REDIS_URL")) {
      ConfigException e = assertThrows(ConfigException.class, () -> withEnv(Map.of(var, "mysql://u:s3cret@db/x")));
      assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
      ConfigException bare = assertThrows(ConfigException.class, () -> withEnv(Map.of(var, "u:s3cret@db")));
      assertFalse(bare.getMessage().contains("s3cret"), bare.getMessage());
    }
  }
}
