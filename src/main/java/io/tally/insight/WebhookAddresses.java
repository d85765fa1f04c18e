package io.tally.insight;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which addresses an alert webhook may reach: public unicast ones only, unless the operator allows some networks
 * ({@code alerts.allowedWebhookNetworks}). Anyone who may set a webhook URL could otherwise have Tally post to the
 * machine itself, its private network or a cloud metadata service.
 *
 * <p>Refused: IPv4 0/8, 10/8, 100.64/10 (carrier-grade NAT), 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24,
 * 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 (multicast) and 240/4 (reserved, with the
 * broadcast address); IPv6 outside 2000::/3 (::, ::1, fc00::/7 unique-local, fe80::/10 link-local, fec0::/10,
 * ff00::/8 multicast, 100::/64, 5f00::/16, ...), 2001::/23 (IETF assignments), 2001:db8::/32 and 3fff::/20
 * (documentation), 64:ff9b:1::/48 (local NAT64); and an IPv6 address that carries an IPv4 one — IPv4-mapped
 * (::ffff:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16) — is judged by that IPv4 address.
 */
public final class WebhookAddresses {
  /** No network allowed beyond the public ones. */
  public static final WebhookAddresses PUBLIC_ONLY = new WebhookAddresses(List.of());

  /** Thrown (as a failure) when a webhook's host is, or resolves to, an address it may not reach. */
  public static final class RefusedException extends RuntimeException {
    RefusedException(String message) {
      super(message, null, false, false);
    }
  }

  private record Block(byte[] network, int bits) {
    boolean contains(byte[] a) {
      if (a.length != network.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (a[i] != network[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return rest == 0 || (a[full] & mask) == (network[full] & mask);
    }
  }

  private static final int[][] V4_REFUSED = {
      // network (a, b, c, d), prefix length, reason index
      {0, 0, 0, 0, 8, 0}, {10, 0, 0, 0, 8, 1}, {100, 64, 0, 0, 10, 2}, {127, 0, 0, 0, 8, 3}, {169, 254, 0, 0, 16, 4},
      {172, 16, 0, 0, 12, 1}, {192, 0, 0, 0, 24, 5}, {192, 0, 2, 0, 24, 6}, {192, 88, 99, 0, 24, 7},
      {192, 168, 0, 0, 16, 1}, {198, 18, 0, 0, 15, 8}, {198, 51, 100, 0, 24, 6}, {203, 0, 113, 0, 24, 6},
      {224, 0, 0, 0, 4, 9}, {240, 0, 0, 0, 4, 10}};
  private static final String[] V4_REASONS = {"an unspecified (\"this network\") address", "a private address",
      "a carrier-grade NAT address", "a loopback address", "a link-local address", "an IETF protocol address",
      "a documentation address", "a 6to4 relay address", "a benchmarking address", "a multicast address",
      "a reserved or broadcast address"};

  /** A name's addresses: the system's resolver (/etc/hosts, then DNS), or a test's. */
  interface Resolver {
    InetAddress[] addresses(String host) throws UnknownHostException;
  }

  private final List<Block> allowed;
  private final Resolver resolver;

  /** @param allowedNetworks CIDR blocks (or single addresses) a webhook may reach even though they are not public */
  public WebhookAddresses(List<String> allowedNetworks) {
    this(allowedNetworks, InetAddress::getAllByName);
  }

  WebhookAddresses(List<String> allowedNetworks, Resolver resolver) {
    List<Block> list = new ArrayList<>();
    for (String s : allowedNetworks) {
      list.add(block(s));
    }
    this.allowed = List.copyOf(list);
    this.resolver = resolver;
  }

  private static Block block(String s) {
    String[] parts = s.trim().split("/", 2);
    InetAddress a = io.tally.enrich.ClientAddress.parse(parts[0]);
    if (a == null) {
      throw new IllegalArgumentException("not an address or CIDR block: " + s);
    }
    int max = a.getAddress().length * 8;
    int bits;
    try {
      bits = parts.length > 1 ? Integer.parseInt(parts[1]) : max;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an address or CIDR block: " + s);
    }
    if (bits < 0 || bits > max) {
      throw new IllegalArgumentException("the prefix length of " + s + " must be from 0 to " + max);
    }
    return new Block(a.getAddress(), bits);
  }

  /** Null when a webhook may reach {@code a}; else what kind of address it is ("a loopback address"). */
  public String refusal(InetAddress a) {
    byte[] b = a.getAddress();
    for (Block block : allowed) {
      if (block.contains(b)) {
        return null;
      }
    }
    return b.length == 4 ? v4(b) : v6(b);
  }

  private static String v4(byte[] b) {
    for (int[] r : V4_REFUSED) {
      Block block = new Block(new byte[] {(byte) r[0], (byte) r[1], (byte) r[2], (byte) r[3]}, r[4]);
      if (block.contains(b)) {
        return V4_REASONS[r[5]];
      }
    }
    return null;
  }

  private static String v6(byte[] b) {
    if (zero(b, 0, 16)) {
      return "the unspecified address";
    }
    if (zero(b, 0, 15) && b[15] == 1) {
      return "a loopback address";
    }
    // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d
    if (zero(b, 0, 10) && (b[10] == b[11] && (b[10] == 0 || b[10] == (byte) 0xff))) {
      return embedded(tail(b, 12), "an IPv4-mapped or -compatible IPv6 address");
    }
    int w0 = word(b, 0);
    int w1 = word(b, 2);
    if (w0 == 0x64 && w1 == 0xff9b && zero(b, 4, 12)) {
      return embedded(tail(b, 12), "a NAT64 address");
    }
    if (w0 == 0x64 && w1 == 0xff9b && word(b, 4) == 1) {
      return "a local-use NAT64 address";
    }
    if (w0 == 0x2002) {
      return embedded(tail(b, 2), "a 6to4 address");
    }
    if ((b[0] & 0xe0) != 0x20) {
      return switch (b[0] & 0xff) {
        case 0xfc, 0xfd -> "a unique-local address";
        case 0xfe -> (b[1] & 0xc0) == 0x80 ? "a link-local address" : "a site-local address";
        case 0xff -> "a multicast address";
        default -> "not a global unicast address";
      };
    }
    if (w0 == 0x2001 && (w1 & 0xfe00) == 0) {
      // Teredo (2001::/32) among them
      return "an IETF protocol address";
    }
    if (w0 == 0x2001 && w1 == 0x0db8 || w0 == 0x3fff && (w1 & 0xf000) == 0) {
      return "a documentation address";
    }
    return null;
  }

  private static String embedded(byte[] v4, String kind) {
    String why = v4(v4);
    return why == null ? null : kind + " of " + why;
  }

  private static boolean zero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static int word(byte[] b, int i) {
    return (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
  }

  private static byte[] tail(byte[] b, int from) {
    return new byte[] {b[from], b[from + 1], b[from + 2], b[from + 3]};
  }

  /**
   * The address to connect to for {@code url}: its literal address, or — resolved now — its name's, when every
   * address the name has may be reached (one refused address refuses the name: which one a connection would use is
   * not ours to choose). The caller connects to exactly this address, so a DNS answer that changes afterwards
   * (rebinding) changes nothing. Fails with {@link RefusedException}, or {@link UnknownHostException}.
   */
  public Future<InetAddress> resolve(Vertx vertx, WebhookUrl url) {
    if (url.literal() != null) {
      try {
        return Future.succeededFuture(checked(url, List.of(url.literal())));
      } catch (RefusedException e) {
        return Future.failedFuture(e);
      }
    }
    // InetAddress reads /etc/hosts and asks DNS (blocking): on a worker thread, in no order with other work
    return vertx.executeBlocking(() -> checked(url, List.of(resolver.addresses(url.host()))), false);
  }

  private InetAddress checked(WebhookUrl url, List<InetAddress> addresses) {
    for (InetAddress a : addresses) {
      String why = refusal(a);
      if (why != null) {
        String spelled = url.literal() == null ? url.host() + " resolves to " + why
            : url.literal().getHostAddress().equals(url.host()) ? url.host() + " is " + why
            : url.host() + " is " + url.literal().getHostAddress() + ", " + why;
        throw new RefusedException("the webhook may only reach public addresses: " + spelled
            + " (an operator can allow networks in alerts.allowedWebhookNetworks)");
      }
    }
    return addresses.get(0);
  }
}
