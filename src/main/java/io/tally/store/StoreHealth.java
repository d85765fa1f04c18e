package io.tally.store;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** Whether PostgreSQL answers, as last seen by the writer or the probe. Readiness reads it. */
public final class StoreHealth {
  private final AtomicBoolean up = new AtomicBoolean(true);
  private final AtomicLong failuresWhileDown = new AtomicLong();
  private volatile String lastError = "";

  public boolean up() {
    return up.get();
  }

  public String lastError() {
    return lastError;
  }

  /** Returns true on the transition to up, with the failures seen while down available from {@link #failuresWhileDown()}. */
  public boolean markUp() {
    return up.compareAndSet(false, true);
  }

  /** Returns true on the transition to down. */
  public boolean markDown(String error) {
    lastError = error;
    failuresWhileDown.incrementAndGet();
    return up.compareAndSet(true, false);
  }

  public long failuresWhileDown() {
    return failuresWhileDown.getAndSet(0);
  }
}
