package io.tally.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A synchronous client of {@code /v1/stream} for tests: sends whole messages or single frames, and collects the
 * server's answers and its close code.
 */
public final class StreamClient implements AutoCloseable {
  private final WebSocketClient client;
  private final WebSocket ws;
  private final BlockingQueue<JsonObject> answers = new LinkedBlockingQueue<>();
  private final CompletableFuture<Short> closed = new CompletableFuture<>();
  private volatile String closeReason;

  private StreamClient(WebSocketClient client, WebSocket ws) {
    this.client = client;
    this.ws = ws;
    ws.textMessageHandler(text -> answers.add(new JsonObject(text)));
    ws.closeHandler(v -> {
      closeReason = ws.closeReason();
      closed.complete(ws.closeStatusCode());
    });
  }

  public static StreamClient connect(Vertx vertx, int port, String writeKey) {
    // the client must accept the server's answers whatever their size; it is the server's limits under test
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 24)
        .setMaxMessageSize(1 << 24));
    try {
      WebSocket ws = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
          .setURI("/v1/stream?key=" + writeKey)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      return new StreamClient(client, ws);
    } catch (Exception e) {
      client.close();
      throw new IllegalStateException("stream did not open", e);
    }
  }

  /** One whole text message in a single frame, whatever its size. */
  public void send(String text) {
    ws.writeFrame(WebSocketFrame.textFrame(text, true));
  }

  /** The first frame of a fragmented text message. */
  public void sendFirst(String part) {
    ws.writeFrame(WebSocketFrame.textFrame(part, false));
  }

  /** A continuation frame of the current message. */
  public void sendContinuation(String part, boolean last) {
    ws.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(part.getBytes(StandardCharsets.UTF_8)), last));
  }

  public void sendBinary(byte[] bytes) {
    ws.writeFrame(WebSocketFrame.binaryFrame(Buffer.buffer(bytes), true));
  }

  /** The next answer, or null when none came within the time. */
  public JsonObject answer(long timeoutMs) {
    try {
      return answers.poll(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The close code the server sent, or null when it did not close within the time (or closed without a code). */
  public Short closeCode(long timeoutMs) {
    try {
      return closed.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return null;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public String closeReason() {
    return closeReason;
  }

  public boolean isClosed() {
    return ws.isClosed();
  }

  @Override
  public void close() {
    if (!ws.isClosed()) {
      ws.close();
    }
    client.close();
  }
}
