package io.tally.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unknown keys per client: after {@code allowed} of them within a minute, the client is blocked for a while (every
 * request needing a key gets 429), so keys cannot be guessed quickly from one address. Shared by the HTTP event
 * loops. The check on every keyed request is one lock-free map lookup; only failures take a (per-client) lock.
 * <p>
 * Bounded: at most {@link #MAX_TRACKED} clients are held. A full map is swept (at most once a second) of clients
 * whose minute and block are over; when nothing can be swept, a new client's failure is not tracked (and counted as
 * such): many thousand addresses guessing at once are beyond what a per-address throttle can stop anyway.
 */
final class KeyFailures {
  static final int MAX_TRACKED = 65_536;
  private static final long WINDOW_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final long SWEEP_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** A client's failures in its current minute, and when its block ends (0: not blocked). */
  private static final class Entry {
    long windowStart;
    int failures;
    volatile long blockedUntil;

    Entry(long now) {
      windowStart = now;
    }
  }

  private final int allowed;
  private final long blockNanos;
  /** Times are taken from here, so that they are positive and 0 can mean "never". */
  private final long origin = System.nanoTime() - 1;
  private final ConcurrentHashMap<String, Entry> clients = new ConcurrentHashMap<>();
  private final AtomicLong lastSweep = new AtomicLong();
  private final Runnable untracked;

  KeyFailures(int allowed, long blockMs, Runnable untracked) {
    if (allowed < 1 || blockMs < 1) {
      throw new IllegalArgumentException("allowed and blockMs must be >= 1");
    }
    this.allowed = allowed;
    this.blockNanos = TimeUnit.MILLISECONDS.toNanos(blockMs);
    this.untracked = untracked;
  }

  int allowed() {
    return allowed;
  }

  /** Nanoseconds the client stays blocked (0: not blocked). */
  long blockedFor(String client) {
    Entry e = clients.get(client);
    if (e == null) {
      return 0;
    }
    long until = e.blockedUntil;
    long left = until - now();
    return until != 0 && left > 0 ? left : 0;
  }

  /** Records an unknown key; returns true when it is the one that blocks the client. */
  boolean failed(String client) {
    long now = now();
    Entry e = clients.get(client);
    if (e == null) {
      if (clients.size() >= MAX_TRACKED && !sweep(now)) {
        untracked.run();
        return false;
      }
      e = clients.computeIfAbsent(client, c -> new Entry(now));
    }
    synchronized (e) {
      if (now - e.windowStart >= WINDOW_NANOS) {
        e.windowStart = now;
        e.failures = 0;
      }
      if (++e.failures < allowed) {
        return false;
      }
      // blocked; the count starts again once the block is over
      e.blockedUntil = now + blockNanos;
      e.failures = 0;
      e.windowStart = now + blockNanos;
      return true;
    }
  }

  int tracked() {
    return clients.size();
  }

  /** No client has failed lately (nor is blocked): the common case, in which nothing needs checking. */
  boolean quiet() {
    return clients.isEmpty();
  }

  /** Forgets clients whose minute and block are over (at most once a second, whoever calls). */
  void sweep() {
    sweep(now());
  }

  /** Removes clients whose minute and block are over; false when the map is still full (or swept a moment ago). */
  private boolean sweep(long now) {
    long last = lastSweep.get();
    if (now - last >= SWEEP_EVERY_NANOS && lastSweep.compareAndSet(last, now)) {
      clients.values().removeIf(e -> {
        synchronized (e) {
          return e.blockedUntil - now <= 0 && now - e.windowStart >= WINDOW_NANOS;
        }
      });
    }
    return clients.size() < MAX_TRACKED;
  }

  private long now() {
    return System.nanoTime() - origin;
  }
}
