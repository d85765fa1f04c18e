package io.tally.auth;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Failed keys per client: the block, its end, and the bound on the clients held. */
class KeyFailuresTest {

  @Test
  void verifiesThatTheNthFailureBlocksTheClientAloneAndTheBlockEnds() throws Exception {
    KeyFailures f = new KeyFailures(3, 1_000, () -> { });
    assertFalse(f.failed("a"));
    assertFalse(f.failed("a"));
    assertEquals(0, f.blockedFor("a"));
    // the third failure within the minute blocks "a", not "b"
    assertTrue(f.failed("a"));
    assertTrue(f.blockedFor("a") > 0);
    assertEquals(0, f.blockedFor("b"));
    Thread.sleep(1_100);
    assertEquals(0, f.blockedFor("a"));
  }

  @Test
  void verifiesThatTheTableOfClientsIsBoundedAndAFullOneCountsWhatItCannotTrack() {
    AtomicInteger untracked = new AtomicInteger();
    KeyFailures f = new KeyFailures(5, 60_000, untracked::incrementAndGet);
    for (int i = 0; i < KeyFailures.MAX_TRACKED + 100; i++) {
      f.failed("10." + (i >> 16) + "." + ((i >> 8) & 0xFF) + "." + (i & 0xFF));
    }
    assertEquals(KeyFailures.MAX_TRACKED, f.tracked());
    assertEquals(100, untracked.get());
  }

  @Test
  void verifiesThatIpv6ClientsAreCountedByTheirSlash64AndBlocksMatchCidrs() {
    assertEquals(ClientKeys.key("2001:db8:1:2:aaaa::1"), ClientKeys.key("2001:db8:1:2:ffff::9"));
    assertFalse(ClientKeys.key("2001:db8:1:2::1").equals(ClientKeys.key("2001:db8:1:3::1")));
    assertEquals("203.0.113.7", ClientKeys.key("203.0.113.7"));
    assertEquals("unknown", ClientKeys.key("not-an-address"));
    ClientKeys exempt = new ClientKeys(List.of("127.0.0.0/8", "::1/128", "10.1.0.0/16"));
    assertTrue(exempt.contains(io.tally.enrich.ClientAddress.parse("127.3.4.5")));
    assertTrue(exempt.contains(io.tally.enrich.ClientAddress.parse("::1")));
    assertTrue(exempt.contains(io.tally.enrich.ClientAddress.parse("10.1.200.3")));
    assertFalse(exempt.contains(io.tally.enrich.ClientAddress.parse("10.2.0.1")));
    assertFalse(exempt.contains(null));
  }
}
