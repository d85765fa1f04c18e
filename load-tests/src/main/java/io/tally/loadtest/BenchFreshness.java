package io.tally.loadtest;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How soon the derived tables reflect an acknowledged event, measured beside a load run ({@code --freshness=true}):
 * {@code PERSONS} probe persons, each on a thread of its own, send one page view at a time into one session of
 * theirs, and after the ack ask {@code GET /v1/sessions/{id}} every {@value #POLL_MS} ms until the session counts
 * it. The time from the ack to the first answer that counts it is recorded (ms resolution of the poll). The first
 * probe of a person measures a new person and session, every later one a stored session extended by one event (what
 * {@code writer.derivedRefreshMs} lets wait). The probes' events carry their own label, so the load run's count of
 * stored == acknowledged is unaffected; their few requests a second are part of the load measured.
 */
final class BenchFreshness implements AutoCloseable {
  static final int PERSONS = 8;
  static final long POLL_MS = 50;
  /** A probe not seen after this long is recorded at this value and counted as timed out. */
  static final long GIVE_UP_MS = 120_000;

  private final URI target;
  private final String writeKey;
  private final String readKey;
  private final String label;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Histogram newLag = new Histogram(GIVE_UP_MS, 3);
  private final Histogram storedLag = new Histogram(GIVE_UP_MS, 3);
  private final AtomicLong timeouts = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  BenchFreshness(URI target, String writeKey, String readKey, String runId) {
    this.target = target;
    this.writeKey = writeKey;
    this.readKey = readKey;
    this.label = "probe-" + runId;
  }

  /** Starts the probe persons; {@link #close} stops them and returns once each has finished its probe. */
  void start() {
    for (int i = 0; i < PERSONS; i++) {
      String person = label + "-p" + i;
      Thread t = new Thread(() -> probeLoop(person), "freshness-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private void probeLoop(String person) {
    String session = person + "-s";
    int sent = 0;
    while (running) {
      try {
        long acked = send(person, session);
        sent++;
        long lag = awaitCounted(session, sent, acked);
        if (lag < 0) {
          timeouts.incrementAndGet();
          lag = GIVE_UP_MS;
        }
        synchronized (this) {
          (sent == 1 ? newLag : storedLag).recordValue(Math.min(lag, GIVE_UP_MS));
        }
        Thread.sleep(200 + (long) (Math.random() * 800));
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        failures.incrementAndGet();
        sleepQuietly(500);
      }
    }
  }

  /** Sends one event and returns the time of its ack (ms); throws unless it was accepted. */
  private long send(String person, String session) throws Exception {
    String body = new JsonObject().put("batch", new io.vertx.core.json.JsonArray().add(new JsonObject()
        .put("id", UUID.randomUUID().toString()).put("type", "page_view").put("category", "navigation")
        .put("label", label).put("userId", person).put("sessionId", session)
        .put("timestamp", Instant.now().toString()).put("page", new JsonObject().put("path", "/probe")))).encode();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(target.resolve("/v1/events"))
        .header("Authorization", "Bearer " + writeKey).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200 || new JsonObject(r.body()).getInteger("accepted", 0) != 1) {
      throw new IllegalStateException("probe event not accepted: " + r.statusCode() + " " + r.body());
    }
    return System.currentTimeMillis();
  }

  /** Ms from {@code ackedMs} until the session counts {@code events} events, or -1 after {@link #GIVE_UP_MS}. */
  private long awaitCounted(String session, int events, long ackedMs) throws Exception {
    HttpRequest ask = HttpRequest.newBuilder(target.resolve("/v1/sessions/" + session))
        .header("Authorization", "Bearer " + readKey).timeout(Duration.ofSeconds(30)).GET().build();
    while (System.currentTimeMillis() - ackedMs < GIVE_UP_MS) {
      HttpResponse<String> r = http.send(ask, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && new JsonObject(r.body()).getInteger("eventCount", 0) >= events) {
        return System.currentTimeMillis() - ackedMs;
      }
      if (!running && System.currentTimeMillis() - ackedMs > 5_000) {
        return -1;
      }
      Thread.sleep(POLL_MS);
    }
    return -1;
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The lags measured, as fields of the run's result line. */
  synchronized JsonObject result() {
    Histogram all = newLag.copy();
    all.add(storedLag);
    return new JsonObject().put("probes", all.getTotalCount()).put("p50Ms", all.getValueAtPercentile(50))
        .put("p99Ms", all.getValueAtPercentile(99)).put("maxMs", all.getMaxValue())
        .put("newPersonP99Ms", newLag.getValueAtPercentile(99))
        .put("storedSessionP50Ms", storedLag.getValueAtPercentile(50))
        .put("storedSessionP99Ms", storedLag.getValueAtPercentile(99))
        .put("timeouts", timeouts.get()).put("failures", failures.get());
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    for (Thread t : threads) {
      t.join(GIVE_UP_MS + 10_000);
    }
  }
}
