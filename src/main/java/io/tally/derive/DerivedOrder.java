package io.tally.derive;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * The orders the derived tables' rules break ties with, as PostgreSQL applies them, so that a value chosen in memory
 * is the value the re-derivation in SQL chooses: text in code-point order ({@code COLLATE "C"}: UTF-8 bytes compare as
 * code points, where Java's {@link String#compareTo} compares UTF-16 units), ids as 16 unsigned bytes ({@code uuid}),
 * times in microseconds (PostgreSQL's resolution).
 */
final class DerivedOrder {
  private DerivedOrder() {
  }

  /** Code-point order of two strings; null sorts first. */
  static int text(String a, String b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if (x != y) {
        // a surrogate (a code point above U+FFFF) sorts after every other unit, as its code point does
        boolean sx = Character.isSurrogate(x);
        boolean sy = Character.isSurrogate(y);
        return sx == sy ? Character.compare(x, y) : sx ? 1 : -1;
      }
    }
    return Integer.compare(a.length(), b.length());
  }

  /** The greater of two strings in code-point order (a null loses). */
  static String max(String a, String b) {
    return a == null ? b : b == null ? a : text(a, b) >= 0 ? a : b;
  }

  /** PostgreSQL's order of uuids: the 16 bytes, unsigned. */
  static int id(UUID a, UUID b) {
    int c = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
    return c != 0 ? c : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
  }

  /** Whether (us, id) comes strictly before (otherUs, otherId). */
  static boolean before(long us, UUID id, long otherUs, UUID otherId) {
    return us < otherUs || us == otherUs && id(id, otherId) < 0;
  }

  /** An instant in PostgreSQL's resolution (events are at or after 2000-01-01, so truncation is the floor). */
  static long micros(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
  }

  static OffsetDateTime time(long micros) {
    return OffsetDateTime.ofInstant(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
        Math.floorMod(micros, 1_000_000L) * 1_000L), ZoneOffset.UTC);
  }

  /** The first {@code max} code points of {@code s} (PostgreSQL's {@code left(s, max)}). */
  static String left(String s, int max) {
    if (s.length() <= max || s.codePointCount(0, s.length()) <= max) {
      return s;
    }
    return s.substring(0, s.offsetByCodePoints(0, max));
  }
}
