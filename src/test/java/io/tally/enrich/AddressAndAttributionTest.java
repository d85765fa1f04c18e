package io.tally.enrich;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class AddressAndAttributionTest {

  @Test
  void verifiesThatAnonymisationZeroesTheLastOctetOrTheLastEightyBits() throws Exception {
    assertEquals("203.0.113.0", ClientAddress.anonymize(InetAddress.getByName("203.0.113.77")));
    assertEquals("2001:db8:85a3:0:0:0:0:0",
        ClientAddress.anonymize(InetAddress.getByName("2001:db8:85a3:1234:5678:8a2e:370:7334")));
  }

  /** An Inet6Address of exactly these bytes (InetAddress.getByName would turn ::ffff:a.b.c.d into IPv4 itself). */
  private static InetAddress v6(String text) throws Exception {
    return java.net.Inet6Address.getByAddress(null, java.net.Inet6Address.getByName(text) instanceof
        java.net.Inet4Address v4 ? mappedBytes(v4) : InetAddress.getByName(text).getAddress(), -1);
  }

  private static byte[] mappedBytes(java.net.Inet4Address v4) {
    byte[] b = new byte[16];
    b[10] = (byte) 0xff;
    b[11] = (byte) 0xff;
    System.arraycopy(v4.getAddress(), 0, b, 12, 4);
    return b;
  }

  @Test
  void verifiesThatAnIpv4AddressCarriedInIpv6IsNeverKeptWhole() throws Exception {
    // 203.0.113.77 = cb00:714d; each form below carries it, and must keep at most 203.0.113.0 of it
    // IPv4-mapped: treated as the IPv4 address it is
    assertEquals("203.0.113.0", ClientAddress.anonymize(v6("::ffff:203.0.113.77")));
    assertEquals("203.0.113.0", ClientAddress.anonymize(v6("::ffff:cb00:714d")));
    assertEquals("203.0.113.0", ClientAddress.anonymize(InetAddress.getByName("::ffff:203.0.113.77")));
    // IPv4-compatible and NAT64 (64:ff9b::/96): the prefix, and the IPv4 address with its last octet zeroed
    assertEquals("0:0:0:0:0:0:cb00:7100", ClientAddress.anonymize(v6("::203.0.113.77")));
    assertEquals("64:ff9b:0:0:0:0:cb00:7100", ClientAddress.anonymize(v6("64:ff9b::203.0.113.77")));
    // 6to4: 2002:cb00:714d::/48 carries the whole address in bits 16-47; its last octet goes too
    assertEquals("2002:cb00:7100:0:0:0:0:0", ClientAddress.anonymize(v6("2002:cb00:714d:1234:5678:9abc:def0:1")));
    // Teredo (RFC 4380's example: relay 65.54.227.120, client 192.0.2.45 inverted in the last 32 bits, port 40000
    // inverted before it): nothing of the client is left
    String teredo = ClientAddress.anonymize(v6("2001:0:4136:e378:8000:63bf:3fff:fdd2"));
    assertEquals("2001:0:4136:0:0:0:0:0", teredo);
    // an ordinary global address: still its first 48 bits only
    assertEquals("2a01:cb00:714d:0:0:0:0:0", ClientAddress.anonymize(v6("2a01:cb00:714d:1:2:3:4:5")));
  }

  @Test
  void verifiesThatOnlyLiteralAddressesAreReadAndNeverAName() {
    // four decimal octets, or IPv6
    assertEquals("203.0.113.7", ClientAddress.parse("203.0.113.7").getHostAddress());
    assertEquals("0:0:0:0:0:0:0:1", ClientAddress.parse("[::1]").getHostAddress());
    assertEquals("2001:db8:0:0:0:0:0:1", ClientAddress.parse("2001:db8::1").getHostAddress());
    // a name (which InetAddress would look up in DNS, on the sender's say) and the short, numeric, hex and octal
    // forms some parsers read as addresses are no client address
    for (String s : List.of("deadbeef", "cafe", "evil.example", "127.1", "2130706433", "0x7f000001", "0177.0.0.1",
        "127.0.0.01", "256.1.1.1", "1.2.3.4.5", "1:2", "203.0.113.9:443", "")) {
      assertNull(ClientAddress.parse(s), s);
    }
  }

  @Test
  void verifiesThatOnlyATrustedPeerMayNameTheClient() {
    ClientAddress a = new ClientAddress(List.of("127.0.0.0/8", "10.0.0.0/8"));
    // untrusted peer: X-Forwarded-For is ignored (it could be forged)
    assertEquals("198.51.100.1", a.resolve("198.51.100.1", "203.0.113.5").getHostAddress());
    // trusted peer: the first untrusted hop from the right
    assertEquals("203.0.113.5", a.resolve("127.0.0.1", "192.0.2.66, 203.0.113.5, 10.1.1.1").getHostAddress());
    // every hop trusted: the leftmost
    assertEquals("10.9.9.9", a.resolve("127.0.0.1", "10.9.9.9, 10.1.1.1").getHostAddress());
    // garbage is skipped, never resolved through DNS
    assertEquals("127.0.0.1", a.resolve("127.0.0.1", "evil.example").getHostAddress());
  }

  @Test
  void verifiesUtmAndReferrerClassification() {
    JsonObject utm = Attribution.of("https://app.example/?x=1&utm_source=Twitter&utm_medium=social&utm_campaign=Spring%20Sale",
        null, "https://t.co/abc");
    assertEquals("Twitter", utm.getString("source"));
    assertEquals("social", utm.getString("medium"));
    assertEquals("Spring Sale", utm.getString("campaign"));
    JsonObject search = Attribution.of("https://app.example/", "", "https://www.bing.com/search?q=x");
    assertEquals("www.bing.com", search.getString("source"));
    assertEquals("organic", search.getString("medium"));
    assertEquals("social", Attribution.of("https://app.example/", null, "https://www.linkedin.com/feed")
        .getString("medium"));
    assertEquals("referral", Attribution.of("https://app.example/", null, "https://blog.example.org/post")
        .getString("medium"));
    assertEquals("direct", Attribution.of("https://app.example/", "?utm_campaign=c", null).getString("source"));
    assertNull(Attribution.of("https://app.example/a", null, "https://app.example/b"));
    assertNull(Attribution.of("https://app.example/a", null, null));
  }
}
