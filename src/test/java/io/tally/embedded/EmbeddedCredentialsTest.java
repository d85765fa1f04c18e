package io.tally.embedded;

import io.tally.store.PgUrl;
import io.tally.support.TestServers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedded PostgreSQL and Redis the tests share ask every client for their password. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedCredentialsTest {

  /** One RESP command over a raw socket (no client library that might AUTH on its own); the first reply line. */
  static String redis(int port, String... commands) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String last = null;
      for (String c : commands) {
        String[] words = c.split(" ");
        StringBuilder sb = new StringBuilder("*").append(words.length).append("\r\n");
        for (String w : words) {
          sb.append('$').append(w.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(w).append("\r\n");
        }
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        last = in.readLine();
      }
      return last;
    }
  }

  @Test
  void verifiesThatPostgresRefusesAConnectionWithoutTheRightPassword() throws Exception {
    Assumptions.assumeTrue(TestServers.get().embedded());
    PgUrl pg = TestServers.get().pgUrl();
    // GIVEN the embedded PostgreSQL the tests use
    // WHEN a client connects as the superuser without a password, or with a wrong one
    SQLException none = assertThrows(SQLException.class,
        () -> DriverManager.getConnection(pg.jdbcUrl(), "postgres", null).close());
    SQLException wrong = assertThrows(SQLException.class,
        () -> DriverManager.getConnection(pg.jdbcUrl(), "postgres", "not-the-password").close());
    // THEN both are refused; the wrong password fails authentication itself (SQLSTATE 28P01)
    assertNotNull(none.getMessage());
    assertEquals("28P01", wrong.getSQLState(), wrong.getMessage());
    // AND with the password of the URL the tests are given, it answers
    assertNotNull(pg.password(), "the embedded server's URL carries its password");
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
         ResultSet r = c.createStatement().executeQuery("SELECT 1")) {
      assertTrue(r.next());
    }
  }

  @Test
  void verifiesThatRedisAnswersOnlyAfterAuth() throws Exception {
    Assumptions.assumeTrue(TestServers.get().embedded());
    URI u = URI.create(TestServers.get().redisUrl());
    // GIVEN the embedded Redis the tests use
    // WHEN a client sends PING without AUTH
    String refused = redis(u.getPort(), "PING");
    // THEN it is refused
    assertTrue(refused.startsWith("-NOAUTH"), refused);
    // AND with the password of the URL it answers
    assertNotNull(u.getUserInfo(), "the embedded Redis URL carries its password: " + u.getHost());
    String password = u.getUserInfo().substring(u.getUserInfo().indexOf(':') + 1);
    assertEquals("+PONG", redis(u.getPort(), "AUTH " + password, "PING"));
    // AND a wrong password is refused too
    assertTrue(redis(u.getPort(), "AUTH wrong-password", "PING").startsWith("-NOAUTH"));
  }

  private static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  /** Every line of pg_hba.conf that is a rule, without comments. */
  private static java.util.List<String> rules(Path dataDir) throws Exception {
    return Files.readAllLines(dataDir.resolve("pg_hba.conf")).stream().map(l -> l.replaceAll("#.*", "").trim())
        .filter(l -> !l.isEmpty()).toList();
  }

  private static void assertRefusedWithout(PgUrl pg) {
    assertThrows(SQLException.class, () -> DriverManager.getConnection(pg.jdbcUrl(), "postgres", null).close());
    SQLException wrong = assertThrows(SQLException.class,
        () -> DriverManager.getConnection(pg.jdbcUrl(), "postgres", "wrong-" + pg.password()).close());
    assertEquals("28P01", wrong.getSQLState(), wrong.getMessage());
  }

  private static String one(PgUrl pg, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
         ResultSet r = c.createStatement().executeQuery(sql)) {
      assertTrue(r.next());
      return r.getString(1);
    }
  }

  @Test
  void verifiesThatThePasswordsAreKeptInFilesOnlyTheirOwnerCanRead() throws Exception {
    Assumptions.assumeTrue(TestServers.get().embedded());
    // GIVEN the embedded servers the tests use
    EmbeddedPostgresServer pg = TestServers.get().postgres();
    EmbeddedRedisServer redis = TestServers.get().redis();
    // THEN each password is in a file of mode 0600 beside the data
    assertEquals(pg.dataDir().toAbsolutePath().resolveSibling("pg.password"), pg.passwordFile());
    assertEquals("rw-------", mode(pg.passwordFile()));
    assertEquals("rw-------", mode(redis.passwordFile()));
    // AND the files hold the passwords the URLs carry, 256 random bits each, one per server
    String pgPassword = Files.readString(pg.passwordFile()).strip();
    String redisPassword = Files.readString(redis.passwordFile()).strip();
    assertEquals(pg.url().password(), pgPassword);
    assertTrue(redis.url().contains(":" + redisPassword + "@"));
    assertTrue(pgPassword.matches("[0-9a-f]{64}") && redisPassword.matches("[0-9a-f]{64}"));
    assertFalse(pgPassword.equals(redisPassword));
    // AND no rule of pg_hba.conf trusts a client: every one asks for scram-sha-256
    java.util.List<String> rules = rules(pg.dataDir());
    assertFalse(rules.isEmpty());
    assertTrue(rules.stream().allMatch(l -> l.endsWith("scram-sha-256")), rules.toString());
    assertEquals("scram-sha-256", one(TestServers.get().pgUrl(), "SHOW password_encryption"));
    // AND both listen on loopback only: on this host's other addresses their ports are closed
    int[] ports = {pg.port(), redis.port()};
    for (java.net.NetworkInterface nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (java.net.InetAddress a : java.util.Collections.list(nif.getInetAddresses())) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress()) {
          continue;
        }
        for (int port : ports) {
          try (Socket s = new Socket()) {
            assertThrows(java.io.IOException.class, () -> s.connect(new java.net.InetSocketAddress(a, port), 2000),
                a + ":" + port + " accepted a connection");
          }
        }
      }
    }
  }

  @Test
  void verifiesThatARestartKeepsThePasswordAndNarrowsAFileOthersCouldRead() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target"), "restart-");
    dir.toFile().setExecutable(true, false);
    // GIVEN a cluster made by the embedded server, holding a row
    String password;
    try (EmbeddedPostgresServer first = EmbeddedPostgresServer.start(dir.resolve("pg"), 0)) {
      password = first.url().password();
      try (Connection c = DriverManager.getConnection(first.url().jdbcUrl(), "postgres", password)) {
        c.createStatement().execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
      }
    }
    // AND its password file made readable by everyone (a careless chmod -R)
    Files.setPosixFilePermissions(dir.resolve("pg.password"), PosixFilePermissions.fromString("rw-rw-rw-"));
    // WHEN it is started again
    try (EmbeddedPostgresServer second = EmbeddedPostgresServer.start(dir.resolve("pg"), 0)) {
      // THEN it has the same password, the row, and the file is its owner's only again
      assertEquals(password, second.url().password());
      assertEquals("still here", one(second.url(), "SELECT v FROM kept"));
      assertEquals("rw-------", mode(dir.resolve("pg.password")));
      assertRefusedWithout(second.url());
    }
  }

  @Test
  void verifiesThatAClusterWhosePasswordFileIsLostDoesNotStartWithANewOne() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target"), "lost-");
    dir.toFile().setExecutable(true, false);
    // GIVEN a cluster made by the embedded server
    EmbeddedPostgresServer.start(dir.resolve("pg"), 0).close();
    // WHEN its password file is lost and it is started again
    Files.delete(dir.resolve("pg.password"));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> EmbeddedPostgresServer.start(dir.resolve("pg"), 0).close());
    // THEN the start says what is missing at once (rather than waiting for a password nobody has)
    assertTrue(e.getMessage().contains("pg.password"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("pg.password")), "no new password was left in its place");
  }

  @Test
  void verifiesThatAClusterMadeWithoutAPasswordIsSwitchedToScramAtItsFirstStart() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target"), "legacy-");
    dir.toFile().setExecutable(true, false);
    Path pgDir = dir.resolve("pg");
    // GIVEN a data directory as an earlier release made it: zonky's initdb, every local client trusted, no password
    try (io.zonky.test.db.postgres.embedded.EmbeddedPostgres legacy = io.zonky.test.db.postgres.embedded
        .EmbeddedPostgres.builder().setDataDirectory(pgDir).setCleanDataDirectory(false).setPort(FreePort.find())
        .start();
         Connection c = legacy.getPostgresDatabase().getConnection()) {
      c.createStatement().execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('from before')");
    }
    assertTrue(rules(pgDir).stream().anyMatch(l -> l.endsWith("trust")), "the legacy cluster trusts");
    assertFalse(Files.exists(dir.resolve("pg.password")));
    // WHEN the embedded server starts on it (its log captured)
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(new java.io.OutputStream() {
      @Override
      public synchronized void write(int b) {
        log.write(b);
        err.write(b);
      }
    }, true));
    EmbeddedPostgresServer upgraded;
    try {
      upgraded = EmbeddedPostgresServer.start(pgDir, 0);
    } finally {
      System.setErr(err);
    }
    try (upgraded) {
      PgUrl pg = upgraded.url();
      // THEN it has a password, in a file of mode 0600, and needs it: no rule trusts any more
      assertEquals("rw-------", mode(dir.resolve("pg.password")));
      assertEquals(Files.readString(dir.resolve("pg.password")).strip(), pg.password());
      assertRefusedWithout(pg);
      assertTrue(rules(pgDir).stream().noneMatch(l -> l.contains("trust")), rules(pgDir).toString());
      // AND the data is all there
      assertEquals("from before", one(pg, "SELECT v FROM kept"));
      // AND one line said so, without the password
      String said = log.toString(StandardCharsets.UTF_8);
      assertEquals(1, said.lines().filter(l -> l.contains("without a password")).count(), said);
      assertFalse(said.contains(pg.password()), "the password was logged");
    }
    // AND the next start is an ordinary one
    try (EmbeddedPostgresServer again = EmbeddedPostgresServer.start(pgDir, 0)) {
      assertEquals("from before", one(again.url(), "SELECT v FROM kept"));
      assertRefusedWithout(again.url());
    }
  }
}
