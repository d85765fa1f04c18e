package io.tally.ingest;

import io.tally.ApiError;
import io.tally.config.TallyConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * One WebSocket stream: each text message is one event or {@code {"batch": [...], "seq": n}}; each is answered,
 * after commit, with an ack (or a nack carrying retryAfterMs when it should be retried). Every answer also carries
 * {@code frame}, the message's 1-based ordinal on this connection, so a client can correlate even when its seq
 * could not be read. Pings keep the connection alive; one missing two intervals of pongs is closed.
 */
final class StreamSession {
  private static final Logger LOG = LoggerFactory.getLogger(StreamSession.class);
  private final Vertx vertx;
  private final ServerWebSocket ws;
  private final KeyAuth.Principal principal;
  private final IngestService ingest;
  private final ServerState state;
  private final TallyConfig.Ingest cfg;
  private final io.tally.enrich.Enricher.RequestInfo request;
  private long frames;
  private int inFlight;
  private long lastPong = System.currentTimeMillis();
  private long pingTimer;

  StreamSession(Vertx vertx, ServerWebSocket ws, KeyAuth.Principal principal, IngestService ingest,
                ServerState state, TallyConfig.Ingest cfg, io.tally.enrich.Enricher.RequestInfo request) {
    this.request = request;
    this.vertx = vertx;
    this.ws = ws;
    this.principal = principal;
    this.ingest = ingest;
    this.state = state;
    this.cfg = cfg;
  }

  void start() {
    state.opened(ws);
    ws.textMessageHandler(this::onText);
    ws.binaryMessageHandler(b -> {
      long frame = ++frames;
      send(nack(frame, frame, ApiError.badRequest("frame", "binary messages are not supported; send JSON text")));
    });
    ws.pongHandler(b -> lastPong = System.currentTimeMillis());
    ws.exceptionHandler(err -> { });
    pingTimer = vertx.setPeriodic(cfg.wsPingIntervalMs(), id -> {
      if (System.currentTimeMillis() - lastPong > 2 * cfg.wsPingIntervalMs() + 1000) {
        ws.close((short) 1001, "no pong received");
      } else {
        ws.writePing(Buffer.buffer("tally"));
      }
    });
    ws.closeHandler(v -> {
      vertx.cancelTimer(pingTimer);
      state.closed(ws);
    });
  }

  private void onText(String text) {
    long start = System.nanoTime();
    long frame = ++frames;
    if (inFlight >= cfg.wsMaxInFlightFrames()) {
      send(nack(frame, frame, ApiError.unavailable("too_many_in_flight", "more than "
          + cfg.wsMaxInFlightFrames() + " messages awaiting their ack (ingest.wsMaxInFlightFrames)",
          cfg.retryAfterMs())));
      return;
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    IngestService.Submission submission;
    try {
      submission = ingest.submit(principal, bytes, bytes.length, start, false, request);
    } catch (ApiError e) {
      send(nack(frame, frame, e));
      return;
    } catch (RuntimeException e) {
      // a bug, not the client's fault: the frame still gets its answer, the stack goes to the log only
      LOG.warn("stream frame {} failed unexpectedly", frame, e);
      send(nack(frame, frame, ApiError.internal()));
      return;
    }
    long seq = submission.seq() != null ? submission.seq() : frame;
    inFlight++;
    submission.answer().onComplete(ar -> {
      inFlight--;
      if (ar.succeeded()) {
        send(ar.result().put("ack", seq).put("frame", frame));
      } else if (ar.cause() instanceof ApiError api) {
        send(nack(seq, frame, api));
      } else {
        LOG.warn("stream frame {} failed unexpectedly", frame, ar.cause());
        send(nack(seq, frame, ApiError.internal()));
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
