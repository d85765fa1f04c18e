package io.tally.http;

import io.tally.error.ApiError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/** Writes an {@link ApiError} as the JSON answer, with Retry-After when it has one, and closes when it must. */
final class ErrorAnswer {
  private ErrorAnswer() {
  }

  /**
   * Answers {@code e}; with {@code close}, says so ({@code Connection: close}) and closes the connection once the
   * answer is written, so that whatever the client still sends is never read as a request.
   */
  static void send(HttpServerRequest req, ApiError e, boolean close) {
    HttpServerResponse res = req.response();
    if (res.ended() || res.closed()) {
      return;
    }
    if (e.retryAfterMs() != null) {
      res.putHeader("Retry-After", Long.toString(Math.max(1, (e.retryAfterMs() + 999) / 1000)));
    }
    if (close) {
      res.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
    res.setStatusCode(e.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(e.toJson().encode()).onComplete(v -> {
          if (close) {
            req.connection().close();
          }
        });
  }

  /**
   * Whether the request still has body bytes to come: answering it without closing would leave them to be read as
   * the next request (or read and discarded, which is what an early refusal is meant to avoid).
   */
  static boolean bodyUnread(HttpServerRequest req) {
    if (req.isEnded()) {
      return false;
    }
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null) {
      return !length.trim().equals("0");
    }
    return req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
  }
}
