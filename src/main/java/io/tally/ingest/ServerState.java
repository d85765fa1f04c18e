package io.tally.ingest;

import io.vertx.core.http.ServerWebSocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Shared lifecycle state of the HTTP side: whether we are shutting down, and the open WebSockets. */
public final class ServerState {
  private volatile boolean closing;
  private final Set<ServerWebSocket> sockets = ConcurrentHashMap.newKeySet();

  public boolean closing() {
    return closing;
  }

  public void startClosing() {
    closing = true;
  }

  void opened(ServerWebSocket ws) {
    sockets.add(ws);
  }

  void closed(ServerWebSocket ws) {
    sockets.remove(ws);
  }

  public Set<ServerWebSocket> sockets() {
    return sockets;
  }
}
