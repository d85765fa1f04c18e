package io.tally.embedded;

import io.tally.store.PgUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real PostgreSQL 17 (zonky binaries) keeping its data in a directory, so a restart keeps every event.
 * Tuned for write throughput without giving up durability: fsync and synchronous_commit stay on.
 *
 * <p>It listens on loopback only and every connection, TCP or Unix socket, authenticates with scram-sha-256 as
 * {@code postgres} with a password made at the first start and kept beside the data directory in
 * {@code <dataDir>.password} (mode 0600): {@code data/pg} has {@code data/pg.password}. A data directory made by a
 * release that trusted every local client is switched over at its first start.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  private final Path dataDir;
  private final Path passwordFile;
  private final String password;
  private final int port;
  private PgProcess process;

  private EmbeddedPostgresServer(Path dataDir, Path passwordFile, String password, int port) {
    this.dataDir = dataDir;
    this.passwordFile = passwordFile;
    this.password = password;
    this.port = port;
  }

  /** Starts on {@code port} (0 picks a free one, kept for restarts). */
  public static EmbeddedPostgresServer start(Path dataDir, int port) {
    Path passwordFile = passwordFile(dataDir);
    boolean cluster = Files.exists(dataDir.resolve("postgresql.conf"));
    EmbeddedPassword.Loaded pw = EmbeddedPassword.readOrCreate(passwordFile);
    if (pw.created() && cluster && !trusts(dataDir)) {
      // the cluster asks for a password nobody has any more: a new one would not open it
      delete(passwordFile);
      throw new IllegalStateException("the embedded PostgreSQL in " + dataDir + " asks for the password kept in "
          + passwordFile + ", which is missing: put the file back (or set TALLY_PG_URL to another PostgreSQL)");
    }
    EmbeddedPostgresServer s = new EmbeddedPostgresServer(dataDir, passwordFile, pw.password(),
        port == 0 ? FreePort.find() : port);
    s.startProcess();
    return s;
  }

  /** Where the password of the cluster in {@code dataDir} is kept: beside it, since initdb wants an empty directory. */
  public static Path passwordFile(Path dataDir) {
    Path abs = dataDir.toAbsolutePath().normalize();
    return abs.resolveSibling(abs.getFileName() + ".password");
  }

  private void startProcess() {
    try {
      ServiceAccount account = ServiceAccount.root() ? ServiceAccount.get() : null;
      Path cluster = account == null ? createdDir(dataDir) : clusterFor(account);
      boolean fresh = !Files.exists(cluster.resolve("postgresql.conf"));
      boolean legacy = !fresh && trusts(cluster);
      process = new PgProcess(cluster, account);
      if (fresh) {
        // the new cluster asks for scram-sha-256 on local and host connections from its first start, with the
        // superuser's password read from a copy of the password file (nothing is ever reachable without it); text
        // compares byte by byte: UTF-8 byte order is code-point order, the order C.UTF-8 gives, without a strcoll
        // call (and a copy of both strings) per comparison in every text index and sort
        Path pwfile = cluster.resolveSibling(cluster.getFileName() + ".initdb-password");
        Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
        try {
          if (account != null) {
            account.own(pwfile);
          }
          process.initdb(List.of("-U", "postgres", "-E", "UTF8", "--lc-collate=C", "--auth-local=" + EmbeddedPgHba.SCRAM,
              "--auth-host=" + EmbeddedPgHba.SCRAM, "--pwfile=" + pwfile));
        } finally {
          Files.deleteIfExists(pwfile);
        }
      }
      Map<String, String> settings = new LinkedHashMap<>();
      // an ack here means committed to disk
      settings.put("fsync", "on");
      settings.put("synchronous_commit", "on");
      settings.put("full_page_writes", "on");
      settings.put("max_connections", "200");
      settings.put("shared_buffers", "512MB");
      settings.put("max_wal_size", "4GB");
      settings.put("checkpoint_timeout", "15min");
      settings.put("wal_buffers", "32MB");
      settings.put("commit_delay", "0");
      settings.put("listen_addresses", "localhost");
      settings.put("password_encryption", EmbeddedPgHba.SCRAM);
      // extra server settings for diagnosis, e.g. -Dtally.embeddedPg.settings=shared_preload_libraries=pg_stat_statements
      for (String kv : System.getProperty("tally.embeddedPg.settings", "").split(",")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          settings.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
      }
      process.start(port, settings);
      if (legacy) {
        requirePassword(cluster);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir, e);
    }
  }

  private static Path createdDir(Path dir) throws IOException {
    Files.createDirectories(dir);
    return dir;
  }

  /**
   * As root: the cluster's directory, owned by the service account. The data directory itself when the account can
   * reach it; else (a data directory under /root, say, which no other account may enter) a directory under
   * /var/lib/tally that {@code dataDir} links to, so that {@code data/pg} still leads to the cluster.
   */
  private Path clusterFor(ServiceAccount account) throws IOException {
    Path dir = dataDir.toAbsolutePath().normalize();
    if (Files.isSymbolicLink(dir)) {
      Path target = dir.toRealPath();
      account.own(target);
      return target;
    }
    boolean existed = Files.exists(dir);
    Files.createDirectories(dir);
    account.own(dir);
    if (account.reaches(dir)) {
      return dir;
    }
    if (existed && Files.exists(dir.resolve("postgresql.conf"))) {
      throw new IllegalStateException("running as root, the embedded PostgreSQL runs as the account '" + account.user
          + "', which cannot reach " + dir + " (a directory above it lets no other account through): move the data "
          + "directory (storage.dataDir) somewhere it can reach, e.g. under /srv or /var/lib");
    }
    Files.delete(dir);
    Path home = ServiceAccount.HOME.resolve("pg-" + java.util.UUID.nameUUIDFromBytes(
        dir.toString().getBytes(StandardCharsets.UTF_8)).toString().substring(0, 13));
    Files.createDirectories(home);
    account.own(ServiceAccount.HOME);
    Files.createSymbolicLink(dir, home);
    LOG.info("running as root: the account '{}' cannot reach {}; the embedded PostgreSQL keeps its data in {} "
        + "(linked from there)", account.user, dir, home);
    return home;
  }

  /**
   * A cluster made by an earlier release trusts every local client: while it still does, the superuser gets the
   * password, then pg_hba.conf asks for it and is reloaded. Each step can be repeated, so a crash halfway through
   * is finished at the next start.
   */
  private void requirePassword(Path cluster) throws IOException {
    PgUrl url = url();
    try (Connection c = DriverManager.getConnection(url.jdbcUrl(), url.user(), password);
         Statement st = c.createStatement()) {
      st.execute("SET password_encryption = '" + EmbeddedPgHba.SCRAM + "'");
      // the password is hex (EmbeddedPassword): nothing to quote
      st.execute("ALTER ROLE postgres WITH PASSWORD '" + password + "'");
      Path hba = cluster.resolve("pg_hba.conf");
      Path tmp = cluster.resolve("pg_hba.conf.tmp");
      Files.writeString(tmp, EmbeddedPgHba.withoutTrust(Files.readString(hba, StandardCharsets.UTF_8)),
          StandardCharsets.UTF_8);
      Files.move(tmp, hba, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      st.execute("SELECT pg_reload_conf()");
    } catch (SQLException e) {
      throw new IllegalStateException("could not set the password of the embedded PostgreSQL in " + dataDir
          + " (SQLSTATE " + e.getSQLState() + ")", e);
    }
    awaitPasswordRequired(url);
    LOG.info("embedded PostgreSQL in {}: made by an earlier release without a password; the superuser now has one "
        + "(kept in {}) and every connection authenticates with scram-sha-256", dataDir, passwordFile);
  }

  /** The reload is asynchronous: wait until a connection without the password is refused. */
  private void awaitPasswordRequired(PgUrl url) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), url.user(), null)) {
        sleep();
      } catch (SQLException refused) {
        return;
      }
    }
    throw new IllegalStateException("the embedded PostgreSQL in " + dataDir + " still lets clients in without a "
        + "password after pg_hba.conf was rewritten");
  }

  private static void sleep() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean trusts(Path dataDir) {
    try {
      Path hba = dataDir.resolve("pg_hba.conf");
      return Files.exists(hba) && EmbeddedPgHba.trusts(Files.readString(hba, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The URL with the superuser and its password (the password never appears in {@link PgUrl#toString()}). */
  public PgUrl url() {
    return PgUrl.local(port, password);
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  public Path passwordFile() {
    return passwordFile;
  }

  /** Stops the server (data stays); {@link #restart()} brings it back on the same port. */
  public synchronized void stop() {
    if (process != null) {
      process.stop();
      process = null;
    }
  }

  public synchronized void restart() {
    stop();
    startProcess();
  }

  @Override
  public void close() {
    stop();
  }
}
