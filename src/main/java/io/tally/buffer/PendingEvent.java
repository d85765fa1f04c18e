package io.tally.buffer;

import io.tally.event.Event;

/** An event waiting in the ring, with the ticket to report to and its index in the client's request. */
public record PendingEvent(Event event, IngestTicket ticket, int index) {

  public void committed(boolean duplicate) {
    ticket.done(duplicate);
  }

  public void refused(String error) {
    ticket.refused(index, error);
  }
}
