package io.tally.query;

import io.vertx.core.json.JsonObject;

/**
 * Restrictions on the events counted: message/error provider and model, enriched country and device type; {@code raw}
 * computes from raw events only, bypassing the rollups (for verification and the benchmark's baseline).
 */
public record Filters(String provider, String model, String country, String device, boolean raw) {
  public static final Filters NONE = new Filters(null, null, null, null, false);

  public boolean any() {
    return provider != null || model != null || country != null || device != null;
  }

  public static Filters of(JsonObject q) {
    JsonObject f = q.getJsonObject("filters", new JsonObject());
    return new Filters(f.getString("provider"), f.getString("model"), f.getString("country"), f.getString("device"),
        q.getBoolean("raw", false));
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    if (provider != null) {
      o.put("provider", provider);
    }
    if (model != null) {
      o.put("model", model);
    }
    if (country != null) {
      o.put("country", country);
    }
    if (device != null) {
      o.put("device", device);
    }
    return o;
  }
}
