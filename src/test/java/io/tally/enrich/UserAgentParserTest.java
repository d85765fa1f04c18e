package io.tally.enrich;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UserAgentParserTest {
  static final String CHROME_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/120.0.0.0 Safari/537.36";
  static final String IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
      + "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
  static final String IPAD = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      + "Version/16.6 Mobile/15E148 Safari/604.1";
  static final String ANDROID_TABLET = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/119.0.0.0 Safari/537.36";
  static final String ANDROID_PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/120.0.0.0 Mobile Safari/537.36";
  static final String FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0";
  static final String GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
  static final String HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "HeadlessChrome/120.0.0.0 Safari/537.36";

  private final UserAgentParser parser = new UserAgentParser(100);

  @Test
  void verifiesThatACraftedAgentNameIsCutToTheBrowserBound() {
    // a product token as long as the agent itself becomes the browser name, a key of the rollups
    String name = "Brwsr" + "\u4e2d".repeat(900);
    UserAgentParser.UserAgentInfo info = parser.parse("Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + name + "/1.0");
    assertEquals(name.substring(0, UserAgentParser.MAX_BROWSER), info.browser());
  }

  @Test
  void verifiesThatRealDesktopUserAgentsParse() {
    UserAgentParser.UserAgentInfo chrome = parser.parse(CHROME_WINDOWS);
    assertEquals("desktop", chrome.deviceType());
    assertEquals("Windows NT", chrome.os());
    assertEquals("Chrome", chrome.browser());
    assertTrue(chrome.browserVersion().startsWith("120"), chrome.browserVersion());
    assertEquals("Blink", chrome.engine());
    assertFalse(chrome.bot());
    UserAgentParser.UserAgentInfo firefox = parser.parse(FIREFOX_MAC);
    assertEquals("desktop", firefox.deviceType());
    assertEquals("Firefox", firefox.browser());
    assertEquals("Gecko", firefox.engine());
  }

  @Test
  void verifiesThatPhonesAreMobileAndTabletsAreTablets() {
    UserAgentParser.UserAgentInfo iphone = parser.parse(IPHONE);
    assertEquals("mobile", iphone.deviceType());
    assertEquals("iOS", iphone.os());
    assertEquals("Safari", iphone.browser());
    assertEquals("Apple iPhone", iphone.device());
    assertEquals("tablet", parser.parse(IPAD).deviceType());
    assertEquals("tablet", parser.parse(ANDROID_TABLET).deviceType());
    UserAgentParser.UserAgentInfo pixel = parser.parse(ANDROID_PHONE);
    assertEquals("mobile", pixel.deviceType());
    assertEquals("Android", pixel.os());
    assertFalse(pixel.bot());
  }

  @Test
  void verifiesThatBotsAndHeadlessBrowsersAreFlagged() {
    assertTrue(parser.parse(GOOGLEBOT).bot());
    assertTrue(parser.parse(HEADLESS).bot());
    assertFalse(parser.parse(CHROME_WINDOWS).bot());
  }

  @Test
  void verifiesThatResultsAreCachedByString() {
    assertTrue(parser.parse(IPHONE) == parser.parse(IPHONE));
    assertEquals(null, parser.parse(""));
  }
}
