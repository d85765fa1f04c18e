package io.tally.loadtest.query;

import io.tally.embedded.EmbeddedPostgresServer;
import io.tally.embedded.EmbeddedRedisServer;
import io.tally.store.Migrations;
import io.tally.store.PgUrl;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Tally a dataset lives in. Either an existing one ({@code --url}, keys, optional {@code --pg-url}), or one this
 * tool starts: an embedded PostgreSQL 17 whose data directory is <b>kept</b> ({@code <data-dir>/pg}, so a dataset
 * is loaded once and benchmarked many times, or grown; its password in {@code <data-dir>/pg.password}), a fresh
 * embedded Redis (real-time counters only; its password in {@code <data-dir>/redis.password}), and
 * Tally itself as a child JVM from {@code target/tally.jar}. {@link #close()} (also run by a shutdown hook) stops
 * Tally gracefully (it flushes its derived tables), then Redis and PostgreSQL; the data stays.
 */
final class DatasetServers implements AutoCloseable {
  final URI tally;
  final PgUrl pg; // null when an existing Tally was given without --pg-url
  final String writeKey;
  final String readKey;
  final Path log;
  private EmbeddedPostgresServer postgres;
  private EmbeddedRedisServer redis;
  private Process child;

  private DatasetServers(URI tally, PgUrl pg, String writeKey, String readKey, Path log) {
    this.tally = tally;
    this.pg = pg;
    this.writeKey = writeKey;
    this.readKey = readKey;
    this.log = log;
  }

  static DatasetServers open(Opts o) throws Exception {
    String wk = o.str("write-key", "dev-write-key");
    String rk = o.str("read-key", "dev-read-key");
    if (o.has("url")) {
      PgUrl pg = o.has("pg-url") ? PgUrl.parse(o.str("pg-url", "")) : null;
      DatasetServers s = new DatasetServers(URI.create(o.str("url", "")), pg, wk, rk, null);
      s.waitReady(null, 10_000);
      return s;
    }
    if ("root".equals(System.getProperty("user.name"))) {
      throw new IllegalStateException("the embedded PostgreSQL refuses root: run as a normal user "
          + "(runuser -u tally -- java ...) or give an existing Tally with --url (and --pg-url)");
    }
    Path dir = o.dataDir();
    Files.createDirectories(dir);
    Path pgDir = dir.resolve("pg");
    Files.deleteIfExists(pgDir.resolve("postmaster.pid")); // left by a killed run; the directory is ours alone
    if (Files.isDirectory(pgDir)) { // PostgreSQL refuses a data directory others can read (e.g. after a chmod -R)
      Files.setPosixFilePermissions(pgDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }
    System.out.println("dataset data directory: " + dir + " (PostgreSQL data in " + pgDir + ")");
    EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(pgDir, 0);
    EmbeddedRedisServer redis;
    try {
      redis = EmbeddedRedisServer.start(dir, 0);
    } catch (RuntimeException e) {
      postgres.close();
      throw e;
    }
    PgUrl pg = postgres.url();
    int port;
    try (ServerSocket ss = new ServerSocket(0)) {
      port = ss.getLocalPort();
    }
    Path log = dir.resolve("tally.log");
    DatasetServers s = new DatasetServers(URI.create("http://127.0.0.1:" + port), pg, wk, rk, log);
    s.postgres = postgres;
    s.redis = redis;
    Runtime.getRuntime().addShutdownHook(new Thread(s::close));
    Migrations.migrate(pg);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + o.str("heap", "1g"), "-Xms" + o.str("heap", "1g"), "-XX:+UseG1GC", "-jar",
        o.str("jar", "target/tally.jar")));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("TALLY_"));
    pb.environment().put("TALLY_PG_URL", pg.url());
    pb.environment().put("TALLY_REDIS_URL", redis.url());
    pb.environment().put("TALLY_HTTP_PORT", String.valueOf(port));
    o.map.forEach((k, v) -> {
      if (k.startsWith("TALLY_")) {
        pb.environment().put(k, v);
      }
    });
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    s.child = pb.start();
    // a start after a crash re-derives what the last flush missed first: ~15 min over 10M events here
    long readyS = o.num("ready-seconds", 1800);
    System.out.println("waiting for Tally to be ready (at most " + readyS + " s; progress in " + log + ")");
    s.waitReady(s.child, readyS * 1000);
    System.out.println("Tally at " + s.tally + " (log " + log + "), PostgreSQL " + pg);
    return s;
  }

  private void waitReady(Process p, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (p != null && !p.isAlive()) {
        throw new IllegalStateException("Tally exited during start; see " + log);
      }
      try {
        HttpURLConnection c = (HttpURLConnection) tally.resolve("/health/ready").toURL().openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(5000);
        if (c.getResponseCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("Tally at " + tally + " not ready within " + timeoutMs / 1000 + " s"
        + (log == null ? "" : "; see " + log));
  }

  java.sql.Connection jdbc() throws java.sql.SQLException {
    if (pg == null) {
      throw new IllegalStateException("no PostgreSQL: give --pg-url=postgresql://user:password@host:port/db");
    }
    return java.sql.DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
  }

  @Override
  public synchronized void close() {
    if (child != null && child.isAlive()) {
      child.destroy(); // SIGTERM: Tally flushes its derived tables and stops
      try {
        if (!child.waitFor(120, TimeUnit.SECONDS)) {
          System.err.println("Tally did not stop within 120 s; killing it");
          child.destroyForcibly();
        }
      } catch (InterruptedException e) {
        child.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    child = null;
    if (redis != null) {
      redis.close();
      redis = null;
    }
    if (postgres != null) {
      postgres.close();
      postgres = null;
    }
  }
}
