package io.tally.compat;

import io.tally.event.Rejection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The answer to an SDK request, in the indexes of the SDK's own batch. The SDKs drop a whole batch on a 400, so a
 * batch where some events could be stored is answered 200 (the stored ones are kept, as on {@code POST /v1/events})
 * with the rejected ones listed; only when nothing could be stored is it refused: 413 when the first rejected event
 * is over the size limit, else 400, naming that event's field and limit and listing every rejection.
 */
record SdkAnswer(int status, JsonObject body) {

  /** @param stored what the ingestion path answered, or null when nothing was sent to it */
  static SdkAnswer of(MappedBatch batch, JsonObject stored) {
    List<Rejection> all = new ArrayList<>(batch.rejected());
    int accepted = 0;
    int duplicates = 0;
    JsonObject ignored = null;
    JsonArray assigned = null;
    if (stored != null) {
      accepted = stored.getInteger("accepted", 0);
      duplicates = stored.getInteger("duplicates", 0);
      ignored = stored.getJsonObject("ignored");
      for (Object o : stored.getJsonArray("rejected", new JsonArray())) {
        JsonObject r = (JsonObject) o;
        all.add(new Rejection(batch.indexOf(r.getInteger("index")), r.getString("field"), r.getString("error"),
            r.getLong("limit")));
      }
      JsonArray ids = stored.getJsonArray("assignedIds");
      if (ids != null) {
        assigned = new JsonArray();
        for (Object o : ids) {
          JsonObject a = (JsonObject) o;
          assigned.add(new JsonObject().put("index", batch.indexOf(a.getInteger("index"))).put("id", a.getString("id")));
        }
      }
    }
    all.sort(Comparator.comparingInt(Rejection::index));
    JsonArray rejected = new JsonArray();
    all.forEach(r -> rejected.add(r.toJson()));
    int ignoredCount = ignored == null ? 0 : ignored.getInteger("doNotTrack", 0) + ignored.getInteger("suppressed", 0);
    if (accepted + duplicates + ignoredCount == 0 && !all.isEmpty()) {
      Rejection first = all.get(0);
      boolean size = first.limit() != null && ("event".equals(first.field())
          || "ingest.maxEventBytes".equals(first.field()));
      JsonObject error = new JsonObject().put("error", size ? "too_large" : "invalid_request")
          .put("message", "no event of this request could be stored; " + (all.size() == 1 ? "" : "the first: ")
              + first.error());
      if (first.field() != null) {
        error.put("field", first.field());
      }
      if (first.limit() != null) {
        error.put("limit", first.limit());
      }
      return new SdkAnswer(size ? 413 : 400, error.put("rejected", rejected));
    }
    JsonObject out = new JsonObject().put("accepted", accepted).put("duplicates", duplicates).put("rejected", rejected);
    if (assigned != null) {
      out.put("assignedIds", assigned);
    }
    if (ignored != null) {
      out.put("ignored", ignored);
    }
    return new SdkAnswer(200, out);
  }
}
