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

  private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  private static final java.util.regex.Pattern DOTTED_QUAD =
      java.util.regex.Pattern.compile(OCTET + "(\\." + OCTET + "){3}");

  /**
   * Parses a literal address only: four decimal octets, or IPv6 (with a colon, optionally in brackets). Anything else
   * — a name, "127.1", "2130706433", a hex or octal form — is no address: InetAddress would look a name up in DNS
   * (blocking the event loop, on the sender's say) and reads the short and numeric forms as addresses.
   */
  public static InetAddress parse(String s) {
    if (s == null || s.isEmpty() || s.length() > 64) {
      return null;
    }
    String lit = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
    boolean v6 = lit.indexOf(':') >= 0 && lit.matches("[0-9a-fA-F:.]+");
    if (!v6 && !DOTTED_QUAD.matcher(lit).matches()) {
      return null;
    }
    try {
      // a literal of either form: never a lookup
      return InetAddress.getByName(lit);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /**
   * What is kept of an address: IPv4 with its last octet zeroed; IPv6 with its last 80 bits zeroed. An IPv6 address
   * that carries an IPv4 one is treated so the IPv4 address is never kept whole: IPv4-mapped (::ffff:a.b.c.d) is
   * stored as IPv4; IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) keep their prefix and the IPv4 address
   * with its last octet zeroed; 6to4 (2002:AABB:CCDD::/48, which carries a.b.c.d in bits 16-47) loses that last octet
   * too. Teredo (2001:0::/32) carries the client's IPv4 address (inverted) and port in its last 48 bits, which the
   * 80 zeroed bits remove (the relay's address, bits 32-63, is cut at 16 bits).
   */
  public static String anonymize(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length == 4) {
      b[3] = 0;
    } else if (mapped(b)) {
      b = new byte[] {b[12], b[13], b[14], 0};
    } else if (ipv4AtTheEnd(b)) {
      b[15] = 0;
    } else {
      // 6to4 (2002::/16): the IPv4 address sits in bytes 2-5, so its last octet (byte 5) goes too
      int from = b[0] == 0x20 && b[1] == 0x02 ? 5 : 6;
      for (int i = from; i < 16; i++) {
        b[i] = 0;
      }
    }
    try {
      return InetAddress.getByAddress(b).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** ::ffff:a.b.c.d (Java usually hands these over as IPv4 already). */
  private static boolean mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  /** ::a.b.c.d (IPv4-compatible) and 64:ff9b::a.b.c.d (NAT64's well-known prefix): the IPv4 address in bytes 12-15. */
  private static boolean ipv4AtTheEnd(byte[] b) {
    boolean nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == (byte) 0xff && b[3] == (byte) 0x9b;
    for (int i = nat64 ? 4 : 0; i < 12; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
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
