package io.tally.support;

import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Waits (bounded) for state that Tally derives asynchronously, such as sessions and people. */
public final class Eventually {
  private Eventually() {
  }

  public static void until(String what, BooleanSupplier condition) {
    until(what, 10, condition);
  }

  /** The same, waiting at most {@code seconds}. */
  public static void until(String what, int seconds, BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    while (System.currentTimeMillis() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for " + what);
      }
    }
    fail("timed out after " + seconds + " s waiting for " + what);
  }
}
