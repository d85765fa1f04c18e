package io.tally.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real PostgreSQL 17 (zonky binaries) keeping its data in a directory, so a restart keeps every event.
 * Tuned for write throughput without giving up durability: fsync and synchronous_commit stay on.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private final Path dataDir;
  private final int port;
  private EmbeddedPostgres pg;

  private EmbeddedPostgresServer(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.port = port;
  }

  /** Starts on {@code port} (0 picks a free one, kept for restarts). */
  public static EmbeddedPostgresServer start(Path dataDir, int port) {
    if ("root".equals(System.getProperty("user.name"))) {
      throw new IllegalStateException("the embedded PostgreSQL cannot run as root (PostgreSQL refuses to); "
          + "run Tally as an unprivileged user, or set TALLY_PG_URL to an external PostgreSQL");
    }
    EmbeddedPostgresServer s = new EmbeddedPostgresServer(dataDir, port == 0 ? FreePort.find() : port);
    s.startProcess();
    return s;
  }

  private void startProcess() {
    try {
      Files.createDirectories(dataDir);
      EmbeddedPostgres.Builder b = EmbeddedPostgres.builder();
      // extra server settings for diagnosis, e.g. -Dtally.embeddedPg.settings=shared_preload_libraries=pg_stat_statements
      for (String kv : System.getProperty("tally.embeddedPg.settings", "").split(",")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          b.setServerConfig(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
      }
      pg = b
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setPort(port)
          .setPGStartupWait(Duration.ofSeconds(60))
          // a new cluster compares text byte by byte: UTF-8 byte order is code-point order, the order C.UTF-8 gives,
          // without a strcoll call (and a copy of both strings) per comparison in every text index and sort
          .setLocaleConfig("encoding", "UTF8")
          .setLocaleConfig("lc-collate", "C")
          // zonky turns durability off for tests; an ack here means committed to disk, so turn it back on
          .setServerConfig("fsync", "on")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("full_page_writes", "on")
          .setServerConfig("max_connections", "200")
          .setServerConfig("shared_buffers", "512MB")
          .setServerConfig("max_wal_size", "4GB")
          .setServerConfig("checkpoint_timeout", "15min")
          .setServerConfig("wal_buffers", "32MB")
          .setServerConfig("commit_delay", "0")
          .setServerConfig("listen_addresses", "localhost")
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir, e);
    }
  }

  public PgUrl url() {
    return PgUrl.local(port);
  }

  public int port() {
    return port;
  }

  /** Stops the server (data stays); {@link #restart()} brings it back on the same port. */
  public synchronized void stop() {
    if (pg != null) {
      try {
        pg.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      pg = null;
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
