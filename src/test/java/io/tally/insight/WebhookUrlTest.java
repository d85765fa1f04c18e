package io.tally.insight;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Webhook URLs are read so that no spelling of an address passes for a name. */
class WebhookUrlTest {

  /** Every spelling of a loopback address a resolver somewhere would accept. */
  static final List<String> LOOPBACK_HOSTS = List.of("127.0.0.1", "2130706433", "0x7f000001", "0X7F000001",
      "0177.0.0.1", "0177.00.00.01", "127.1", "127.0.1", "0x7f.1", "0x7f.0.0.0x1", "017700000001", "127.0.0.1.",
      "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::FFFF:7F00:1]", "[0:0:0:0:0:ffff:7f00:1]",
      "[::127.0.0.1]");

  @Test
  void verifiesThatEveryNumericSpellingOfAnAddressIsReadAsThatAddress() {
    for (String host : LOOPBACK_HOSTS) {
      WebhookUrl u = WebhookUrl.parse("http://" + host + ":8080/hook?token=s3cret");
      // THEN each is the loopback address, never a name to look up
      String expected = host.equals("[::1]") ? "0:0:0:0:0:0:0:1"
          : host.equals("[::127.0.0.1]") ? "0:0:0:0:0:0:7f00:1" : "127.0.0.1";
      assertEquals(expected, u.literal().getHostAddress(), host);
      assertEquals(8080, u.port());
      assertEquals("/hook?token=s3cret", u.pathAndQuery());
    }
    // AND the other IPv4 spellings of a private or metadata address too
    assertEquals("169.254.169.254", WebhookUrl.parse("http://0xa9fea9fe/").literal().getHostAddress());
    assertEquals("169.254.169.254", WebhookUrl.parse("http://2852039166/").literal().getHostAddress());
    assertEquals("10.0.0.1", WebhookUrl.parse("http://10.1/").literal().getHostAddress());
  }

  @Test
  void verifiesThatNamesAreKeptAsNamesInLowerCaseWithoutTheTrailingDot() {
    WebhookUrl u = WebhookUrl.parse("HTTPS://User:Pw@LOCALHOST./a/b?c=d#frag");
    assertNull(u.literal());
    assertEquals("localhost", u.host());
    assertEquals(443, u.port());
    assertEquals("/a/b?c=d", u.pathAndQuery());
    assertEquals("localhost", u.hostHeader());
    assertEquals("hooks.example.com:8443", WebhookUrl.parse("https://hooks.example.com:8443").hostHeader());
    assertEquals("[2606:4700::1111]:81", WebhookUrl.parse("http://[2606:4700::1111]:81/").hostHeader());
  }

  @Test
  void verifiesThatWhatIsNeitherANameNorAnAddressIsRefused() {
    for (String url : List.of("ftp://example.com/", "http:///x", "http://", "//example.com/x", "http://1.2.3.4.5/",
        "http://256.1.1.1/", "http://1.16777216/", "http://0x1ffffffff/", "http://08.0.0.1/", "http://example.123/",
        "http://[::1/", "http://[fe80::1%25eth0]/", "http://%31%32%37.0.0.1/", "http://exa mple.com/",
        "http://example.com:0/", "http://example.com:65536/", "http://example.com:8o/", "http://ex_ample..com/",
        "http://bücher.example/", "")) {
      assertThrows(IllegalArgumentException.class, () -> WebhookUrl.parse(url), url);
    }
  }

  @Test
  void verifiesThatTheRedactedFormKeepsWhereItGoesAndDropsPathQueryAndUser() {
    String url = "https://user:pw@hooks.example.com/services/T000/B000/XXXXsecret?token=abc";
    assertEquals("https://hooks.example.com/…", WebhookUrl.redact(url));
    assertEquals("http://hooks.example.com:8080/…", WebhookUrl.redact("http://hooks.example.com:8080/x"));
    assertEquals("(set)", WebhookUrl.redact("not a url with secret"));
    assertFalse(WebhookUrl.redact(url).contains("secret"));
  }
}
