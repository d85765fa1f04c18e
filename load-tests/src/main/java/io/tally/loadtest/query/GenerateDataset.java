package io.tally.loadtest.query;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Loads a generated dataset ({@link Dataset}) into Tally through the normal ingestion path: {@code POST /v1/events}
 * batches over several keep-alive connections, every batch retried until acknowledged (event ids are derived from
 * the event index, so a retry or a re-run is answered as duplicates, never stored twice).
 *
 * <pre>
 * java -cp target/tally-loadtest.jar io.tally.loadtest.query.GenerateDataset [--events=10000000] [--users=100000]
 *     [--days=30] [--seed=42] [--data-dir=load-tests/target/qbench-data] [--batch=500] [--connections=6]
 *     [--skip=N --count=N] [--fresh] [--dry-run] [--url=http://host:port --write-key=K --pg-url=postgresql://...]
 * </pre>
 *
 * The dataset's shape (seed, persons, days, last day) is recorded in {@code <data-dir>/dataset.json} with the number
 * of events loaded so far; a later run with a bigger {@code --events} grows the same dataset (1M now, 10M later),
 * and an interrupted run resumes where it stopped.
 */
public final class GenerateDataset {
  private static final byte[] END = new byte[0];

  private record Batch(long seq, long first, int n, byte[] body) {}

  private final Opts o;
  private final LongAdder sentEvents = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicReference<String> fatal = new AtomicReference<>();
  private final AtomicReference<String> firstRejection = new AtomicReference<>();
  private final Map<Long, Long> doneEnd = new ConcurrentHashMap<>();

  private GenerateDataset(Opts o) {
    this.o = o;
  }

  public static void main(String[] args) throws Exception {
    Opts o;
    try {
      o = new Opts(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println("usage: GenerateDataset [--events=10000000] [--users=100000] [--days=30] [--seed=42] "
          + "[--data-dir=DIR] [--batch=500] [--connections=6] [--skip=N] [--count=N] [--fresh] [--dry-run] "
          + "[--url=http://host:port --write-key=K --pg-url=postgresql://...]");
      System.exit(2);
      return;
    }
    int code = new GenerateDataset(o).run();
    System.exit(code);
  }

  private int run() throws Exception {
    Path metaFile = o.metaFile();
    if (o.bool("fresh", false) && !o.has("dry-run")) {
      wipe(o.dataDir());
    }
    JsonObject meta = Opts.readMeta(metaFile);
    Dataset d = o.dataset(meta);
    if (meta != null) {
      for (String k : new String[] {"users", "days", "seed"}) {
        if (o.has(k) && o.num(k, 0) != meta.getLong(k)) {
          throw new IllegalStateException(metaFile + " describes a dataset with " + k + "=" + meta.getLong(k)
              + "; use --fresh to start over or another --data-dir");
        }
      }
    }
    long loaded = meta == null ? 0 : meta.getLong("loaded");
    long target = o.num("events", 10_000_000);
    long skip = o.num("skip", loaded);
    long count = o.num("count", target - skip);
    System.out.printf("dataset: %,d persons over %d days [%s, %s) UTC, seed %d; %,d events loaded before; "
            + "this run: events [%,d, %,d)%n", d.users, d.days, d.firstDay(), d.endDay, d.seed, loaded, skip,
        skip + Math.max(0, count));
    if (o.has("dry-run")) {
      dryRun(d, skip, Math.min(Math.max(count, 0), o.num("dry-run-count", count)));
      return 0;
    }
    if (count <= 0) {
      System.out.println("nothing to load (" + loaded + " events already loaded; raise --events to grow)");
      return 0;
    }
    if (skip > loaded) {
      System.out.println("WARNING: --skip is past the loaded events: events [" + loaded + ", " + skip
          + ") are left out and dataset.json keeps counting from " + loaded);
    }
    long deadline = System.currentTimeMillis() + o.num("max-minutes", 90) * 60_000;
    try (DatasetServers servers = DatasetServers.open(o)) {
      meta = Opts.describe(d, loaded).put("dataDir", o.dataDir().toString());
      Opts.writeMeta(metaFile, meta);
      ensurePartitions(servers, d);
      long watermark = load(servers, d, skip, count, deadline, meta, metaFile, loaded);
      if (skip <= loaded) {
        Opts.writeMeta(metaFile, meta.put("loaded", Math.max(loaded, watermark)));
      }
      if (fatal.get() != null) {
        System.out.println("FAILED: " + fatal.get() + "; the loaded events are kept, run again to resume");
        return 1;
      }
      Thread.sleep(3_000); // the derived tables (sessions, people, rollups) trail the events by under a second
      finish(servers, d);
    }
    System.out.println("data directory " + o.dataDir() + ": " + Opts.human(Opts.dirBytes(o.dataDir()))
        + " (delete it to free the space; QueryBench --data-dir=" + o.dataDir() + " benchmarks it)");
    return rejected.sum() > 0 ? 1 : 0;
  }

  private static void wipe(Path dir) throws Exception {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.exists(dir.resolve("dataset.json")) && !Files.exists(dir.resolve("pg"))) {
      throw new IllegalStateException("--fresh: " + dir + " does not look like a dataset directory; not deleting");
    }
    System.out.println("--fresh: deleting " + dir);
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Back-dated events land in the default partition unless their day has one: create them all first. */
  private static void ensurePartitions(DatasetServers servers, Dataset d) throws Exception {
    if (servers.pg == null) {
      System.out.println("WARNING: no --pg-url: daily partitions for " + d.firstDay() + " .. " + d.endDay.minusDays(1)
          + " not checked (run SELECT tally_ensure_partition(d::date) FROM generate_series(...) yourself)");
      return;
    }
    try (Connection c = servers.jdbc(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE tally_ensure_partition(d::date)) "
             + "FROM generate_series(DATE '" + d.firstDay() + "', DATE '" + d.endDay.minusDays(1)
             + "', interval '1 day') d")) {
      rs.next();
      System.out.printf("daily partitions %s .. %s ready (%d created)%n", d.firstDay(), d.endDay.minusDays(1),
          rs.getInt(1));
    }
  }

  private long load(DatasetServers servers, Dataset d, long skip, long count, long deadline, JsonObject meta,
      Path metaFile, long loadedBefore) throws Exception {
    int batchSize = (int) o.num("batch", 500);
    int connections = (int) o.num("connections", 6);
    BlockingQueue<Batch> queue = new ArrayBlockingQueue<>(connections * 4);
    long end = skip + count;
    Thread producer = new Thread(() -> produce(d, skip, end, batchSize, queue, connections), "generate");
    producer.setDaemon(true);
    producer.start();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
    Thread[] senders = new Thread[connections];
    for (int i = 0; i < connections; i++) {
      senders[i] = new Thread(() -> send(http, servers, queue), "send-" + i);
      senders[i].setDaemon(true);
      senders[i].start();
    }
    long start = System.nanoTime();
    long lastT = start;
    long lastAcked = 0;
    long nextSeq = 0;
    long watermark = skip;
    boolean alive = true;
    while (alive) {
      alive = false;
      for (Thread t : senders) {
        t.join(200);
        alive |= t.isAlive();
      }
      long now = System.nanoTime();
      if (alive && now - lastT < 5_000_000_000L) {
        if (System.currentTimeMillis() > deadline && fatal.compareAndSet(null, "--max-minutes reached")) {
          stop.set(true);
        }
        continue;
      }
      Long e;
      while ((e = doneEnd.remove(nextSeq)) != null) {
        watermark = e;
        nextSeq++;
      }
      if (skip <= loadedBefore) {
        Opts.writeMeta(metaFile, meta.copy().put("loaded", Math.max(loadedBefore, watermark)));
      }
      long acked = accepted.sum() + duplicates.sum();
      double rate = (acked - lastAcked) / ((now - lastT) / 1e9);
      double avg = acked / Math.max(1e-9, (now - start) / 1e9);
      long left = count - acked - rejected.sum();
      System.out.printf("  %5.0fs  sent %,d  acked %,d (%.1f %%)  %,.0f ev/s now, %,.0f avg  ETA %s  "
              + "dup %,d  rejected %,d  retries %,d%n", (now - start) / 1e9, sentEvents.sum(), acked,
          100.0 * acked / count, rate, avg, avg > 0 ? eta((long) (left / avg)) : "?", duplicates.sum(),
          rejected.sum(), retries.sum());
      lastT = now;
      lastAcked = acked;
    }
    Long e;
    while ((e = doneEnd.remove(nextSeq)) != null) {
      watermark = e;
      nextSeq++;
    }
    double secs = (System.nanoTime() - start) / 1e9;
    System.out.printf("loaded %,d events in %.0f s (%,.0f events/s): %,d accepted, %,d duplicates, %,d rejected%n",
        accepted.sum() + duplicates.sum() + rejected.sum(), secs, (accepted.sum() + duplicates.sum()) / secs,
        accepted.sum(), duplicates.sum(), rejected.sum());
    if (firstRejection.get() != null) {
      System.out.println("first rejection: " + firstRejection.get());
    }
    return watermark;
  }

  private static String eta(long s) {
    return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
  }

  private void produce(Dataset d, long skip, long end, int batchSize, BlockingQueue<Batch> queue, int consumers) {
    try {
      long[] loc = d.locate(skip);
      long s = loc[0];
      int offset = (int) loc[1];
      long first = loc[2];
      long[] seq = {0};
      long[] batchFirst = {skip};
      int[] n = {0};
      StringBuilder sb = new StringBuilder(batchSize * 700);
      sb.append("{\"batch\":[");
      while (first < end && !stop.get()) {
        int len = d.sessionLength(s);
        int to = (int) Math.min(len, end - first);
        d.session(s, first, offset, to, (index, ts, body, st) -> {
          if (n[0] > 0) {
            sb.append(',');
          }
          d.appendEvent(sb, index, ts, body, st);
          n[0]++;
          if (n[0] == batchSize) {
            sb.append("]}");
            put(queue, new Batch(seq[0]++, batchFirst[0], n[0], sb.toString().getBytes(StandardCharsets.UTF_8)));
            sb.setLength(0);
            sb.append("{\"batch\":[");
            batchFirst[0] += n[0];
            n[0] = 0;
          }
        });
        first += len;
        offset = 0;
        s++;
      }
      if (n[0] > 0 && !stop.get()) {
        sb.append("]}");
        put(queue, new Batch(seq[0]++, batchFirst[0], n[0], sb.toString().getBytes(StandardCharsets.UTF_8)));
      }
    } catch (RuntimeException e) {
      fatal.compareAndSet(null, "generator failed: " + e);
      stop.set(true);
    } finally {
      for (int i = 0; i < consumers; i++) {
        try {
          queue.put(new Batch(-1, 0, 0, END));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private void put(BlockingQueue<Batch> queue, Batch b) {
    try {
      while (!stop.get() && !queue.offer(b, 200, TimeUnit.MILLISECONDS)) {
        // senders are busy
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop.set(true);
    }
  }

  private void send(HttpClient http, DatasetServers servers, BlockingQueue<Batch> queue) {
    try {
      while (true) {
        Batch b = queue.take();
        if (b.body == END) {
          return;
        }
        if (stop.get()) {
          continue; // drain until the end marker
        }
        sentEvents.add(b.n);
        HttpRequest req = HttpRequest.newBuilder(servers.tally.resolve("/v1/events"))
            .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + servers.writeKey)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(b.body)).build();
        for (int attempt = 1; ; attempt++) {
          String problem;
          long backoff = 1000;
          try {
            HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() == 200) {
              JsonObject a = new JsonObject(resp.body());
              accepted.add(a.getInteger("accepted", 0));
              duplicates.add(a.getInteger("duplicates", 0));
              JsonArray rej = a.getJsonArray("rejected", new JsonArray());
              if (!rej.isEmpty()) {
                rejected.add(rej.size());
                firstRejection.compareAndSet(null, rej.getValue(0) + " in batch from event " + b.first);
              }
              doneEnd.put(b.seq, b.first + b.n);
              break;
            }
            problem = "HTTP " + resp.statusCode() + ": " + resp.body();
            if (resp.statusCode() != 503 && resp.statusCode() != 429 && resp.statusCode() < 500) {
              fatal.compareAndSet(null, problem);
              stop.set(true);
              break;
            }
            backoff = resp.headers().firstValue("Retry-After").map(v -> Long.parseLong(v.trim()) * 1000)
                .orElse(1000L);
          } catch (java.io.IOException e) {
            problem = e.toString();
          }
          retries.increment();
          if (attempt >= 30 || stop.get()) {
            fatal.compareAndSet(null, "batch from event " + b.first + " failed " + attempt + " times: " + problem);
            stop.set(true);
            break;
          }
          Thread.sleep(Math.min(backoff, 5000));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void finish(DatasetServers servers, Dataset d) throws Exception {
    if (servers.pg == null) {
      return;
    }
    try (Connection c = servers.jdbc(); Statement st = c.createStatement()) {
      long t0 = System.nanoTime();
      st.execute("ANALYZE"); // what autovacuum would do soon after a bulk load; plans depend on it
      try (ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM events_default),"
          + " (SELECT count(*) FROM users), (SELECT count(*) FROM sessions), "
          + "pg_size_pretty(pg_database_size(current_database()))")) {
        rs.next();
        System.out.printf("database: %,d events (%,d in the default partition), %,d persons, %,d sessions, %s "
                + "(ANALYZE + counts %.1f s)%n", rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
            rs.getString(5), (System.nanoTime() - t0) / 1e9);
      }
    }
  }

  /** Generates without sending: the event mix, persons and sessions of a range, and the generator's speed. */
  private static void dryRun(Dataset d, long skip, long count) {
    Map<String, Long> types = new TreeMap<>();
    Set<Integer> persons = new HashSet<>();
    Map<String, Long> devices = new HashMap<>();
    long[] bytes = {0};
    long[] sessions = {0};
    long[] dayCounts = new long[d.days];
    long t0 = System.nanoTime();
    long[] loc = d.locate(skip);
    long s = loc[0];
    int offset = (int) loc[1];
    long first = loc[2];
    long end = skip + count;
    StringBuilder sb = new StringBuilder(1024);
    String[] sample = {null};
    while (first < end) {
      int len = d.sessionLength(s);
      sessions[0]++;
      d.session(s, first, offset, (int) Math.min(len, end - first), (index, ts, body, st) -> {
        sb.setLength(0);
        d.appendEvent(sb, index, ts, body, st);
        if (sample[0] == null) {
          sample[0] = sb.toString();
        }
        bytes[0] += sb.length();
        String ty = body.substring(16, body.indexOf('"', 16));
        types.merge(ty, 1L, Long::sum);
        persons.add(st.pid);
        devices.merge(st.ua.contains("iPad") || st.ua.contains("SM-X") ? "tablet"
            : st.ua.contains("Mobile") ? "mobile" : "desktop", 1L, Long::sum);
        dayCounts[(int) ((ts - d.startMs) / 86_400_000L)]++;
      });
      first += len;
      offset = 0;
      s++;
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("dry run: %,d events, %,d sessions (%.1f events each), %,d persons, %.0f bytes/event, "
        + "generated at %,.0f events/s%n", count, sessions[0], count / (double) sessions[0], persons.size(),
        bytes[0] / (double) count, count / secs);
    types.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> System.out.printf("  %-24s %,10d  %5.2f %%%n", e.getKey(), e.getValue(),
            100.0 * e.getValue() / count));
    System.out.println("  devices (events): " + devices);
    System.out.println("  events per day: " + java.util.Arrays.toString(dayCounts));
    System.out.println("  first event: " + sample[0]);
  }
}
