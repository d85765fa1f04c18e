package io.tally.support;

import io.tally.store.EmbeddedPostgresServer;
import io.tally.store.EmbeddedRedisServer;
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
    try {
      if (extPg == null || extPg.isBlank()) {
        Path dir = Files.createTempDirectory(Path.of("target"), "test-pg-");
        pg = EmbeddedPostgresServer.start(dir, 0);
        pgUrl = pg.url();
      } else {
        pg = null;
        pgUrl = PgUrl.parse(extPg);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (extRedis == null || extRedis.isBlank()) {
      redis = EmbeddedRedisServer.start(0);
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

  public PgUrl pgUrl() {
    return pgUrl;
  }

  public String redisUrl() {
    return redisUrl;
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
