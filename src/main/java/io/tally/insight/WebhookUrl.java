package io.tally.insight;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An alert webhook's URL taken apart: http or https, the host, the port, the path with its query. The host is read
 * the way the most lenient resolver would read it, so that no spelling of an address passes for a name: an IPv6
 * literal in brackets, or an IPv4 address in any form inet_aton accepts — dotted decimal, a single 32-bit number
 * ({@code 2130706433}), hexadecimal ({@code 0x7f000001}), octal parts ({@code 0177.0.0.1}), two or three parts
 * ({@code 127.1}). A host whose last label is numeric is such an address or no host at all (no top-level domain is
 * numeric). Anything else must be a DNS name of letters, digits, '-' and '_'. Case and one trailing dot do not matter.
 *
 * @param literal the address the host spells, or null for a DNS name
 */
public record WebhookUrl(boolean https, String host, InetAddress literal, int port, String pathAndQuery) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
      + "(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*");
  private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+|0x[0-9a-f]*");

  /** Parses; an {@link IllegalArgumentException} says what is wrong (never echoing the URL's path or query). */
  public static WebhookUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("the webhook URL is empty");
    }
    URI uri;
    try {
      uri = new URI(url.strip());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("the webhook URL is not a valid URL (" + e.getReason() + ")");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("the webhook URL must be an absolute http or https URL");
    }
    String authority = uri.getRawAuthority();
    if (authority == null || authority.isEmpty()) {
      throw new IllegalArgumentException("the webhook URL has no host");
    }
    // user info, if any, ends at the last '@'; it is not sent
    String hostPort = authority.substring(authority.lastIndexOf('@') + 1);
    String host;
    String portText = null;
    if (hostPort.startsWith("[")) {
      int close = hostPort.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("the webhook URL's IPv6 address has no closing ']'");
      }
      host = hostPort.substring(1, close);
      String rest = hostPort.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new IllegalArgumentException("the webhook URL's host is malformed");
        }
        portText = rest.substring(1);
      }
    } else {
      int colon = hostPort.lastIndexOf(':');
      host = colon < 0 ? hostPort : hostPort.substring(0, colon);
      portText = colon < 0 ? null : hostPort.substring(colon + 1);
    }
    boolean https = scheme.equals("https");
    int port = https ? 443 : 80;
    if (portText != null && !portText.isEmpty()) {
      if (!portText.matches("[0-9]{1,5}") || Integer.parseInt(portText) < 1 || Integer.parseInt(portText) > 65535) {
        throw new IllegalArgumentException("the webhook URL's port must be a number from 1 to 65535");
      }
      port = Integer.parseInt(portText);
    }
    String raw = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String pathAndQuery = uri.getRawQuery() == null ? raw : raw + "?" + uri.getRawQuery();
    return hostPort.startsWith("[") ? new WebhookUrl(https, host, ipv6(host), port, pathAndQuery)
        : hostOf(https, host, port, pathAndQuery);
  }

  private static WebhookUrl hostOf(boolean https, String rawHost, int port, String pathAndQuery) {
    String host = rawHost.toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("the webhook URL has no host");
    }
    String last = host.substring(host.lastIndexOf('.') + 1);
    if (NUMERIC_LABEL.matcher(last).matches()) {
      return new WebhookUrl(https, host, ipv4(host), port, pathAndQuery);
    }
    if (host.length() > 253 || !NAME.matcher(host).matches()) {
      throw new IllegalArgumentException("the webhook URL's host must be a DNS name (an internationalised one in "
          + "its xn-- form) or an IP address");
    }
    return new WebhookUrl(https, host, null, port, pathAndQuery);
  }

  /** The bracketed form: hexadecimal groups and colons (maybe a dotted IPv4 tail), never a zone. */
  private static InetAddress ipv6(String text) {
    if (!text.matches("[0-9a-fA-F:.]+") || !text.contains(":")) {
      throw new IllegalArgumentException("the webhook URL's IPv6 address is malformed");
    }
    try {
      // a literal with a colon: InetAddress parses it, never looks it up
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("the webhook URL's IPv6 address is malformed");
    }
  }

  /**
   * inet_aton's reading: 1 to 4 parts, each decimal, octal (leading 0) or hexadecimal (0x); the last part fills the
   * bytes the others left: a (32 bits), a.b (8.24), a.b.c (8.8.16), a.b.c.d.
   */
  static InetAddress ipv4(String host) {
    String[] parts = host.split("\\.", -1);
    if (parts.length > 4) {
      throw notAnAddress(host);
    }
    long[] v = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      v[i] = number(parts[i], host);
    }
    long value = 0;
    for (int i = 0; i < parts.length - 1; i++) {
      if (v[i] > 255) {
        throw notAnAddress(host);
      }
      value |= v[i] << (24 - 8 * i);
    }
    long lastMax = (1L << (8 * (5 - parts.length))) - 1;
    if (v[parts.length - 1] > lastMax) {
      throw notAnAddress(host);
    }
    value |= v[parts.length - 1];
    byte[] b = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw notAnAddress(host);
    }
  }

  private static long number(String part, String host) {
    try {
      if (part.startsWith("0x")) {
        return part.length() == 2 || part.length() > 10 ? fail(host) : Long.parseLong(part.substring(2), 16);
      }
      if (part.length() > 1 && part.startsWith("0")) {
        return part.length() > 12 ? fail(host) : Long.parseLong(part.substring(1), 8);
      }
      return part.isEmpty() || part.length() > 10 ? fail(host) : Long.parseLong(part);
    } catch (NumberFormatException e) {
      throw notAnAddress(host);
    }
  }

  private static long fail(String host) {
    throw notAnAddress(host);
  }

  private static IllegalArgumentException notAnAddress(String host) {
    return new IllegalArgumentException("the webhook URL's host " + host + " is neither a DNS name nor a valid IPv4 "
        + "address");
  }

  /** The Host header: the host as written (brackets around IPv6), its port when not the scheme's default. */
  String hostHeader() {
    String h = literal != null && host.contains(":") ? "[" + host + "]" : host;
    return port == (https ? 443 : 80) ? h : h + ":" + port;
  }

  /**
   * Where it points without what may be secret: scheme, host and port, the path and query (which often hold a
   * token) replaced by "…", the user info dropped.
   */
  public String redacted() {
    String h = literal != null && host.contains(":") ? "[" + host + "]" : host;
    return (https ? "https://" : "http://") + h + (port == (https ? 443 : 80) ? "" : ":" + port) + "/…";
  }

  /** {@link #redacted()} of a URL, or "(set)" when it cannot be read. */
  public static String redact(String url) {
    try {
      return parse(url).redacted();
    } catch (IllegalArgumentException e) {
      return "(set)";
    }
  }
}
