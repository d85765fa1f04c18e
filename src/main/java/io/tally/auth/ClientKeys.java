package io.tally.auth;

import io.tally.enrich.ClientAddress;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Which "client" a per-address limit counts: an IPv4 address as is, an IPv6 address by its /64 (one host is handed a
 * whole /64, so counting single IPv6 addresses would let one machine take 2^64 of them); and which addresses a limit
 * leaves alone (a list of CIDR blocks).
 */
final class ClientKeys {
  private final List<byte[]> networks = new ArrayList<>();
  private final List<Integer> bits = new ArrayList<>();

  /** {@code blocks}: addresses or CIDR blocks (validated by the configuration loader). */
  ClientKeys(List<String> blocks) {
    for (String s : blocks) {
      String[] parts = s.trim().split("/");
      InetAddress a = ClientAddress.parse(parts[0]);
      if (a == null) {
        throw new IllegalArgumentException("not an address block: " + s);
      }
      int prefix = parts.length > 1 ? Integer.parseInt(parts[1]) : a.getAddress().length * 8;
      if (prefix > a.getAddress().length * 8) {
        throw new IllegalArgumentException("prefix longer than the address: " + s);
      }
      networks.add(a.getAddress());
      bits.add(prefix);
    }
  }

  /** The key of a literal address ({@code null} or unparsable: one shared "unknown" client). */
  static String key(InetAddress a) {
    if (a == null) {
      return "unknown";
    }
    byte[] b = a.getAddress();
    if (b.length == 4) {
      return a.getHostAddress();
    }
    StringBuilder s = new StringBuilder(24);
    for (int i = 0; i < 8; i += 2) {
      s.append(Integer.toHexString(((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF))).append(':');
    }
    return s.append(":/64").toString();
  }

  static String key(String literal) {
    return key(ClientAddress.parse(literal));
  }

  /** Whether the address falls in one of the blocks. */
  boolean contains(InetAddress a) {
    if (a == null) {
      return false;
    }
    byte[] x = a.getAddress();
    for (int i = 0; i < networks.size(); i++) {
      if (within(x, networks.get(i), bits.get(i))) {
        return true;
      }
    }
    return false;
  }

  private static boolean within(byte[] x, byte[] network, int bits) {
    if (x.length != network.length) {
      return false;
    }
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (x[i] != network[i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (x[full] & mask) == (network[full] & mask);
  }
}
