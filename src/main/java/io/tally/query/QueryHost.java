package io.tally.query;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;

/**
 * What the query verticle offers the modules it runs: its Vert.x, the answering machinery (consumers, cache), the
 * query families and each project's time zone.
 */
public record QueryHost(Vertx vertx, QueryAnswers answers, QueryFamilies families, Map<String, ZoneId> zones) {
  public QueryHost {
    zones = Map.copyOf(zones);
  }

  /** The time zone of the query's project (UTC for an unknown one). */
  public ZoneId zone(JsonObject q) {
    return zones.getOrDefault(q.getString("projectId"), ZoneOffset.UTC);
  }

  public Set<String> projects() {
    return zones.keySet();
  }
}
