package io.tally.auth;

import io.tally.config.TallyConfig;
import io.tally.enrich.ClientAddress;
import io.tally.metrics.PerimeterMetrics;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the HTTP verticles share at the door: open connections per address (for {@code http.maxConnectionsPerAddress};
 * an address leaves the map with its last connection, so the map is bounded by the open connections), the failed
 * keys per client, and the settings. One per Tally, created by the first HTTP verticle (see {@link ServerState}).
 */
public final class Perimeter {
  private final TallyConfig.Perimeter settings;
  private final PerimeterMetrics metrics;
  final KeyFailures keyFailures;
  private final ClientKeys exempt;
  private final ClientAddress clients;
  private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();

  public Perimeter(TallyConfig.Perimeter settings, java.util.List<String> trustedProxies, PerimeterMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
    this.exempt = new ClientKeys(settings.connectionCapExempt());
    this.clients = new ClientAddress(trustedProxies);
    this.keyFailures = new KeyFailures(settings.keyFailuresPerMinute(), settings.keyFailureBlockMs(),
        metrics::keyFailureUntracked);
    metrics.connectionsGauge(total::get);
  }

  /**
   * Counts a new connection from {@code peer}; returns its address's key, or null when the address is exempt from
   * the cap. {@code overCap[0]} tells whether this connection is one too many.
   */
  public String opened(SocketAddress peer, boolean[] overCap) {
    total.incrementAndGet();
    InetAddress a = peer == null ? null : ClientAddress.parse(peer.hostAddress());
    if (exempt.contains(a)) {
      return null;
    }
    String key = ClientKeys.key(a);
    overCap[0] = open.merge(key, 1, Integer::sum) > settings.maxConnectionsPerAddress();
    return key;
  }

  /** A connection counted by {@link #opened} closed ({@code key} null: an exempt one). */
  public void closed(String key) {
    total.decrementAndGet();
    if (key != null) {
      open.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
    }
  }

  public TallyConfig.Perimeter settings() {
    return settings;
  }

  public PerimeterMetrics metrics() {
    return metrics;
  }

  /** Forgets the failed keys of clients quiet for long enough (the HTTP verticle's periodic sweep). */
  public void sweepKeyFailures() {
    keyFailures.sweep();
  }

  /** The client a request comes from: its peer, or behind a trusted proxy the address the proxy forwarded for. */
  String clientOf(HttpServerRequest req) {
    SocketAddress peer = req.remoteAddress();
    return ClientKeys.key(clients.resolve(peer == null ? null : peer.hostAddress(),
        req.getHeader("X-Forwarded-For")));
  }
}
