package io.tally.metrics;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Wait-free ack latency recording (HdrHistogram {@link Recorder}): writers on any event loop record without locks;
 * {@link #roll()} swaps in a fresh interval histogram and folds it into the window shown by /metrics.
 */
public final class AckLatencyRecorder {
  private static final long MAX_NANOS = 3_600_000_000_000L;
  private final Recorder recorder = new Recorder(MAX_NANOS, 3);
  private Histogram interval;
  private volatile Histogram window = new Histogram(MAX_NANOS, 3);
  private final Histogram total = new Histogram(MAX_NANOS, 3);

  public void record(long nanos) {
    recorder.recordValue(Math.min(Math.max(nanos, 0), MAX_NANOS));
  }

  /** Called periodically by one thread: the last interval becomes the visible window. */
  public synchronized void roll() {
    interval = recorder.getIntervalHistogram(interval);
    total.add(interval);
    window = interval.copy();
  }

  /** Latency at a percentile of the last window, in seconds. */
  public double windowSeconds(double percentile) {
    Histogram h = window;
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e9;
  }

  public double windowMaxSeconds() {
    Histogram h = window;
    return h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1e9;
  }

  public synchronized double totalSeconds(double percentile) {
    return total.getTotalCount() == 0 ? 0 : total.getValueAtPercentile(percentile) / 1e9;
  }

  public synchronized long totalCount() {
    return total.getTotalCount();
  }
}
