package io.tally.embedded;

import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * A real Redis (codemonstur embedded-redis) on loopback. It holds only real-time counters, so no persistence.
 *
 * <p>Every client authenticates ({@code requirepass}, protected mode on) with a password made at the first start and
 * kept in {@code <dataDir>/redis.password} (mode 0600). The password reaches Redis in the configuration file
 * embedded-redis writes, which Java creates readable by its owner only, never on the command line.
 */
public final class EmbeddedRedisServer implements AutoCloseable {
  private final int port;
  private final String password;
  private final Path passwordFile;
  private RedisServer server;

  private EmbeddedRedisServer(int port, String password, Path passwordFile) {
    this.port = port;
    this.password = password;
    this.passwordFile = passwordFile;
  }

  /** Starts on {@code port} (0 picks a free one, kept for restarts), with the password of {@code dataDir}. */
  public static EmbeddedRedisServer start(Path dataDir, int port) {
    Path file = dataDir.toAbsolutePath().normalize().resolve("redis.password");
    String password = EmbeddedPassword.readOrCreate(file).password();
    EmbeddedRedisServer s = new EmbeddedRedisServer(port == 0 ? FreePort.find() : port, password, file);
    s.startProcess();
    return s;
  }

  private void startProcess() {
    try {
      redis.embedded.core.RedisServerBuilder b = RedisServer.newRedisServer();
      if (ServiceAccount.root()) {
        b.executableProvider(asServiceAccount(ServiceAccount.get()));
      }
      server = b
          .port(port)
          .bind("127.0.0.1")
          .setting("protected-mode yes")
          // hex (EmbeddedPassword): nothing to quote
          .setting("requirepass " + password)
          .setting("save \"\"")
          .setting("appendonly no")
          .setting("maxmemory 512mb")
          .setting("maxmemory-policy volatile-ttl")
          .onShutdownForceStop(true)
          .build();
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded Redis on port " + port, e);
    }
  }

  /**
   * As root: the Redis binary unpacked where the service account may run it, behind a script that runs it as that
   * account. The builder writes the settings (the password among them) to a file only root may read, so the script,
   * still root, hands the file over as the server's standard input ({@code redis-server -}).
   */
  private static redis.embedded.core.ExecutableProvider asServiceAccount(ServiceAccount account) throws IOException {
    java.nio.file.Path dir = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "tally-redis");
    java.nio.file.Files.createDirectories(dir);
    dir.toFile().setReadable(true, false);
    dir.toFile().setExecutable(true, false);
    java.io.File real = redis.embedded.core.ExecutableProvider.newJarResourceProvider(dir.toFile()).get();
    real.setReadable(true, false);
    real.setExecutable(true, false);
    java.nio.file.Path script = account.wrapper(dir, "redis-server-as-" + account.user, real.toPath(),
        "cfg=\"$1\"\nshift\nexec $RUN $REAL - \"$@\" < \"$cfg\"");
    return script::toFile;
  }

  /** The URL with the password, for the Redis client; log {@link #safeUrl()} instead. */
  public String url() {
    return "redis://:" + password + "@127.0.0.1:" + port;
  }

  /** The URL without the password. */
  public String safeUrl() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Path passwordFile() {
    return passwordFile;
  }

  public synchronized void stop() {
    if (server != null) {
      try {
        server.stop();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      server = null;
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
