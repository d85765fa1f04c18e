package io.tally.event;

import java.util.List;

/**
 * A request body split into events that may be stored and events that were rejected.
 *
 * @param batch    whether the body was a {@code {"batch": [...]}} (or a bare array) rather than one event
 * @param seq      the {@code seq} the client attached, or null
 * @param total    number of events the body held
 * @param indexes  for each accepted event, its index in the body
 */
public record ParsedBody(boolean batch, Long seq, int total, List<Event> events, int[] indexes,
                         List<Rejection> rejected) {
}
