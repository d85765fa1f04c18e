package io.tally.ingest;

import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.tally.auth.KeyAuth;
import io.tally.config.TallyConfig;
import io.tally.enrich.Enricher;
import io.tally.error.ApiError;
import io.tally.http.ServerState;
import io.tally.metrics.PerimeterMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One WebSocket stream: each text message is one event or {@code {"batch": [...], "seq": n}}; each is answered,
 * after commit, with an ack, or else with a nack (carrying retryAfterMs when it should be retried). Every answer also
 * carries {@code frame}, the message's 1-based ordinal on this connection, so a client can correlate even when its
 * seq could not be read. No message is left unanswered: a refusal, a limit, a failure and a shutdown all nack it. A
 * message over {@code ingest.wsMaxMessageBytes} is nacked, the answers of the messages before it are awaited, and the
 * connection is closed with 1009 (nothing after it is read). Pings keep the connection alive; one missing two
 * intervals of pongs is closed.
 */
final class StreamSession implements MessageAssembler.Sink {
  private static final Logger LOG = LoggerFactory.getLogger(StreamSession.class);
  /** How long a closing session waits for the answers of the messages it already took. */
  private static final long CLOSE_WAIT_MS = 10_000;
  private final Vertx vertx;
  private final ServerWebSocket ws;
  private final KeyAuth.Principal principal;
  private final IngestService ingest;
  private final ServerState state;
  private final TallyConfig.Ingest cfg;
  private final Enricher.RequestInfo request;
  private final PerimeterMetrics metrics;
  private final MessageAssembler assembler;
  /** Messages taken and not answered yet: ordinal to seq, in order. */
  private final Map<Long, Long> waiting = new LinkedHashMap<>();
  private Context context;
  private ServerWebSocket handle;
  private long lastPong = System.currentTimeMillis();
  private long pingTimer;
  private long closeTimer = -1;
  /** Set once the session decided to close: the close code and reason, sent when nothing is waiting any more. */
  private short closeCode;
  private String closeReason;

  StreamSession(Vertx vertx, ServerWebSocket ws, KeyAuth.Principal principal, IngestService ingest,
                ServerState state, TallyConfig.Ingest cfg, Enricher.RequestInfo request, PerimeterMetrics metrics) {
    this.request = request;
    this.vertx = vertx;
    this.ws = ws;
    this.principal = principal;
    this.ingest = ingest;
    this.state = state;
    this.cfg = cfg;
    this.metrics = metrics;
    this.assembler = new MessageAssembler(cfg.wsMaxMessageBytes(), this);
  }

  /** Must run on the connection's event loop. */
  void start() {
    context = vertx.getOrCreateContext();
    handle = nackingOnClose();
    state.opened(handle);
    ws.frameHandler(assembler::frame);
    ws.pongHandler(b -> lastPong = System.currentTimeMillis());
    ws.exceptionHandler(this::onException);
    pingTimer = vertx.setPeriodic(cfg.wsPingIntervalMs(), id -> {
      if (System.currentTimeMillis() - lastPong > 2 * cfg.wsPingIntervalMs() + 1000) {
        ws.close((short) 1001, "no pong received");
      } else if (!ws.isClosed()) {
        ws.writePing(Buffer.buffer("tally"));
      }
    });
    ws.closeHandler(v -> {
      vertx.cancelTimer(pingTimer);
      vertx.cancelTimer(closeTimer);
      state.closed(handle);
    });
  }

  @Override
  public void text(long frame, byte[] bytes) {
    long start = System.nanoTime();
    if (waiting.size() >= cfg.wsMaxInFlightFrames()) {
      send(nack(frame, frame, ApiError.unavailable("too_many_in_flight", "more than "
          + cfg.wsMaxInFlightFrames() + " messages awaiting their ack (ingest.wsMaxInFlightFrames)",
          cfg.retryAfterMs())));
      return;
    }
    IngestService.Submission submission;
    try {
      submission = ingest.submit(principal, bytes, bytes.length, start, false, request);
    } catch (ApiError e) {
      send(nack(frame, frame, e));
      return;
    } catch (RuntimeException e) {
      // a bug, not the client's fault: the message still gets its answer, the stack goes to the log only
      LOG.warn("stream message {} failed unexpectedly", frame, e);
      send(nack(frame, frame, ApiError.internal()));
      return;
    }
    long seq = submission.seq() != null ? submission.seq() : frame;
    waiting.put(frame, seq);
    submission.answer().onComplete(ar -> {
      if (waiting.remove(frame) == null) {
        return; // already nacked when the server shut down
      }
      if (ar.succeeded()) {
        send(ar.result().put("ack", seq).put("frame", frame));
      } else if (ar.cause() instanceof ApiError api) {
        send(nack(seq, frame, api));
      } else {
        LOG.warn("stream message {} failed unexpectedly", frame, ar.cause());
        send(nack(seq, frame, ApiError.internal()));
      }
      if (closeCode != 0 && waiting.isEmpty() && !ws.isClosed()) {
        ws.close(closeCode, closeReason);
      }
    });
  }

  @Override
  public void binary(long frame) {
    send(nack(frame, frame, ApiError.badRequest("frame", "binary messages are not supported; send JSON text")));
  }

  @Override
  public void oversize(long frame) {
    metrics.webSocketOversize();
    send(nack(frame, frame, ApiError.tooLarge("ingest.wsMaxMessageBytes", cfg.wsMaxMessageBytes(),
        "message exceeds " + cfg.wsMaxMessageBytes() + " bytes (ingest.wsMaxMessageBytes); the connection closes "
            + "with 1009 after the answers of the messages before it, and nothing after it is read")));
    closeAfterAnswers((short) 1009, "message over ingest.wsMaxMessageBytes (" + cfg.wsMaxMessageBytes() + " bytes)");
  }

  /**
   * A frame the decoder refused. One over {@code ingest.wsMaxFrameBytes} is refused before it is buffered, and Vert.x
   * drops the connection right after this handler: only the close frame still goes out first (text frames are queued
   * behind the drop), so the client gets 1009 and must resend what was not acked.
   */
  private void onException(Throwable err) {
    if (err instanceof CorruptedWebSocketFrameException c && c.closeStatus() == WebSocketCloseStatus.MESSAGE_TOO_BIG
        && !ws.isClosed()) {
      metrics.webSocketOversize();
      ws.close((short) 1009, "frame over ingest.wsMaxFrameBytes (" + cfg.wsMaxFrameBytes() + " bytes)");
    }
  }

  /** Reads nothing more; closes once every message taken so far is answered (at most {@link #CLOSE_WAIT_MS}). */
  private void closeAfterAnswers(short code, String reason) {
    closeCode = code;
    closeReason = reason;
    ws.pause();
    if (waiting.isEmpty()) {
      ws.close(code, reason);
      return;
    }
    closeTimer = vertx.setTimer(CLOSE_WAIT_MS, id -> {
      nackWaiting(ApiError.unavailable("closing", "the connection is closing (" + reason + ") before this "
          + "message was committed; retry it", cfg.retryAfterMs()));
      if (!ws.isClosed()) {
        ws.close(code, reason);
      }
    });
  }

  private void nackWaiting(ApiError e) {
    for (Map.Entry<Long, Long> w : new ArrayList<>(waiting.entrySet())) {
      send(nack(w.getValue(), w.getKey(), e));
    }
    waiting.clear();
  }

  /**
   * The WebSocket as {@link ServerState} hands it to the server's shutdown: closing it first nacks, on the session's
   * event loop, every message not committed yet (so they are never left unanswered), then closes.
   */
  private ServerWebSocket nackingOnClose() {
    return (ServerWebSocket) Proxy.newProxyInstance(ServerWebSocket.class.getClassLoader(),
        new Class<?>[] {ServerWebSocket.class}, (proxy, method, args) -> {
          switch (method.getName()) {
            case "equals":
              return proxy == args[0];
            case "hashCode":
              return System.identityHashCode(proxy);
            case "close":
              Promise<Void> closed = Promise.promise();
              context.runOnContext(v -> {
                nackWaiting(ApiError.unavailable("shutting_down", "server is shutting down before this message "
                    + "was committed; retry it against another instance or later", cfg.retryAfterMs()));
                Future<Void> f = args == null ? ws.close() : args.length == 1 ? ws.close((Short) args[0])
                    : ws.close((Short) args[0], (String) args[1]);
                f.onComplete(closed);
              });
              return closed.future();
            default:
              try {
                return method.invoke(ws, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
          }
        });
  }

  private static JsonObject nack(long seq, long frame, ApiError e) {
    JsonObject o = new JsonObject().put("nack", seq).put("frame", frame).put("status", e.status())
        .put("error", e.getMessage()).put("code", e.code());
    if (e.field() != null) {
      o.put("field", e.field());
    }
    if (e.limit() != null) {
      o.put("limit", e.limit());
    }
    if (e.retryAfterMs() != null) {
      o.put("retryAfterMs", e.retryAfterMs());
    }
    return o;
  }

  private void send(JsonObject o) {
    if (!ws.isClosed()) {
      ws.writeTextMessage(o.encode());
    }
  }
}
