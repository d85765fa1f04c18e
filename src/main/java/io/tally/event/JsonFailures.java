package io.tally.event;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.tally.error.ApiError;

/** Turns the parser's failures into 400 answers naming the body, in words of the API rather than of Jackson. */
final class JsonFailures {
  private JsonFailures() {
  }

  /** A body Jackson stopped reading at one of the limits {@link EventParser} configures. */
  static ApiError overLimit(StreamConstraintsException e, int maxEventBytes) {
    String m = String.valueOf(e.getOriginalMessage());
    if (m.startsWith("Document nesting depth")) {
      return refusal("body nests deeper than " + EventBounds.MAX_BODY_DEPTH
          + " levels of objects and arrays (an event's own objects may nest " + EventBounds.MAX_DEPTH + ")",
          EventBounds.MAX_BODY_DEPTH);
    }
    if (m.startsWith("Number value length")) {
      return refusal("body holds a number longer than " + EventBounds.MAX_NUMBER_CHARS + " characters",
          EventBounds.MAX_NUMBER_CHARS);
    }
    if (m.startsWith("String value length") || m.startsWith("Name length")) {
      // Jackson checks a number's text against this limit too, before its own number limit
      return refusal("body holds a string, key or number longer than " + maxEventBytes
          + " characters, more than one event may hold (ingest.maxEventBytes)", maxEventBytes);
    }
    return refusal("body exceeds a limit of the JSON reader", null);
  }

  /** Malformed JSON, with Jackson's description of what was wrong but none of its source-location details. */
  static ApiError malformed(JsonProcessingException e) {
    String m = String.valueOf(e.getOriginalMessage());
    int source = m.indexOf(" (start marker at [Source");
    if (source < 0) {
      source = m.indexOf("[Source");
    }
    if (source >= 0) {
      m = m.substring(0, source);
    }
    // the location is null for some failures: never assume it
    JsonLocation at = e.getLocation();
    return ApiError.malformedJson("malformed JSON: " + m
        + (at == null || at.getByteOffset() < 0 ? "" : " at byte " + at.getByteOffset()));
  }

  private static ApiError refusal(String message, Integer limit) {
    return new ApiError(400, "invalid_request", message, "body", limit == null ? null : (long) limit, null);
  }
}
