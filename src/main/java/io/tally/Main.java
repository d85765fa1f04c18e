package io.tally;

import io.tally.config.ConfigException;
import io.tally.config.ConfigLoader;
import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.dashboard.DemoTraffic;
import sun.misc.Signal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Entry point: load configuration, start Tally, stop gracefully on SIGTERM / SIGINT with exit code 0. */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) throws Exception {
    TallyConfig config;
    try {
      config = ConfigLoader.load(System.getenv());
    } catch (ConfigException e) {
      System.err.println("Invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (args.length > 0 && args[0].equals("archive")) {
      System.exit(io.tally.lifecycle.ArchiveCli.run(args, config, System.out, System.err));
      return;
    }
    Tally tally;
    try {
      tally = Tally.start(config);
    } catch (Exception e) {
      System.err.println("Tally failed to start: " + rootMessage(e));
      System.exit(1);
      return;
    }
    printBanner(tally);
    if (java.util.Arrays.asList(args).contains("--demo")) {
      // through the normal ingestion path, with the first project's write key
      ProjectConfig p = tally.config().projects().get(0);
      // the read key only tells which days a previous run already back-filled
      new DemoTraffic(tally.vertx(), tally.port(), p.writeKeys().get(0),
          p.readKeys().isEmpty() ? null : p.readKeys().get(0)).start();
      System.out.println("  demo: eight weeks of a chat product's history are being back-filled into project '"
          + p.id() + "', then its traffic streams live (--demo)\n"
          + "  dashboard: http://localhost:" + tally.port() + "/  (sign in with read key "
          + p.readKeys().get(0) + ")\n");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable stop = () -> {
      System.out.println("Tally: shutting down (draining buffered events)...");
      try {
        tally.shutdown().toCompletionStage().toCompletableFuture().get(9, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("Tally: shutdown incomplete: " + rootMessage(e));
      }
      stopped.countDown();
    };
    // handle the signals ourselves: the JVM's default would exit with 143, not 0
    Signal.handle(new Signal("TERM"), sig -> new Thread(stop, "tally-shutdown").start());
    Signal.handle(new Signal("INT"), sig -> new Thread(stop, "tally-shutdown").start());
    stopped.await();
    System.out.println("Tally: stopped");
    System.exit(0);
  }

  private static void printBanner(Tally tally) {
    TallyConfig c = tally.config();
    StringBuilder sb = new StringBuilder();
    sb.append("\nTally is running on http://localhost:").append(tally.port()).append('\n')
        .append("  dashboard: http://localhost:").append(tally.port()).append("/  (sign in with a read key)\n")
        .append("  ingest:  POST /v1/events   WebSocket /v1/stream\n")
        .append("  query:   GET /v1/realtime  GET /v1/events/count\n")
        .append("  admin:   DELETE /v1/users/{id}  GET /v1/users/{id}/export  (archives: java -jar tally.jar archive list)\n")
        .append("  ops:     GET /health/live  GET /health/ready  GET /metrics\n")
        .append("  storage: ").append(c.storage().embeddedPg() ? "embedded PostgreSQL (data in "
            + c.storage().dataDir().toAbsolutePath().normalize() + "/pg, its password in pg.password beside it)"
            : "external PostgreSQL " + tally.pgUrl())
        .append(", ").append(c.storage().embeddedRedis() ? "embedded Redis (its password in redis.password)"
            : "external Redis").append('\n');
    for (ProjectConfig p : c.projects()) {
      sb.append("  project '").append(p.id()).append("': write key ").append(String.join(", ", p.writeKeys()))
          .append(" | read key ").append(String.join(", ", p.readKeys()));
      if (!p.adminKeys().isEmpty()) {
        sb.append(" | admin key ").append(String.join(", ", p.adminKeys()));
      }
      sb.append('\n');
      if (p.writeKeys().stream().anyMatch(k -> k.startsWith("dev-"))
          || p.readKeys().stream().anyMatch(k -> k.startsWith("dev-"))
          || p.adminKeys().stream().anyMatch(k -> k.startsWith("dev-"))) {
        sb.append("  WARNING: the dev-* keys are for local use only: set your own keys in config/tally.json\n");
      }
    }
    System.out.println(sb);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
