package io.tally.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/** {@link PerimeterMetrics} on a Micrometer registry; names are the Prometheus names without the _total suffix. */
public final class MicrometerPerimeterMetrics implements PerimeterMetrics {
  private final MeterRegistry registry;
  private final Counter refused;
  private final Counter keyFailures;
  private final Counter keyBlocks;
  private final Counter keyThrottled;
  private final Counter keyUntracked;
  private final Counter oversize;
  private final Map<String, Counter> timeouts = new ConcurrentHashMap<>();
  private final Map<String, Counter> rateLimited = new ConcurrentHashMap<>();

  public MicrometerPerimeterMetrics(MeterRegistry registry) {
    this.registry = registry;
    refused = Counter.builder("analytics.http.connections.refused")
        .description("Connections refused: their address had http.maxConnectionsPerAddress open").register(registry);
    keyFailures = Counter.builder("analytics.auth.failures")
        .description("Requests with an unknown or malformed key").register(registry);
    keyBlocks = Counter.builder("analytics.auth.blocks")
        .description("Client addresses blocked after http.keyFailuresPerMinute unknown keys").register(registry);
    keyThrottled = Counter.builder("analytics.auth.throttled")
        .description("Requests refused (429) because their client address is blocked after failed keys")
        .register(registry);
    keyUntracked = Counter.builder("analytics.auth.failures.untracked")
        .description("Failed keys not tracked because the table of client addresses was full").register(registry);
    oversize = Counter.builder("analytics.ws.oversize")
        .description("WebSockets closed with 1009: a message over ingest.wsMaxMessageBytes").register(registry);
  }

  @Override
  public void connectionRefused() {
    refused.increment();
  }

  @Override
  public void timedOut(String phase) {
    timeouts.computeIfAbsent(phase, p -> Counter.builder("analytics.http.timeouts")
        .description("Connections closed by a timeout, by phase (header, body: answered 408, idle)")
        .tag("phase", p).register(registry)).increment();
  }

  @Override
  public void rateLimited(String kind) {
    rateLimited.computeIfAbsent(kind, k -> Counter.builder("analytics.rate.limited")
        .description("Requests and WebSocket messages refused by their key's token bucket, by kind (write, read)")
        .tag("kind", k).register(registry)).increment();
  }

  @Override
  public void keyFailed(boolean blocked) {
    keyFailures.increment();
    if (blocked) {
      keyBlocks.increment();
    }
  }

  @Override
  public void keyThrottled() {
    keyThrottled.increment();
  }

  @Override
  public void keyFailureUntracked() {
    keyUntracked.increment();
  }

  @Override
  public void webSocketOversize() {
    oversize.increment();
  }

  @Override
  public void connectionsGauge(IntSupplier open) {
    Gauge.builder("analytics.http.connections", open, s -> s.getAsInt())
        .description("Open HTTP connections, WebSockets included").register(registry);
  }
}
