package io.tally.loadtest;

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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Self-contained setup: a fresh embedded PostgreSQL and Redis, and Tally itself as a child JVM (the real jar, as a
 * user runs it), all on this machine. Everything stops on close, also on failure or Ctrl-C.
 */
final class BenchServers implements AutoCloseable {
  final PgUrl pg;
  final URI tally;
  private final EmbeddedPostgresServer postgres;
  private final EmbeddedRedisServer redis;
  private final Process child;
  private final Path serversDir;
  final Path log;

  /**
   * The server's extra JVM options unless {@code --jvm} says otherwise: those README.md recommends for running Tally
   * (see BENCHMARKS.md, "Ack latency and the garbage collector").
   */
  static final String DEFAULT_JVM_OPTIONS = io.tally.Tally.RECOMMENDED_JVM_OPTIONS;

  BenchServers(Path jar, Path workDir, String heap, String gc, String jvmOptions, List<String> env)
      throws Exception {
    Files.createDirectories(workDir);
    // the cluster in servers-*/pg, its password in servers-*/pg.password and Redis's in servers-*/redis.password
    serversDir = Files.createTempDirectory(workDir, "servers-");
    // traversable: as root, the embedded servers run as an account that must reach their data (README, Run)
    serversDir.toFile().setExecutable(true, false);
    postgres = EmbeddedPostgresServer.start(serversDir.resolve("pg"), 0);
    redis = EmbeddedRedisServer.start(serversDir, 0);
    pg = postgres.url();
    if (!env.contains("BENCH_NO_MIGRATE=1")) {
      Migrations.migrate(pg); // else: the jar under test migrates its own schema (e.g. an older build)
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    log = workDir.resolve("tally-" + port + ".log");
    List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString()));
    if (!heap.equals("default")) { // "default": the JVM's own sizing, as README's run command leaves it
      cmd.addAll(List.of("-Xmx" + heap, "-Xms" + heap));
    }
    cmd.add("-XX:+Use" + gc + "GC");
    for (String o : jvmOptions.trim().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    cmd.add("-jar");
    cmd.add(jar.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("TALLY_"));
    pb.environment().put("TALLY_PG_URL", pg.url());
    pb.environment().put("TALLY_REDIS_URL", redis.url());
    pb.environment().put("TALLY_HTTP_PORT", String.valueOf(port));
    for (String kv : env) {
      int eq = kv.indexOf('=');
      pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    child = pb.start();
    tally = URI.create("http://127.0.0.1:" + port);
    Runtime.getRuntime().addShutdownHook(new Thread(this::close));
    waitReady();
  }

  private void waitReady() throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      if (!child.isAlive()) {
        throw new IllegalStateException("Tally exited during start; see " + log);
      }
      try {
        HttpURLConnection c = (HttpURLConnection) tally.resolve("/health/ready").toURL().openConnection();
        // a request that never gets an answer must not hang the start (seen once: a Vert.x metrics NPE at start)
        c.setConnectTimeout(2_000);
        c.setReadTimeout(2_000);
        if (c.getResponseCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("Tally not ready within 120 s; see " + log);
  }

  @Override
  public synchronized void close() {
    if (child.isAlive()) {
      child.destroy();
      try {
        if (!child.waitFor(15, TimeUnit.SECONDS)) {
          child.destroyForcibly();
        }
      } catch (InterruptedException e) {
        child.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    redis.close();
    postgres.close();
    // a run's database is only for that run: do not leave gigabytes of WAL and tables behind
    if (!Files.exists(serversDir)) {
      return;
    }
    try (var paths = Files.walk(serversDir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not remove " + serversDir + ": " + e.getMessage());
    }
  }
}
