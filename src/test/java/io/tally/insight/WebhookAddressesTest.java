package io.tally.insight;

import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which addresses a webhook may reach: public ones, and only the networks an operator allows besides. */
class WebhookAddressesTest {

  /** Exactly these bytes (InetAddress.getByName would turn an IPv4-mapped address into IPv4 itself). */
  private static InetAddress exact(String text) throws Exception {
    InetAddress a = InetAddress.getByName(text);
    if (a.getAddress().length == 16 || !text.contains(":")) {
      return a;
    }
    byte[] b = new byte[16];
    b[10] = (byte) 0xff;
    b[11] = (byte) 0xff;
    System.arraycopy(a.getAddress(), 0, b, 12, 4);
    return Inet6Address.getByAddress(null, b, -1);
  }

  @Test
  void verifiesThatEveryNonPublicRangeIsRefused() throws Exception {
    WebhookAddresses p = WebhookAddresses.PUBLIC_ONLY;
    for (String a : List.of(
        // IPv4: this network, private, carrier-grade NAT, loopback, link-local (cloud metadata), IETF,
        // documentation, 6to4 relay, benchmarking, multicast, reserved, broadcast
        "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254", "127.0.0.1",
        "127.255.255.254", "169.254.169.254", "172.16.0.1", "172.31.255.254", "192.0.0.8", "192.0.2.1",
        "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.254", "198.51.100.1", "203.0.113.1", "224.0.0.1",
        "239.255.255.250", "240.0.0.1", "255.255.255.255",
        // IPv6: unspecified, loopback, unique-local, link-local, site-local, multicast, discard, outside 2000::/3,
        // IETF (Teredo among them), documentation, local-use NAT64
        "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1", "100::1", "5f00::1",
        "4000::1", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:db8::1", "3fff::1", "64:ff9b:1::1",
        // an IPv6 form of a non-public IPv4 address: mapped, compatible, NAT64, 6to4
        "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:a9fe:a9fe", "::127.0.0.1", "::10.0.0.1", "64:ff9b::127.0.0.1",
        "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:c0a8:101::1", "2002:a9fe:a9fe::1")) {
      assertNotNull(p.refusal(exact(a)), a + " was let through");
    }
  }

  @Test
  void verifiesThatPublicAddressesPass() throws Exception {
    WebhookAddresses p = WebhookAddresses.PUBLIC_ONLY;
    for (String a : List.of("8.8.8.8", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.0", "172.15.255.255",
        "172.32.0.0", "192.0.1.1", "198.17.255.255", "223.255.255.255", "2606:4700::1111", "2a00:1450:4007::200e",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1")) {
      assertNull(p.refusal(exact(a)), a + " was refused");
    }
  }

  @Test
  void verifiesThatOnlyTheAllowedNetworksAreLetThroughBesides() throws Exception {
    WebhookAddresses p = new WebhookAddresses(List.of("127.0.0.1/32", "10.1.0.0/16", "fd00::/8"));
    assertNull(p.refusal(InetAddress.getByName("127.0.0.1")));
    assertNull(p.refusal(InetAddress.getByName("::ffff:127.0.0.1")));
    assertNull(p.refusal(InetAddress.getByName("10.1.2.3")));
    assertNull(p.refusal(InetAddress.getByName("fd00::5")));
    assertNotNull(p.refusal(InetAddress.getByName("127.0.0.2")));
    assertNotNull(p.refusal(InetAddress.getByName("10.2.0.1")));
    assertNotNull(p.refusal(InetAddress.getByName("169.254.169.254")));
    assertNotNull(p.refusal(InetAddress.getByName("::1")));
    assertEquals("a loopback address", p.refusal(InetAddress.getByName("127.0.0.2")));
    for (String bad : List.of("localhost", "10.0.0.0/33", "::/129", "10.0.0.0/x", "300.0.0.0/8")) {
      assertThrows(IllegalArgumentException.class, () -> new WebhookAddresses(List.of(bad)), bad);
    }
  }
}
