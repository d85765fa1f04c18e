package io.tally.embedded;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One PostgreSQL cluster run from the binaries shipped in the jar (zonky's build of PostgreSQL 17): unpacked once per
 * machine, then {@code initdb}, {@code pg_ctl start} and {@code pg_ctl stop} run directly — as this process's user,
 * or as the {@link ServiceAccount} when this process is root. A server left running by a process that was killed is
 * stopped before the next start.
 */
final class PgProcess {
  private static final Logger LOG = LoggerFactory.getLogger(PgProcess.class);
  private static final Logger PG = LoggerFactory.getLogger("postgres");

  private final Path bin;
  private final Path dataDir;
  private final ServiceAccount account;

  /** @param account who runs the server (null: this process's user) */
  PgProcess(Path dataDir, ServiceAccount account) {
    this.bin = binaries().resolve("bin");
    this.dataDir = dataDir;
    this.account = account;
  }

  /** {@code initdb} with these options (the data directory must be empty or absent). */
  void initdb(List<String> options) {
    List<String> cmd = new ArrayList<>(List.of(bin.resolve("initdb").toString(), "-D", dataDir.toString()));
    cmd.addAll(options);
    run(cmd, 300);
  }

  /** Starts the server on {@code port} with these settings and waits until it accepts connections. */
  void start(int port, Map<String, String> settings) {
    if (run(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "status"), 30, true) == 0) {
      // a server of a process that was killed still holds the data directory: stop it, then start ours
      LOG.warn("the embedded PostgreSQL in {} was still running (its last owner did not stop it): stopping it",
          dataDir);
      stop();
    }
    StringBuilder opts = new StringBuilder("-p " + port);
    settings.forEach((k, v) -> opts.append(" -c ").append(k).append('=').append(v));
    List<String> cmd = List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-o", opts.toString(),
        "-w", "-t", "120", "start");
    try {
      // the server keeps pg_ctl's output (its log) open after pg_ctl returns: read it on a thread of its own
      Process p = new ProcessBuilder(account == null ? cmd : account.wrap(cmd)).redirectErrorStream(true).start();
      Thread reader = new Thread(() -> log(p.getInputStream()), "postgres-log");
      reader.setDaemon(true);
      reader.start();
      if (!p.waitFor(150, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroy();
        throw new IllegalStateException("the embedded PostgreSQL in " + dataDir + " did not start (pg_ctl start "
            + "failed; its output is in the log above)");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL in " + dataDir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Stops the server (fast: sessions are ended, what was committed stays), waiting for it. */
  void stop() {
    run(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "fast", "-t", "60", "-w",
        "stop"), 90, true);
  }

  private int run(List<String> cmd, int seconds) {
    int code = run(cmd, seconds, false);
    if (code != 0) {
      throw new IllegalStateException(cmd.get(0).substring(cmd.get(0).lastIndexOf('/') + 1) + " failed (exit "
          + code + ") for the embedded PostgreSQL in " + dataDir + "; its output is in the log above");
    }
    return code;
  }

  private int run(List<String> cmd, int seconds, boolean quiet) {
    try {
      Process p = new ProcessBuilder(account == null ? cmd : account.wrap(cmd)).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      if (!quiet || p.exitValue() != 0 && !out.contains("no server running") && !out.contains("is not running")) {
        out.lines().forEach(l -> PG.info(l));
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + cmd.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void log(InputStream in) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        PG.info(line);
      }
    } catch (IOException ended) {
      // the server stopped
    }
  }

  private static Path unpacked;

  /**
   * The binaries, unpacked once per machine under the temporary directory (by archive digest, shared by every
   * process, readable by all: the service account runs them too).
   */
  static synchronized Path binaries() {
    if (unpacked != null) {
      return unpacked;
    }
    try {
      String arch = "amd64".equals(System.getProperty("os.arch")) ? "x86_64" : System.getProperty("os.arch");
      byte[] archive;
      try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", arch)) {
        archive = in.readAllBytes();
      }
      String digest = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(archive));
      Path root = Path.of(System.getProperty("java.io.tmpdir"), "tally-pg");
      Files.createDirectories(root);
      root.toFile().setWritable(true, false);
      Path dir = root.resolve(digest);
      Path ready = dir.resolve(".ready");
      if (!Files.exists(ready)) {
        try (FileChannel ch = FileChannel.open(root.resolve(digest + ".lock"), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE); FileLock lock = ch.lock()) {
          if (!Files.exists(ready)) {
            LOG.info("unpacking PostgreSQL into {}", dir);
            unpack(archive, dir);
            Files.createFile(ready);
          }
        }
      }
      unpacked = dir;
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack the embedded PostgreSQL binaries", e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void unpack(byte[] archive, Path dir) throws IOException {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new ByteArrayInputStream(archive)))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        Path out = dir.resolve(e.getName()).normalize();
        if (!out.startsWith(dir)) {
          throw new IOException("archive entry outside its directory: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(out);
        } else if (e.isSymbolicLink() || e.isLink()) {
          Files.createDirectories(out.getParent());
          Files.deleteIfExists(out);
          Files.createSymbolicLink(out, Path.of(e.getLinkName()));
        } else {
          Files.createDirectories(out.getParent());
          Files.copy(tar, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          if ((e.getMode() & 0111) != 0 || e.getName().startsWith("bin/") || e.getName().startsWith("./bin/")) {
            out.toFile().setExecutable(true, false);
          }
        }
        out.toFile().setReadable(true, false);
      }
    }
    try (var walk = Files.walk(dir)) {
      walk.filter(Files::isDirectory).forEach(d -> {
        d.toFile().setReadable(true, false);
        d.toFile().setExecutable(true, false);
      });
    }
  }
}
