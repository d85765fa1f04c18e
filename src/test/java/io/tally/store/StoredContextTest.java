package io.tally.store;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The writer stores an event's client context only when it differs from the one its session's previous event stored
 * (it is a large share of each row): every event still reads back with its own context through the session route and
 * the person's export, and after a deletion the next event of the session stores it again.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StoredContextTest {
  private static final String UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/120.0.0.0 Safari/537.36";

  private static JsonObject ev(String user, String session, Instant ts, String viewport) {
    JsonObject e = Events.event("message_sent", "x").put("timestamp", ts.toString()).put("sessionId", session)
        .put("context", new JsonObject().put("userAgent", UA).put("viewport", viewport));
    return e.put("userContext", new JsonObject().put("userId", user));
  }

  private static boolean contextStored(String project, String id) {
    return Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?::uuid AND context IS NOT NULL",
        project, id) == 1;
  }

  @Test
  void verifiesThatAContextIsStoredWhenItChangesAndReadBackForEveryEvent() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String admin = "a-key-" + s;
    String dan = "dan-" + s;
    String session = "sc-" + s;
    try (TestTally t = TestTally.startWithAdmin(admin)) {
      String p = t.project;
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      // GIVEN four events of one session, each in a request of its own: the viewport changes at the third; then two
      // in one request, the first with a new viewport, the second back to the stored one
      String[] viewports = {"1280x720", "1280x720", "800x600", "800x600", "1024x768", "800x600"};
      List<JsonObject> sent = new ArrayList<>();
      for (int i = 0; i < viewports.length; i++) {
        sent.add(ev(dan, session, now.minusSeconds(60 - i), viewports[i]));
      }
      for (int i = 0; i < 4; i++) {
        assertEquals(200, t.http.post(Events.batch(sent.get(i)).encode()).status());
      }
      assertEquals(200, t.http.post(Events.batch(sent.get(4), sent.get(5)).encode()).status());
      // THEN only the events whose context differs from their session's previous event's hold one
      Map<String, String> viewportOf = new HashMap<>();
      for (int i = 0; i < sent.size(); i++) {
        boolean changed = i == 0 || !viewports[i].equals(viewports[i - 1]);
        assertEquals(changed, contextStored(p, sent.get(i).getString("id")), "event " + i);
        viewportOf.put(sent.get(i).getString("id"), viewports[i]);
      }
      // AND the session's events each read back with their own viewport
      // (the route reads the events within the session row's span, which the derived flush extends shortly after)
      io.tally.support.Eventually.until("the session with all its events", () -> {
        Http.Response r = t.http.get("/v1/sessions/" + session);
        return r.status() == 200 && r.json().getJsonArray("events").size() == sent.size();
      });
      JsonArray events = t.http.get("/v1/sessions/" + session).json().getJsonArray("events");
      assertEquals(sent.size(), events.size(), events.encode());
      for (Object o : events) {
        JsonObject e = (JsonObject) o;
        assertEquals(viewportOf.get(e.getString("id")), e.getJsonObject("device").getString("viewport"), e.encode());
        assertEquals("desktop", e.getJsonObject("device").getString("type"), e.encode());
      }
      // AND so do they in the person's export
      Http.Response exp = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/users/" + dan + "/export"))
          .header("Authorization", "Bearer " + admin).GET().build());
      assertEquals(200, exp.status(), exp.body());
      JsonArray exported = exp.json().getJsonArray("events");
      assertEquals(sent.size(), exported.size());
      for (Object o : exported) {
        JsonObject e = (JsonObject) o;
        JsonObject context = e.getJsonObject("context");
        assertNotNull(context, e.encode());
        assertEquals(viewportOf.get(e.getString("id")), context.getJsonObject("device").getString("viewport"));
      }
      // WHEN dan is deleted without suppression and his session goes on with the last context
      Http.Response del = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/users/" + dan + "?suppress=false"))
          .header("Authorization", "Bearer " + admin).DELETE().build());
      assertEquals(200, del.status(), del.body());
      JsonObject again = ev(dan, session, now, "800x600");
      assertEquals(200, t.http.post(Events.batch(again).encode()).status());
      // THEN that event stores the context again (the one it repeated was deleted)
      assertEquals(true, contextStored(p, again.getString("id")));
    }
  }
}
