package io.tally.store;

import io.tally.config.ConfigException;
import io.vertx.pgclient.PgConnectOptions;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** A postgresql:// URL, usable both by the Vert.x client and by JDBC (migrations, tools). */
public record PgUrl(String host, int port, String database, String user, String password) {

  public static PgUrl parse(String url) {
    try {
      URI uri = new URI(url.replaceFirst("^postgres://", "postgresql://"));
      String user = "postgres";
      String password = null;
      if (uri.getRawUserInfo() != null) {
        String[] parts = uri.getRawUserInfo().split(":", 2);
        user = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
        if (parts.length > 1) {
          password = URLDecoder.decode(parts[1], StandardCharsets.UTF_8);
        }
      }
      String db = uri.getPath() == null || uri.getPath().length() <= 1 ? user : uri.getPath().substring(1);
      if (uri.getHost() == null) {
        throw new ConfigException("storage.pgUrl has no host: " + redact(url));
      }
      return new PgUrl(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), db, user, password);
    } catch (URISyntaxException e) {
      throw new ConfigException("storage.pgUrl is not a valid URL: " + e.getMessage());
    }
  }

  public static PgUrl local(int port) {
    return new PgUrl("localhost", port, "postgres", "postgres", null);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  public String url() {
    return "postgresql://" + user + (password == null ? "" : ":" + password) + "@" + host + ":" + port + "/" + database;
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
