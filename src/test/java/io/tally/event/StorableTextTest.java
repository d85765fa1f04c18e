package io.tally.event;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Verifies that the UTF-8 and UTF-16 checks find exactly what PostgreSQL would refuse, wherever it sits. */
class StorableTextTest {
  @Test
  void verifiesThatAMalformedByteIsFoundAtItsIndexWhateverItsAlignment() {
    // GIVEN ASCII with one bad byte at every position of the 8-byte words the fast path reads
    for (int at = 0; at < 24; at++) {
      byte[] b = new byte[24];
      Arrays.fill(b, (byte) 'a');
      b[at] = (byte) 0xFF;
      // THEN it is reported at that index, and from any start before it
      assertEquals(at, StorableText.invalidUtf8(b, 0, b.length), "at " + at);
      assertEquals(at, StorableText.invalidUtf8(b, at / 2, b.length), "at " + at);
      assertEquals(-1, StorableText.invalidUtf8(b, 0, at), "before " + at);
    }
  }

  @Test
  void verifiesThatWellFormedUtf8PassesAndEveryMalformedFormFails() {
    for (String ok : new String[] {"a", "é", "\u07FF", "\u0800", "\uD7FF", "\uE000", "\uFFFF", "😀", "\uDBFF\uDFFF",
        "mixed é中😀 text of some length"}) {
      byte[] b = ok.getBytes(StandardCharsets.UTF_8);
      assertEquals(-1, StorableText.invalidUtf8(b, 0, b.length), ok);
    }
    int[][] bad = {{0x80}, {0xC0, 0x80}, {0xC1, 0xBF}, {0xE0, 0x9F, 0xBF}, {0xED, 0xA0, 0x80}, {0xED, 0xBF, 0xBF},
        {0xF0, 0x8F, 0xBF, 0xBF}, {0xF4, 0x90, 0x80, 0x80}, {0xF5, 0x80, 0x80, 0x80}, {0xFF}, {0xE2, 0x82},
        {0xC3}, {0xE2, 0x28, 0xA1}};
    for (int[] seq : bad) {
      byte[] b = new byte[seq.length + 2];
      b[0] = 'x';
      for (int i = 0; i < seq.length; i++) {
        b[i + 1] = (byte) seq[i];
      }
      b[b.length - 1] = 'y';
      assertEquals(1, StorableText.invalidUtf8(b, 0, b.length), Arrays.toString(seq));
    }
  }

  @Test
  void verifiesThatNulAndEveryUnpairedSurrogateAreFoundButPairsAreNot() {
    assertEquals(StorableText.OK, StorableText.problem("a😀\uD83D\uDE00b"));
    assertEquals(StorableText.NUL, StorableText.problem("a\u0000"));
    for (String lone : new String[] {"\uD800", "\uDC00", "\uD800a", "a\uDBFF", "\uDC00\uD800", "\uD800\uD800"}) {
      assertEquals(StorableText.LONE_SURROGATE, StorableText.problem(lone), lone);
      char[] padded = ("xx" + lone + "yy").toCharArray();
      assertEquals(StorableText.LONE_SURROGATE, StorableText.problem(padded, 2, lone.length()), lone);
    }
    // a pair cut by the end of the range is unpaired within it
    char[] pair = "😀".toCharArray();
    assertEquals(StorableText.LONE_SURROGATE, StorableText.problem(pair, 0, 1));
  }
}
