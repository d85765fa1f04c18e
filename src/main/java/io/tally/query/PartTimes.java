package io.tally.query;

import io.vertx.core.Future;
import org.slf4j.Logger;

import java.util.List;
import java.util.function.Supplier;

/** Debug timing of an answer's parts: when all have completed, one line with each part's time since {@code t0}. */
public final class PartTimes {
  private PartTimes() {
  }

  /**
   * Logs "what: name1 N ms, name2 N ms, ..." at debug level once every part has completed ({@code what} is read then);
   * nothing is measured when debug is off.
   */
  public static void log(Logger log, Supplier<String> what, long t0, List<String> names, List<? extends Future<?>> parts) {
    if (!log.isDebugEnabled()) {
      return;
    }
    long[] took = new long[parts.size()];
    for (int i = 0; i < took.length; i++) {
      int k = i;
      parts.get(i).onComplete(ar -> took[k] = (System.nanoTime() - t0) / 1_000_000);
    }
    Future.all(parts).onComplete(ar -> {
      StringBuilder b = new StringBuilder(what.get()).append(':');
      for (int i = 0; i < took.length; i++) {
        b.append(i == 0 ? " " : ", ").append(names.get(i)).append(' ').append(took[i]).append(" ms");
      }
      log.debug(b.toString());
    });
  }
}
