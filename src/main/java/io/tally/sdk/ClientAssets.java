package io.tally.sdk;

import io.vertx.ext.web.Router;

/**
 * What a client fetches to integrate with Tally, without a key: the browser SDK at {@code /sdk/tally.js} and the API
 * contract (OpenAPI 3.1) at {@code /openapi.json}. Mount before the dashboard's catch-all static route.
 */
public final class ClientAssets {
  /** One hour: an upgrade reaches pages within the hour, and a revalidation is a 304 (ETag). */
  static final int SDK_MAX_AGE_S = 3600;
  static final int OPENAPI_MAX_AGE_S = 300;
  private final ClientAsset sdk = new ClientAsset("sdk/tally.js", "text/javascript; charset=utf-8", SDK_MAX_AGE_S);
  private final ClientAsset openapi = new ClientAsset("openapi.json", "application/json", OPENAPI_MAX_AGE_S);

  public void mount(Router router) {
    router.get("/sdk/tally.js").handler(sdk);
    router.get("/openapi.json").handler(openapi);
  }
}
