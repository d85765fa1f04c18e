package io.tally.enrich;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which address is the client's, and how much of it may be kept. The client is the connection's peer, or — when
 * the peer is a trusted proxy — the first untrusted address of {@code X-Forwarded-For}, read right to left.
 */
public final class ClientAddress {
  private final List<Cidr> trusted;

  public ClientAddress(List<String> trustedProxies) {
    List<Cidr> list = new ArrayList<>();
    for (String s : trustedProxies) {
      list.add(Cidr.parse(s));
    }
    this.trusted = List.copyOf(list);
  }

  public InetAddress resolve(String peer, String forwardedFor) {
    InetAddress peerAddr = parse(peer);
    if (peerAddr == null || forwardedFor == null || forwardedFor.isBlank() || !trusted(peerAddr)) {
      return peerAddr;
    }
    String[] hops = forwardedFor.split(",");
    InetAddress leftmost = null;
    for (int i = hops.length - 1; i >= 0; i--) {
      InetAddress hop = parse(hops[i].trim());
      if (hop == null) {
        continue;
      }
      leftmost = hop;
      if (!trusted(hop)) {
        return hop;
      }
    }
    return leftmost != null ? leftmost : peerAddr;
  }

  boolean trusted(InetAddress a) {
    for (Cidr c : trusted) {
      if (c.contains(a)) {
        return true;
      }
    }
    return false;
  }

  /** Parses a literal address only (never a DNS lookup). */
  public static InetAddress parse(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    String lit = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
    if (!lit.matches("[0-9a-fA-F:.]+")) {
      return null;
    }
    try {
      return InetAddress.getByName(lit);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** IPv4: the last octet zeroed; IPv6: the last 80 bits zeroed. */
  public static String anonymize(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length == 4) {
      b[3] = 0;
    } else {
      for (int i = 6; i < 16; i++) {
        b[i] = 0;
      }
    }
    try {
      return InetAddress.getByAddress(b).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An address block such as 10.0.0.0/8 or ::1/128. */
  record Cidr(byte[] network, int bits) {
    static Cidr parse(String s) {
      String[] parts = s.trim().split("/");
      InetAddress a = ClientAddress.parse(parts[0]);
      if (a == null) {
        throw new IllegalArgumentException("not an address block: " + s);
      }
      int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : a.getAddress().length * 8;
      return new Cidr(a.getAddress(), bits);
    }

    boolean contains(InetAddress a) {
      byte[] x = a.getAddress();
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
}
