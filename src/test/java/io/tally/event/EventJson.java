package io.tally.event;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Test events as plain maps and lists, written out by hand so a test can send what no JSON library would: numbers
 * such as {@code 1e309}, lone surrogate escapes, raw NUL escapes, bytes that are not UTF-8.
 */
final class EventJson {
  /** JSON text written verbatim (a number like 1e309, a string with escapes chosen by the test). */
  record Raw(String json) {
    @Override
    public String toString() {
      return json.length() > 60 ? json.substring(0, 60) + "…(" + json.length() + ")" : json;
    }
  }

  /** Bytes written verbatim, e.g. a string holding bytes that are not UTF-8. */
  record RawBytes(byte[] bytes) {
    @Override
    public String toString() {
      return "bytes" + java.util.Arrays.toString(bytes.length > 20 ? java.util.Arrays.copyOf(bytes, 20) : bytes);
    }
  }

  private EventJson() {
  }

  static byte[] bytes(Object value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(value, out);
    return out.toByteArray();
  }

  static byte[] batch(List<?> events) {
    return bytes(Map.of("batch", events));
  }

  private static void write(Object v, ByteArrayOutputStream out) {
    if (v == null) {
      ascii("null", out);
    } else if (v instanceof Raw r) {
      out.writeBytes(r.json().getBytes(StandardCharsets.UTF_8));
    } else if (v instanceof RawBytes r) {
      out.writeBytes(r.bytes());
    } else if (v instanceof String s) {
      string(s, out);
    } else if (v instanceof Number || v instanceof Boolean) {
      ascii(v.toString(), out);
    } else if (v instanceof Map<?, ?> m) {
      out.write('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          out.write(',');
        }
        first = false;
        if (e.getKey() instanceof RawBytes || e.getKey() instanceof Raw) {
          write(e.getKey(), out);
        } else {
          string((String) e.getKey(), out);
        }
        out.write(':');
        write(e.getValue(), out);
      }
      out.write('}');
    } else if (v instanceof List<?> l) {
      out.write('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          out.write(',');
        }
        write(l.get(i), out);
      }
      out.write(']');
    } else {
      throw new IllegalArgumentException("cannot write " + v.getClass());
    }
  }

  /** Quotes and escapes: control characters and unpaired surrogates as \\u escapes, the rest as UTF-8. */
  static void string(String s, ByteArrayOutputStream out) {
    out.write('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.write('\\');
        out.write(c);
      } else if (c < 0x20) {
        ascii(String.format("\\u%04x", (int) c), out);
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        out.writeBytes(s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8));
        i++;
      } else if (Character.isSurrogate(c)) {
        ascii(String.format("\\u%04x", (int) c), out);
      } else if (c < 0x80) {
        out.write(c);
      } else {
        out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    out.write('"');
  }

  private static void ascii(String s, ByteArrayOutputStream out) {
    out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
  }
}
