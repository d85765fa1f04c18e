package io.tally.derive;

import io.tally.event.Event;
import io.tally.support.Db;
import io.tally.support.TestServers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that a stored person's or session's newer events, which only move the row's end time, counts (and a
 * session's exit page), wait for {@code writer.derivedRefreshMs} instead of rewriting the {@code users} /
 * {@code sessions} row at every flush, and that nothing is lost or written twice meanwhile: a waiting row is written
 * once due, with the next other change of the row (traits; a session's user id), on a quiet flush and on a sync; the
 * session's day totals follow; the crash watermark stays before the waiting events. The updater is driven flush by
 * flush against the real PostgreSQL, so each step is deterministic.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DerivedRefreshTest {
  static Vertx vertx;
  static Pool pool;
  static Context ctx;
  static final long REFRESH_MS = 3_000;

  @BeforeAll
  static void start() {
    TestServers.get(); // servers and schema
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(TestServers.get().pgUrl().connectOptions()).using(vertx).build();
    ctx = vertx.getOrCreateContext();
  }

  @AfterAll
  static void stop() throws Exception {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Runs {@code f} on the updater's context and waits for it. */
  static <T> T on(Supplier<Future<T>> f) throws Exception {
    Promise<T> p = Promise.promise();
    ctx.runOnContext(v -> f.get().onComplete(p));
    return p.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Event event(String project, String user, Instant ts, Instant received, String traits) {
    return event(project, "s-" + user, user, null, null, ts, received, traits);
  }

  static Event event(String project, String session, String user, String anon, String page, Instant ts,
                     Instant received, String traits) {
    Event.ClientInfo client = traits == null && page == null ? Event.ClientInfo.EMPTY : new Event.ClientInfo(null,
        null, null, null, null, null, null, null, null, null, page, null, null, null, traits);
    return new Event(project, UUID.randomUUID(), ts, received, "page_view", null, null, null, null, session, user,
        anon, null, null, null, 0, client, null, Event.Measures.NONE);
  }

  /** Flushes {@code events} plus, unless null, an event of a new person in a new session (so it is not quiet). */
  static void flush(DerivedUpdater u, String other, Event... events) throws Exception {
    List<Event> batch = new java.util.ArrayList<>(List.of(events));
    if (other != null) {
      batch.add(event(events.length == 0 ? OTHERS : events[0].projectId(), other,
          Instant.now().minusSeconds(900), Instant.now(), null));
    }
    on(() -> {
      u.accept(batch);
      return u.flush();
    });
  }

  static String OTHERS = "refresh-others";

  static Map<String, Object> session(String project, String id) {
    List<Map<String, Object>> r = Db.query("SELECT event_count, page_count, ended_at, exit_page, duration_ms, user_id "
        + "FROM sessions WHERE project_id = ? AND session_id = ?", project, id);
    assertEquals(1, r.size(), "session " + id);
    return r.get(0);
  }

  static long dayDuration(String project) {
    return Db.count("SELECT coalesce(sum(duration_sum), 0) FROM session_days WHERE project_id = ?", project);
  }

  static Map<String, Object> row(String project, String user) {
    List<Map<String, Object>> r = Db.query("SELECT event_count, last_seen, traits->>'plan' AS plan FROM users "
        + "WHERE project_id = ? AND user_key = ?", project, user);
    return r.isEmpty() ? null : r.get(0);
  }

  static long count(String project, String user) {
    Map<String, Object> r = row(project, user);
    assertNotNull(r, user + "'s row");
    return ((Number) r.get("event_count")).longValue();
  }

  static Instant lastSeen(String project, String user) {
    return Db.instant("SELECT last_seen FROM users WHERE project_id = ? AND user_key = ?", project, user);
  }

  static Instant watermark() {
    return Db.instant("SELECT applied_until FROM derived_progress WHERE id = 1");
  }

  @Test
  void aKnownPersonsCountWaitsAndIsWrittenOnceDueWithAChangeQuietOrSynced() throws Exception {
    String p = "refresh-" + UUID.randomUUID().toString().substring(0, 8);
    DerivedUpdater u = new DerivedUpdater(pool, () -> Long.MAX_VALUE, REFRESH_MS, 0, notice -> { });
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(600);
    Instant old = Instant.now().minusSeconds(120);
    long[] sent = new long[1];
    // "bob" is the person under test; every flush but the quiet one also carries a new person, so it is not quiet
    java.util.function.BiConsumer<Event, String> flushWith = (e, other) -> {
      List<Event> batch = new java.util.ArrayList<>();
      if (e != null) {
        batch.add(e);
        sent[0]++;
      }
      if (other != null) {
        batch.add(event(p, other, t0, Instant.now(), null));
      }
      try {
        on(() -> {
          u.accept(batch);
          return u.flush();
        });
      } catch (Exception x) {
        throw new AssertionError(x);
      }
    };

    // GIVEN bob's first event: a new person is written at once
    flushWith.accept(event(p, "bob", t0, old, null), null);
    assertEquals(1, count(p, "bob"));
    assertEquals(0, u.waitingPeople());

    // WHEN a later event of his brings nothing but a later time
    long waitStart = System.currentTimeMillis();
    flushWith.accept(event(p, "bob", t0.plusSeconds(10), old, null), "carol");
    // THEN it waits: his row is as it was, the new person beside him is written
    assertEquals(1, count(p, "bob"));
    assertEquals(t0, lastSeen(p, "bob"));
    assertEquals(1, count(p, "carol"));
    assertEquals(1, u.waitingPeople());
    // AND the crash watermark stays before the waiting event (a restart would re-derive him from the events)
    flushWith.accept(null, "dave");
    assertTrue(System.currentTimeMillis() - waitStart < REFRESH_MS, "the test itself was too slow to see the wait");
    assertEquals(1, count(p, "bob"));
    assertTrue(!watermark().isAfter(old.minusMillis(5_000)), "watermark " + watermark() + " passed " + old);

    // WHEN the refresh interval has passed: the next flush writes him, count and last time exact
    Thread.sleep(Math.max(0, REFRESH_MS - (System.currentTimeMillis() - waitStart)) + 100);
    flushWith.accept(null, "erin");
    assertEquals(2, count(p, "bob"));
    assertEquals(t0.plusSeconds(10), lastSeen(p, "bob"));
    assertEquals(0, u.waitingPeople());
    assertTrue(watermark().isAfter(old), "the watermark moves on once nothing waits");

    // WHEN he waits again and then sends traits: his row changes now, with what was waiting
    flushWith.accept(event(p, "bob", t0.plusSeconds(20), Instant.now(), null), "frank");
    assertEquals(2, count(p, "bob"));
    flushWith.accept(event(p, "bob", t0.plusSeconds(30), Instant.now(), "{\"plan\":\"pro\"}"), "gina");
    assertEquals(4, count(p, "bob"));
    assertEquals(t0.plusSeconds(30), lastSeen(p, "bob"));
    assertEquals("pro", row(p, "bob").get("plan"));
    assertEquals(0, u.waitingPeople());

    // WHEN he waits and the next flush has nothing else to write: written then
    flushWith.accept(event(p, "bob", t0.plusSeconds(40), Instant.now(), null), "hugo");
    assertEquals(4, count(p, "bob"));
    flushWith.accept(null, null);
    assertEquals(5, count(p, "bob"));
    assertEquals(t0.plusSeconds(40), lastSeen(p, "bob"));
    assertTrue(u.idle());

    // WHEN he waits and someone asks for a sync (an export, a deletion's second sweep): written before it answers
    flushWith.accept(event(p, "bob", t0.plusSeconds(50), Instant.now(), null), "ivan");
    assertEquals(1, u.waitingPeople());
    on(u::sync);
    assertEquals(6, count(p, "bob"));
    assertEquals(sent[0], count(p, "bob"), "every event of bob counted once");

    // WHEN an event of his comes earlier than any this process sent: his first-seen time changes, written at once
    flushWith.accept(event(p, "bob", t0.minusSeconds(60), Instant.now(), null), "jane");
    assertEquals(7, count(p, "bob"));
    assertEquals(t0.minusSeconds(60), Db.instant("SELECT first_seen FROM users WHERE project_id = ? AND user_key = ?",
        p, "bob"));
  }

  @Test
  void aStoredSessionsEndWaitsWithItsDayTotalsAndAnIdentifiedUserIsWrittenAtOnce() throws Exception {
    String p = "refresh-s-" + UUID.randomUUID().toString().substring(0, 8);
    DerivedUpdater u = new DerivedUpdater(pool, () -> Long.MAX_VALUE, REFRESH_MS, 0, notice -> { });
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(600);
    String s1 = "sess-1";

    // GIVEN a new session: written at once
    flush(u, null, event(p, s1, "bob", null, "/a", t0, Instant.now(), null));
    assertEquals(1, ((Number) session(p, s1).get("event_count")).intValue());
    assertEquals(0, dayDuration(p));

    // WHEN two later events of it only move its end, counts and exit page
    long waitStart = System.currentTimeMillis();
    flush(u, "o1", event(p, s1, "bob", null, "/b", t0.plusSeconds(40), Instant.now(), null));
    flush(u, "o2", event(p, s1, "bob", null, "/c", t0.plusSeconds(50), Instant.now(), null));
    // THEN the row and its day's totals wait
    assertTrue(System.currentTimeMillis() - waitStart < REFRESH_MS, "the test itself was too slow to see the wait");
    Map<String, Object> waiting = session(p, s1);
    assertEquals(1, ((Number) waiting.get("event_count")).intValue());
    assertEquals("/a", waiting.get("exit_page"));
    assertEquals(1, u.waitingSessions());
    assertEquals(0, dayDuration(p));

    // WHEN due: one write with both events, and the day's total duration follows
    Thread.sleep(Math.max(0, REFRESH_MS - (System.currentTimeMillis() - waitStart)) + 100);
    flush(u, "o3");
    Map<String, Object> written = session(p, s1);
    assertEquals(3, ((Number) written.get("event_count")).intValue());
    assertEquals(3, ((Number) written.get("page_count")).intValue());
    assertEquals("/c", written.get("exit_page"));
    assertEquals(50_000L, ((Number) written.get("duration_ms")).longValue());
    assertEquals(t0.plusSeconds(50), Db.instant("SELECT ended_at FROM sessions WHERE project_id = ? AND session_id = ?",
        p, s1));
    assertEquals(50_000L, dayDuration(p));
    assertEquals(0, u.waitingSessions());

    // WHEN an anonymous session waits and its next event names the user: written at once, with what waited
    String s2 = "sess-2";
    flush(u, null, event(p, s2, null, "anon-1", "/a", t0, Instant.now(), null));
    flush(u, "o4", event(p, s2, null, "anon-1", "/b", t0.plusSeconds(5), Instant.now(), null));
    assertEquals(1, u.waitingSessions());
    assertEquals(1, ((Number) session(p, s2).get("event_count")).intValue());
    flush(u, "o5", event(p, s2, "carol", "anon-1", "/c", t0.plusSeconds(9), Instant.now(), null));
    Map<String, Object> identified = session(p, s2);
    assertEquals("carol", identified.get("user_id"));
    assertEquals(3, ((Number) identified.get("event_count")).intValue());
    assertEquals("/c", identified.get("exit_page"));
    assertEquals(0, u.waitingSessions());
    assertEquals(50_000L + 9_000L, dayDuration(p));
  }

  @Test
  void aBatchHandedOverWhileTheWriterIsAskedHoldsTheWatermarkBack() throws Exception {
    String p = "refresh-handoff-" + UUID.randomUUID().toString().substring(0, 8);
    List<Promise<Long>> asked = new java.util.ArrayList<>();
    // the writer's context answers later, as it does for the updater on its own context
    DerivedUpdater u = DerivedUpdater.askingWriter(pool, () -> {
      Promise<Long> answer = Promise.promise();
      asked.add(answer);
      return answer.future();
    }, 0, 0, notice -> { });
    Instant old = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(300);
    List<Future<Void>> flushed = new java.util.ArrayList<>();
    // GIVEN a flush of an event received now, waiting for the writer's oldest pending event
    on(() -> {
      u.accept(List.of(event(p, "bob", Instant.now(), Instant.now(), null)));
      flushed.add(u.flush());
      return Future.succeededFuture();
    });
    assertEquals(1, asked.size(), "the flush asks the writer");
    // WHEN the writer hands over a batch it committed (received five minutes ago), forgets it, and then answers that
    // nothing of its own is pending
    on(() -> {
      u.accept(List.of(event(p, "carol", old, old, null)));
      asked.get(0).complete(Long.MAX_VALUE);
      return flushed.get(0);
    });
    // THEN the recorded watermark does not pass that batch: a crash now re-derives carol from her event
    assertTrue(!watermark().isAfter(old), "watermark " + watermark() + " passed the batch received at " + old);
    assertEquals(1, count(p, "bob"));
    // AND the next flush writes her
    on(() -> {
      Future<Void> f = u.flush();
      asked.get(1).complete(Long.MAX_VALUE);
      return f;
    });
    assertEquals(1, count(p, "carol"));
  }

  @Test
  void aFlushOfFewEventsWaitsForNothing() throws Exception {
    String p = "refresh-few-" + UUID.randomUUID().toString().substring(0, 8);
    DerivedUpdater u = new DerivedUpdater(pool, () -> Long.MAX_VALUE, 60_000, 3, notice -> { });
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(600);
    flush(u, null, event(p, "bob", t0, Instant.now(), null));
    // two events: under the threshold, bob's row is written at once
    flush(u, "carol", event(p, "bob", t0.plusSeconds(1), Instant.now(), null));
    assertEquals(2, count(p, "bob"));
    assertEquals(0, u.waitingPeople());
    assertEquals(0, u.waitingSessions());
    // three events: at the threshold, he waits
    flush(u, "dave", event(p, "bob", t0.plusSeconds(2), Instant.now(), null),
        event(p, "erin", t0, Instant.now(), null));
    assertEquals(2, count(p, "bob"));
    assertEquals(1, u.waitingPeople());
    assertEquals(1, u.waitingSessions());
  }

  @Test
  void aQuietFlushWritesABoundedNumberOfWaitingRowsOldestFirstAndASyncTheRest() throws Exception {
    String p = "refresh-lull-" + UUID.randomUUID().toString().substring(0, 8);
    DerivedUpdater u = new DerivedUpdater(pool, () -> Long.MAX_VALUE, 60_000, 1, notice -> { });
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(600);
    int early = 100;
    int total = DerivedUpdater.QUIET_FLUSH_ROWS + early;
    List<Event> first = new java.util.ArrayList<>();
    for (int i = 0; i < total; i++) {
      first.add(event(p, "u" + i, t0, Instant.now(), null));
    }
    // GIVEN more stored people (and their sessions) than a quiet flush writes, each with a later event waiting; the
    // first hundred began to wait a flush earlier than the rest
    on(() -> {
      u.accept(first);
      return u.flush();
    });
    for (int[] range : new int[][] {{0, early}, {early, total}}) {
      List<Event> later = new java.util.ArrayList<>();
      for (int i = range[0]; i < range[1]; i++) {
        later.add(event(p, "u" + i, t0.plusSeconds(5), Instant.now(), null));
      }
      on(() -> {
        u.accept(later);
        return u.flush();
      });
    }
    assertEquals(total, u.waitingPeople());
    assertEquals(total, u.waitingSessions());
    assertEquals(0, Db.count("SELECT count(*) FROM users WHERE project_id = ? AND event_count = 2", p));

    // WHEN a flush has no event at all (a lull)
    on(u::flush);
    // THEN it writes QUIET_FLUSH_ROWS of each table, those that waited longest among them, and the rest keep waiting
    assertEquals(DerivedUpdater.QUIET_FLUSH_ROWS,
        Db.count("SELECT count(*) FROM users WHERE project_id = ? AND event_count = 2", p));
    assertEquals(DerivedUpdater.QUIET_FLUSH_ROWS,
        Db.count("SELECT count(*) FROM sessions WHERE project_id = ? AND event_count = 2", p));
    for (int i = 0; i < early; i++) {
      assertEquals(2, count(p, "u" + i), "u" + i + " waited longest");
    }
    assertEquals(early, u.waitingPeople());
    assertEquals(early, u.waitingSessions());

    // WHEN a sync asks for everything (an export, a graceful stop): the rest is written, each event once
    on(u::sync);
    assertEquals(total, Db.count("SELECT count(*) FROM users WHERE project_id = ? AND event_count = 2", p));
    assertEquals(total, Db.count("SELECT count(*) FROM sessions WHERE project_id = ? AND event_count = 2", p));
    assertEquals(0, Db.count("SELECT count(*) FROM users WHERE project_id = ? AND event_count <> 2", p));
    assertTrue(u.idle());
  }

  @Test
  void withRefreshZeroEveryFlushWritesThePerson() throws Exception {
    String p = "refresh0-" + UUID.randomUUID().toString().substring(0, 8);
    DerivedUpdater u = new DerivedUpdater(pool, () -> Long.MAX_VALUE, 0, 0, notice -> { });
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(600);
    for (int i = 0; i < 3; i++) {
      List<Event> batch = List.of(event(p, "bob", t0.plusSeconds(i), Instant.now(), null),
          event(p, "other" + i, t0, Instant.now(), null));
      on(() -> {
        u.accept(batch);
        return u.flush();
      });
      assertEquals(i + 1, count(p, "bob"));
    }
    assertEquals(0, u.waitingPeople());
  }
}
