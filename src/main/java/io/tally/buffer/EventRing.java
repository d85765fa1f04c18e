package io.tally.buffer;

import org.jctools.queues.MpscArrayQueue;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded, lock-free ring between the ingestion event loops (many producers) and the batch writer (one
 * consumer), backed by JCTools' {@link MpscArrayQueue}.
 * <p>
 * A request's events go in all together or not at all: a producer first reserves slots with a CAS on
 * {@code reserved} and only then offers, so a request is never half-buffered and producers never block or spin
 * waiting for space. The consumer releases slots as it drains.
 */
public final class EventRing {
  private final MpscArrayQueue<PendingEvent> queue;
  private final int capacity;
  private final AtomicInteger reserved = new AtomicInteger();
  private final AtomicBoolean signalled = new AtomicBoolean();
  private volatile Runnable consumerWakeup = () -> { };

  public EventRing(int capacity) {
    if (capacity < 2 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("capacity must be a power of 2 and at least 2, got " + capacity);
    }
    this.capacity = capacity;
    this.queue = new MpscArrayQueue<>(capacity);
  }

  public int capacity() {
    return capacity;
  }

  /** Events buffered or reserved, never more than {@link #capacity()}. */
  public int occupancy() {
    return reserved.get();
  }

  /** The consumer registers how it wants to be woken; it runs at most once per {@link #clearSignal()}. */
  public void onWakeup(Runnable wakeup) {
    this.consumerWakeup = wakeup;
  }

  /** Reserves room for {@code n} events; false when the ring cannot take them all (the caller answers 503). */
  public boolean tryReserve(int n) {
    while (true) {
      int current = reserved.get();
      if (current + n > capacity) {
        return false;
      }
      if (reserved.compareAndSet(current, current + n)) {
        return true;
      }
    }
  }

  /**
   * Gives back room reserved and not published (a producer that gave up between reserving and publishing). The SDK
   * retry tests hold the whole ring this way, which is exactly the full buffer that answers 503.
   */
  public void release(int n) {
    reserved.addAndGet(-n);
  }

  /** Publishes events for which room was reserved, then wakes the consumer once. */
  public void publish(List<PendingEvent> events) {
    for (int i = 0, n = events.size(); i < n; i++) {
      if (!queue.offer(events.get(i))) {
        // cannot happen while every publish is preceded by a successful tryReserve
        throw new IllegalStateException("ring overflow despite reservation");
      }
    }
    if (signalled.compareAndSet(false, true)) {
      consumerWakeup.run();
    }
  }

  /**
   * Consumer side: re-arm the wakeup before draining, so an event published after the drain always triggers a
   * new wakeup (a publish that found the flag set happened before this reset, hence before the drain).
   */
  public void clearSignal() {
    signalled.set(false);
  }

  /** Consumer side: moves up to {@code max} events into {@code out}; returns how many. */
  public int drainTo(List<PendingEvent> out, int max) {
    int n = queue.drain(out::add, max);
    if (n > 0) {
      reserved.addAndGet(-n);
    }
    return n;
  }

  /** Consumer side: receipt time (ms) of the event at the head, MAX_VALUE when empty. */
  public long oldestReceivedMs() {
    PendingEvent head = queue.peek();
    return head == null ? Long.MAX_VALUE : head.event().receivedAt().toEpochMilli();
  }

  public boolean isEmpty() {
    return queue.isEmpty();
  }
}
