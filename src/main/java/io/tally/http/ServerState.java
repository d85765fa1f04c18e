package io.tally.http;

import io.tally.auth.Perimeter;
import io.vertx.core.http.ServerWebSocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Shared lifecycle state of the HTTP side: whether we are shutting down, the open ingestion WebSockets, and the
 * perimeter every HTTP verticle shares.
 */
public final class ServerState {
  private volatile boolean closing;
  private final Set<ServerWebSocket> sockets = ConcurrentHashMap.newKeySet();
  private volatile Perimeter perimeter;

  public boolean closing() {
    return closing;
  }

  public void startClosing() {
    closing = true;
  }

  public void opened(ServerWebSocket ws) {
    sockets.add(ws);
  }

  public void closed(ServerWebSocket ws) {
    sockets.remove(ws);
  }

  /** The ingestion WebSockets; closing one nacks its messages not committed yet, then closes it. */
  public Set<ServerWebSocket> sockets() {
    return sockets;
  }

  /** The perimeter, made by the first HTTP verticle to start (they are deployed together, from one config). */
  public synchronized Perimeter perimeter(Supplier<Perimeter> create) {
    if (perimeter == null) {
      perimeter = create.get();
    }
    return perimeter;
  }

  /** The perimeter, or null before the HTTP verticles started. */
  public Perimeter perimeter() {
    return perimeter;
  }
}
