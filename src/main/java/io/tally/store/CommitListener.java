package io.tally.store;

import io.tally.event.Event;

import java.util.List;

/**
 * Told, on the writer's context, about the events a batch newly stored (duplicates excluded) and the id of the
 * PostgreSQL transaction that stored them (a snapshot taken elsewhere can then tell whether it saw them).
 */
@FunctionalInterface
public interface CommitListener {
  void committed(List<Event> stored, long xid);
}
