package io.tally.loadtest;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one run measured. Latency is recorded in microseconds from each request's intended send time (so a stall
 * counts against every request scheduled during it: coordinated omission corrected), wait-free (HdrHistogram
 * {@link Recorder}).
 */
final class BenchStats {
  private final Recorder recorder = new Recorder(3_600_000_000L, 3);
  private final Histogram total = new Histogram(3_600_000_000L, 3);
  private Histogram interval;
  final LongAdder sentEvents = new LongAdder();
  final LongAdder ackedEvents = new LongAdder();
  final LongAdder acceptedEvents = new LongAdder();
  final LongAdder duplicateEvents = new LongAdder();
  final AtomicLong inFlight = new AtomicLong();
  final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

  void ack(long intendedNanos, int events, int accepted, int duplicates) {
    recorder.recordValue(Math.max(0, (System.nanoTime() - intendedNanos) / 1000));
    ackedEvents.add(events);
    acceptedEvents.add(accepted);
    duplicateEvents.add(duplicates);
  }

  void error(String what, long intendedNanos) {
    recorder.recordValue(Math.max(0, (System.nanoTime() - intendedNanos) / 1000));
    errors.computeIfAbsent(what, k -> new LongAdder()).increment();
  }

  long errorCount() {
    return errors.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** The latencies since the previous call, folded into the run total. */
  synchronized Histogram roll() {
    interval = recorder.getIntervalHistogram(interval);
    total.add(interval);
    return interval.copy();
  }

  synchronized Histogram total() {
    return total.copy();
  }

  Map<String, Long> errorsByKind() {
    Map<String, Long> out = new TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
  }
}
