package io.tally.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Tally's load generator. {@code java -cp target/tally-loadtest.jar io.tally.loadtest.Bench <mode> [--option=value ...]}
 * <ul>
 *   <li>{@code http} / {@code ws}: open-model load at {@code --rate} events/s for {@code --duration} s;</li>
 *   <li>{@code max}: steps the rate up until p99 > 10 ms or any error, reports the highest sustainable rate;</li>
 *   <li>{@code copy}: the physical limit, COPY of the same rows into the events table;</li>
 *   <li>{@code compare}: copy, then max over HTTP, then 70 % of that max over HTTP and WebSocket, in one run.</li>
 * </ul>
 * Every load run ends by checking stored == acknowledged against PostgreSQL.
 */
public final class Bench {
  private final Map<String, String> opt;
  private final String runId = "run-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<JsonObject> results = new ArrayList<>();
  private BenchServers servers;
  private URI target;
  private String jdbcUrl;
  private String pgUser;
  private String pgPassword;
  private Vertx vertx;
  private BenchEvents events;
  private MetricsScrape scrape;
  private boolean failed;
  private boolean recording = true;

  private Bench(Map<String, String> opt) {
    this.opt = opt;
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].startsWith("-")) {
      System.err.println("usage: Bench http|ws|max|copy|compare|plan [--rate=N] [--duration=S] [--batch=100] "
          + "[--connections=16] [--sockets=200] [--users=100000] [--target=http://host:port --pg-url=postgresql://...]");
      System.exit(2);
    }
    Map<String, String> opt = new HashMap<>();
    opt.put("mode", args[0]);
    for (int i = 1; i < args.length; i++) {
      String a = args[i].replaceFirst("^--", "");
      int eq = a.indexOf('=');
      opt.put(eq < 0 ? a : a.substring(0, eq), eq < 0 ? "true" : a.substring(eq + 1));
    }
    Bench b = new Bench(opt);
    int code;
    try {
      b.setUp();
      b.run();
      code = b.failed ? 1 : 0;
    } finally {
      b.tearDown();
    }
    System.exit(code);
  }

  private int intOpt(String k, int def) {
    return Integer.parseInt(opt.getOrDefault(k, String.valueOf(def)));
  }

  private void setUp() throws Exception {
    if ("root".equals(System.getProperty("user.name")) && !opt.containsKey("target")) {
      throw new IllegalStateException("the embedded PostgreSQL refuses root: run as a normal user "
          + "(e.g. runuser -u tally -- ...) or pass --target and --pg-url");
    }
    events = new BenchEvents(runId, intOpt("users", 100_000));
    if (opt.containsKey("target")) {
      target = URI.create(opt.get("target"));
      var pg = io.tally.store.PgUrl.parse(opt.getOrDefault("pg-url", "postgresql://postgres@localhost:5432/postgres"));
      jdbcUrl = pg.jdbcUrl();
      pgUser = pg.user();
      pgPassword = pg.password();
    } else {
      List<String> env = new ArrayList<>();
      opt.forEach((k, v) -> {
        if (k.startsWith("TALLY_")) {
          env.add(k + "=" + v);
        }
      });
      if (opt.containsKey("no-migrate")) {
        env.add("BENCH_NO_MIGRATE=1");
      }
      servers = new BenchServers(Path.of(opt.getOrDefault("jar", "target/tally.jar")),
          Path.of(opt.getOrDefault("work-dir", "load-tests/target")), opt.getOrDefault("heap", "1g"),
          opt.getOrDefault("gc", "G1"), opt.getOrDefault("jvm", BenchServers.DEFAULT_JVM_OPTIONS), env);
      target = servers.tally;
      jdbcUrl = servers.pg.jdbcUrl();
      pgUser = servers.pg.user();
      pgPassword = servers.pg.password();
      System.out.println("started embedded PostgreSQL + Redis and Tally at " + target + " (log " + servers.log + ")");
    }
    vertx = Vertx.vertx();
    scrape = new MetricsScrape(target);
  }

  private void tearDown() {
    if (vertx != null) {
      vertx.close();
    }
    if (servers != null) {
      servers.close();
    }
  }

  private void run() throws Exception {
    String mode = opt.get("mode");
    int warmup = intOpt("warmup", 20);
    if (warmup > 0 && !mode.equals("copy")) {
      // JIT, caches, prepared statements and connection pools warm up before anything is measured
      System.out.println("warm-up: " + warmup + " s at 4000 events/s (not recorded)");
      recording = false;
      load(false, 4000, warmup);
      recording = true;
    }
    switch (mode) {
      case "http", "ws" -> load(mode.equals("ws"), intOpt("rate", 10_000), intOpt("duration", 30));
      case "max" -> findMax(opt.getOrDefault("transport", "http").equals("ws"));
      case "copy" -> copy();
      case "plan" -> plan(opt.getOrDefault("plan", "http:3000:60,http:6000:60,ws:1000:60:1:1000"));
      case "compare" -> {
        double copyRate = copy();
        int max = findMax(false);
        JsonObject summary = new JsonObject().put("mode", "compare").put("copyRowsPerSec", Math.round(copyRate))
            .put("httpMaxEventsPerSec", max).put("ratioToCopy", round(max / copyRate));
        if (max > 0) {
          int at70 = (int) (max * 0.7);
          JsonObject h = load(false, at70, intOpt("duration", 30));
          JsonObject w = load(true, at70, intOpt("duration", 30));
          summary.put("http70", h).put("ws70", w);
        }
        System.out.println("\n== compare: COPY " + Math.round(copyRate) + " rows/s, Tally HTTP max " + max
            + " events/s = " + round(max / copyRate) + " x COPY");
        record(summary);
      }
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    }
  }

  /**
   * Several loads one after the other on the same warmed-up server: {@code mode:rate:seconds[:batch[:sockets]]},
   * comma-separated (each step's batch and sockets default to the options').
   */
  private void plan(String plan) throws Exception {
    String batch = opt.getOrDefault("batch", "100");
    String sockets = opt.getOrDefault("sockets", "200");
    for (String step : plan.split(",")) {
      String[] p = step.trim().split(":");
      if (p.length < 3 || !(p[0].equals("http") || p[0].equals("ws"))) {
        throw new IllegalArgumentException("a plan step is mode:rate:seconds[:batch[:sockets]], mode http or ws: "
            + step);
      }
      opt.put("batch", p.length > 3 ? p[3] : batch);
      opt.put("sockets", p.length > 4 ? p[4] : sockets);
      System.out.println("plan step " + step);
      load(p[0].equals("ws"), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
    }
  }

  private double copy() throws Exception {
    int rows = intOpt("copy-rows", 300_000);
    List<Double> runs = new ArrayList<>();
    for (int i = 0; i < intOpt("copy-runs", 3); i++) {
      runs.add(BenchCopy.run(jdbcUrl, pgUser, pgPassword, events, rows, 10_000));
      System.out.printf("COPY run %d: %.0f rows/s%n", i + 1, runs.get(i));
    }
    runs.sort(Double::compare);
    double median = runs.get(runs.size() / 2);
    record(new JsonObject().put("mode", "copy").put("rows", rows).put("runs", runs).put("medianRowsPerSec",
        Math.round(median)));
    return median;
  }

  /**
   * Steps the rate up (x{@code --step-factor}) until a step is not sustained: errors, under 97 % of the offered rate
   * acknowledged, or the derived tables (sessions, people, rollups) more than {@code --max-derived-lag} seconds (10)
   * behind the events at the step's end, a rate the acks keep up with but the rest of the product does not. Reports the
   * highest sustained rate, and the highest one whose p99 also stayed within 10 ms.
   */
  private int findMax(boolean ws) throws Exception {
    int rate = intOpt("start-rate", 2_000);
    int step = intOpt("step-seconds", 12);
    double factor = Double.parseDouble(opt.getOrDefault("step-factor", "1.3"));
    double lagLimit = Double.parseDouble(opt.getOrDefault("max-derived-lag", "10"));
    int best = 0;
    int bestWithinTarget = 0;
    for (int i = 0; i < 30; i++) {
      JsonObject r = load(ws, rate, step);
      String why = notSustained(r, rate, lagLimit);
      boolean sustained = why.isEmpty();
      boolean withinTarget = sustained && r.getDouble("p99Ms") <= 10;
      System.out.printf("step %d: %d events/s -> %s%s%s%n", i + 1, rate, sustained ? "sustained" : "NOT sustained",
          why, withinTarget ? ", p99 <= 10 ms" : "");
      if (!sustained) {
        break;
      }
      best = rate;
      if (withinTarget) {
        bestWithinTarget = rate;
      }
      rate = (int) (rate * factor);
    }
    record(new JsonObject().put("mode", "max").put("transport", ws ? "ws" : "http").put("maxEventsPerSec", best)
        .put("maxWithP99Within10Ms", bestWithinTarget));
    System.out.println("highest sustained rate: " + best + " events/s; highest with p99 <= 10 ms: "
        + bestWithinTarget + " events/s");
    return best;
  }

  /**
   * Why a step at {@code rate} was not sustained (" (reason)"), or "" when it was. The derived tables' lag counts only
   * when the server reports it (an older build run with {@code --jar} does not).
   */
  static String notSustained(JsonObject step, int rate, double lagLimitSeconds) {
    if (step.getLong("errors") > 0) {
      return " (errors)";
    }
    if (step.getDouble("achievedEventsPerSec") < 0.97 * rate) {
      return " (under 97 % acknowledged)";
    }
    double lag;
    try {
      lag = Double.parseDouble(step.getString("derivedLagSecondsAtEnd", "?"));
    } catch (NumberFormatException e) {
      return "";
    }
    return lag > lagLimitSeconds
        ? String.format(" (derived tables %.0f s behind, limit %.0f s)", lag, lagLimitSeconds) : "";
  }

  private JsonObject load(boolean ws, int rate, int seconds) throws Exception {
    BenchStats stats = new BenchStats();
    BenchLoad load = new BenchLoad(vertx, target, opt.getOrDefault("write-key", "dev-write-key"), events);
    int batch = intOpt("batch", 100);
    if (ws) {
      load.openSockets(intOpt("sockets", 200), stats);
    } else {
      load.openHttp(intOpt("connections", 16));
    }
    long before = count();
    BenchFreshness probes = recording && "true".equals(opt.get("freshness"))
        ? new BenchFreshness(target, opt.getOrDefault("write-key", "dev-write-key"),
            opt.getOrDefault("read-key", "dev-read-key"), runId) : null;
    if (probes != null) {
      probes.start();
    }
    long[] last = {System.nanoTime(), 0};
    long start = System.nanoTime();
    load.run(ws, rate, seconds, batch, stats, () -> {
      Histogram h = stats.roll();
      long now = System.nanoTime();
      long acked = stats.ackedEvents.sum();
      double r = (acked - last[1]) / ((now - last[0]) / 1e9);
      last[0] = now;
      last[1] = acked;
      System.out.printf("  %5.0fs  %7.0f ev/s acked  p99 %7.2f ms  in flight %5d  ring %s  derived lag %s s  heap %s MiB"
          + "  errors %d%n", (now - start) / 1e9, r, BenchStats.ms(h, 99), stats.inFlight.get(),
          scrape.value("analytics_events_buffered"), scrape.value("analytics_derived_lag_seconds"), scrape.heapMiB(),
          stats.errorCount());
    });
    double elapsed = (System.nanoTime() - start) / 1e9;
    stats.roll();
    load.close();
    if (probes != null) {
      probes.close();
    }
    Histogram h = stats.total();
    long stored = count() - before;
    long accepted = stats.acceptedEvents.sum();
    boolean verified = stored == accepted && stats.duplicateEvents.sum() == 0;
    if (!verified) {
      failed = true;
    }
    JsonObject r = new JsonObject().put("mode", ws ? "ws" : "http").put("offeredEventsPerSec", rate)
        .put("achievedEventsPerSec", Math.round(stats.ackedEvents.sum() / elapsed)).put("seconds", seconds)
        .put("batch", batch).put(ws ? "sockets" : "connections", ws ? intOpt("sockets", 200) : intOpt("connections", 16))
        .put("p50Ms", BenchStats.ms(h, 50)).put("p90Ms", BenchStats.ms(h, 90)).put("p99Ms", BenchStats.ms(h, 99))
        .put("p999Ms", BenchStats.ms(h, 99.9)).put("maxMs", h.getMaxValue() / 1000.0)
        .put("errors", stats.errorCount()).put("errorsByKind", new JsonObject(new HashMap<>(stats.errorsByKind())))
        .put("acknowledged", accepted).put("stored", stored).put("verified", verified)
        .put("derivedLagSecondsAtEnd", scrape.value("analytics_derived_lag_seconds"));
    if (probes != null) {
      r.put("freshness", probes.result());
      System.out.println("freshness (ack → GET /v1/sessions/{id} counts the event), ms: " + probes.result().encode());
    }
    System.out.printf("%s %d ev/s offered, %d achieved | ack latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f"
            + " | errors %s | stored %d == acked %d: %s | derived tables %s s behind%n", ws ? "WS" : "HTTP", rate,
        r.getLong("achievedEventsPerSec"), r.getDouble("p50Ms"), r.getDouble("p90Ms"), r.getDouble("p99Ms"),
        r.getDouble("p999Ms"), r.getDouble("maxMs"), stats.errorsByKind(), stored, accepted,
        verified ? "PASS" : "FAIL", r.getString("derivedLagSecondsAtEnd"));
    record(r);
    return r;
  }

  /** This run's stored rows (its id is in every event's label). */
  private long count() throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, pgUser, pgPassword);
         PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM events WHERE label = ?")) {
      ps.setString(1, runId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private void record(JsonObject r) throws Exception {
    if (!recording) {
      return;
    }
    r.put("runId", runId).put("at", java.time.Instant.now().toString()).put("gc", opt.getOrDefault("gc", "G1"))
        .put("jvm", opt.getOrDefault("jvm", BenchServers.DEFAULT_JVM_OPTIONS));
    if (opt.containsKey("label")) {
      r.put("label", opt.get("label"));
    }
    results.add(r);
    Path file = Path.of(opt.getOrDefault("results", "load-tests/results.jsonl"));
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, r.encode() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static double round(double d) {
    return Math.round(d * 1000) / 1000.0;
  }
}
