package io.tally.index;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/** Takes the next re-read's persons out of {@link PatternIndex}'s queue. */
final class QueuedPersons {
  private QueuedPersons() {
  }

  /** Removes up to {@code max} persons from {@code queued} (project → persons) and returns them grouped the same way. */
  static Map<String, Set<String>> take(Map<String, Set<String>> queued, int max) {
    Map<String, Set<String>> batch = new HashMap<>();
    int taken = 0;
    for (Iterator<Map.Entry<String, Set<String>>> pit = queued.entrySet().iterator(); pit.hasNext()
        && taken < max; ) {
      Map.Entry<String, Set<String>> e = pit.next();
      Set<String> into = batch.computeIfAbsent(e.getKey(), k -> new HashSet<>());
      for (Iterator<String> kit = e.getValue().iterator(); kit.hasNext() && taken < max; taken++) {
        into.add(kit.next());
        kit.remove();
      }
      if (e.getValue().isEmpty()) {
        pit.remove();
      }
    }
    return batch;
  }
}
