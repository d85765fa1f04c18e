package io.tally.metrics;

import java.util.function.IntSupplier;

/** What Tally counts, behind a small interface (Micrometer in production, {@link #NOOP} where unwanted). */
public interface TallyMetrics {

  void eventsStored(int n);

  void eventsDuplicate(int n);

  void eventsRejected(String reason, int n);

  void eventsDoNotTrack(int n);

  void eventsBot(int n);

  /** Events dropped because their person was deleted with suppression. */
  default void eventsSuppressed(int n) {
  }

  void batchWritten(int size, long flushNanos);

  void writeFailed();

  void redisSkipped(int events);

  void ackLatency(long nanos);

  void query(String family);

  /** A cached analytics query answered from the result cache ({@code hit}) or computed. */
  default void queryCache(boolean hit) {
  }

  void bufferedGauge(IntSupplier buffered);

  /** Persons in the query side's bitmap index (0 until it is loaded). */
  default void personIndexGauge(java.util.function.LongSupplier persons) {
  }

  TallyMetrics NOOP = new TallyMetrics() {
    @Override public void eventsStored(int n) { }
    @Override public void eventsDuplicate(int n) { }
    @Override public void eventsRejected(String reason, int n) { }
    @Override public void eventsDoNotTrack(int n) { }
    @Override public void eventsBot(int n) { }
    @Override public void batchWritten(int size, long flushNanos) { }
    @Override public void writeFailed() { }
    @Override public void redisSkipped(int events) { }
    @Override public void ackLatency(long nanos) { }
    @Override public void query(String family) { }
    @Override public void bufferedGauge(IntSupplier buffered) { }
  };
}
