package io.tally.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lock-free token bucket: exact arithmetic on a given clock, and no over-granting under contention. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TokenBucketTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  @Test
  void verifiesThatAFullBucketGrantsItsBurstThenRefillsAtItsRateAllOrNone() {
    // GIVEN a bucket of 10 tokens refilled at 5 per second, full at t0
    TokenBucket b = new TokenBucket(5, 10);
    long t0 = System.nanoTime() + SECOND;
    // WHEN 7 then 3 are taken THEN both pass, and the bucket is empty
    assertEquals(0, b.take(7, t0));
    assertEquals(0, b.take(3, t0));
    // AND 2 more are refused whole, with the wait until 2 tokens are back (0.4 s); nothing is taken
    assertEquals(2 * SECOND / 5, b.take(2, t0));
    assertEquals(SECOND / 5, b.untilOne(t0));
    // WHEN 0.4 s pass THEN exactly 2 pass, and one more does not
    long t1 = t0 + 2 * SECOND / 5;
    assertEquals(0, b.take(2, t1));
    assertTrue(b.take(1, t1) > 0);
    // WHEN a long pause passes THEN the bucket holds its burst, not more
    long t2 = t1 + 100 * SECOND;
    assertEquals(0, b.take(10, t2));
    assertTrue(b.take(1, t2) > 0);
    // AND tokens given back for a request that stored nothing can be taken again, never past the burst
    b.giveBack(4);
    assertEquals(0, b.take(4, t2));
    assertTrue(b.take(1, t2) > 0);
    assertEquals(1, TokenBucket.millis(1));
    assertEquals(2, TokenBucket.millis(1_000_001));
  }

  @Test
  void verifiesThatARequestLargerThanTheBurstNeverPasses() {
    TokenBucket b = new TokenBucket(1_000, 100);
    assertTrue(b.take(101, System.nanoTime() + 3600 * SECOND) > 0);
    assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 1));
  }

  @Test
  void verifiesThatEightThreadsTakingAtOnceNeverGetMoreThanTheBurstPlusTheRefill() throws Exception {
    // GIVEN a bucket of 1,000 tokens refilled at 10,000 per second, and 8 threads taking 1 to 7 tokens in a loop
    TokenBucket b = new TokenBucket(10_000, 1_000);
    AtomicLong granted = new AtomicLong();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    long[] window = new long[2];
    for (int i = 0; i < 8; i++) {
      int n = 1 + i % 7;
      Thread th = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        long end = window[1];
        while (System.nanoTime() < end) {
          if (b.take(n, System.nanoTime()) == 0) {
            granted.addAndGet(n);
          }
        }
      });
      threads.add(th);
      th.start();
    }
    window[0] = System.nanoTime();
    window[1] = window[0] + SECOND / 2;
    go.countDown();
    for (Thread th : threads) {
      th.join();
    }
    double seconds = (System.nanoTime() - window[0]) / 1e9;
    // THEN what was granted is within the burst plus the refill of the time that passed, and close to it
    long bound = 1_000 + (long) Math.ceil(10_000 * seconds);
    assertTrue(granted.get() <= bound, granted + " granted, bound " + bound);
    assertTrue(granted.get() >= 1_000 + 10_000 * 0.5 * 0.8, "far below the rate: " + granted);
  }
}
