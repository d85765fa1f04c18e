package io.tally.lifecycle;

import io.tally.auth.KeyAuth;
import io.tally.error.ApiError;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** Admin routes: delete and export one person's data; forwarded to {@link LifecycleVerticle}. */
public final class PrivacyRoutes {
  private static final DeliveryOptions DELIVERY = new DeliveryOptions().setSendTimeout(300_000);
  private final Vertx vertx;
  private final KeyAuth auth;

  public PrivacyRoutes(Vertx vertx, KeyAuth auth) {
    this.vertx = vertx;
    this.auth = auth;
  }

  public void mount(Router router) {
    router.delete("/v1/users/:id").handler(auth.require(KeyAuth.Role.ADMIN)).handler(ctx -> {
      KeyAuth.Principal p = KeyAuth.principal(ctx);
      String s = ctx.request().getParam("suppress");
      boolean suppress;
      if (s == null) {
        suppress = p.project().privacy().suppressDeleted();
      } else if (s.equals("true") || s.equals("false")) {
        suppress = Boolean.parseBoolean(s);
      } else {
        throw ApiError.badRequest("suppress", "suppress must be true or false");
      }
      forward(ctx, PrivacyAddresses.PRIVACY_DELETE, new JsonObject().put("projectId", p.projectId())
          .put("userId", userId(ctx)).put("suppress", suppress));
    });
    router.get("/v1/users/:id/export").handler(auth.require(KeyAuth.Role.ADMIN)).handler(ctx ->
        forward(ctx, PrivacyAddresses.PRIVACY_EXPORT, new JsonObject().put("projectId", KeyAuth.principal(ctx).projectId())
            .put("userId", userId(ctx))));
  }

  private static String userId(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (id == null || id.isBlank() || id.length() > 128) {
      throw ApiError.badRequest("userId", "userId must be 1-128 characters");
    }
    return id;
  }

  private static boolean re(Throwable err) {
    return err instanceof ReplyException r && r.failureType() == ReplyFailure.TIMEOUT;
  }

  private void forward(RoutingContext ctx, String address, JsonObject q) {
    vertx.eventBus().<JsonObject>request(address, q, DELIVERY)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            ctx.response().setStatusCode(re.failureCode()).putHeader("Content-Type", "application/json")
                .end(re.getMessage());
          } else {
            ctx.fail(ApiError.unavailable("lifecycle_unavailable", re(err) ? "the deletion or export did not finish "
                + "in time; it goes on: retry the request later" : "the lifecycle service is not available; retry "
                + "shortly", 1000));
          }
        });
  }
}
