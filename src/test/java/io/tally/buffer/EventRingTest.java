package io.tally.buffer;

import io.tally.event.Event;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventRingTest {

  private static PendingEvent event(IngestTicket ticket, int index) {
    Event e = new Event("p", UUID.randomUUID(), Instant.EPOCH, Instant.EPOCH, "t", null, null, null, null, null,
        "u", null, null, null, null, 0, Event.ClientInfo.EMPTY, null, Event.Measures.NONE);
    return new PendingEvent(e, ticket, index);
  }

  @Test
  void verifiesThatCapacityMustBeAPowerOfTwo() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EventRing(1000));
    assertTrue(e.getMessage().contains("power of 2"));
  }

  @Test
  void verifiesThatARequestIsReservedWholeOrNotAtAll() {
    EventRing ring = new EventRing(8);
    assertTrue(ring.tryReserve(5));
    assertFalse(ring.tryReserve(4), "only 3 slots are left");
    assertTrue(ring.tryReserve(3));
    assertFalse(ring.tryReserve(1));
    assertEquals(8, ring.occupancy());
  }

  @Test
  void verifiesUnderConcurrencyThatNothingIsLostOrDuplicatedAndTheRingNeverExceedsItsCapacity() throws Exception {
    // GIVEN 4 producers publishing requests of 1..16 events into a 256-slot ring and one consumer
    Vertx vertx = Vertx.vertx();
    try {
      EventRing ring = new EventRing(256);
      int producers = 4;
      int perProducer = 50_000;
      BitSet seen = new BitSet(producers * perProducer);
      AtomicInteger maxOccupancy = new AtomicInteger();
      AtomicInteger duplicates = new AtomicInteger();
      AtomicBoolean done = new AtomicBoolean();
      AtomicInteger wakeups = new AtomicInteger();
      ring.onWakeup(wakeups::incrementAndGet);
      Thread consumer = new Thread(() -> {
        List<PendingEvent> out = new ArrayList<>();
        while (!done.get() || !ring.isEmpty()) {
          ring.clearSignal();
          out.clear();
          ring.drainTo(out, 64);
          for (PendingEvent p : out) {
            int id = p.index();
            synchronized (seen) {
              if (seen.get(id)) {
                duplicates.incrementAndGet();
              }
              seen.set(id);
            }
          }
        }
      });
      consumer.start();
      CountDownLatch finished = new CountDownLatch(producers);
      for (int p = 0; p < producers; p++) {
        int base = p * perProducer;
        new Thread(() -> {
          int next = 0;
          while (next < perProducer) {
            int n = Math.min(1 + (next % 16), perProducer - next);
            if (!ring.tryReserve(n)) {
              Thread.onSpinWait();
              continue;
            }
            maxOccupancy.accumulateAndGet(ring.occupancy(), Math::max);
            IngestTicket ticket = new IngestTicket(vertx.getOrCreateContext(), n);
            List<PendingEvent> batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              batch.add(event(ticket, base + next + i));
            }
            ring.publish(batch);
            next += n;
          }
          finished.countDown();
        }).start();
      }
      assertTrue(finished.await(45, TimeUnit.SECONDS));
      done.set(true);
      consumer.join(10_000);
      // THEN every event was consumed exactly once and occupancy stayed within capacity
      assertEquals(producers * perProducer, seen.cardinality());
      assertEquals(0, duplicates.get());
      assertTrue(maxOccupancy.get() <= 256, "occupancy " + maxOccupancy.get());
      assertEquals(0, ring.occupancy());
      assertTrue(wakeups.get() > 0);
    } finally {
      vertx.close();
    }
  }
}
