package io.tally.derive;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The waiting rows' oldest receipt time (the crash watermark's bound), kept as rows come, merge and leave. */
class WaitingRowsTest {

  /** A row whose events' count is all it carries. */
  static final class Agg extends WaitingRows.Row<Agg> {
    int events;

    Agg(int events, long receivedMs) {
      this.events = events;
      this.receivedMs = receivedMs;
    }

    @Override
    void absorb(Agg other) {
      events += other.events;
    }
  }

  @Test
  void theOldestReceiptTimeIsTheMinimumOverTheRowsStillWaiting() {
    Random rnd = new Random(7);
    WaitingRows<Agg> rows = new WaitingRows<>(10_000, 500);
    // the reference: each waiting key's oldest receipt time, from every batch that reached it while it waited
    Map<String, Long> expected = new HashMap<>();
    long now = 1_000_000;
    for (int flush = 0; flush < 400; flush++) {
      now += 500;
      long batchReceived = now - rnd.nextInt(300);
      Map<String, Agg> batch = new LinkedHashMap<>();
      for (int i = 0; i < 40; i++) {
        // now and then an aggregate older than its batch (a retried batch's events)
        long own = rnd.nextInt(10) == 0 ? batchReceived - 1 - rnd.nextInt(5_000) : Long.MAX_VALUE;
        batch.merge("k" + rnd.nextInt(300), new Agg(1, own), (a, b) -> {
          a.absorb(b);
          a.receivedMs = Math.min(a.receivedMs, b.receivedMs);
          return a;
        });
      }
      // GIVEN some of the batch's keys may wait and the others must be written (taking what of them waited)
      Map<String, Boolean> mayWait = new HashMap<>();
      for (Map.Entry<String, Agg> x : batch.entrySet()) {
        boolean wait = rnd.nextInt(4) != 0 && (expected.containsKey(x.getKey()) || expected.size() < 500);
        mayWait.put(x.getKey(), wait);
        long received = Math.min(x.getValue().receivedMs, batchReceived);
        if (wait) {
          expected.merge(x.getKey(), received, Math::min);
        } else {
          expected.remove(x.getKey());
        }
      }
      rows.sort(batch, batchReceived, now, (k, a) -> mayWait.get(k));
      // AND now and then the due ones and a few more leave
      if (flush % 7 == 0) {
        Map<String, Agg> written = new LinkedHashMap<>();
        rows.due(written, now, rnd.nextInt(50), a -> { });
        written.keySet().forEach(expected::remove);
      }
      // THEN the oldest receipt time is the minimum over what still waits
      assertEquals(expected.size(), rows.size(), "flush " + flush);
      assertEquals(expected.values().stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE),
          rows.oldestReceivedMs(), "flush " + flush);
    }
    // WHEN every row is written
    Map<String, Agg> written = new LinkedHashMap<>();
    rows.due(written, now, Integer.MAX_VALUE, a -> { });
    assertEquals(Long.MAX_VALUE, rows.oldestReceivedMs());
    assertEquals(0, rows.size());
  }
}
