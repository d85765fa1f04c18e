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
