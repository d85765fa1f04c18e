package io.tally.query;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * One generated event of the known-answer test: what is sent, plus what the test itself knows about it (device,
 * browser and country from its own tables of user agents and addresses, the person it belongs to).
 */
public final class KatEvent {
  public static final String CHROME_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/120.0.0.0 Safari/537.36";
  static final String FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0";
  public static final String IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
      + "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
  static final String ANDROID_PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/120.0.0.0 Mobile Safari/537.36";
  static final String IPAD = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      + "Version/16.6 Mobile/15E148 Safari/604.1";
  public static final String GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

  /** Addresses of the test's geo database (see the test's MMDB) and one address it does not know. */
  static final String IP_FR = "203.0.113.41";
  static final String IP_DE = "198.51.100.7";
  static final String IP_US = "192.0.2.200";
  static final String IP_UNKNOWN = "100.64.3.9";

  String id;
  String type;
  String category;
  Instant ts;
  String sessionId;
  String userId;
  String anonId;
  JsonObject props = new JsonObject();
  Double value;
  /** page.path; null = no page object at all. */
  String pagePath;
  String pageUrl;
  String pageSearch;
  String referrer;
  /** context.userAgent / context.ip; null = not sent. */
  String ua;
  String ip;

  // what the test knows independently
  String device;
  String browser;
  String country;
  boolean bot;
  /** The person after identity links (null: no person). */
  String person;

  JsonObject toJson() {
    JsonObject e = new JsonObject()
        .put("id", id)
        .put("sessionId", sessionId)
        .put("timestamp", ts.toString())
        .put("type", new JsonObject().put("name", type).put("category", category))
        .put("properties", props);
    if (value != null) {
      e.put("value", value);
    }
    JsonObject uc = new JsonObject().put("sessionId", sessionId);
    if (userId != null) {
      uc.put("userId", userId);
    }
    if (anonId != null) {
      uc.put("anonymousId", anonId);
    }
    e.put("userContext", uc);
    if (pagePath != null) {
      JsonObject page = new JsonObject().put("url", pageUrl).put("path", pagePath).put("title", pagePath)
          .put("search", pageSearch == null ? "" : pageSearch).put("referrer", referrer == null ? "" : referrer)
          .put("hash", "");
      e.put("page", page);
    }
    if (ua != null || ip != null) {
      JsonObject ctx = new JsonObject();
      if (ua != null) {
        ctx.put("userAgent", ua);
      }
      if (ip != null) {
        ctx.put("ip", ip);
      }
      e.put("context", ctx);
    }
    return e;
  }

  /** The test's own knowledge of the user agents and addresses it uses. */
  void deriveEnvironment() {
    device = null;
    browser = null;
    bot = false;
    if (ua != null) {
      switch (ua) {
        case CHROME_WINDOWS -> { device = "desktop"; browser = "Chrome"; }
        case FIREFOX_MAC -> { device = "desktop"; browser = "Firefox"; }
        case IPHONE -> { device = "mobile"; browser = "Safari"; }
        case ANDROID_PHONE -> { device = "mobile"; browser = "Chrome"; }
        case IPAD -> { device = "tablet"; browser = "Safari"; }
        case GOOGLEBOT -> bot = true;
        default -> throw new IllegalArgumentException(ua);
      }
    }
    country = null;
    if (ip != null) {
      if (ip.startsWith("203.0.113.")) {
        country = "FR";
      } else if (ip.startsWith("198.51.100.")) {
        country = "DE";
      } else if (ip.startsWith("192.0.2.")) {
        country = "US";
      }
    }
  }

  String prop(String name) {
    Object v = props.getValue(name);
    return v instanceof String s ? s : null;
  }

  Double num(String name) {
    Object v = props.getValue(name);
    return v instanceof Number n ? n.doubleValue() : null;
  }

  boolean isMessage() {
    return type.equals("message_sent") || type.equals("message_received");
  }

  @Override
  public String toString() {
    return type + "@" + ts + "[" + sessionId + "," + person + "]";
  }
}
