package io.tally.store;

import io.tally.config.ConfigException;
import io.vertx.pgclient.PgConnectOptions;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A postgresql:// URL, usable both by the Vert.x client and by JDBC (migrations, tools). User and password may be
 * given percent-encoded ({@code postgresql://tally:p%40ss@db:5432/tally}); {@link #toString()} never shows the
 * password.
 */
public record PgUrl(String host, int port, String database, String user, String password) {

  public static PgUrl parse(String url) {
    try {
      URI uri = new URI(url.replaceFirst("^postgres://", "postgresql://"));
      String user = "postgres";
      String password = null;
      if (uri.getRawUserInfo() != null) {
        String[] parts = uri.getRawUserInfo().split(":", 2);
        user = decode(parts[0]);
        if (parts.length > 1) {
          password = decode(parts[1]);
        }
      }
      String db = uri.getPath() == null || uri.getPath().length() <= 1 ? user : uri.getPath().substring(1);
      if (uri.getHost() == null) {
        throw new ConfigException("storage.pgUrl has no host: " + redact(url));
      }
      return new PgUrl(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), db, user, password);
    } catch (URISyntaxException e) {
      // the reason and where, not the URL itself: it may hold a password
      throw new ConfigException("storage.pgUrl is not a valid URL: " + e.getReason() + " at index " + e.getIndex());
    }
  }

  /** The embedded server on loopback: the superuser with its password. */
  public static PgUrl local(int port, String password) {
    return new PgUrl("localhost", port, "postgres", "postgres", password);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  /** The whole URL, password included (percent-encoded): for a child process's environment, never for a log. */
  public String url() {
    return "postgresql://" + encode(user) + (password == null ? "" : ":" + encode(password)) + "@" + host + ":" + port
        + "/" + database;
  }

  /** Percent-decoding only: URLDecoder alone would turn a password's '+' into a space. */
  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String encode(String s) {
    // URLEncoder is for forms: a space becomes '+', which a URL's user info would keep as a '+'
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  public PgConnectOptions connectOptions() {
    PgConnectOptions o = new PgConnectOptions().setHost(host).setPort(port).setDatabase(database).setUser(user)
        .setCachePreparedStatements(true).setPipeliningLimit(1);
    if (password != null) {
      o.setPassword(password);
    }
    return o;
  }

  private static String redact(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }

  @Override
  public String toString() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
  }
}
