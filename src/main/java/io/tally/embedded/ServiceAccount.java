package io.tally.embedded;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The unprivileged system account the embedded servers run as when Tally itself runs as root (containers and fresh
 * servers do; PostgreSQL refuses to run as root): {@code tally}, created as a system account when missing, else the
 * existing {@code nobody}. Their commands are run through {@code setpriv}, which drops to the account and then
 * executes the command in the same process, so stopping that process stops the server.
 */
final class ServiceAccount {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceAccount.class);
  static final String NAME = "tally";
  /** Where a cluster lives when the account cannot reach the data directory (one under /root, say). */
  static final Path HOME = Path.of("/var/lib/tally");

  private static ServiceAccount current;

  final String user;
  final int uid;
  final int gid;

  private ServiceAccount(String user, int uid, int gid) {
    this.user = user;
    this.uid = uid;
    this.gid = gid;
  }

  /** Whether this process runs as root. */
  static boolean root() {
    return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
  }

  /** The account (created at the first call if need be), logged once. */
  static synchronized ServiceAccount get() {
    if (current == null) {
      boolean created = false;
      if (id(NAME, "-u") < 0) {
        created = run(List.of("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
            "--shell", "/usr/sbin/nologin", NAME)) == 0 && id(NAME, "-u") >= 0;
      }
      String user = id(NAME, "-u") >= 0 ? NAME : "nobody";
      current = new ServiceAccount(user, id(user, "-u"), id(user, "-g"));
      if (current.uid < 0) {
        throw new IllegalStateException("running as root, the embedded servers need an unprivileged account: "
            + "neither 'tally' could be created (useradd) nor 'nobody' found; create one, or set TALLY_PG_URL and "
            + "TALLY_REDIS_URL to external servers");
      }
      LOG.info("running as root: the embedded PostgreSQL and Redis run as the system account '{}' ({}), which "
          + "owns their data", user, created ? "created now" : user.equals(NAME) ? "existing" : "'tally' could not be "
          + "created");
    }
    return current;
  }

  /** {@code command} run as the account. */
  List<String> wrap(List<String> command) {
    List<String> out = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
        "--"));
    out.addAll(command);
    return out;
  }

  /** Makes the account the owner of {@code path} and everything under it. */
  void own(Path path) {
    if (run(List.of("chown", "-R", uid + ":" + gid, path.toString())) != 0) {
      throw new IllegalStateException("could not give " + path + " to the account " + user + " (chown)");
    }
  }

  /** Whether the account can read and write {@code dir} (every directory above it must let it through). */
  boolean reaches(Path dir) {
    return run(wrap(List.of("test", "-r", dir.toString(), "-a", "-w", dir.toString(), "-a", "-x",
        dir.toString()))) == 0;
  }

  /** An executable script that runs {@code real} as the account with the arguments it was given. */
  Path wrapper(Path dir, String name, Path real, String body) {
    try {
      Files.createDirectories(dir);
      Path script = dir.resolve(name);
      Files.writeString(script, "#!/bin/sh\n" + body.replace("$REAL", real.toString())
          .replace("$RUN", String.join(" ", wrap(List.of()))) + "\n", StandardCharsets.UTF_8);
      script.toFile().setExecutable(true, false);
      script.toFile().setReadable(true, false);
      return script;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + name + " in " + dir, e);
    }
  }

  private static int id(String user, String flag) {
    try {
      Process p = new ProcessBuilder("id", flag, user).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? Integer.parseInt(out) : -1;
    } catch (IOException | NumberFormatException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static int run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
