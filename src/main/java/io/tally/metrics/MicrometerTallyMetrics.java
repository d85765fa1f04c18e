package io.tally.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/** {@link TallyMetrics} on a Micrometer registry; names are the Prometheus names without the _total suffix. */
public final class MicrometerTallyMetrics implements TallyMetrics {
  private final MeterRegistry registry;
  private final Counter stored;
  private final Counter duplicates;
  private final Counter doNotTrack;
  private final Counter suppressed;
  private final Counter writeFailures;
  private final Counter bots;
  private final Counter redisSkipped;
  private final Counter redisSkippedEvents;
  private final DistributionSummary batchSize;
  private final Timer flush;
  private final AckLatencyRecorder ack = new AckLatencyRecorder();
  private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
  private final Map<String, Counter> queries = new ConcurrentHashMap<>();
  private final Counter cacheHits;
  private final Counter cacheMisses;
  private final Map<String, Counter> derivedWritten = new ConcurrentHashMap<>();
  private final Map<String, Counter> derivedSetAside = new ConcurrentHashMap<>();

  public MicrometerTallyMetrics(MeterRegistry registry) {
    this.registry = registry;
    cacheHits = Counter.builder("analytics.query.cache").description("Analytics queries by result-cache outcome")
        .tag("result", "hit").register(registry);
    cacheMisses = Counter.builder("analytics.query.cache").description("Analytics queries by result-cache outcome")
        .tag("result", "miss").register(registry);
    stored = Counter.builder("analytics.events").description("Events committed to PostgreSQL").register(registry);
    duplicates = Counter.builder("analytics.events.duplicate")
        .description("Events recognised as retries of stored events and not stored again").register(registry);
    doNotTrack = Counter.builder("analytics.events.dnt")
        .description("Events dropped because the client asked not to be tracked").register(registry);
    suppressed = Counter.builder("analytics.events.suppressed")
        .description("Events dropped because their person was deleted with suppression").register(registry);
    bots = Counter.builder("analytics.events.bot")
        .description("Events flagged as bot or headless traffic (stored for audit, excluded from analytics)")
        .register(registry);
    writeFailures = Counter.builder("analytics.write.failures")
        .description("Batch writes that failed and were retried").register(registry);
    redisSkipped = Counter.builder("analytics.redis.skipped")
        .description("Batches whose Redis counter update was skipped (Redis down or saturated)").register(registry);
    redisSkippedEvents = Counter.builder("analytics.redis.skipped.events")
        .description("Events not counted in Redis because their update was skipped").register(registry);
    batchSize = DistributionSummary.builder("analytics.batch.size").description("Events per written batch")
        .publishPercentiles(0.5, 0.99).register(registry);
    flush = Timer.builder("analytics.flush.duration").description("Time to write and commit one batch")
        .publishPercentiles(0.5, 0.99).register(registry);
    for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
      Gauge.builder("analytics.ack.latency.seconds", ack, a -> a.windowSeconds(q * 100))
          .description("Ack latency (receipt to ack, after commit) over the last 10 s window, HdrHistogram")
          .tag("quantile", Double.toString(q)).register(registry);
    }
    Gauge.builder("analytics.ack.latency.max.seconds", ack, AckLatencyRecorder::windowMaxSeconds)
        .description("Highest ack latency in the last 10 s window").register(registry);
  }

  public AckLatencyRecorder ackRecorder() {
    return ack;
  }

  @Override
  public void eventsStored(int n) {
    stored.increment(n);
  }

  @Override
  public void eventsDuplicate(int n) {
    duplicates.increment(n);
  }

  @Override
  public void eventsRejected(String reason, int n) {
    rejected.computeIfAbsent(reason, r -> Counter.builder("analytics.events.rejected")
        .description("Events refused, by reason").tag("reason", r).register(registry)).increment(n);
  }

  @Override
  public void eventsDoNotTrack(int n) {
    doNotTrack.increment(n);
  }

  @Override
  public void eventsSuppressed(int n) {
    suppressed.increment(n);
  }

  @Override
  public void eventsBot(int n) {
    bots.increment(n);
  }

  @Override
  public void batchWritten(int size, long flushNanos) {
    batchSize.record(size);
    flush.record(flushNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void writeFailed() {
    writeFailures.increment();
  }

  @Override
  public void redisSkipped(int events) {
    redisSkipped.increment();
    redisSkippedEvents.increment(events);
  }

  @Override
  public void ackLatency(long nanos) {
    ack.record(nanos);
  }

  @Override
  public void queryCache(boolean hit) {
    (hit ? cacheHits : cacheMisses).increment();
  }

  @Override
  public void query(String family) {
    queries.computeIfAbsent(family, f -> Counter.builder("analytics.queries")
        .description("Analytics queries answered, by family").tag("family", f).register(registry)).increment();
  }

  @Override
  public void patternIndexGauge(java.util.function.LongSupplier personDays) {
    Gauge.builder("analytics.pattern.index.person.days", personDays::getAsLong)
        .description("Person-days in the query side's pattern index (0 until loaded)").register(registry);
  }

  @Override
  public void patternIndexQueuedGauge(java.util.function.LongSupplier queued) {
    Gauge.builder("analytics.pattern.index.queued.person.days", queued::getAsLong)
        .description("Person-days changed by flushes and not yet re-read into the pattern index").register(registry);
  }

  @Override
  public void patternIndexBulkReadsGauge(java.util.function.LongSupplier reads) {
    Gauge.builder("analytics.pattern.index.bulk.rereads", reads::getAsLong)
        .description("Paced re-reads of the pattern index under a bulk load, since start").register(registry);
  }

  @Override
  public void patternsDetected(String patternId, int n) {
    Counter.builder("analytics.patterns.detected").description("Behaviour patterns reported by pattern detection")
        .tag("pattern", patternId).register(registry).increment(n);
  }

  @Override
  public void insightsGenerated(String type, int n) {
    Counter.builder("analytics.insights.generated").description("Insights generated, by type")
        .tag("type", type).register(registry).increment(n);
  }

  @Override
  public void alertDelivery(boolean delivered) {
    Counter.builder("analytics.alerts").description("Alert webhook deliveries: delivered, or failed after retries")
        .tag("result", delivered ? "delivered" : "failed").register(registry).increment();
  }

  @Override
  public void personIndexGauge(java.util.function.LongSupplier persons) {
    io.micrometer.core.instrument.Gauge.builder("analytics.person.index.persons", persons::getAsLong)
        .description("Persons in the query side's bitmap index (0 until loaded)").register(registry);
  }

  @Override
  public void eventTimelineGauge(java.util.function.LongSupplier events) {
    Gauge.builder("analytics.event.timeline.events", events::getAsLong)
        .description("Events in the query side's per-person event timeline (0 until loaded or when on SQL)")
        .register(registry);
  }

  @Override
  public void derivedWaitingGauge(String table, java.util.function.LongSupplier rows) {
    Gauge.builder("analytics.derived.rows.waiting", rows::getAsLong).tag("table", table)
        .description("Stored rows of a derived table whose newer events wait to be written").register(registry);
  }

  @Override
  public void derivedBacklogGauge(java.util.function.LongSupplier events) {
    Gauge.builder("analytics.derived.backlog.events", events::getAsLong)
        .description("Committed events not yet in a committed derived flush (the writer pauses above "
            + "writer.maxDerivedBacklog)")
        .register(registry);
  }

  @Override
  public void derivedLagGauge(java.util.function.DoubleSupplier seconds) {
    Gauge.builder("analytics.derived.lag.seconds", seconds::getAsDouble)
        .description("Age of the oldest stored event the derived tables do not hold yet (waiting rows aside)")
        .register(registry);
  }

  @Override
  public void derivedWritten(String table, int n) {
    derivedWritten.computeIfAbsent(table, t -> Counter.builder("analytics.derived.rows.written").tag("table", t)
        .description("Rows of a derived table written by the derived flush (one upsert each)").register(registry))
        .increment(n);
  }

  @Override
  public void derivedSetAside(String stage, String table, int n) {
    derivedSetAside.computeIfAbsent(stage + '/' + table, k -> Counter.builder("analytics.derived.set.aside")
        .tag("stage", stage).tag("table", table)
        .description("Derived rows the database refused, set aside in derived_dead_letters").register(registry))
        .increment(n);
  }

  @Override
  public void bufferedGauge(IntSupplier buffered) {
    Gauge.builder("analytics.events.buffered", buffered, s -> s.getAsInt()).strongReference(true)
        .description("Events waiting in the ring for the writer").register(registry);
  }

  @Override
  public void writingGauge(IntSupplier writing) {
    Gauge.builder("analytics.events.writing", writing, s -> s.getAsInt()).strongReference(true)
        .description("Events taken from the ring by the writer and not committed yet").register(registry);
  }
}
