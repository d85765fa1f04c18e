package io.tally.support;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a small IPv4 MaxMind DB (format 2.0, 24-bit records) so tests have a real geo-IP database to read with
 * the real reader. Values may be strings, maps and lists.
 */
public final class MmdbWriter {
  private final List<int[]> nodes = new ArrayList<>();
  private final List<Object> data = new ArrayList<>();
  private final Map<int[], Integer> placeholders = new LinkedHashMap<>();

  public MmdbWriter() {
    nodes.add(new int[] {-1, -1});
  }

  /** Maps an IPv4 block (e.g. "203.0.113.0/24") to a record. */
  public MmdbWriter add(String cidr, Map<String, Object> record) throws Exception {
    String[] parts = cidr.split("/");
    byte[] ip = InetAddress.getByName(parts[0]).getAddress();
    int bits = Integer.parseInt(parts[1]);
    data.add(record);
    int dataIndex = data.size() - 1;
    int node = 0;
    for (int i = 0; i < bits; i++) {
      int bit = (ip[i / 8] >> (7 - (i % 8))) & 1;
      if (i == bits - 1) {
        nodes.get(node)[bit] = -2 - dataIndex;
      } else {
        if (nodes.get(node)[bit] < 0) {
          nodes.add(new int[] {-1, -1});
          nodes.get(node)[bit] = nodes.size() - 1;
        }
        node = nodes.get(node)[bit];
      }
    }
    return this;
  }

  public byte[] build(String databaseType) {
    int nodeCount = nodes.size();
    ByteArrayOutputStream dataSection = new ByteArrayOutputStream();
    int[] offsets = new int[data.size()];
    for (int i = 0; i < data.size(); i++) {
      offsets[i] = dataSection.size();
      encode(dataSection, data.get(i));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int[] n : nodes) {
      for (int side = 0; side < 2; side++) {
        int v = n[side];
        int record = v == -1 ? nodeCount : v <= -2 ? nodeCount + 16 + offsets[-2 - v] : v;
        out.write((record >> 16) & 0xFF);
        out.write((record >> 8) & 0xFF);
        out.write(record & 0xFF);
      }
    }
    out.writeBytes(new byte[16]);
    out.writeBytes(dataSection.toByteArray());
    out.writeBytes(new byte[] {(byte) 0xAB, (byte) 0xCD, (byte) 0xEF});
    out.writeBytes("MaxMind.com".getBytes(StandardCharsets.US_ASCII));
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("binary_format_major_version", new Uint(5, 2));
    meta.put("binary_format_minor_version", new Uint(5, 0));
    meta.put("build_epoch", new Uint(9, System.currentTimeMillis() / 1000));
    meta.put("database_type", databaseType);
    meta.put("description", Map.of("en", "Tally test database"));
    meta.put("ip_version", new Uint(5, 4));
    meta.put("languages", List.of("en"));
    meta.put("node_count", new Uint(6, nodeCount));
    meta.put("record_size", new Uint(5, 24));
    encode(out, meta);
    return out.toByteArray();
  }

  /** An unsigned integer of MMDB type 5 (uint16), 6 (uint32) or 9 (uint64). */
  private record Uint(int type, long value) {}

  @SuppressWarnings("unchecked")
  private static void encode(ByteArrayOutputStream out, Object v) {
    if (v instanceof String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      control(out, 2, b.length);
      out.writeBytes(b);
    } else if (v instanceof Map<?, ?> m) {
      control(out, 7, m.size());
      for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
        encode(out, e.getKey());
        encode(out, e.getValue());
      }
    } else if (v instanceof List<?> l) {
      control(out, 11, l.size());
      for (Object o : l) {
        encode(out, o);
      }
    } else if (v instanceof Uint u) {
      int n = 0;
      long x = u.value();
      while (x != 0) {
        n++;
        x >>>= 8;
      }
      control(out, u.type(), n);
      for (int i = n - 1; i >= 0; i--) {
        out.write((int) (u.value() >>> (8 * i)) & 0xFF);
      }
    } else {
      throw new IllegalArgumentException("unsupported value " + v);
    }
  }

  private static void control(ByteArrayOutputStream out, int type, int size) {
    if (size >= 29 + 256) {
      throw new IllegalArgumentException("value too large for this test writer");
    }
    int sizeBits = size < 29 ? size : 29;
    if (type <= 7) {
      out.write((type << 5) | sizeBits);
    } else {
      out.write(sizeBits);
      out.write(type - 7);
    }
    if (size >= 29) {
      out.write(size - 29);
    }
  }
}
