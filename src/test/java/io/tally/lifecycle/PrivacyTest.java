package io.tally.lifecycle;

import io.tally.config.ConfigLoader;
import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PrivacyTest {

  private static Jedis jedis() {
    return TestServers.get().jedis();
  }

  private static Http.Response admin(Http http, String key, String method, String path) {
    return http.send(HttpRequest.newBuilder(http.uri(path)).header("Authorization", "Bearer " + key)
        .method(method, HttpRequest.BodyPublishers.noBody()).build());
  }

  private static JsonObject ev(String type, String user, String anon, String session, Instant ts) {
    JsonObject e = Events.event(type, "x").put("timestamp", ts.toString());
    e.remove("sessionId");
    JsonObject uc = new JsonObject();
    if (user != null) {
      uc.put("userId", user);
    }
    if (anon != null) {
      uc.put("anonymousId", anon);
    }
    if (session != null) {
      e.put("sessionId", session);
    }
    return e.put("userContext", uc);
  }

  /** Rows of every table in the schema whose text holds {@code needle} (independent of Tally's own notion of a person). */
  private static long rowsMentioning(String needle) {
    long n = 0;
    for (Map<String, Object> t : Db.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")) {
      n += Db.count("SELECT count(*) FROM \"" + t.get("tablename") + "\" x WHERE x::text LIKE ?", "%" + needle + "%");
    }
    return n;
  }

  private static String archivedText(Path dir) throws IOException {
    StringBuilder sb = new StringBuilder();
    try (var files = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.toString().endsWith(".ndjson.gz")) {
          try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(f))) {
            sb.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
        }
      }
    }
    return sb.toString();
  }

  private static Set<String> idsOf(JsonArray rows) {
    Set<String> out = new HashSet<>();
    rows.forEach(r -> out.add(((JsonObject) r).getString("id")));
    return out;
  }

  @Test
  void verifiesThatDeletingAUserRemovesEveryTraceOfThatPersonOnlyAndExportHoldsEverything() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String alice = "alice-" + s;
    String anonA = "anon-a-" + s;
    String bob = "bob-" + s;
    String adminKey = "a-key-" + s;
    Path archiveDir = Files.createTempDirectory(Path.of("target"), "archive-");
    UnaryOperator<TallyConfig> cfg = c -> c.withProjects(List.of(
            new ProjectConfig("pp-" + s, List.of("w-key-" + s), List.of("r-key-" + s), ZoneOffset.UTC)
                .withAdminKeys(List.of(adminKey)).withPrivacy(new ProjectConfig.Privacy(true, true, 30, 0))))
        .withLifecycle(new TallyConfig.Lifecycle(archiveDir, true, 60, 100, 0));
    try (TestTally t = TestTally.start("pp-" + s, "w-key-" + s, "r-key-" + s, cfg); Jedis jedis = jedis()) {
      String p = t.project;
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      Instant t0 = now.minus(2, ChronoUnit.HOURS);
      Instant old = Instant.parse("2012-01-05T10:00:00Z");
      // GIVEN alice: anonymous events (one with UTM parameters), an identify linking them, identified events, an
      // id-less event in her session, and two old events that retention archives; and bob beside her
      JsonObject a1 = ev("page_view", null, anonA, "sa1-" + s, t0)
          .put("page", new JsonObject().put("url", "https://app.example/?utm_source=news&utm_medium=email")
              .put("path", "/").put("search", "?utm_source=news&utm_medium=email"));
      JsonObject a2 = ev("message_sent", null, anonA, "sa1-" + s, t0.plusSeconds(30));
      JsonObject a3 = ev("identify", alice, anonA, "sa1-" + s, t0.plusSeconds(60));
      JsonObject a4 = ev("message_sent", alice, null, "sa2-" + s, t0.plusSeconds(3600));
      a4.getJsonObject("userContext").put("userProperties", new JsonObject().put("plan", "pro"));
      JsonObject a5 = ev("page_view", null, null, "sa2-" + s, t0.plusSeconds(3700));
      // (her old session's two events share a client environment: the second, sent later, names the first)
      JsonObject oldEnv = new JsonObject().put("userAgent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
          + "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36").put("viewport", "1111x555");
      JsonObject ao1 = ev("message_sent", alice, null, "sao-" + s, old).put("context", oldEnv.copy());
      JsonObject ao2 = ev("page_view", alice, null, "sao-" + s, old.plusSeconds(10)).put("context", oldEnv.copy());
      JsonObject b1 = ev("message_sent", bob, null, "sb1-" + s, t0.plusSeconds(5));
      JsonObject b2 = ev("page_view", bob, null, "sb1-" + s, t0.plusSeconds(50));
      JsonObject b3 = ev("message_sent", bob, null, "sb2-" + s, t0.plusSeconds(7200));
      JsonObject bo1 = ev("message_sent", bob, null, "sbo-" + s, old.plusSeconds(20));
      JsonObject bo2 = ev("page_view", bob, null, "sbo-" + s, old.plusSeconds(30));
      List<JsonObject> aliceLive = List.of(a1, a2, a3, a4, a5);
      List<JsonObject> aliceOld = List.of(ao1, ao2);
      assertEquals(200, t.http.post(Events.batch(a1, a2, b1, b2, bo1, bo2, ao1).encode()).status());
      assertEquals(200, t.http.post(Events.batch(ao2).encode()).status());
      assertEquals(1, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ?::uuid "
          + "AND context IS NULL AND context_from = ?::uuid", p, ao2.getString("id"), ao1.getString("id")));
      assertEquals(200, t.http.post(Events.batch(a3).encode()).status());
      Eventually.until("the link", () -> Db.count("SELECT count(*) FROM identities WHERE project_id = ?", p) == 1);
      Eventually.until("the merge", () -> Db.count("SELECT count(*) FROM users WHERE project_id = ? AND user_key = ?",
          p, anonA) == 0);
      assertEquals(200, t.http.post(Events.batch(a4, a5, b3).encode()).status());
      Eventually.until("all sessions", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ?", p) == 6);
      RetentionJob.Report r = t.tally.lifecycle().runRetention(LocalDate.of(2012, 3, 1)).toCompletionStage()
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertEquals(4, r.eventsArchived());
      Set<String> aliceSessions = Set.of("sa1-" + s, "sa2-" + s, "sao-" + s);
      List<Map<String, Object>> bobEventsBefore = Db.query("SELECT id, ts, type, user_id, session_id FROM events "
          + "WHERE project_id = ? AND user_id = ? ORDER BY id", p, bob);
      List<Map<String, Object>> bobSessionsBefore = Db.query("SELECT * FROM sessions WHERE project_id = ? "
          + "AND user_id = ? ORDER BY session_id", p, bob);
      List<Map<String, Object>> bobPersonBefore = Db.query("SELECT * FROM users WHERE project_id = ? AND user_key = ?",
          p, bob);

      // WHEN the admin exports alice
      assertEquals(403, admin(t.http, "r-key-" + s, "GET", "/v1/users/" + alice + "/export").status());
      Http.Response exp = admin(t.http, adminKey, "GET", "/v1/users/" + alice + "/export");
      assertEquals(200, exp.status(), exp.body());
      JsonObject export = exp.json();
      // THEN it holds everything about her, found from either id
      assertEquals(Set.of(alice, anonA), new HashSet<>(export.getJsonArray("ids").getList()));
      assertEquals(idsOf(new JsonArray(new ArrayList<>(aliceLive))), idsOf(export.getJsonArray("events")));
      assertEquals(idsOf(new JsonArray(new ArrayList<>(aliceOld))), idsOf(export.getJsonArray("archivedEvents")));
      // (each archived event with its own environment, the one that named another's included)
      for (Object o : export.getJsonArray("archivedEvents")) {
        JsonObject e = (JsonObject) o;
        assertEquals("1111x555", e.getJsonObject("context").getJsonObject("device").getString("viewport"), e.encode());
      }
      Set<String> sessions = new HashSet<>();
      export.getJsonArray("sessions").forEach(x -> sessions.add(((JsonObject) x).getString("session_id")));
      assertEquals(aliceSessions, sessions);
      assertEquals(1, export.getJsonArray("people").size());
      assertEquals("pro", export.getJsonArray("people").getJsonObject(0).getJsonObject("traits").getString("plan"));
      assertEquals(anonA, export.getJsonArray("identities").getJsonObject(0).getString("anonymous_id"));
      assertEquals(1, export.getJsonArray("touchpoints").size());
      assertEquals(new HashSet<>(List.of(t0.atZone(ZoneOffset.UTC).toLocalDate().toString(),
              t0.plusSeconds(3600).atZone(ZoneOffset.UTC).toLocalDate().toString(), "2012-01-05")),
          new HashSet<>(export.getJsonArray("activeDays").stream().map(x -> ((JsonObject) x).getString("day")).toList()));
      long counted = 0;
      for (String k : export.getJsonObject("realtimeCounters").fieldNames()) {
        counted += export.getJsonObject("realtimeCounters").getJsonObject(k).getLong("_all");
      }
      assertEquals(6, counted, "every event with an id is counted under one of hers");
      assertEquals(200, admin(t.http, adminKey, "GET", "/v1/users/" + anonA + "/export").status());
      assertEquals(404, admin(t.http, adminKey, "GET", "/v1/users/nobody-" + s + "/export").status());

      // WHEN the admin deletes alice (by her user id)
      assertEquals(403, admin(t.http, "r-key-" + s, "DELETE", "/v1/users/" + alice).status());
      assertEquals(403, t.http.getWith("Bearer " + adminKey, "/v1/events/count").status());
      Http.Response del = admin(t.http, adminKey, "DELETE", "/v1/users/" + alice);
      assertEquals(200, del.status(), del.body());
      JsonObject receipt = del.json().getJsonObject("deleted");
      // THEN the receipt counts what she had
      assertEquals(aliceLive.size(), receipt.getLong("events"));
      assertEquals(aliceOld.size(), receipt.getLong("archivedEvents"));
      assertEquals(3, receipt.getLong("sessions"));
      assertEquals(1, receipt.getLong("people"));
      assertEquals(1, receipt.getLong("identities"));
      assertEquals(1, receipt.getLong("touchpoints"));
      assertEquals(2, del.json().getLong("redisKeys"));
      assertTrue(del.json().getBoolean("suppressed"));
      // AND no row of any table, no Redis key and no archive line mentions any of her ids or sessions
      for (String needle : List.of(alice, anonA, "sa1-" + s, "sa2-" + s, "sao-" + s)) {
        assertEquals(0, rowsMentioning(needle), needle + " in PostgreSQL");
        assertTrue(jedis.keys("*" + needle + "*").isEmpty(), needle + " in Redis");
        assertFalse(archivedText(archiveDir).contains(needle), needle + " in the archives");
      }
      ArchiveStore store = new ArchiveStore(archiveDir);
      assertTrue(store.list(p).stream().allMatch(store::verify), "rewritten archives verify");
      // AND bob is untouched: events, sessions, person, archived events, counters
      assertEquals(bobEventsBefore, Db.query("SELECT id, ts, type, user_id, session_id FROM events "
          + "WHERE project_id = ? AND user_id = ? ORDER BY id", p, bob));
      assertEquals(bobSessionsBefore, Db.query("SELECT * FROM sessions WHERE project_id = ? AND user_id = ? "
          + "ORDER BY session_id", p, bob));
      assertEquals(bobPersonBefore, Db.query("SELECT * FROM users WHERE project_id = ? AND user_key = ?", p, bob));
      assertEquals(2, archivedText(archiveDir).lines().filter(l -> l.contains("\"user_id\":\"" + bob + "\"")).count());
      JsonObject bobExport = admin(t.http, adminKey, "GET", "/v1/users/" + bob + "/export").json();
      assertEquals(idsOf(new JsonArray(List.of(bo1, bo2))), idsOf(bobExport.getJsonArray("archivedEvents")));
      assertEquals(5, bobExport.getJsonObject("realtimeCounters").getJsonObject(bob).getLong("_all"));
      // AND person-level routes no longer know her; her export is empty
      assertEquals(404, t.http.get("/v1/users/" + alice + "/analytics").status());
      assertEquals(0, t.http.get("/v1/users/" + alice + "/sessions").json().getJsonArray("sessions").size());
      assertEquals(404, admin(t.http, adminKey, "GET", "/v1/users/" + alice + "/export").status());

      // WHEN events of hers arrive again (suppression is on)
      JsonObject again = t.http.post(Events.batch(ev("message_sent", alice, null, "sa9-" + s, now),
          ev("page_view", null, anonA, "sa9-" + s, now), ev("page_view", bob, null, "sb9-" + s, now)).encode()).json();
      // THEN they are answered, not stored, and counted
      assertEquals(1, again.getInteger("accepted"));
      assertEquals(2, again.getJsonObject("ignored").getInteger("suppressed"));
      Eventually.until("bob's new session", () -> Db.count("SELECT count(*) FROM sessions WHERE project_id = ? "
          + "AND session_id = ?", p, "sb9-" + s) == 1);
      assertEquals(0, rowsMentioning(alice));
      assertEquals(0, rowsMentioning(anonA));
      String metrics = t.http.get("/metrics").body();
      assertTrue(metrics.contains("analytics_events_suppressed_total 2.0"), "suppressed metric");

      // AND a restore of the archives (deletion list applied) brings nothing of hers back
      Files.walk(archiveDir).filter(f -> f.toString().endsWith(".ndjson.gz")).findFirst().orElseThrow();
      ArchiveRestore.Result restored = new ArchiveRestore(new Jdbc(TestServers.get().pgUrl()), store)
          .restore(store.list(p), java.time.Duration.ofDays(1));
      assertEquals(2, restored.restored());
      assertEquals(0, rowsMentioning(alice));
    }
  }

  @Test
  void verifiesThatDoNotTrackEventsAreAnsweredButNotStoredAndCounted() {
    String s = UUID.randomUUID().toString().substring(0, 8);
    UnaryOperator<TallyConfig> cfg = c -> c.withProjects(List.of(
        new ProjectConfig("dnt-" + s, List.of("w-key-" + s), List.of("r-key-" + s), ZoneOffset.UTC),
        new ProjectConfig("track-" + s, List.of("w-tr-" + s), List.of("r-tr-" + s), ZoneOffset.UTC)
            .withPrivacy(new ProjectConfig.Privacy(false, true, 0, 0))));
    try (TestTally t = TestTally.start("dnt-" + s, "w-key-" + s, "r-key-" + s, cfg)) {
      double before = metric(t.http.get("/metrics").body(), "analytics_events_dnt_total");
      // GIVEN a project honouring DNT (the default)
      // WHEN a batch comes with DNT: 1, and events carry doNotTrack true (top level, context) or false
      Http.Response header = t.http.postHeaders(Events.batchOf(3, "page_view").encode(), "DNT", "1");
      JsonObject top = Events.event("page_view", "u-dnt").put("doNotTrack", true);
      JsonObject ctx = Events.event("page_view", "u-dnt").put("context", new JsonObject().put("doNotTrack", true));
      JsonObject no = Events.event("page_view", "u-dnt").put("doNotTrack", false);
      Http.Response mixed = t.http.post(Events.batch(top, ctx, no).encode());
      // THEN all are answered 200, only the one without the request is stored, and the dropped ones are counted
      assertEquals(200, header.status());
      assertEquals(0, header.json().getInteger("accepted"));
      assertEquals(3, header.json().getJsonObject("ignored").getInteger("doNotTrack"));
      assertEquals(200, mixed.status());
      assertEquals(1, mixed.json().getInteger("accepted"));
      assertEquals(2, mixed.json().getJsonObject("ignored").getInteger("doNotTrack"));
      assertEquals(1, Db.eventsOf(t.project));
      assertEquals(no.getString("id"), Db.query("SELECT id::text AS id FROM events WHERE project_id = ?", t.project)
          .get(0).get("id"));
      // AND over WebSocket, a stream opened with DNT: 1 is acked but nothing of it stored
      JsonObject wsAck = streamWithDnt(t, Events.batchOf(4, "page_view").put("seq", 7));
      assertEquals(7, wsAck.getLong("ack"));
      assertEquals(0, wsAck.getInteger("accepted"));
      assertEquals(4, wsAck.getJsonObject("ignored").getInteger("doNotTrack"));
      assertEquals(1, Db.eventsOf(t.project));
      assertEquals(9.0, metric(t.http.get("/metrics").body(), "analytics_events_dnt_total") - before);
      // AND a project with doNotTrack off stores them
      Http track = new Http(t.tally.port(), "w-tr-" + s, "r-tr-" + s);
      assertEquals(2, track.postHeaders(Events.batchOf(2, "page_view").encode(), "DNT", "1").json()
          .getInteger("accepted"));
      assertEquals(2, Db.eventsOf("track-" + s));
    }
  }

  private static JsonObject streamWithDnt(TestTally t, JsonObject frame) {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.core.http.WebSocketClient client = vertx.createWebSocketClient();
      java.util.concurrent.CompletableFuture<JsonObject> ack = new java.util.concurrent.CompletableFuture<>();
      client.connect(new io.vertx.core.http.WebSocketConnectOptions().setHost("127.0.0.1").setPort(t.tally.port())
              .setURI("/v1/stream?key=" + t.writeKey).addHeader("DNT", "1"))
          .onSuccess(ws -> {
            ws.textMessageHandler(text -> ack.complete(new JsonObject(text)));
            ws.writeTextMessage(frame.encode());
          })
          .onFailure(ack::completeExceptionally);
      JsonObject out = ack.get(30, TimeUnit.SECONDS);
      client.close();
      return out;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      vertx.close();
    }
  }

  @Test
  void verifiesThatProjectPrivacySettingsAreReadFromConfig() {
    JsonObject json = ConfigLoader.defaults();
    JsonObject project = json.getJsonArray("projects").getJsonObject(0);
    // the shipped default project: an admin key, DNT on, IP anonymised
    TallyConfig shipped = ConfigLoader.bind(json);
    assertEquals(List.of("dev-admin-key"), shipped.projects().get(0).adminKeys());
    assertTrue(shipped.projects().get(0).privacy().doNotTrack());
    project.put("ip", "drop").put("retentionDays", 10).put("rollupRetentionDays", 100).put("doNotTrack", false);
    ProjectConfig p = ConfigLoader.bind(json).projects().get(0);
    assertEquals(ProjectConfig.IpMode.NONE, p.ipMode());
    assertEquals(new ProjectConfig.Privacy(false, true, 10, 100), p.privacy());
    project.put("rollupRetentionDays", 5);
    assertThrowsMessage(json, "rollupRetentionDays");
    project.put("rollupRetentionDays", 100).put("adminKeys", new JsonArray().add("dev-read-key"));
    assertThrowsMessage(json, "adminKeys");
  }

  private static void assertThrowsMessage(JsonObject json, String part) {
    try {
      ConfigLoader.bind(json);
    } catch (io.tally.config.ConfigException e) {
      assertTrue(e.getMessage().contains(part), e.getMessage());
      return;
    }
    throw new AssertionError("expected a configuration error naming " + part);
  }

  static double metric(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    return 0;
  }
}
