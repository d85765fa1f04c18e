package io.tally;

import io.tally.support.ChildJvm;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the real entry point in its own JVM, as a user would. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MainProcessTest {

  private static ProcessBuilder tally(Path log, String... env) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // with the collector flags README.md's run command gives
    ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(java, "-Xmx512m", "-XX:MaxTenuringThreshold=1",
        "-XX:MaxGCPauseMillis=30", "-cp", System.getProperty("java.class.path"), "io.tally.Main"));
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("TALLY_"));
    for (int i = 0; i < env.length; i += 2) {
      pb.environment().put(env[i], env[i + 1]);
    }
    return pb;
  }

  @Test
  void verifiesThatSigtermDrainsAndExitsZeroWithinTenSeconds() throws Exception {
    TestServers s = TestServers.get();
    int port;
    try (ServerSocket ss = new ServerSocket(0)) {
      port = ss.getLocalPort();
    }
    Path log = Files.createTempFile(Path.of("target"), "main-", ".log");
    // GIVEN Tally started by its main class with the default config and env overrides
    Process p = tally(log, "TALLY_PG_URL", s.pgUrl().url(), "TALLY_REDIS_URL", s.redisUrl(),
        "TALLY_HTTP_PORT", String.valueOf(port)).start();
    try {
      Http http = new Http(port, "dev-write-key", "dev-read-key");
      // a start on a loaded machine takes a while (YAUAA's matchers alone take seconds): up to 90 s, asked every 100 ms
      boolean ready = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!ready && System.nanoTime() < deadline && p.isAlive()) {
        try {
          ready = http.get("/health/ready").status() == 200;
        } catch (RuntimeException notYet) {
          // not listening yet
        }
        if (!ready) {
          Thread.sleep(100);
        }
      }
      assertTrue(ready, Files.readString(log));
      String banner = Files.readString(log);
      assertTrue(banner.contains("dev-write-key") && banner.contains("for local use only"), banner);
      // AND it logs the collector settings it runs with, without a hint since they are the recommended ones
      assertTrue(banner.contains("max heap 512 MiB; MaxTenuringThreshold=1, MaxGCPauseMillis=30"), banner);
      assertFalse(banner.contains("for a steadier ack latency"), banner);
      assertEquals(200, http.post(Events.event("page_view", "u-main").encode()).status());
      // WHEN it receives SIGTERM
      long start = System.nanoTime();
      p.destroy();
      // THEN it exits 0 within 10 s
      assertTrue(p.waitFor(10, TimeUnit.SECONDS), "did not stop within 10 s");
      assertEquals(0, p.exitValue(), Files.readString(log));
      assertTrue((System.nanoTime() - start) / 1e9 < 10);
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void verifiesThatInvalidConfigurationStopsTheStartNamingTheKey() throws Exception {
    Path log = Files.createTempFile(Path.of("target"), "main-bad-", ".log");
    Process p = tally(log, "TALLY_HTTP_PORT", "eighty").start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    String out = Files.readString(log);
    assertTrue(out.contains("http.port") && out.contains("TALLY_HTTP_PORT"), out);
    new File(log.toString()).delete();
  }

  @Test
  void verifiesThatTheCollectorLineNamesTheRecommendedFlagsOnlyWhenTheyDiffer() {
    String plain = Tally.collectorSettings("G1 Young Generation, G1 Old Generation", 6144, "15", "200");
    assertTrue(plain.startsWith("JVM: G1 Young Generation, G1 Old Generation; max heap 6144 MiB; "
        + "MaxTenuringThreshold=15, MaxGCPauseMillis=200"), plain);
    assertTrue(plain.contains("run java with -XX:MaxTenuringThreshold=1 -XX:MaxGCPauseMillis=30"), plain);
    // one of the two flags set is not enough
    assertTrue(Tally.collectorSettings("G1", 1024, "1", "200").contains("run java with"));
    assertEquals("JVM: G1; max heap 1024 MiB; MaxTenuringThreshold=1, MaxGCPauseMillis=30",
        Tally.collectorSettings("G1", 1024, "1", "30"));
  }
}
