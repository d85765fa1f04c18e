package io.tally.lifecycle;

import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RetentionArchiveTest {
  static final LocalDate TODAY = LocalDate.of(2011, 3, 1);
  /** Raw window 30 days: events before 2011-01-30T00:00Z go; rollup window 60 days: rollups before 2010-12-31 go. */
  static final Instant RAW_CUTOFF = Instant.parse("2011-01-30T00:00:00Z");
  static final LocalDate ROLLUP_CUTOFF = LocalDate.of(2010, 12, 31);

  record Sent(String id, String project, Instant ts) {}

  @Test
  void verifiesThatRetentionArchivesThenRemovesExactlyTheExpiredRowsKeepsRollupsAndRestoreBringsQueriesBack()
      throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String p = "rp-" + s;
    String q = "rq-" + s;
    Path archiveDir = Files.createTempDirectory(Path.of("target"), "archive-");
    UnaryOperator<TallyConfig> cfg = c -> c.withProjects(List.of(
            new ProjectConfig(p, List.of("w-p-" + s), List.of("r-p-" + s), ZoneOffset.UTC)
                .withPrivacy(new ProjectConfig.Privacy(true, true, 30, 60)),
            new ProjectConfig(q, List.of("w-q-" + s), List.of("r-q-" + s), ZoneOffset.UTC)))
        // 7 rows per DELETE: the per-project delete runs in many batches
        .withLifecycle(new TallyConfig.Lifecycle(archiveDir, true, 60, 7, 0));
    for (String day : List.of("2011-01-10", "2011-01-20", "2011-01-29", "2011-01-30")) {
      Db.query("SELECT tally_ensure_partition(?::date) AS created", day);
    }
    // GIVEN events of project P on a day only P has (01-10), a day shared with Q (01-20), both sides of the cutoff
    // (01-29 23:59:59.999 / 01-30 00:00), a day without a partition after the cutoff (01-31), and a far back-dated
    // day in the default partition (2005-06-15), which is also past the rollup window; Q keeps everything
    List<Sent> sent = new ArrayList<>();
    JsonArray pBatch = new JsonArray();
    JsonArray qBatch = new JsonArray();
    String[][] plan = {
        {"2011-01-10T10:00:00Z", "8"}, {"2011-01-20T10:00:00Z", "11"}, {"2011-01-29T12:00:00Z", "3"},
        {"2011-01-29T23:59:59.999Z", "1"}, {"2011-01-30T00:00:00Z", "1"}, {"2011-01-31T09:00:00Z", "4"},
        {"2005-06-15T08:00:00Z", "5"}};
    for (String[] row : plan) {
      Instant t0 = Instant.parse(row[0]);
      int n = Integer.parseInt(row[1]);
      for (int i = 0; i < n; i++) {
        String user = "pu" + (i % 2);
        String type = i % 4 == 3 ? "signup" : i % 2 == 0 ? "message_sent" : "page_view";
        Instant ts = t0.plusMillis(i == 0 ? 0 : -i * 1000L); // the first event sits exactly on the planned instant
        String id = UUID.randomUUID().toString();
        pBatch.add(Events.event(type, user).put("id", id).put("timestamp", ts.toString())
            .put("sessionId", "s-" + user + "-" + row[0].substring(0, 10)));
        sent.add(new Sent(id, p, ts));
      }
    }
    for (String day : List.of("2011-01-20T11:00:00Z", "2005-06-15T09:00:00Z")) {
      for (int i = 0; i < 4; i++) {
        String id = UUID.randomUUID().toString();
        Instant ts = Instant.parse(day).plusSeconds(i);
        qBatch.add(Events.event("message_sent", "qu" + i).put("id", id).put("timestamp", ts.toString()));
        sent.add(new Sent(id, q, ts));
      }
    }
    Map<String, JsonObject> before;
    List<Map<String, Object>> rollupsKept;
    String sessionOf0110 = "s-pu0-2011-01-10";
    try (TestTally t = TestTally.start(p, "w-p-" + s, "r-p-" + s, cfg)) {
      Http qHttp = new Http(t.tally.port(), "w-q-" + s, "r-q-" + s);
      assertEquals(pBatch.size(), t.http.post(new JsonObject().put("batch", pBatch).encode()).json()
          .getInteger("accepted"));
      assertEquals(qBatch.size(), qHttp.post(new JsonObject().put("batch", qBatch).encode()).json()
          .getInteger("accepted"));
      Eventually.until("rollups of every day", () -> Db.count("SELECT coalesce(sum(events), 0) FROM rollup_daily "
          + "WHERE project_id = ?", p) == pBatch.size());
      // the in-memory timeline's load reads the events table in one long transaction, whose lock the retention's
      // DETACH PARTITION would wait for (then fall back to deletes): on a database other tests filled, let it finish
      Eventually.until("the timeline loaded", 120, () -> t.http.get("/metrics").body().lines()
          .anyMatch(l -> l.startsWith("analytics_event_timeline_events ") && !l.endsWith(" 0.0")));
      before = queries(t.http, sessionOf0110);
      rollupsKept = Db.query(ROLLUPS_SINCE, p, ROLLUP_CUTOFF);

      // (the start-up's index loads read every partition, the shared test database's other projects too: on a loaded
      // machine they may still hold their locks, and a partition whose DETACH cannot get its lock is emptied by
      // batched deletes instead of dropped — the path RetentionResumeTest covers; here the drop is under test)
      Eventually.until("no other session holds a lock on 2011's partitions", 60, () -> Db.count("SELECT count(*) FROM "
          + "pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname LIKE 'events_p2011%' "
          + "AND l.pid <> pg_backend_pid()") == 0);
      // WHEN the retention job runs on 2011-03-01
      RetentionJob.Report report = t.tally.lifecycle().runRetention(TODAY).toCompletionStage().toCompletableFuture()
          .get(120, TimeUnit.SECONDS);

      // THEN exactly P's events before the cutoff are gone, and nothing of Q
      Set<String> expectedP = new HashSet<>();
      Set<String> expectedQ = new HashSet<>();
      Map<LocalDate, Set<String>> expiredByDay = new TreeMap<>();
      for (Sent e : sent) {
        if (e.project().equals(q)) {
          expectedQ.add(e.id());
        } else if (!e.ts().isBefore(RAW_CUTOFF)) {
          expectedP.add(e.id());
        } else {
          expiredByDay.computeIfAbsent(e.ts().atZone(ZoneOffset.UTC).toLocalDate(), d -> new HashSet<>()).add(e.id());
        }
      }
      long expiredCount = expiredByDay.values().stream().mapToLong(Set::size).sum();
      assertEquals(expectedP, ids(p));
      assertEquals(expectedQ, ids(q));
      assertEquals(expiredCount, report.eventsArchived());
      // AND the days only P held were dropped whole; the shared day keeps its partition (with Q's rows)
      assertEquals(0, Db.count("SELECT count(*) FROM pg_class WHERE relname IN ('events_p20110110', 'events_p20110129')"));
      assertEquals(4, Db.count("SELECT count(*) FROM events_p20110120"));
      assertEquals(expiredCount - 8 - 4, report.eventsDeleted(), "rows deleted one by one (not dropped whole)");
      // AND rollups inside their window are untouched, those past it are gone (Q, window 0, keeps them all)
      assertEquals(rollupsKept, Db.query(ROLLUPS_SINCE, p, ROLLUP_CUTOFF));
      assertEquals(0, Db.count("SELECT count(*) FROM rollup_daily WHERE project_id = ? AND day < ?", p, ROLLUP_CUTOFF));
      assertEquals(0, Db.count("SELECT count(*) FROM rollup_hourly WHERE project_id = ? AND hour < '2010-12-31'", p));
      assertEquals(4, Db.count("SELECT sum(events) FROM rollup_daily WHERE project_id = ? AND day = '2005-06-15'", q));
      // AND dashboards reading rollups show the same history; raw-event answers lost the expired events
      Map<String, JsonObject> afterDrop = queries(t.http, sessionOf0110);
      assertEquals(before.get("timeseries"), afterDrop.get("timeseries"));
      assertEquals(expectedP.stream().filter(id -> sent.stream().anyMatch(x -> x.id().equals(id)
          && x.ts().isBefore(Instant.parse("2011-02-01T00:00:00Z")))).count(),
          afterDrop.get("count").getLong("count"));
      assertNotEquals(before.get("count"), afterDrop.get("count"));
      assertNotEquals(before.get("conversions"), afterDrop.get("conversions"));

      // AND one verified archive per project-day holds exactly the expired events (checked independently)
      List<ArchiveStore.Manifest> manifests = new ArchiveStore(archiveDir).list(p);
      assertEquals(expiredByDay.keySet(), new HashSet<>(manifests.stream().map(ArchiveStore.Manifest::day).toList()));
      for (ArchiveStore.Manifest m : manifests) {
        JsonObject manifest = new JsonObject(Files.readString(m.file().resolveSibling(m.file().getFileName()
            + ".manifest.json")));
        byte[] raw;
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(m.file()))) {
          raw = in.readAllBytes();
        }
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw)),
            manifest.getString("sha256"));
        Set<String> inFile = new HashSet<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new java.io.ByteArrayInputStream(raw),
            StandardCharsets.UTF_8))) {
          r.lines().forEach(l -> inFile.add(new JsonObject(l).getString("id")));
        }
        assertEquals(expiredByDay.get(m.day()), inFile, "archive of " + m.day());
        assertEquals(inFile.size(), manifest.getLong("rows"));
        assertEquals(m.day().atStartOfDay().toInstant(ZoneOffset.UTC).toString(),
            manifest.getJsonObject("range").getString("from"));
      }
    }

    // WHEN Tally is stopped and the archives restored with the CLI (twice: the second finds only duplicates)
    TallyConfig restoreCfg;
    try (TestTally t = TestTally.start(p, "w-p-" + s, "r-p-" + s, cfg)) {
      restoreCfg = t.tally.config();
    }
    long expired = sent.stream().filter(e -> e.project().equals(p) && e.ts().isBefore(RAW_CUTOFF)).count();
    assertEquals(expired, cli(restoreCfg, "archive", "restore", "--project", p).getJsonObject("restored")
        .getLong("restored"));
    JsonObject again = cli(restoreCfg, "archive", "restore", "--project", p).getJsonObject("restored");
    assertEquals(0, again.getLong("restored"));
    assertEquals(expired, again.getLong("duplicates"));
    try (TestTally t = TestTally.start(p, "w-p-" + s, "r-p-" + s, cfg)) {
      // THEN every query answers as before the retention run
      Map<String, JsonObject> restored = queries(t.http, sessionOf0110);
      for (String k : before.keySet()) {
        assertEquals(before.get(k), restored.get(k), k);
      }
      // AND the restored days are held: a retention run right away leaves them
      RetentionJob.Report again2 = t.tally.lifecycle().runRetention(TODAY).toCompletionStage().toCompletableFuture()
          .get(120, TimeUnit.SECONDS);
      assertEquals(0, again2.eventsDeleted());
      assertEquals(sent.stream().filter(e -> e.project().equals(p)).count(), Db.eventsOf(p));
    }
  }

  static final String ROLLUPS_SINCE = "SELECT day::text AS day, type, events, tokens FROM rollup_daily "
      + "WHERE project_id = ? AND day >= ? ORDER BY day, type";

  private static Set<String> ids(String project) {
    Set<String> out = new HashSet<>();
    Db.query("SELECT id::text AS id FROM events WHERE project_id = ?", project).forEach(r -> out.add((String) r.get("id")));
    return out;
  }

  private static Map<String, JsonObject> queries(Http http, String session) {
    Map<String, JsonObject> out = new HashMap<>();
    String period = "from=2011-01-01T00:00:00Z&to=2011-02-01T00:00:00Z";
    out.put("count", ok(http.get("/v1/events/count?" + period)));
    out.put("conversions", ok(http.get("/v1/conversions?" + period)));
    out.put("analytics", ok(http.get("/v1/users/pu0/analytics?" + period)));
    out.put("session", ok(http.get("/v1/sessions/" + session)));
    out.put("timeseries", ok(http.get("/v1/timeseries?metric=events&interval=day&" + period)));
    return out;
  }

  private static JsonObject ok(Http.Response r) {
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  private static JsonObject cli(TallyConfig c, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = ArchiveCli.run(args, c, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8).trim();
    assertTrue(text.startsWith("{"), text);
    return new JsonObject(text);
  }
}
