package io.tally.embedded;

import io.tally.Tally;
import io.tally.config.ConfigLoader;
import io.tally.config.TallyConfig;
import io.tally.support.Events;
import io.tally.support.Http;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default a newcomer gets: nothing configured, real embedded PostgreSQL and Redis (each asking for a password kept
 * in the data directory), data kept across restarts.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EmbeddedDefaultTest {

  private static Tally start(Path dataDir) throws Exception {
    TallyConfig base = ConfigLoader.bind(ConfigLoader.defaults());
    return Tally.start(base.withHttp(new TallyConfig.Http("127.0.0.1", 0, 1))
        .withStorage(new TallyConfig.Storage(dataDir, "", "", 4, 0, 0)));
  }

  private static void stop(Tally t) throws Exception {
    t.shutdown().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The application names of Tally's PostgreSQL connections: ingest, derived tables and queries apart. */
  private static void assertConnectionNames(Tally t) throws Exception {
    java.util.Map<String, Integer> n = new java.util.HashMap<>();
    long deadline = System.currentTimeMillis() + 10_000;
    do {
      n.clear();
      try (java.sql.Connection c = java.sql.DriverManager.getConnection(t.pgUrl().jdbcUrl(), t.pgUrl().user(),
          t.pgUrl().password());
           java.sql.ResultSet r = c.createStatement().executeQuery(
               "SELECT application_name, count(*) FROM pg_stat_activity WHERE application_name LIKE 'tally-%' GROUP BY 1")) {
        while (r.next()) {
          n.put(r.getString(1), r.getInt(2));
        }
      }
      // the derived connection opens with the first flush
    } while (!(n.containsKey("tally-derived") && n.containsKey("tally-writer")) && System.currentTimeMillis() < deadline
        && sleep());
    assertEquals(1, n.get("tally-derived"), "one connection writes the derived tables: " + n);
    assertTrue(n.get("tally-writer") >= 1 && n.get("tally-writer") <= t.config().writer().maxInFlightBatches(),
        "ingest connections: " + n);
  }

  private static boolean sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return true;
  }

  @Test
  void verifiesThatTheEmbeddedPostgresIsDurable() {
    // an ack means committed: the embedded server must not run with the test-friendly fsync=off
    org.junit.jupiter.api.Assumptions.assumeTrue(io.tally.support.TestServers.get().embedded());
    assertEquals("on", io.tally.support.Db.query("SHOW fsync").get(0).get("fsync"));
    assertEquals("on", io.tally.support.Db.query("SHOW synchronous_commit").get(0).get("synchronous_commit"));
    assertEquals("on", io.tally.support.Db.query("SHOW full_page_writes").get(0).get("full_page_writes"));
  }

  @Test
  void verifiesThatTheEmbeddedDefaultKeepsEveryEventAcrossARestart() throws Exception {
    Path dataDir = Files.createTempDirectory(Path.of("target"), "embedded-default-");
    // traversable: as root, the embedded servers run as an account that must reach their data (README, Run)
    dataDir.toFile().setExecutable(true, false);
    JsonObject batch = Events.batchOf(25, "message_sent");
    // GIVEN Tally with the shipped defaults (dev keys, embedded servers) storing 25 events
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(new java.io.OutputStream() {
      @Override
      public synchronized void write(int b) {
        log.write(b);
        err.write(b);
      }
    }, true));
    Tally first;
    try {
      first = start(dataDir);
    } finally {
      System.setErr(err);
    }
    try {
      // AND each embedded server has its password in the data directory, readable by its owner only
      for (String file : new String[] {"pg.password", "redis.password"}) {
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dataDir.resolve(file))), file);
        String password = Files.readString(dataDir.resolve(file)).strip();
        assertTrue(password.length() >= 32, file);
        // AND the start-up lines name the servers without ever showing a password
        assertFalse(log.toString(java.nio.charset.StandardCharsets.UTF_8).contains(password), "logged " + file);
      }
      assertTrue(log.toString(java.nio.charset.StandardCharsets.UTF_8).contains("Redis at redis://127.0.0.1:"), "the "
          + "start-up line names Redis");
      Http http = new Http(first.port(), "dev-write-key", "dev-read-key");
      assertEquals(25, http.post(batch.encode()).json().getInteger("accepted"));
      assertTrue(Files.isRegularFile(dataDir.resolve("pg").resolve("PG_VERSION")), "data lives under dataDir/pg");
      // AND the derived tables are written on a connection of their own, apart from the ingest statements
      assertConnectionNames(first);
    } finally {
      stop(first);
    }
    // WHEN it is started again on the same data directory
    Tally second = start(dataDir);
    try {
      Http http = new Http(second.port(), "dev-write-key", "dev-read-key");
      // THEN the events are still there, and a retry of them is recognised as duplicates
      long count = http.get("/v1/events/count?from=" + java.time.Instant.now().minus(java.time.Duration.ofDays(300)) + "&to="
          + java.time.Instant.now().plus(java.time.Duration.ofDays(1))).json()
          .getLong("count");
      assertEquals(25, count);
      JsonObject retry = http.post(batch.encode()).json();
      assertEquals(0, retry.getInteger("accepted"));
      assertEquals(25, retry.getInteger("duplicates"));
    } finally {
      stop(second);
    }
  }
}
