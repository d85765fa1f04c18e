package io.tally.metrics;

import java.util.function.IntSupplier;

/** What the HTTP perimeter counts: refused connections, timeouts, rate limits, failed keys, oversized messages. */
public interface PerimeterMetrics {

  /** A connection refused because its address had {@code http.maxConnectionsPerAddress} open. */
  void connectionRefused();

  /** A connection closed by a timeout: {@code header}, {@code body} (answered 408) or {@code idle}. */
  void timedOut(String phase);

  /** A request (or WebSocket message) refused by its key's token bucket: {@code write} or {@code read}. */
  void rateLimited(String kind);

  /** An unknown or malformed key; {@code blocked}: the one that blocked its client address. */
  void keyFailed(boolean blocked);

  /** A request refused because its client address is blocked after failed keys. */
  void keyThrottled();

  /** A failed key not tracked because the table of client addresses was full. */
  void keyFailureUntracked();

  /** A WebSocket closed with 1009: a message over {@code ingest.wsMaxMessageBytes}. */
  void webSocketOversize();

  /** Open HTTP connections (WebSockets included). */
  void connectionsGauge(IntSupplier open);

  PerimeterMetrics NOOP = new PerimeterMetrics() {
    @Override public void connectionRefused() { }
    @Override public void timedOut(String phase) { }
    @Override public void rateLimited(String kind) { }
    @Override public void keyFailed(boolean blocked) { }
    @Override public void keyThrottled() { }
    @Override public void keyFailureUntracked() { }
    @Override public void webSocketOversize() { }
    @Override public void connectionsGauge(IntSupplier open) { }
  };
}
