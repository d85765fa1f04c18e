package io.tally.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * The number rule: finite, and 0 or between {@link EventBounds#MIN_MAGNITUDE} and {@link EventBounds#MAX_MAGNITUDE}
 * in magnitude. PostgreSQL reads these with {@code (j->>k)::double precision}, which refuses what overflows or
 * underflows to zero, so a number outside would be stored and then break every query summing it.
 */
final class JsonNumbers {
  static final int OK = 0;
  static final int TOO_BIG = 1;
  static final int TOO_SMALL = 2;
  private static final int MAX_ECHO = 40;

  private JsonNumbers() {
  }

  /** {@link #OK}, {@link #TOO_BIG} or {@link #TOO_SMALL} for the number token the parser is on. */
  static int problem(JsonParser p) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NUMBER_INT) {
      // judged by its digits, never parsed: an integer is never too small, and JSON has no leading zeros, so up to
      // 18 digits it is below 1e18 and from 20 above. Not asking Jackson for the number type also avoids a
      // jackson-core 2.18.2 bug: after getNumberType() of a big integer, the next integer's getDoubleValue()
      // returns the big one (fixed in 2.18.3, jackson-core#1391)
      int digits = digits(p);
      if (digits <= 18) {
        return OK;
      }
      return digits == 19 && isOneE18(p) ? OK : TOO_BIG;
    }
    double d = p.getDoubleValue();
    if (d == 0) {
      // "1e-400" parses to 0 as well; only a zero mantissa is a real zero
      return zeroMantissa(p) ? OK : TOO_SMALL;
    }
    double abs = Math.abs(d);
    if (!(abs <= EventBounds.MAX_MAGNITUDE)) {
      return TOO_BIG;
    }
    return abs < EventBounds.MIN_MAGNITUDE ? TOO_SMALL : OK;
  }

  static String describe(int problem, String field, JsonParser p) throws IOException {
    return problem == TOO_BIG
        ? field + " must be at most 1e18 in magnitude, got " + echo(p)
        : field + " must be 0 or at least 1e-18 in magnitude, got " + echo(p);
  }

  /** The number as sent, shortened for a message. */
  static String echo(JsonParser p) throws IOException {
    String s = p.getText();
    return s.length() > MAX_ECHO ? s.substring(0, MAX_ECHO) + "… (" + s.length() + " characters)" : s;
  }

  /** Digits of the integer the parser is on (its text without the sign). */
  static int digits(JsonParser p) throws IOException {
    return p.getTextLength() - (p.getTextCharacters()[p.getTextOffset()] == '-' ? 1 : 0);
  }

  private static boolean isOneE18(JsonParser p) throws IOException {
    char[] a = p.getTextCharacters();
    int end = p.getTextOffset() + p.getTextLength();
    int i = end - 19;
    if (a[i] != '1') {
      return false;
    }
    for (i++; i < end; i++) {
      if (a[i] != '0') {
        return false;
      }
    }
    return true;
  }

  private static boolean zeroMantissa(JsonParser p) throws IOException {
    char[] a = p.getTextCharacters();
    int off = p.getTextOffset();
    int end = off + p.getTextLength();
    for (int i = off; i < end; i++) {
      char c = a[i];
      if (c == 'e' || c == 'E') {
        return true;
      }
      if (c >= '1' && c <= '9') {
        return false;
      }
    }
    return true;
  }
}
