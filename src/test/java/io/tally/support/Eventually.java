package io.tally.support;

import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Waits (bounded) for state that Tally derives asynchronously, such as sessions and people. */
public final class Eventually {
  private Eventually() {
  }

  public static void until(String what, BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + 10_000;
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
    fail("timed out after 10 s waiting for " + what);
  }
}
