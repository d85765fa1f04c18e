package io.tally.store;

import io.tally.event.Event;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small summary of one committed batch, published on {@link StoreAddresses#EVENTS_COMMITTED} (never the events
 * themselves): how many, when, and per project how many of each type.
 */
public record CommitNotice(int count, long atMs, Map<String, Map<String, Integer>> typesByProject) {
  public CommitNotice {
    typesByProject = Map.copyOf(typesByProject);
  }

  /** The summary of {@code stored}, committed now. */
  public static CommitNotice of(List<Event> stored) {
    Map<String, Map<String, Integer>> byProject = new HashMap<>();
    for (Event e : stored) {
      byProject.computeIfAbsent(e.projectId(), p -> new HashMap<>()).merge(e.type(), 1, Integer::sum);
    }
    byProject.replaceAll((p, types) -> Map.copyOf(types));
    return new CommitNotice(stored.size(), System.currentTimeMillis(), byProject);
  }

  /** Whether the batch held an event of {@code project}. */
  public boolean touches(String project) {
    return typesByProject.containsKey(project);
  }
}
