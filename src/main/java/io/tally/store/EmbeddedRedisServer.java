package io.tally.store;

import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;

/** A real Redis (codemonstur embedded-redis) on loopback. It holds only real-time counters, so no persistence. */
public final class EmbeddedRedisServer implements AutoCloseable {
  private final int port;
  private RedisServer server;

  private EmbeddedRedisServer(int port) {
    this.port = port;
  }

  public static EmbeddedRedisServer start(int port) {
    EmbeddedRedisServer s = new EmbeddedRedisServer(port == 0 ? FreePort.find() : port);
    s.startProcess();
    return s;
  }

  private void startProcess() {
    try {
      server = RedisServer.newRedisServer()
          .port(port)
          .bind("127.0.0.1")
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

  public String url() {
    return "redis://127.0.0.1:" + port;
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
