package io.tally.dashboard;

import io.tally.error.ApiError;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Function;

/** Answers the dashboard's own requests over the event bus: saved segments and funnels, a person's recent events. */
public final class DashboardVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DashboardVerticle.class);
  private final Pool pool;

  public DashboardVerticle(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<?> start() {
    SavedViews saved = new SavedViews(pool);
    RecentEvents recent = new RecentEvents(pool);
    return Future.all(List.of(
        consume(DashboardAddresses.DASHBOARD_SAVED_LIST, saved::list),
        consume(DashboardAddresses.DASHBOARD_SAVED_PUT, saved::save),
        consume(DashboardAddresses.DASHBOARD_SAVED_DELETE, saved::delete),
        consume(DashboardAddresses.QUERY_USER_EVENTS, recent::ofUser)));
  }

  private Future<Void> consume(String address, Function<JsonObject, Future<JsonObject>> handler) {
    return vertx.eventBus().<JsonObject>consumer(address, msg -> {
      Future<JsonObject> result;
      try {
        result = handler.apply(msg.body());
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onSuccess(msg::reply).onFailure(err -> {
        if (err instanceof ApiError api) {
          msg.fail(api.status(), api.toJson().encode());
        } else {
          LOG.warn("dashboard request on {} failed: {}", address, err.toString());
          msg.fail(500, ApiError.unavailable("dashboard_failed", "request failed: " + err.getMessage(), 1000)
              .toJson().encode());
        }
      });
    }).completion();
  }
}
