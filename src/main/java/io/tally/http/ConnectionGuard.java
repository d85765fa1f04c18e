package io.tally.http;

import io.tally.auth.Perimeter;
import io.tally.config.TallyConfig;
import io.tally.error.ApiError;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.impl.ConnectionBase;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The deadlines of one HTTP verticle's connections, and its share of the per-address cap. Vert.x offers idle timeouts
 * only, which a client sending one byte a second never meets; here each connection has a deadline for what it owes:
 * <ul>
 *   <li>waiting for a request head: {@code http.headerTimeoutMs} on a new connection, {@code http.idleTimeoutMs}
 *   after a response (the keep-alive idle time, which also bounds a head trickled on a kept-alive connection);
 *   missed: the connection is closed;</li>
 *   <li>receiving a request's body: {@code http.bodyTimeoutMs} from its head; missed: 408 and close;</li>
 *   <li>none while the server is answering (the routes bound their own time) or once upgraded to a WebSocket (pings
 *   and pongs do).</li>
 * </ul>
 * Confined to the verticle's event loop: one periodic sweep over its connections replaces a timer per request (no
 * allocation per request, and the deadlines are kept to within a quarter of the shortest timeout). The sweep also
 * lets the shared table of failed keys forget clients whose minute is over.
 */
final class ConnectionGuard {
  private enum Phase { AWAIT_HEAD, BODY, RESPONDING, UPGRADED }

  /** One open connection: its address's key (null: exempt from the cap), what it owes and by when. */
  private static final class Tracked {
    final HttpConnection conn;
    final String key;
    final boolean overCap;
    Phase phase = Phase.AWAIT_HEAD;
    long deadline;
    boolean served;
    HttpServerRequest request;

    Tracked(HttpConnection conn, String key, boolean overCap, long deadline) {
      this.conn = conn;
      this.key = key;
      this.overCap = overCap;
      this.deadline = deadline;
    }
  }

  private final Perimeter perimeter;
  private final TallyConfig.Perimeter cfg;
  private final long retryAfterMs;
  private final Map<HttpConnection, Tracked> open = new HashMap<>();

  ConnectionGuard(Perimeter perimeter, long retryAfterMs) {
    this.perimeter = perimeter;
    this.cfg = perimeter.settings();
    this.retryAfterMs = retryAfterMs;
  }

  /** How often {@link #sweep} should run: a quarter of the shortest timeout, between 50 ms and 1 s. */
  long sweepEveryMs() {
    long shortest = Math.min(cfg.headerTimeoutMs(), Math.min(cfg.bodyTimeoutMs(), cfg.idleTimeoutMs()));
    return Math.max(50, Math.min(1_000, shortest / 4));
  }

  /** A new connection: counted for its address, owing its first request head. */
  void opened(HttpConnection conn) {
    boolean[] overCap = new boolean[1];
    String key = perimeter.opened(conn.remoteAddress(), overCap);
    Tracked t = new Tracked(conn, key, overCap[0], System.nanoTime() + nanos(cfg.headerTimeoutMs()));
    open.put(conn, t);
    if (conn instanceof ConnectionBase base) {
      // the channel's own close: HttpConnection.closeHandler is not called for a connection upgraded to a WebSocket
      // (Vert.x replaces its handler), and WebSockets must leave the count when they close (ConnectionCapTest)
      base.closeFuture().onComplete(v -> closed(t));
    } else {
      conn.closeHandler(v -> closed(t));
    }
  }

  private void closed(Tracked t) {
    if (open.remove(t.conn) != null) {
      perimeter.closed(t.key);
    }
  }

  /** A request head arrived: false when it was answered here (its connection is over the cap). */
  boolean admit(HttpServerRequest req) {
    Tracked t = open.get(req.connection());
    if (t == null) {
      return true;
    }
    if (t.overCap) {
      perimeter.metrics().connectionRefused();
      int cap = cfg.maxConnectionsPerAddress();
      ErrorAnswer.send(req, ApiError.tooManyRequests("too_many_connections", "more than " + cap + " open "
          + "connections from this address (http.maxConnectionsPerAddress); close some, or retry later",
          "http.maxConnectionsPerAddress", cap, retryAfterMs), true);
      return false;
    }
    t.request = req;
    t.served = true;
    t.phase = Phase.BODY;
    t.deadline = System.nanoTime() + nanos(cfg.bodyTimeoutMs());
    return true;
  }

  /** Moves each connection along what it did since the last sweep and cuts off those past their deadline. */
  void sweep() {
    perimeter.sweepKeyFailures();
    long now = System.nanoTime();
    for (Tracked t : new ArrayList<>(open.values())) {
      if (t.phase == Phase.BODY) {
        if (t.request.isEnded()) {
          t.phase = Phase.RESPONDING;
        } else if (now - t.deadline > 0) {
          bodyTimedOut(t);
          continue;
        }
      }
      if (t.phase == Phase.RESPONDING) {
        HttpServerResponse res = t.request.response();
        if (res.ended() && res.getStatusCode() == 101) {
          t.phase = Phase.UPGRADED;
        } else if (res.ended()) {
          t.phase = Phase.AWAIT_HEAD;
          t.deadline = now + nanos(cfg.idleTimeoutMs());
        }
      } else if (t.phase == Phase.AWAIT_HEAD && now - t.deadline > 0) {
        perimeter.metrics().timedOut(t.served ? "idle" : "header");
        t.conn.close();
        closed(t);
      }
    }
  }

  private void bodyTimedOut(Tracked t) {
    perimeter.metrics().timedOut("body");
    HttpServerResponse res = t.request.response();
    if (res.headWritten() || res.ended()) {
      t.conn.close();
    } else {
      ErrorAnswer.send(t.request, new ApiError(408, "body_timeout", "the request body was not complete within "
          + cfg.bodyTimeoutMs() + " ms (http.bodyTimeoutMs)", "http.bodyTimeoutMs", cfg.bodyTimeoutMs(), null), true);
    }
    t.phase = Phase.RESPONDING;
    t.deadline = Long.MAX_VALUE;
  }

  private static long nanos(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms);
  }
}
