package io.tally.ingest;

import io.tally.auth.Perimeter;
import io.tally.config.TallyConfig;
import io.tally.support.Events;
import io.tally.support.RawSocket;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slow and keyless clients over raw sockets: unfinished heads and bodies, idle keep-alive connections and bodies
 * sent without a valid key are cut off by the server, on short timeouts configured for the test.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SlowClientTest {
  static final long HEADER_MS = 800;
  static final long BODY_MS = 1_200;
  static final long IDLE_MS = 1_500;
  /** The sweep runs a few times per timeout; a loaded machine may add a little more. */
  static final long SLACK_MS = 3_000;
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start(c -> c.withPerimeter(new TallyConfig.Perimeter(HEADER_MS, BODY_MS, IDLE_MS, 1_000,
        List.of("127.0.0.0/8", "::1/128"), 20, 60_000)));
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  @Test
  void verifiesThatARequestHeadSentOneByteAtATimeIsCutOffAtTheHeaderTimeout() {
    try (RawSocket s = new RawSocket(t.tally.port())) {
      // GIVEN a client that starts a request and then sends one header byte every 100 ms (never idle)
      long start = System.currentTimeMillis();
      s.write("POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      boolean open = true;
      while (open && System.currentTimeMillis() - start < HEADER_MS + SLACK_MS) {
        sleep(100);
        open = s.write("a") && !s.awaitClose(1);
      }
      long elapsed = System.currentTimeMillis() - start;
      // THEN the server closes it after the header timeout, not before
      assertTrue(s.awaitClose(1_000) || !open, "still open after " + elapsed + " ms");
      assertTrue(elapsed >= HEADER_MS - 100, "closed after only " + elapsed + " ms");
      // AND it is counted
      assertTrue(metric("analytics_http_timeouts_total{phase=\"header\"}") >= 1);
    }
  }

  @Test
  void verifiesThatABodyNotCompleteWithinTheBodyTimeoutIsAnswered408NamingTheLimitAndClosed() {
    try (RawSocket s = new RawSocket(t.tally.port())) {
      // GIVEN a request with a valid key whose body of 1,000 bytes trickles in one byte every 100 ms
      long start = System.currentTimeMillis();
      s.write("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t.writeKey
          + "\r\nContent-Length: 1000\r\n\r\n{");
      while (!s.received().contains("HTTP/1.1") && System.currentTimeMillis() - start < BODY_MS + SLACK_MS) {
        s.write(" ");
        s.awaitText("HTTP/1.1", 100);
      }
      long elapsed = System.currentTimeMillis() - start;
      // THEN it is answered 408, naming the setting and its value, after the body timeout, and the connection closes
      assertTrue(s.awaitText("\r\n\r\n{", 1_000), s.received());
      assertTrue(s.received().startsWith("HTTP/1.1 408"), s.received());
      assertTrue(elapsed >= BODY_MS - 100, "answered after only " + elapsed + " ms");
      s.awaitClose(2_000);
      JsonObject error = new JsonObject(s.firstBody());
      assertEquals("body_timeout", error.getString("error"));
      assertEquals("http.bodyTimeoutMs", error.getString("field"));
      assertEquals(BODY_MS, error.getLong("limit"));
      assertTrue(s.closedByServer(), s.received());
      assertTrue(metric("analytics_http_timeouts_total{phase=\"body\"}") >= 1);
    }
  }

  @Test
  void verifiesThatAKeepAliveConnectionInUseStaysOpenAndAnIdleOneIsClosedAtTheIdleTimeout() {
    try (RawSocket s = new RawSocket(t.tally.port())) {
      // GIVEN a keep-alive connection used every 500 ms for twice the idle timeout
      long start = System.currentTimeMillis();
      int answered = 0;
      while (System.currentTimeMillis() - start < 2 * IDLE_MS) {
        assertTrue(s.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
        answered++;
        assertTrue(s.awaitCount("HTTP/1.1 200", answered, 2_000), s.received());
        assertFalse(s.closedByServer(), "closed while in use: " + s.received());
        sleep(500);
      }
      // WHEN it then stays idle
      long idleFrom = System.currentTimeMillis();
      // THEN the server closes it after the idle timeout, not before
      assertTrue(s.awaitClose(IDLE_MS + SLACK_MS), "an idle connection stayed open");
      long idle = System.currentTimeMillis() - idleFrom;
      assertTrue(idle >= IDLE_MS - 600, "closed after only " + idle + " ms idle");
      assertEquals(answered, s.occurrences("HTTP/1.1 "), s.received());
    }
  }

  @Test
  void verifiesThatTheNextHeadOnAKeptAliveConnectionMustBeCompleteWithinTheIdleTimeout() {
    try (RawSocket s = new RawSocket(t.tally.port())) {
      // GIVEN a connection that made one request, then trickles the head of the next one
      s.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      assertTrue(s.awaitText("HTTP/1.1 200", 2_000), s.received());
      long start = System.currentTimeMillis();
      s.write("GET /health/live HTTP/1.1\r\nX-Slow: ");
      boolean open = true;
      while (open && System.currentTimeMillis() - start < IDLE_MS + SLACK_MS) {
        sleep(100);
        open = s.write("b") && !s.awaitClose(1);
      }
      // THEN it is closed within the idle timeout (and the slack of the sweep)
      assertTrue(!open || s.awaitClose(500), "a trickled second head kept the connection open");
    }
  }

  @Test
  void verifiesThatAMegabyteBodyWithoutAValidKeyIsRefusedBeforeItIsSentAndTheConnectionClosed() {
    // GIVEN routes with a body, each asked without a key, with an unknown key or with the wrong role's key
    String[][] cases = {
        {"POST", "/v1/events", null, "401"},
        {"POST", "/v1/events", "Bearer not-a-key-at-all", "401"},
        {"POST", "/v1/events", "Bearer " + t.readKey, "403"},
        {"POST", "/v1/funnels", null, "401"},
        {"POST", "/v1/patterns", "Bearer " + t.writeKey, "403"},
        {"PUT", "/v1/insights/settings", null, "401"},
        {"PUT", "/v1/segments/mine", "Bearer " + t.writeKey, "403"},
        {"PUT", "/v1/saved-funnels/mine", null, "401"},
    };
    byte[] chunk = new byte[64 * 1024];
    java.util.Arrays.fill(chunk, (byte) ' ');
    for (String[] c : cases) {
      try (RawSocket s = new RawSocket(t.tally.port())) {
        // WHEN the head announces 1 MiB and only the first 64 KiB are sent
        s.write(c[0] + " " + c[1] + " HTTP/1.1\r\nHost: x\r\n" + (c[2] == null ? "" : "Authorization: " + c[2]
            + "\r\n") + "Content-Type: application/json\r\nContent-Length: " + (1 << 20) + "\r\n\r\n");
        s.write(chunk);
        // THEN the refusal arrives before the rest of the body was sent
        assertTrue(s.awaitText("\r\n\r\n{", 3_000), c[0] + " " + c[1] + ": no answer before the body: "
            + s.received());
        assertTrue(s.received().startsWith("HTTP/1.1 " + c[3]), c[1] + ": " + s.received());
        // AND the server closes the connection, so the unread body cannot be taken for the next request
        int sent = 1;
        while (sent < 16 && s.write(chunk)) {
          sent++;
        }
        assertTrue(s.awaitClose(3_000), c[0] + " " + c[1] + ": connection left open");
        assertEquals(1, s.occurrences("HTTP/1.1 "), s.received());
      }
    }
  }

  @Test
  void verifiesThatHttp2IsNotSpokenNeitherByPriorKnowledgeNorByUpgrade() {
    // GIVEN a client speaking HTTP/2 by prior knowledge
    try (RawSocket s = new RawSocket(t.tally.port())) {
      s.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      s.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      // THEN it gets no HTTP/2 frame: at most a textual refusal (HTTP/1 framing), and the connection is closed
      assertTrue(s.awaitClose(HEADER_MS + SLACK_MS), s.received());
      assertTrue(s.received().isEmpty() || s.received().matches("(?s)HTTP/[0-9.]+ [45][0-9][0-9] .*"),
          s.received());
    }
    // GIVEN a client asking to upgrade to h2c
    try (RawSocket s = new RawSocket(t.tally.port())) {
      s.write("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
          + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
      // THEN it is answered in HTTP/1.1, not switched
      assertTrue(s.awaitText("\r\n\r\n", 3_000), s.received());
      assertTrue(s.received().startsWith("HTTP/1.1 200"), s.received());
    }
  }

  @Test
  void verifiesThatAValidRequestStillWorksOnTheSameServer() {
    assertEquals(200, t.http.post(Events.event("page_view", "u-slow-ok").encode()).status());
  }

  /** A value of /metrics (0 when absent). */
  static double metric(String series) {
    return metric(t, series);
  }

  static double metric(TestTally tally, String series) {
    return tally.http.get("/metrics").body().lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1))).orElse(0.0);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
