package io.tally.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Reads {@code timestamp} or {@code sentAt} as the client sent it: ISO-8601 with a zone, or integer epoch
 * milliseconds, within {@link EventBounds#MIN_SENT_TIME} and {@link EventBounds#END_SENT_TIME}, so the clock-skew
 * arithmetic on them can never overflow.
 */
final class SentTime {
  /** Longer than any ISO-8601 date-time: a longer string is not parsed at all. */
  private static final int MAX_TEXT = 64;
  private static final long MIN_MS = EventBounds.MIN_SENT_TIME.toEpochMilli();
  private static final long END_MS = EventBounds.END_SENT_TIME.toEpochMilli();

  private SentTime() {
  }

  /** The instant the parser is on, or null (absent, or out of bounds: then {@code event} has failed). */
  static Instant read(JsonParser p, String field, EventFields event) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t == JsonToken.VALUE_NUMBER_INT) {
      // 10000-01-01 is 15 digits of milliseconds: a longer integer is out of range without being parsed
      long ms = JsonNumbers.digits(p) > 15 ? Long.MAX_VALUE : p.getLongValue();
      if (ms < MIN_MS || ms >= END_MS) {
        outOfRange(event, field, JsonNumbers.echo(p));
        return null;
      }
      return Instant.ofEpochMilli(ms);
    }
    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      event.fail(field, field + " in epoch milliseconds must be an integer, got " + JsonNumbers.echo(p));
      return null;
    }
    if (t != JsonToken.VALUE_STRING) {
      p.skipChildren();
      event.fail(field, field + " must be an ISO-8601 string or epoch milliseconds");
      return null;
    }
    String s = p.getText();
    Instant at = s.length() > MAX_TEXT ? null : parseIso(s);
    if (at == null) {
      event.fail(field, field + " must be an ISO-8601 date-time with a zone (e.g. 2026-11-24T10:00:00.000Z), got '"
          + EventFields.echo(s) + "'");
      return null;
    }
    if (at.isBefore(EventBounds.MIN_SENT_TIME) || !at.isBefore(EventBounds.END_SENT_TIME)) {
      outOfRange(event, field, EventFields.echo(s));
      return null;
    }
    return at;
  }

  private static Instant parseIso(String s) {
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(s).toInstant();
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
  }

  private static void outOfRange(EventFields event, String field, String sent) {
    event.fail(field, field + " must be within 1970-01-01..9999-12-31, got " + sent);
  }
}
