package io.tally.derive;

import java.util.List;
import java.util.Map;

/**
 * What one committed flush of the derived tables added.
 *
 * @param earliestMs per project, the earliest event time (ms) the flush changed a figure for: a cached answer whose
 *                   period ends at or before it still holds (a session extended by the flush counts from its start)
 * @param days       the person-days the flush made active for the first time
 * @param people     the persons the flush wrote, with their first-seen time
 * @param personDays what the flush added to each person-day, exactly as its statement summed it (the pattern index
 *                   adds it without reading anything back)
 */
public record DerivedFlush(Map<String, Long> earliestMs, List<PersonDay> days, List<PersonSeen> people,
                           PersonDayDeltas personDays) implements DerivedChange {
  public DerivedFlush {
    earliestMs = Map.copyOf(earliestMs);
    days = List.copyOf(days);
    people = List.copyOf(people);
  }

  /** A person active on a UTC day ({@code epochDay}), {@code person} the raw person key. */
  public record PersonDay(String project, int epochDay, String person) {}

  /** A person written by the flush, first seen at {@code firstMs}. */
  public record PersonSeen(String project, String person, long firstMs) {}
}
