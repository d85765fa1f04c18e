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
 * The writer stores an event's client context in full only when its session has no committed event that stored the
 * same one; the others name that event (it is a large share of each row). Every event still reads back with its own
 * context through the session route and the person's export, whatever order events arrive in, and after a deletion
 * the next event of the session stores it again.
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

  private static String id(List<JsonObject> sent, int i) {
    return sent.get(i).getString("id");
  }

  private static String contextFrom(String project, String id) {
    return (String) Db.query("SELECT context_from::text AS f FROM events WHERE project_id = ? AND id = ?::uuid",
        project, id).get(0).get("f");
  }

  /** Each event of the session, as the session route and the person's export return it, has its own viewport. */
  private static void assertEachReadsBackItsOwn(TestTally t, String admin, String user, String session,
                                                Map<String, String> viewportOf) {
    io.tally.support.Eventually.until("the session with all its events", () -> {
      Http.Response r = t.http.get("/v1/sessions/" + session);
      return r.status() == 200 && r.json().getJsonArray("events").size() == viewportOf.size();
    });
    JsonArray events = t.http.get("/v1/sessions/" + session).json().getJsonArray("events");
    assertEquals(viewportOf.size(), events.size(), events.encode());
    for (Object o : events) {
      JsonObject e = (JsonObject) o;
      assertEquals(viewportOf.get(e.getString("id")), e.getJsonObject("device").getString("viewport"), e.encode());
    }
    Http.Response exp = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/users/" + user + "/export"))
        .header("Authorization", "Bearer " + admin).GET().build());
    assertEquals(200, exp.status(), exp.body());
    JsonArray exported = exp.json().getJsonArray("events");
    assertEquals(viewportOf.size(), exported.size());
    for (Object o : exported) {
      JsonObject e = (JsonObject) o;
      JsonObject context = e.getJsonObject("context");
      assertNotNull(context, e.encode());
      assertEquals(viewportOf.get(e.getString("id")), context.getJsonObject("device").getString("viewport"),
          e.encode());
    }
  }

  @Test
  void verifiesThatALateEventAndARetryBesideANewEventKeepTheirOwnContexts() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String admin = "a-key-" + s;
    String eve = "eve-" + s;
    String session = "sl-" + s;
    try (TestTally t = TestTally.startWithAdmin(admin)) {
      String p = t.project;
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      Map<String, String> viewportOf = new HashMap<>();
      // GIVEN a session whose window is resized at its second minute: the event of that minute is sent last, after
      // the later one (a client's retry after a failed send)
      JsonObject first = ev(eve, session, now.minusSeconds(300), "1280x720");
      JsonObject third = ev(eve, session, now.minusSeconds(180), "800x600");
      JsonObject late = ev(eve, session, now.minusSeconds(240), "800x600");
      for (JsonObject e : List.of(first, third, late)) {
        assertEquals(200, t.http.post(Events.batch(e).encode()).status());
        viewportOf.put(e.getString("id"), e.getJsonObject("context").getString("viewport"));
      }
      // THEN the late event names the event that stored its viewport (in time order, the one before it has another)
      assertEquals(third.getString("id"), contextFrom(p, late.getString("id")));
      // WHEN the first event is retried in one request with a new event that has its viewport again
      JsonObject back = ev(eve, session, now.minusSeconds(120), "1280x720");
      JsonObject body = Events.batch(first.copy(), back);
      Http.Response r = t.http.post(body.encode());
      assertEquals(200, r.status(), r.body());
      viewportOf.put(back.getString("id"), "1280x720");
      // THEN the new event does not lean on the retried one, which is a duplicate and not stored again
      assertEquals(1, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?::uuid", p,
          first.getString("id")));
      // (its session's last stored context is another, so it stores its own in full)
      assertEquals(true, contextStored(p, back.getString("id")));
      assertEquals(null, contextFrom(p, back.getString("id")));
      // AND every event reads back with its own viewport, through the session route and the export
      assertEachReadsBackItsOwn(t, admin, eve, session, viewportOf);
    }
  }

  @Test
  void verifiesThatAnEventMoreThanAnHourFromTheStoredContextStoresItAgain() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String admin = "a-key-" + s;
    String ida = "ida-" + s;
    String session = "sh-" + s;
    try (TestTally t = TestTally.startWithAdmin(admin)) {
      String p = t.project;
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      // GIVEN one context for a session's events, two hours apart, then one a minute after the second
      JsonObject early = ev(ida, session, now.minusSeconds(7_200), "1280x720");
      JsonObject later = ev(ida, session, now.minusSeconds(60), "1280x720");
      JsonObject next = ev(ida, session, now, "1280x720");
      for (JsonObject e : List.of(early, later, next)) {
        assertEquals(200, t.http.post(Events.batch(e).encode()).status());
      }
      // THEN the second stores it again (the first is more than EventBatchSql.ANCHOR_SPAN_MS away) and the third
      // names the second
      assertEquals(true, contextStored(p, early.getString("id")));
      assertEquals(true, contextStored(p, later.getString("id")));
      assertEquals(later.getString("id"), contextFrom(p, next.getString("id")));
    }
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
      // in one request, the first with a new viewport, the second back to the one stored before
      String[] viewports = {"1280x720", "1280x720", "800x600", "800x600", "1024x768", "800x600"};
      List<JsonObject> sent = new ArrayList<>();
      for (int i = 0; i < viewports.length; i++) {
        sent.add(ev(dan, session, now.minusSeconds(60 - i), viewports[i]));
      }
      for (int i = 0; i < 4; i++) {
        assertEquals(200, t.http.post(Events.batch(sent.get(i)).encode()).status());
      }
      assertEquals(200, t.http.post(Events.batch(sent.get(4), sent.get(5)).encode()).status());
      // THEN only the events whose context no earlier committed event of the session stored hold one; the others
      // name the one that did
      Map<String, String> viewportOf = new HashMap<>();
      boolean[] inFull = {true, false, true, false, true, false};
      String[] namedEvent = {null, id(sent, 0), null, id(sent, 2), null, id(sent, 2)};
      for (int i = 0; i < sent.size(); i++) {
        assertEquals(inFull[i], contextStored(p, sent.get(i).getString("id")), "event " + i);
        assertEquals(namedEvent[i], contextFrom(p, sent.get(i).getString("id")), "event " + i);
        viewportOf.put(sent.get(i).getString("id"), viewports[i]);
      }
      // AND each reads back with its own viewport, through the session route and the person's export
      assertEachReadsBackItsOwn(t, admin, dan, session, viewportOf);
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
