package io.tally.store;

import io.tally.event.Event;

import java.util.List;

/** Told, on the writer's context, about the events a batch newly stored (duplicates excluded). */
@FunctionalInterface
public interface CommitListener {
  void committed(List<Event> stored);
}
