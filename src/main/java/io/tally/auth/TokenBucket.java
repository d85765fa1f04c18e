package io.tally.auth;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket kept in one atomic long (the generic cell rate algorithm): the state is the time at which the
 * bucket will be full again. Taking {@code n} tokens moves that time {@code n} token-intervals later, which is allowed
 * while it stays within {@code burst} intervals of now. One compare-and-set per request, no lock, no timer, and
 * nothing allocated: the ingest hot path pays one atomic per request whatever its number of events.
 */
public final class TokenBucket {
  private final int perSecond;
  private final int burst;
  private final long nanosPerToken;
  private final long burstNanos;
  /** When the bucket is full again, on the {@link System#nanoTime()} clock; at or before now means full. */
  private final AtomicLong fullAt;

  public TokenBucket(int perSecond, int burst) {
    if (perSecond < 1 || burst < 1) {
      throw new IllegalArgumentException("perSecond and burst must be >= 1, got " + perSecond + ", " + burst);
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.nanosPerToken = 1_000_000_000L / perSecond;
    this.burstNanos = nanosPerToken * burst;
    this.fullAt = new AtomicLong(System.nanoTime());
  }

  public int perSecond() {
    return perSecond;
  }

  public int burst() {
    return burst;
  }

  /**
   * Takes {@code n} tokens if all of them are there (returns 0), else takes none and returns the nanoseconds until
   * they will be. {@code n} must not exceed the burst: such a request could never pass.
   */
  public long take(int n, long now) {
    long cost = n * nanosPerToken;
    while (true) {
      long full = fullAt.get();
      long next = Math.max(full, now) + cost;
      long over = next - now - burstNanos;
      if (over > 0) {
        return over;
      }
      if (fullAt.compareAndSet(full, next)) {
        return 0;
      }
    }
  }

  /** Nanoseconds until at least one token is there (0: now); takes nothing. */
  public long untilOne(long now) {
    return Math.max(0, Math.max(fullAt.get(), now) + nanosPerToken - now - burstNanos);
  }

  /** Puts back {@code n} tokens taken for a request that then stored nothing; never fills past the burst. */
  public void giveBack(int n) {
    fullAt.addAndGet(-n * nanosPerToken);
  }

  /** Milliseconds, rounded up, for a wait in nanoseconds. */
  public static long millis(long nanos) {
    return Math.max(1, (nanos + 999_999) / 1_000_000);
  }
}
