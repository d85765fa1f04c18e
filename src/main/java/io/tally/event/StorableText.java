package io.tally.event;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * What PostgreSQL can store as text or jsonb: no NUL character and no unpaired UTF-16 surrogate (both are refused,
 * the first by text, the second by jsonb's {@code \ud800} escapes), and only well-formed UTF-8 bytes. Checked
 * without allocating: the parser hands over its own character buffer.
 */
final class StorableText {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static final int OK = 0;
  static final int NUL = 1;
  static final int LONE_SURROGATE = 2;

  private StorableText() {
  }

  /** {@link #OK}, {@link #NUL} or {@link #LONE_SURROGATE} for {@code len} characters of {@code a} from {@code off}. */
  static int problem(char[] a, int off, int len) {
    int end = off + len;
    for (int i = off; i < end; i++) {
      char c = a[i];
      if (c == 0) {
        return NUL;
      }
      if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
        // a high surrogate followed by a low one is a pair; anything else is unpaired
        if (c <= Character.MAX_HIGH_SURROGATE && i + 1 < end && Character.isLowSurrogate(a[i + 1])) {
          i++;
        } else {
          return LONE_SURROGATE;
        }
      }
    }
    return OK;
  }

  static int problem(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return NUL;
      }
      if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
        if (c <= Character.MAX_HIGH_SURROGATE && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return LONE_SURROGATE;
        }
      }
    }
    return OK;
  }

  /** What a client is told: the problem, naming the field. */
  static String describe(int problem, String field) {
    return problem == NUL
        ? field + " contains a NUL character (\\u0000), which PostgreSQL cannot store"
        : field + " contains an unpaired UTF-16 surrogate (e.g. a lone \\ud800), which PostgreSQL cannot store";
  }

  /**
   * The index of the first byte of {@code b[from, to)} that is not part of well-formed UTF-8 (RFC 3629: no overlong
   * forms, no encoded surrogates, nothing above U+10FFFF), or -1. ASCII, the bulk of any body, is tested eight bytes
   * at a time.
   */
  static int invalidUtf8(byte[] b, int from, int to) {
    int i = from;
    while (i < to) {
      // ASCII eight bytes at a time: no byte of the word has its high bit set
      while (i + 8 <= to && ((long) LONGS.get(b, i) & 0x8080808080808080L) == 0) {
        i += 8;
      }
      if (i >= to) {
        break;
      }
      int c = b[i];
      if (c >= 0) {
        i++;
        continue;
      }
      c &= 0xFF;
      int need;
      int min;
      if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        min = 0x80;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        min = 0x800;
      } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        min = 0x10000;
      } else {
        return i;
      }
      if (i + need >= to) {
        return i;
      }
      int cp = c & (0x3F >> need);
      for (int k = 1; k <= need; k++) {
        int d = b[i + k] & 0xFF;
        if ((d & 0xC0) != 0x80) {
          return i;
        }
        cp = (cp << 6) | (d & 0x3F);
      }
      if (cp < min || cp > 0x10FFFF || (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE)) {
        return i;
      }
      i += need + 1;
    }
    return -1;
  }
}
