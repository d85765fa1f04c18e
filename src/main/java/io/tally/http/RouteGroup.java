package io.tally.http;

import io.tally.auth.KeyAuth;
import io.tally.auth.Perimeter;
import io.vertx.ext.web.Router;

/**
 * One feature's routes. The composition root hands the HTTP verticle its features' groups, so the router knows no
 * feature and no feature knows another's routes.
 */
@FunctionalInterface
public interface RouteGroup {
  /**
   * Mounts the routes on {@code router}, before the catch-all 404.
   *
   * @param auth      the keys, guarded by {@code perimeter} (failed keys are throttled per client)
   * @param perimeter what this server shares at the door (its metrics count refusals)
   */
  void mount(Router router, KeyAuth auth, Perimeter perimeter);
}
