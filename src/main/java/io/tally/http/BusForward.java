package io.tally.http;

import io.tally.error.ApiError;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.ext.web.RoutingContext;

/**
 * Forwards a checked request over the event bus and relays the answer: the reply's bytes as the JSON body, a
 * recipient's failure as its status and JSON error, no answer in time as a 503.
 */
public final class BusForward {
  /** How long a query route waits for its answer. */
  public static final long QUERY_TIMEOUT_MS = 30_000;
  private final Vertx vertx;
  private final DeliveryOptions delivery;

  public BusForward(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.delivery = new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  public void forward(RoutingContext ctx, String address, Object request) {
    forward(ctx, address, request, 200);
  }

  public void forward(RoutingContext ctx, String address, Object request, int status) {
    vertx.eventBus().<Object>request(address, request, delivery)
        .onSuccess(reply -> ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
            .end(reply.body() instanceof Buffer b ? b : Buffer.buffer(String.valueOf(reply.body()))))
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            ctx.response().setStatusCode(re.failureCode()).putHeader("Content-Type", "application/json")
                .end(re.getMessage());
          } else {
            ctx.fail(unavailable(err, delivery.getSendTimeout()));
          }
        });
  }

  /** The answer to a request nobody answered: its time budget ran out, or the recipient is not there. */
  public static ApiError unavailable(Throwable err, long timeoutMs) {
    return err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT
        ? ApiError.unavailable("query_timeout", "the query did not finish within its " + timeoutMs / 1000
            + " s budget: narrow the period or the filters", 5000)
        : ApiError.unavailable("query_unavailable", "the query service is not available; retry shortly", 1000);
  }
}
