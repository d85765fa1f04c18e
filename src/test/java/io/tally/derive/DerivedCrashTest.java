package io.tally.derive;

import io.tally.support.ChildJvm;
import io.tally.support.Db;
import io.tally.support.DerivedDataset;
import io.tally.support.DerivedOracle;
import io.tally.support.Http;
import io.tally.support.TestServers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILLs a real Tally process at random moments while clients send a dataset that exercises every derived rule
 * (identity links, traits, touches, ties, late events, bots, server-cut sessions), restarts it each time, and after
 * each restart compares every derived table with the tests' own from-scratch derivation of the stored events.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class DerivedCrashTest {
  private static final int KILLS = 8;

  @Test
  void verifiesThatEveryDerivedTableEqualsAFromScratchDerivationAfterEverySigkill() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String project = "crash-" + s;
    long seed = 20261207L;
    DerivedDataset data = DerivedDataset.generate(seed, Instant.now().minus(1, ChronoUnit.HOURS), 60);
    List<String> batches = data.batches(100);
    int total = data.all().size();
    TallyProcess tally = new TallyProcess(project, "w-" + s, "r-" + s);
    Random rnd = new Random(seed);
    ConcurrentLinkedDeque<Integer> todo = new ConcurrentLinkedDeque<>();
    for (int i = 0; i < batches.size(); i++) {
      todo.add(i);
    }
    AtomicInteger acked = new AtomicInteger();
    int kills = 0;
    try {
      tally.start();
      // GIVEN two clients sending batches of 100, retrying what was not acknowledged
      while (!todo.isEmpty()) {
        boolean kill = kills < KILLS;
        // killed after a few more acknowledged batches and a random delay (a flush runs every 500 ms)
        int killAfter = acked.get() + 1 + rnd.nextInt(3);
        long delayMs = rnd.nextInt(250);
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> senders = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
          Thread t = new Thread(() -> send(tally.http(), batches, todo, acked, stop));
          t.start();
          senders.add(t);
        }
        // WHEN the server is killed at a random moment of the ingestion
        if (kill) {
          long deadline = System.currentTimeMillis() + 60_000;
          while (acked.get() < killAfter && !todo.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(2);
          }
          Thread.sleep(delayMs);
          tally.kill();
          kills++;
          stop.set(true);
        }
        for (Thread t : senders) {
          t.join();
        }
        if (!kill) {
          break;
        }
        // THEN after the restart (its start-up repair done) every derived table equals the derivation from events
        tally.start();
        assertDerivedEqual(project, "after kill " + kills + " (" + acked.get() + " batches acknowledged)", tally);
      }
      // the last batches were acked: one more kill right after the last ack
      assertTrue(todo.isEmpty());
      tally.kill();
      tally.start();
      assertEquals(total, Db.eventsOf(project), "every acknowledged event stored once");
      assertDerivedEqual(project, "after the final kill", tally);
      assertTrue(kills >= KILLS, "killed " + kills + " times during ingestion");
      // AND the query side, whose in-memory indexes loaded from the tables after the restart, answers the usage the
      // stored events give (the figures a crash once left wrong for good)
      Instant from = Instant.now().minus(5, ChronoUnit.DAYS).truncatedTo(ChronoUnit.HOURS);
      Instant to = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
      JsonObject usage = tally.http().get("/v1/metrics/usage?from=" + from + "&to=" + to).json();
      String ev = "FROM events WHERE project_id = ? AND NOT is_bot AND ts >= ?::timestamptz AND ts < ?::timestamptz";
      Object[] args = {project, from.toString(), to.toString()};
      assertEquals(Db.count("SELECT count(DISTINCT coalesce(user_id, anonymous_id)) " + ev, args),
          usage.getJsonObject("users").getLong("active"), usage.encode());
      assertEquals(Db.count("SELECT count(DISTINCT session_id) " + ev, args),
          usage.getJsonObject("sessions").getLong("total"), usage.encode());
      assertEquals(Db.count("SELECT count(*) " + ev + " AND type = 'conversation_created'", args),
          usage.getJsonObject("conversations").getLong("total"), usage.encode());
      assertEquals(((Number) Db.query("SELECT sum((properties ->> 'amount')::float8) AS s " + ev
          + " AND type = 'payment'", args).get(0).get("s")).doubleValue(),
          usage.getJsonObject("revenue").getDouble("total"), 1e-6, usage.encode());
    } finally {
      tally.kill();
    }
  }

  private static void assertDerivedEqual(String project, String when, TallyProcess tally) throws IOException {
    List<String> diff = DerivedOracle.differences(project);
    assertTrue(diff.isEmpty(), when + ": " + diff.size() + " differences:\n" + String.join("\n", diff)
        + "\n--- log tail ---\n" + tally.logTail());
  }

  /** Sends batches until none is left or told to stop; a batch not acknowledged goes back to the queue. */
  private static void send(Http http, List<String> batches, ConcurrentLinkedDeque<Integer> todo, AtomicInteger acked,
                           AtomicBoolean stop) {
    Integer next;
    while (!stop.get() && (next = todo.poll()) != null) {
      try {
        Http.Response r = http.post(batches.get(next));
        if (r.status() == 200) {
          JsonObject a = r.json();
          if (!a.getJsonArray("rejected", new JsonArray()).isEmpty()) {
            throw new AssertionError("rejected: " + a);
          }
          acked.incrementAndGet();
          continue;
        }
        todo.addFirst(next);
      } catch (RuntimeException dead) {
        todo.addFirst(next);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Tally's main class in a JVM of its own, on the shared test PostgreSQL and Redis. */
  static final class TallyProcess {
    private final String project;
    private final String writeKey;
    private final String readKey;
    private final Path config;
    private final Path log;
    private final int port;
    private Process process;

    TallyProcess(String project, String writeKey, String readKey) throws IOException {
      this.project = project;
      this.writeKey = writeKey;
      this.readKey = readKey;
      try (ServerSocket ss = new ServerSocket(0)) {
        port = ss.getLocalPort();
      }
      config = Files.createTempFile(Path.of("target"), "crash-", ".json");
      Files.writeString(config, new JsonObject().put("projects", new JsonArray().add(new JsonObject()
          .put("id", project).put("writeKeys", new JsonArray().add(writeKey))
          .put("readKeys", new JsonArray().add(readKey)).put("timezone", "UTC"))).encode());
      log = Files.createTempFile(Path.of("target"), "crash-", ".log");
    }

    Http http() {
      return new Http(port, writeKey, readKey);
    }

    void start() throws Exception {
      TestServers s = TestServers.get();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(java, "-Xmx512m", "-XX:MaxTenuringThreshold=1",
          "-XX:MaxGCPauseMillis=30", "-cp", System.getProperty("java.class.path"), "io.tally.Main"));
      pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().keySet().removeIf(k -> k.startsWith("TALLY_"));
      pb.environment().put("TALLY_CONFIG", config.toString());
      pb.environment().put("TALLY_PG_URL", s.pgUrl().url());
      pb.environment().put("TALLY_REDIS_URL", s.redisUrl());
      pb.environment().put("TALLY_HTTP_PORT", String.valueOf(port));
      process = pb.start();
      Http http = http();
      long deadline = System.currentTimeMillis() + 120_000;
      while (System.currentTimeMillis() < deadline) {
        if (!process.isAlive()) {
          throw new AssertionError("Tally exited at start:\n" + logTail());
        }
        try {
          if (http.get("/health/ready").status() == 200) {
            return;
          }
        } catch (RuntimeException notYet) {
          // not listening yet
        }
        Thread.sleep(50);
      }
      throw new AssertionError("Tally did not become ready:\n" + logTail());
    }

    void kill() throws InterruptedException {
      if (process != null && process.isAlive()) {
        process.destroyForcibly(); // SIGKILL
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }

    String logTail() throws IOException {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }

    String project() {
      return project;
    }
  }
}
