package io.tally;

import io.tally.support.ChildJvm;
import io.tally.support.Events;
import io.tally.support.Http;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that the README's run command works on a fresh data directory with the embedded servers, as the user the
 * tests run as: an event is sent and read back, and SIGTERM stops it with exit 0. Run as root (as CI does), it also
 * verifies that the embedded PostgreSQL and Redis run as the unprivileged service account and say so.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MainEmbeddedTest {

  @Test
  void verifiesThatTheJarStartsOnAFreshDataDirectoryAsTheCurrentUserAndKeepsAnEvent() throws Exception {
    Path dataDir = Files.createTempDirectory(Path.of("target"), "main-embedded-").toAbsolutePath();
    dataDir.toFile().setExecutable(true, false);
    int port;
    try (ServerSocket ss = new ServerSocket(0)) {
      port = ss.getLocalPort();
    }
    Path log = Files.createTempFile(Path.of("target"), "main-embedded-", ".log");
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(javaBin, "-Xmx512m", "-cp",
        System.getProperty("java.class.path"), "io.tally.Main"));
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("TALLY_"));
    pb.environment().put("TALLY_DATA_DIR", dataDir.resolve("data").toString());
    pb.environment().put("TALLY_HTTP_PORT", String.valueOf(port));
    // GIVEN the jar started with nothing configured but a fresh data directory and a port
    Process p = pb.start();
    try {
      Http http = new Http(port, "dev-write-key", "dev-read-key");
      boolean ready = false;
      for (int i = 0; i < 1200 && !ready && p.isAlive(); i++) {
        try {
          ready = http.get("/health/ready").status() == 200;
        } catch (RuntimeException notYet) {
          Thread.sleep(100);
        }
      }
      assertTrue(ready, Files.readString(log));
      // WHEN an event is sent THEN it is read back
      assertEquals(200, http.post(Events.event("page_view", "u-main-embedded").encode()).status());
      String count = "/v1/events/count?from=" + java.time.Instant.now().minusSeconds(3600) + "&to="
          + java.time.Instant.now().plusSeconds(3600);
      assertEquals(1, http.get(count).json().getLong("count"), Files.readString(log));
      if ("root".equals(System.getProperty("user.name"))) {
        // AND as root the embedded servers run as the service account, in one log line
        String text = Files.readString(log);
        assertTrue(text.contains("running as root: the embedded PostgreSQL and Redis run as the system account"),
            text);
        Process ps = new ProcessBuilder("ps", "-o", "user=", "-C", "postgres").start();
        String users = new String(ps.getInputStream().readAllBytes());
        assertTrue(!users.isBlank() && !users.lines().allMatch(u -> u.trim().equals("root")), users);
      }
      // AND SIGTERM stops it with exit 0
      p.destroy();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "did not stop");
      assertEquals(0, p.exitValue(), Files.readString(log));
    } finally {
      p.destroyForcibly();
    }
  }
}
