package io.tally.derive;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * Aggregates of derived rows already stored whose newer events change only what may be written late (a person's last
 * time and count; a session's end, counts and exit page). They wait here, in the order they began to wait, and are
 * written with the first flush at least {@code refreshMs} later, or sooner when the row must change for another
 * reason. Under a load where each row gets an event every few seconds, that is one write for many events.
 * <p>Used on the derived updater's context only.
 *
 * @param <A> the aggregate
 */
final class WaitingRows<A extends WaitingRows.Row<A>> {

  /** An aggregate that can wait. */
  abstract static class Row<A> {
    /** While waiting: the oldest receipt time of the batches its events came from (bounds the crash watermark). */
    long receivedMs = Long.MAX_VALUE;
    long waitingSinceMs;

    /**
     * Adds another aggregate of the same row, whose events may be older or newer than this one's (the receipt time is
     * kept by {@link WaitingRows}).
     */
    abstract void absorb(A other);
  }

  private final LinkedHashMap<String, A> rows = new LinkedHashMap<>();
  /**
   * How many waiting rows hold each receipt time, so the oldest is found without a pass over every row at every flush
   * (measured: that pass over ~120,000 rows was a ninth of the server's Java samples at 6,000 events/s). Rows start to wait with
   * the receipt time of their flush's batch, so it holds a few keys per flush that rows waited through.
   */
  private final TreeMap<Long, int[]> receipts = new TreeMap<>();
  private final long refreshMs;
  private final int max;

  /** @param refreshMs how long a row may wait (0: never) @param max rows at most (beyond, new ones are written) */
  WaitingRows(long refreshMs, int max) {
    this.refreshMs = refreshMs;
    this.max = max;
  }

  /**
   * Sorts a flush's aggregates: one {@code mayWait} accepts leaves {@code batch} and joins (or starts) its waiting row;
   * any other takes its waiting row with it, to be written now.
   *
   * @param batchReceivedMs the oldest receipt time of the batch's events
   */
  void sort(Map<String, A> batch, long batchReceivedMs, long now, BiPredicate<String, A> mayWait) {
    if (refreshMs <= 0) {
      return;
    }
    Iterator<Map.Entry<String, A>> it = batch.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, A> x = it.next();
      A a = x.getValue();
      A waiting = rows.get(x.getKey());
      if ((waiting != null || rows.size() < max) && mayWait.test(x.getKey(), a)) {
        if (waiting == null) {
          a.receivedMs = Math.min(a.receivedMs, batchReceivedMs);
          a.waitingSinceMs = now;
          rows.put(x.getKey(), a);
          count(a.receivedMs, 1);
        } else {
          waiting.absorb(a);
          long received = Math.min(waiting.receivedMs, Math.min(a.receivedMs, batchReceivedMs));
          if (received != waiting.receivedMs) {
            count(waiting.receivedMs, -1);
            count(received, 1);
            waiting.receivedMs = received;
          }
        }
        it.remove();
      } else if (waiting != null) {
        rows.remove(x.getKey());
        count(waiting.receivedMs, -1);
        a.absorb(waiting);
      }
    }
  }

  /**
   * Moves into {@code batch} the rows that waited {@code refreshMs}, and up to {@code beyond} more, oldest first. They
   * are written in the flush's transaction, with its watermark, so a crash loses none of them.
   */
  void due(Map<String, A> batch, long now, int beyond, Consumer<A> added) {
    Iterator<Map.Entry<String, A>> it = rows.entrySet().iterator();
    int early = 0;
    while (it.hasNext()) {
      Map.Entry<String, A> x = it.next();
      A a = x.getValue();
      if (now - a.waitingSinceMs < refreshMs && early++ >= beyond) {
        break;
      }
      batch.put(x.getKey(), a);
      added.accept(a);
      it.remove();
      count(a.receivedMs, -1);
    }
  }

  /** The oldest receipt time of the waiting events; {@code Long.MAX_VALUE} when none waits. */
  long oldestReceivedMs() {
    return receipts.isEmpty() ? Long.MAX_VALUE : receipts.firstKey();
  }

  private void count(long receivedMs, int delta) {
    int[] n = receipts.computeIfAbsent(receivedMs, k -> new int[1]);
    n[0] += delta;
    if (n[0] == 0) {
      receipts.remove(receivedMs);
    }
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  int size() {
    return rows.size();
  }
}
