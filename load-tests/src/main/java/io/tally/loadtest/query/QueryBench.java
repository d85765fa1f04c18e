package io.tally.loadtest.query;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Query latency of the analytics routes over a loaded dataset ({@link GenerateDataset}).
 *
 * <pre>
 * java -cp target/tally-loadtest.jar io.tally.loadtest.query.QueryBench [--data-dir=load-tests/target/qbench-data]
 *     [--requests=200] [--warmup=20] [--warm-repeats=200] [--routes=user,usage,...] [--raw=true] [--label=10M]
 *     [--url=http://host:port --read-key=K --pg-url=postgresql://... --meta=dataset.json]
 * </pre>
 *
 * For each route, one client, closed loop (the next request is sent when the previous answer is read): {@code
 * --warmup} requests (not recorded), then {@code --requests} <b>distinct</b> requests never sent before (cold: each is
 * a result-cache miss), then {@code --warm-repeats} repetitions of the first ten of them (warm: cache hits). Latency
 * is from send to the last byte of the answer, in an HdrHistogram. Every answer must be 200 (anything else counts
 * as an error; the first body is printed). Then the raw baseline ({@link RawBaseline}). Results are printed as a
 * Markdown table and appended as JSON lines to {@code load-tests/query-results.jsonl}.
 */
public final class QueryBench {
  private record Req(String method, String path, String body, String variant) {
    Req(String method, String path, String body) {
      this(method, path, body, "");
    }

    String key() {
      return method + " " + path + (body == null ? "" : " " + body);
    }
  }

  private record Route(String name, Double targetMs, Function<SplittableRandom, Req> space, String what) {}

  static final String[][] FUNNELS = {
      {"page_view", "conversation_created", "message_sent"},
      {"conversation_created", "message_sent", "message_received"},
      {"session_start", "message_sent", "feature_used"},
      {"page_view", "feature_used", "share_created"},
      {"signup", "conversation_created", "payment"}};

  private final Opts o;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private DatasetServers servers;
  private Dataset d;
  private List<String> persons;
  private final String project;

  private QueryBench(Opts o) {
    this.o = o;
    this.project = o.str("project", "default");
  }

  public static void main(String[] args) throws Exception {
    Opts o;
    try {
      o = new Opts(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println("usage: QueryBench [--data-dir=DIR] [--requests=200] [--warmup=20] [--warm-repeats=200] "
          + "[--routes=user,usage,usage_filtered,timeseries,breakdown,funnel,retention,conversions,patterns,"
          + "insights,insights_complete,user_insights,anomalies] [--raw=true] "
          + "[--label=NAME] [--url=http://host:port --read-key=K --pg-url=postgresql://... --meta=FILE]");
      System.exit(2);
      return;
    }
    QueryBench b = new QueryBench(o);
    int code;
    try {
      code = b.run();
    } finally {
      if (b.servers != null) {
        b.servers.close();
      }
    }
    System.exit(code);
  }

  private int run() throws Exception {
    JsonObject meta = Opts.readMeta(o.metaFile());
    if (meta == null && !o.has("days")) {
      throw new IllegalStateException("no dataset description at " + o.metaFile() + ": load one with GenerateDataset "
          + "(or give --meta=FILE, or --days/--end-day/--users/--seed for a dataset loaded elsewhere)");
    }
    d = o.dataset(meta);
    long deadline = System.currentTimeMillis() + o.num("max-minutes", 45) * 60_000;
    servers = DatasetServers.open(o);
    JsonObject dataset = describe(meta);
    System.out.println("dataset: " + dataset.encode());
    persons = samplePersons();
    awaitIndexes();
    int requests = (int) o.num("requests", 200);
    int warmup = (int) o.num("warmup", 20);
    int repeats = (int) o.num("warm-repeats", 200);
    long routeMs = o.num("route-seconds", 60) * 1000;
    Set<String> only = o.has("routes") ? Set.of(o.str("routes", "").split(",")) : null;
    String label = o.str("label", dataset.getLong("events") >= 1_000_000
        ? Math.round(dataset.getLong("events") / 1e5) / 10.0 + "M" : dataset.getLong("events") + "");
    String runId = "q-" + Long.toHexString(System.currentTimeMillis());
    List<JsonObject> results = new ArrayList<>();
    int errors = 0;
    for (Route r : routes()) {
      if (only != null && !only.contains(r.name)) {
        continue;
      }
      if (System.currentTimeMillis() > deadline) {
        System.out.println("--max-minutes reached: skipping " + r.name);
        continue;
      }
      JsonObject res = bench(r, warmup, requests, repeats, routeMs, deadline);
      res.put("kind", "route").put("label", label).put("runId", runId).put("dataset", dataset)
          .put("at", Instant.now().toString());
      errors += res.getInteger("errors");
      results.add(res);
      append(res);
    }
    List<JsonObject> raw = List.of();
    if (o.bool("raw", true) && servers.pg != null && System.currentTimeMillis() < deadline) {
      System.out.println("raw baseline: the same aggregates in SQL over raw events, no rollups (median of "
          + o.num("raw-runs", 3) + ")");
      try (Connection c = servers.jdbc()) {
        raw = RawBaseline.run(c, project, d.startInstant(), d.endInstant(), heaviestUser(c), FUNNELS[0],
            (int) o.num("raw-runs", 3), (int) o.num("raw-timeout-s", 120), o.num("raw-repeat-limit-ms", 15_000));
      }
      for (JsonObject r : raw) {
        r.put("kind", "raw").put("label", label).put("runId", runId).put("dataset", dataset)
            .put("period", d.firstDay() + "/" + d.endDay).put("at", Instant.now().toString());
        append(r);
      }
    }
    printTable(label, dataset, results, raw);
    return errors > 0 ? 1 : 0;
  }

  private JsonObject describe(JsonObject meta) throws Exception {
    JsonObject j = new JsonObject().put("users", d.users).put("days", d.days).put("firstDay", d.firstDay().toString())
        .put("endDay", d.endDay.toString()).put("seed", d.seed);
    if (meta != null) {
      j.put("loaded", meta.getLong("loaded"));
    }
    if (servers.pg != null) {
      try (Connection c = servers.jdbc(); var st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM users), "
               + "(SELECT count(*) FROM sessions), pg_database_size(current_database())")) {
        rs.next();
        j.put("events", rs.getLong(1)).put("persons", rs.getLong(2)).put("sessions", rs.getLong(3))
            .put("dbBytes", rs.getLong(4));
      }
    } else {
      j.put("events", meta == null ? -1 : meta.getLong("loaded"));
    }
    if (servers.log != null) {
      j.put("dataDirBytes", Opts.dirBytes(o.dataDir()));
    }
    return j;
  }

  /** Persons to ask about: a uniform sample of the people table (or, without PostgreSQL, heavy dataset persons). */
  private List<String> samplePersons() throws Exception {
    List<String> out = new ArrayList<>();
    if (servers.pg != null) {
      try (Connection c = servers.jdbc(); PreparedStatement ps = c.prepareStatement(
          "SELECT user_key FROM users WHERE project_id = ? ORDER BY random() LIMIT 5000")) {
        ps.setString(1, project);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
      }
    }
    if (out.isEmpty()) {
      for (int i = 0; i < 5000; i++) {
        out.add(d.personKey(d.heavyPerson(i * 7)));
      }
    }
    return out;
  }

  private String heaviestUser(Connection c) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT user_key FROM users WHERE project_id = ? AND user_key LIKE 'u-%' ORDER BY event_count DESC LIMIT 1")) {
      ps.setString(1, project);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : "u-0";
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ requests

  /** A day-aligned period of 7 to 30 days (or the whole dataset when shorter) inside the dataset. */
  private String[] period(SplittableRandom r) {
    int len = d.days <= 7 ? d.days : 7 + r.nextInt(Math.min(30, d.days) - 6);
    int off = r.nextInt(d.days - len + 1);
    return days(off, len);
  }

  private String[] days(int off, int len) {
    LocalDate from = d.firstDay().plusDays(off);
    return new String[] {from.atStartOfDay(ZoneOffset.UTC).toInstant().toString(),
        from.plusDays(len).atStartOfDay(ZoneOffset.UTC).toInstant().toString()};
  }

  private static String q(String[] p) {
    return "from=" + p[0] + "&to=" + p[1];
  }

  private static <T> T any(SplittableRandom r, T[] a) {
    return a[r.nextInt(a.length)];
  }

  private List<Route> routes() {
    String[] metrics = {"events", "active_users", "messages", "tokens", "cost", "errors", "revenue"};
    String[] dims = {"event", "provider", "model", "country", "device", "browser", "page"};
    List<Route> l = new ArrayList<>();
    l.add(new Route("user", 50.0, r -> new Req("GET", "/v1/users/"
        + URLEncoder.encode(persons.get(r.nextInt(persons.size())), StandardCharsets.UTF_8) + "/analytics?"
        + q(period(r)), null), "a random person, a 7-30 day period"));
    l.add(new Route("usage", 200.0, r -> new Req("GET", "/v1/metrics/usage?" + q(period(r)), null),
        "7-30 day period, no filter"));
    l.add(new Route("usage_filtered", 200.0, r -> {
      int p = r.nextInt(Dataset.PROVIDERS.length);
      int fk = r.nextInt(3);
      String f = switch (fk) {
        case 0 -> "provider=" + Dataset.PROVIDERS[p];
        case 1 -> "model=" + any(r, Dataset.MODELS[p]);
        default -> "device=" + any(r, new String[] {"desktop", "mobile", "tablet"});
      };
      return new Req("GET", "/v1/metrics/usage?" + q(period(r)) + "&" + f, null,
          new String[] {"provider", "model", "device"}[fk]);
    }, "7-30 day period, filter provider, model or device"));
    l.add(new Route("timeseries", 100.0, r -> {
      String interval = any(r, new String[] {"minute", "hour", "day"});
      String[] p = interval.equals("minute") ? days(r.nextInt(d.days), 1) : period(r);
      String m = any(r, metrics);
      return new Req("GET", "/v1/timeseries?metric=" + m + "&interval=" + interval + "&" + q(p), null,
          m + "/" + interval);
    }, "each metric x minute (1 day) / hour / day (7-30 days)"));
    l.add(new Route("breakdown", 100.0, r -> {
      String dim = any(r, dims);
      String m = any(r, metrics);
      return new Req("GET", "/v1/breakdown?dimension=" + dim + "&metric=" + m + "&" + q(period(r)), null,
          dim + "/" + m);
    }, "each dimension x metric, 7-30 days"));
    l.add(new Route("funnel", 500.0, r -> {
      String[] steps = any(r, FUNNELS);
      String[] p = period(r);
      JsonArray s = new JsonArray();
      for (String e : steps) {
        s.add(new JsonObject().put("event", e));
      }
      return new Req("POST", "/v1/funnels", new JsonObject().put("name", "bench").put("steps", s)
          .put("windowSeconds", 604_800).put("from", p[0]).put("to", p[1]).encode(), String.join(">", steps));
    }, "3 steps (5 definitions), 7-day window, 7-30 days"));
    l.add(new Route("retention", 500.0, r -> {
      int off = r.nextInt(-20, 11); // 30 daily cohorts; the dataset's own 30 days and shifts of them
      LocalDate from = d.firstDay().plusDays(off);
      return new Req("GET", "/v1/retention?granularity=day&periods=30&from="
          + from.atStartOfDay(ZoneOffset.UTC).toInstant() + "&to="
          + from.plusDays(30).atStartOfDay(ZoneOffset.UTC).toInstant(), null);
    }, "granularity=day, periods=30, 30 days"));
    l.add(new Route("conversions", null, r -> new Req("GET", "/v1/conversions?" + q(period(r)) + "&limit="
        + any(r, new String[] {"100", "1000"}), null), "7-30 days, limit 100 or 1000"));
    l.add(new Route("patterns", 500.0, r -> new Req("GET", "/v1/patterns/detect?" + q(period(r)), null),
        "the 4 built-in patterns with backtests, 7-30 day period"));
    l.add(new Route("insights", 1000.0, r -> new Req("GET", "/v1/insights?" + q(period(r)), null),
        "global insights (usage, anomalies of 7 metrics, funnel, costs, latency, patterns), 7-30 days"));
    l.add(new Route("insights_complete", null, r -> new Req("GET", "/v1/insights?wait=true&" + q(period(r)), null),
        "global insights with wait=true (every part computed, none pending), 7-30 days"));
    l.add(new Route("user_insights", 1000.0, r -> new Req("GET", "/v1/insights?userId="
        + URLEncoder.encode(persons.get(r.nextInt(persons.size())), StandardCharsets.UTF_8) + "&" + q(period(r)),
        null), "a random person's insights, 7-30 days"));
    l.add(new Route("anomalies", null, r -> {
      String m = any(r, new String[] {"events", "active_users", "messages", "error_rate", "response_time", "cost",
          "revenue"});
      boolean hour = r.nextBoolean();
      String[] p = hour ? days(7 + r.nextInt(d.days - 7), 1) : period(r);
      return new Req("GET", "/v1/anomalies?metric=" + m + "&granularity=" + (hour ? "hour" : "day") + "&" + q(p),
          null, m + "/" + (hour ? "hour" : "day"));
    }, "each metric, hourly over 1 day or daily over 7-30 days"));
    return l;
  }

  // ------------------------------------------------------------------------------------------------ measuring

  private JsonObject bench(Route route, int warmup, int requests, int repeats, long routeMs, long deadline)
      throws Exception {
    SplittableRandom r = new SplittableRandom(o.num("seed", 7) * 31 + route.name.hashCode());
    LinkedHashSet<String> seen = new LinkedHashSet<>();
    List<Req> distinct = new ArrayList<>();
    for (int i = 0; i < (warmup + requests) * 50 && distinct.size() < warmup + requests; i++) {
      Req q = route.space.apply(r);
      if (seen.add(q.key())) {
        distinct.add(q);
      }
    }
    System.out.printf("%n== %s (%s): %d distinct requests available%n", route.name, route.what, distinct.size());
    int[] errors = {0};
    String[] firstError = {null};
    partial = 0;
    int w = Math.min(warmup, distinct.size() / 10);
    long warmStart = System.currentTimeMillis();
    for (int i = 0; i < w; i++) {
      if (System.currentTimeMillis() - warmStart > routeMs / 4) {
        System.out.printf("  warm-up cut after %d requests (a quarter of --route-seconds)%n", i);
        break; // the requests not used for warm-up are still not sent before the cold phase: skip them
      }
      call(distinct.get(i), null, errors, firstError);
    }
    double[] cache0 = cacheCounts();
    Histogram cold = new Histogram(600_000_000L, 3);
    List<Req> coldReqs = distinct.subList(w, distinct.size());
    long start = System.currentTimeMillis();
    int n = 0;
    Map<String, Histogram> byVariant = new java.util.TreeMap<>();
    for (Req q : coldReqs) {
      if (System.currentTimeMillis() - start > routeMs || System.currentTimeMillis() > deadline) {
        System.out.printf("  --route-seconds (or --max-minutes) reached after %d cold requests%n", n);
        break;
      }
      Histogram one = new Histogram(600_000_000L, 3);
      call(q, one, errors, firstError);
      cold.add(one);
      if (!q.variant.isEmpty()) {
        byVariant.computeIfAbsent(q.variant, v -> new Histogram(600_000_000L, 3)).add(one);
      }
      n++;
    }
    double[] cache1 = cacheCounts();
    int coldPartial = partial;
    Histogram warm = new Histogram(600_000_000L, 3);
    int k = Math.min(10, n);
    long warmEnd = Math.min(deadline, System.currentTimeMillis() + routeMs);
    for (int i = 0; i < repeats && k > 0 && System.currentTimeMillis() < warmEnd; i++) {
      call(coldReqs.get(i % k), warm, errors, firstError);
    }
    double[] cache2 = cacheCounts();
    JsonObject res = new JsonObject().put("route", route.name).put("requests", route.what)
        .put("targetP95Ms", route.targetMs).put("cold", stats(cold)).put("warm", stats(warm))
        .put("errors", errors[0]);
    if (coldPartial > 0) {
      // answers that listed parts as still computing ("pending": insights' time budget)
      res.put("coldPartial", coldPartial);
      System.out.printf("  %d of %d cold answers had pending parts%n", coldPartial, cold.getTotalCount());
    }
    if (cache0 != null && cache2 != null) {
      res.put("coldCacheHits", Math.round(cache1[0] - cache0[0])).put("coldCacheMisses", Math.round(cache1[1] - cache0[1]))
          .put("warmCacheHits", Math.round(cache2[0] - cache1[0])).put("warmCacheMisses", Math.round(cache2[1] - cache1[1]));
    }
    if (firstError[0] != null) {
      res.put("firstError", firstError[0]);
    }
    if (!byVariant.isEmpty()) {
      JsonObject v = new JsonObject();
      byVariant.entrySet().stream()
          .sorted((a, b) -> Double.compare(b.getValue().getMean(), a.getValue().getMean()))
          .forEach(e -> v.put(e.getKey(), new JsonObject().put("n", e.getValue().getTotalCount())
              .put("meanMs", r2(e.getValue().getMean() / 1000)).put("maxMs", r2(e.getValue().getMaxValue() / 1000.0))));
      res.put("coldByVariant", v);
      StringBuilder sb = new StringBuilder("  slowest variants (cold mean ms): ");
      v.fieldNames().stream().limit(6).forEach(name -> sb.append(name).append(' ')
          .append(f(v.getJsonObject(name).getDouble("meanMs"))).append(" (n=").append(v.getJsonObject(name).getLong("n"))
          .append("), "));
      System.out.println(sb.substring(0, sb.length() - 2));
    }
    System.out.printf("  cold n=%d p50 %.1f p95 %.1f p99 %.1f max %.1f ms | warm n=%d p50 %.2f p95 %.2f ms | "
            + "errors %d%s%n", cold.getTotalCount(), ms(cold, 50), ms(cold, 95), ms(cold, 99),
        cold.getMaxValue() / 1000.0, warm.getTotalCount(), ms(warm, 50), ms(warm, 95), errors[0],
        res.containsKey("coldCacheMisses") ? String.format(" | cache cold %d miss / %d hit, warm %d hit / %d miss",
            res.getLong("coldCacheMisses"), res.getLong("coldCacheHits"), res.getLong("warmCacheHits"),
            res.getLong("warmCacheMisses")) : "");
    return res;
  }

  /** Cold answers of the current route with a non-empty {@code pending} list. */
  private int partial;

  private void call(Req q, Histogram h, int[] errors, String[] firstError) throws InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(servers.tally.resolve(q.path))
        .timeout(Duration.ofSeconds(o.num("timeout-s", 120))).header("Authorization", "Bearer " + servers.readKey);
    if (q.body != null) {
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(q.body));
    }
    long t0 = System.nanoTime();
    int status;
    String body;
    try {
      HttpResponse<String> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      status = resp.statusCode();
      body = resp.body();
    } catch (java.io.IOException e) {
      status = -1;
      body = e.toString();
    }
    long us = (System.nanoTime() - t0) / 1000;
    if (h != null) {
      h.recordValue(Math.max(1, Math.min(us, h.getHighestTrackableValue())));
    }
    if (status == 200 && h != null && body.contains("\"pending\"")) {
      try {
        JsonArray pend = new JsonObject(body).getJsonArray("pending");
        if (pend != null && !pend.isEmpty()) {
          partial++;
        }
      } catch (RuntimeException e) {
        // not an object with a pending list
      }
    }
    if (status != 200) {
      errors[0]++;
      if (firstError[0] == null) {
        firstError[0] = q.key() + " -> " + status + " " + (body.length() > 500 ? body.substring(0, 500) : body);
        System.out.println("  ERROR " + firstError[0]);
      }
    }
  }

  /**
   * Waits (at most 10 minutes) until the server's in-memory indexes are loaded — the person index and the pattern
   * index — so the routes are measured as they are served once Tally has started, not on the SQL fallback.
   */
  private void awaitIndexes() throws Exception {
    long until = System.currentTimeMillis() + 600_000;
    long start = System.currentTimeMillis();
    while (System.currentTimeMillis() < until) {
      String text = http.send(HttpRequest.newBuilder(servers.tally.resolve("/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
      boolean persons = false;
      boolean patterns = !text.contains("analytics_pattern_index_person_days");
      boolean timeline = !text.contains("analytics_event_timeline_events");
      for (String line : text.split("\n")) {
        if (line.startsWith("analytics_event_timeline_events ")) {
          timeline = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) > 0;
        }
        if (line.startsWith("analytics_person_index_persons ")) {
          persons = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) > 0;
        }
        if (line.startsWith("analytics_pattern_index_person_days ")) {
          patterns = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) > 0;
        }
      }
      if (persons && patterns && timeline) {
        System.out.printf("indexes loaded after %d s%n", (System.currentTimeMillis() - start) / 1000);
        return;
      }
      Thread.sleep(1000);
    }
    System.out.println("WARNING: indexes not loaded after 10 minutes; measuring anyway");
  }

  /** {hits, misses} of the server's result cache, from /metrics (null when not exported). */
  private double[] cacheCounts() {
    try {
      String text = http.send(HttpRequest.newBuilder(servers.tally.resolve("/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
      double[] c = {0, 0};
      boolean found = false;
      for (String line : text.split("\n")) {
        if (line.startsWith("analytics_query_cache_total{")) {
          found = true;
          double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          c[line.contains("result=\"hit\"") ? 0 : 1] += v;
        }
      }
      return found ? c : null;
    } catch (Exception e) {
      return null;
    }
  }

  private static double ms(Histogram h, double p) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(p) / 1000.0;
  }

  private static JsonObject stats(Histogram h) {
    return new JsonObject().put("n", h.getTotalCount()).put("p50Ms", r2(ms(h, 50))).put("p95Ms", r2(ms(h, 95)))
        .put("p99Ms", r2(ms(h, 99))).put("maxMs", r2(h.getMaxValue() / 1000.0)).put("meanMs", r2(h.getMean() / 1000));
  }

  private static double r2(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private void append(JsonObject r) throws Exception {
    Path file = Path.of(o.str("results", "load-tests/query-results.jsonl"));
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, r.encode() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static String f(double v) {
    return v >= 100 ? String.format("%.0f", v) : v >= 10 ? String.format("%.1f", v) : String.format("%.2f", v);
  }

  private void printTable(String label, JsonObject ds, List<JsonObject> results, List<JsonObject> raw) {
    Map<String, JsonObject> rawBy = new LinkedHashMap<>();
    raw.forEach(x -> rawBy.put(x.getString("route"), x));
    System.out.printf("%n### Query latency, dataset %s: %,d events, %,d persons, %d days (%s .. %s)%n%n", label,
        ds.getLong("events"), ds.getLong("persons", -1L), d.days, d.firstDay(), d.endDay.minusDays(1));
    System.out.println("| route | target p95 | cold n | cold p50 | cold p95 | cold p99 | cold max | warm p50 | "
        + "warm p95 | warm p99 | errors | raw SQL (median) |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (JsonObject r : results) {
      JsonObject c = r.getJsonObject("cold");
      JsonObject w = r.getJsonObject("warm");
      Double t = r.getDouble("targetP95Ms");
      String verdict = t == null ? "" : c.getDouble("p95Ms") <= t ? " ✓" : " ✗";
      JsonObject rb = rawBy.get(r.getString("route"));
      String rawCell = rb == null ? "" : rb.containsKey("medianMs") ? f(rb.getDouble("medianMs")) + " ms"
          : rb.getString("error", "");
      System.out.printf("| %s | %s | %d | %s | %s%s | %s | %s | %s | %s | %s | %d | %s |%n", r.getString("route"),
          t == null ? "–" : "≤ " + t.intValue() + " ms", c.getLong("n"), f(c.getDouble("p50Ms")),
          f(c.getDouble("p95Ms")), verdict, f(c.getDouble("p99Ms")), f(c.getDouble("maxMs")),
          f(w.getDouble("p50Ms")), f(w.getDouble("p95Ms")), f(w.getDouble("p99Ms")), r.getInteger("errors"),
          rawCell);
    }
    System.out.println("\n(ms; cold = distinct requests, result-cache misses; warm = repeats, cache hits; raw SQL = "
        + "the equivalent aggregate over raw events for the whole period, no rollups: user = the heaviest person, "
        + "funnel = " + String.join(" → ", FUNNELS[0]) + ")");
  }
}
