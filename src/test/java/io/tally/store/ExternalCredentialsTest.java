package io.tally.store;

import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Servers of one's own (TALLY_PG_URL, TALLY_REDIS_URL) come with their user and password in the URL. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ExternalCredentialsTest {

  @Test
  void verifiesThatTheUserAndPasswordOfEachUrlAreTheOnesUsed() throws Exception {
    Assumptions.assumeTrue(TestServers.get().embedded());
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    // GIVEN a PostgreSQL role and a Redis user of their own, each with a password URLs must encode
    String role = "ext_" + suffix;
    String pgPassword = "p@ss:w/rd+" + suffix;
    Db.update("CREATE ROLE " + role + " LOGIN SUPERUSER PASSWORD '" + pgPassword + "'");
    String redisUser = "ext-" + suffix;
    String redisPassword = "r3d1s-" + suffix;
    try (Jedis jedis = TestServers.get().jedis()) {
      jedis.aclSetUser(redisUser, "on", ">" + redisPassword, "~*", "&*", "+@all");
    }
    PgUrl pg = TestServers.get().pgUrl();
    URI redis = URI.create(TestServers.get().redisUrl());
    String pgUrl = "postgresql://" + role + ":p%40ss%3Aw%2Frd+" + suffix + "@" + pg.host() + ":" + pg.port() + "/"
        + pg.database();
    String redisUrl = "redis://" + redisUser + ":" + redisPassword + "@" + redis.getHost() + ":" + redis.getPort();
    // WHEN Tally is started on them as external servers
    try (TestTally t = TestTally.start(c -> c.withStorage(new TallyConfig.Storage(c.storage().dataDir(), pgUrl,
        redisUrl, 2, 0, 0)))) {
      // THEN events are stored through the role, and counted in Redis through the user
      assertEquals(200, t.http.post(Events.batchOf(7, "message_sent").encode()).status());
      assertEquals(7, Db.eventsOf(t.project));
      Eventually.until("the real-time count", () -> t.http.get("/v1/realtime").json().getLong("total") == 7);
      assertTrue(Db.count("SELECT count(*) FROM pg_stat_activity WHERE usename = ?", role) > 0,
          "Tally's connections use the URL's role");
      try (Jedis jedis = TestServers.get().jedis()) {
        assertTrue(jedis.clientList().contains("user=" + redisUser), "Tally's Redis connections use the URL's user");
      }
    }
  }
}
