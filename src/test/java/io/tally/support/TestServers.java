package io.tally.support;

import io.tally.embedded.EmbeddedPostgresServer;
import io.tally.embedded.EmbeddedRedisServer;
import io.tally.store.Migrations;
import io.tally.store.PgUrl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real PostgreSQL and Redis every test talks to, started once per JVM: the embedded ones by default, or
 * external ones from TALLY_TEST_PG_URL / TALLY_TEST_REDIS_URL (then tests that stop servers are skipped).
 */
public final class TestServers {
  private static TestServers instance;

  private final EmbeddedPostgresServer pg;
  private final EmbeddedRedisServer redis;
  private final PgUrl pgUrl;
  private final String redisUrl;

  private TestServers() {
    String extPg = System.getenv("TALLY_TEST_PG_URL");
    String extRedis = System.getenv("TALLY_TEST_REDIS_URL");
    Path dir;
    try {
      // like Tally's data directory: the cluster in pg/, the passwords in pg.password and redis.password
      dir = Files.createTempDirectory(Path.of("target"), "test-servers-");
    // traversable: as root, the embedded servers run as an account that must reach their data (README, Run)
    dir.toFile().setExecutable(true, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (extPg == null || extPg.isBlank()) {
      pg = EmbeddedPostgresServer.start(dir.resolve("pg"), 0);
      pgUrl = pg.url();
    } else {
      pg = null;
      pgUrl = PgUrl.parse(extPg);
    }
    if (extRedis == null || extRedis.isBlank()) {
      redis = EmbeddedRedisServer.start(dir, 0);
      redisUrl = redis.url();
    } else {
      redis = null;
      redisUrl = extRedis;
    }
    Migrations.migrate(pgUrl);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (redis != null) {
        redis.close();
      }
      if (pg != null) {
        pg.close();
      }
    }));
  }

  public static synchronized TestServers get() {
    if (instance == null) {
      instance = new TestServers();
    }
    return instance;
  }

  /** PostgreSQL's URL, with the credentials (the embedded server's password). */
  public PgUrl pgUrl() {
    return pgUrl;
  }

  /** Redis's URL, with the credentials ({@code redis://:password@127.0.0.1:port} for the embedded server). */
  public String redisUrl() {
    return redisUrl;
  }

  /** A Jedis connection, authenticated with the password of {@link #redisUrl()}. */
  public redis.clients.jedis.Jedis jedis() {
    return new redis.clients.jedis.Jedis(java.net.URI.create(redisUrl));
  }

  public boolean embedded() {
    return pg != null && redis != null;
  }

  public EmbeddedPostgresServer postgres() {
    return pg;
  }

  public EmbeddedRedisServer redis() {
    return redis;
  }
}
