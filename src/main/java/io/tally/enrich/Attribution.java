package io.tally.enrich;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * UTM parameters and referrer → the seed's AttributionData (source, medium, campaign, term, content). An event
 * yields attribution only when it carries a marketing signal: UTM parameters or a referrer from another site.
 */
public final class Attribution {
  private static final String[] SEARCH = {"google.", "bing.", "duckduckgo.", "yahoo.", "baidu.", "yandex.",
      "ecosia.", "qwant.", "search.brave."};
  private static final String[] SOCIAL = {"facebook.", "twitter.", "t.co", "x.com", "linkedin.", "reddit.",
      "youtube.", "instagram.", "tiktok.", "pinterest.", "news.ycombinator.", "mastodon."};

  private Attribution() {
  }

  /** Returns the attribution JSON, or null when the event says nothing about where the visit came from. */
  public static JsonObject of(String pageUrl, String pageSearch, String referrer) {
    Map<String, String> utm = utm(pageSearch != null && !pageSearch.isBlank() ? pageSearch : queryOf(pageUrl));
    if (utm.isEmpty() && (referrer == null || referrer.isBlank())) {
      return null; // the common case (internal navigation, app events): no URL parsing at all
    }
    String pageHost = host(pageUrl);
    String refHost = host(referrer);
    boolean external = refHost != null && (pageHost == null || !sameSite(refHost, pageHost));
    if (utm.isEmpty() && !external) {
      return null;
    }
    String source = utm.get("utm_source");
    String medium = utm.get("utm_medium");
    if (source == null) {
      source = external ? refHost : "direct";
    }
    if (medium == null) {
      medium = external ? classify(refHost) : "(none)";
    }
    JsonObject o = new JsonObject().put("source", source).put("medium", medium);
    putIf(o, "campaign", utm.get("utm_campaign"));
    putIf(o, "term", utm.get("utm_term"));
    putIf(o, "content", utm.get("utm_content"));
    if (refHost != null) {
      o.put("referrer", refHost);
    }
    return o;
  }

  static String classify(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    for (String s : SEARCH) {
      if (h.contains(s)) {
        return "organic";
      }
    }
    for (String s : SOCIAL) {
      if (h.contains(s)) {
        return "social";
      }
    }
    return "referral";
  }

  private static boolean sameSite(String a, String b) {
    return strip(a).equals(strip(b));
  }

  private static String strip(String h) {
    return h.startsWith("www.") ? h.substring(4) : h;
  }

  private static void putIf(JsonObject o, String k, String v) {
    if (v != null && !v.isBlank()) {
      o.put(k, v);
    }
  }

  static Map<String, String> utm(String query) {
    Map<String, String> out = new HashMap<>();
    if (query == null || query.isBlank()) {
      return out;
    }
    String q = query.startsWith("?") ? query.substring(1) : query;
    for (String pair : q.split("&")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String k = decode(pair.substring(0, eq)).toLowerCase(Locale.ROOT);
      if (k.startsWith("utm_")) {
        out.putIfAbsent(k, decode(pair.substring(eq + 1)));
      }
    }
    return out;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  private static String queryOf(String url) {
    if (url == null) {
      return null;
    }
    int q = url.indexOf('?');
    if (q < 0) {
      return null;
    }
    int hash = url.indexOf('#', q);
    return hash < 0 ? url.substring(q + 1) : url.substring(q + 1, hash);
  }

  static String host(String url) {
    if (url == null || url.isBlank()) {
      return null;
    }
    try {
      String h = URI.create(url.trim()).getHost();
      return h == null ? null : h.toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
