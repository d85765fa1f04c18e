package io.tally.event;

import io.tally.error.ApiError;

/**
 * Refuses a body that is not UTF-8 before Jackson sees it. Jackson would detect UTF-16 and UTF-32 from the first
 * bytes and decode them, but the sub-objects are stored as the bytes sent, which must be UTF-8: JSON text never holds
 * a raw zero byte, so one among the first four bytes (the pattern Jackson detects) or a UTF-16 byte-order mark gives
 * the encoding away (415). Then every byte must be well-formed UTF-8 (400): Jackson refuses most bad bytes itself,
 * but decodes overlong and surrogate (CESU-8) forms, which Java's decoder would silently replace in a stored slice.
 * A UTF-8 byte-order mark is allowed (RFC 8259 lets parsers ignore it; Jackson skips it).
 */
final class BodyEncoding {
  private BodyEncoding() {
  }

  static void requireUtf8(byte[] buf, int len) {
    if (len >= 2 && ((buf[0] == (byte) 0xFE && buf[1] == (byte) 0xFF) || (buf[0] == (byte) 0xFF
        && buf[1] == (byte) 0xFE))) {
      throw refused("it starts with a UTF-16 or UTF-32 byte-order mark");
    }
    for (int i = 0; i < Math.min(4, len); i++) {
      if (buf[i] == 0) {
        throw refused("it holds zero bytes, as UTF-16 or UTF-32 text does");
      }
    }
    int bad = StorableText.invalidUtf8(buf, 0, len);
    if (bad >= 0) {
      throw ApiError.malformedJson("body is not valid UTF-8: malformed byte sequence at byte " + bad);
    }
  }

  private static ApiError refused(String why) {
    return new ApiError(415, "unsupported_charset", "body must be JSON encoded as UTF-8; " + why, "body", null, null);
  }
}
