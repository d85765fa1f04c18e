package io.tally.index;

import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.tally.derive.PersonDayDeltas;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that the pattern index, fed by what each flush added (not by reading it back), holds exactly what a fresh
 * load from SQL holds, and what the test itself summed, whatever the order of commits, snapshots and notices: a flush
 * its load or re-read already saw is never added twice, one it missed is never lost.
 *
 * <p>"Flushes" here are transactions the test commits itself (rows added to {@code user_daily} and {@code sessions},
 * with the {@link PersonDayDeltas} describing them), so each one lands exactly before or after a snapshot.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PatternIndexDeltaTest {
  static TestTally t;
  static Vertx vertx;
  static Pool pool;
  static Context ctx;
  static final List<String> CONVERSIONS = List.of("signup", "subscription", "upgrade", "payment", "referral");
  static final LocalDate D1 = LocalDate.parse("2026-09-14");
  static final LocalDate D2 = LocalDate.parse("2026-09-15");

  @BeforeAll
  static void start() {
    t = TestTally.start(); // the schema
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(TestServers.get().pgUrl().connectOptions()).using(vertx).build();
    ctx = vertx.getOrCreateContext();
  }

  @AfterAll
  static void stop() throws Exception {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    t.stop();
  }

  /** A per-person rollup row a flush adds to. */
  record Row(String person, LocalDate day, String type, String provider, String model, String feature, long events,
             double tokens, double cost, double amount) {}

  /** A session a flush starts or (with an earlier end) extends. */
  record Session(String id, String person, OffsetDateTime start, OffsetDateTime end) {}

  /** One committed flush: its notice, as the writer would publish it. */
  record Flush(DerivedFlush notice) {}

  /** The test's own sums per person-day: events, sessions, tokens, cost, revenue, session ms. */
  final Map<String, double[]> expected = new TreeMap<>();
  final Map<String, Session> sessions = new TreeMap<>();

  private double[] exp(String person, LocalDate day) {
    return expected.computeIfAbsent(person + " " + day.toEpochDay(), k -> new double[6]);
  }

  /** Commits the rows and sessions in one transaction; returns the flush's notice (sent by the caller, or not). */
  Future<Flush> commit(String project, List<Row> rows, List<Session> started) {
    return pool.withTransaction(c -> {
      PersonDayDeltas.Builder b = new PersonDayDeltas.Builder();
      Future<Void> chain = Future.succeededFuture();
      for (Row r : rows) {
        b.rollup(project, r.person(), (int) r.day().toEpochDay(), r.type(), r.provider(), r.model(), r.feature(),
            r.events(), r.tokens(), r.cost(), r.amount());
        double[] e = exp(r.person(), r.day());
        e[0] += r.events();
        if (r.type().startsWith("message_")) {
          e[2] += r.tokens();
          e[3] += r.cost();
        }
        if (r.type().equals("payment")) {
          e[4] += r.amount();
        }
        chain = chain.compose(v -> c.preparedQuery("INSERT INTO user_daily AS u VALUES ($1, $2, $3, $4, $5, $6, $7, "
                + "$8, $9, $10, $11, 0, 0) ON CONFLICT (project_id, day, user_key, type, provider, model, feature) "
                + "DO UPDATE SET events = u.events + excluded.events, tokens = u.tokens + excluded.tokens, "
                + "cost = u.cost + excluded.cost, amount = u.amount + excluded.amount")
            .execute(Tuple.of(project, r.day(), r.person(), r.type(), r.provider(), r.model(), r.feature())
                .addLong(r.events()).addDouble(r.tokens()).addDouble(r.cost()).addDouble(r.amount()))
            .mapEmpty());
      }
      for (Session s : started) {
        Session old = sessions.put(s.id(), s);
        LocalDate day = s.start().toLocalDate();
        long ms = s.end().toInstant().toEpochMilli() - s.start().toInstant().toEpochMilli();
        long before = old == null ? 0 : old.end().toInstant().toEpochMilli() - old.start().toInstant().toEpochMilli();
        b.sessions(project, s.person(), (int) day.toEpochDay(), old == null ? 1 : 0, ms - before);
        double[] e = exp(s.person(), day);
        e[1] += old == null ? 1 : 0;
        e[5] += ms - before;
        chain = chain.compose(v -> c.preparedQuery("INSERT INTO sessions (project_id, session_id, user_id, "
                + "started_at, ended_at, event_count, page_count) VALUES ($1, $2, $3, $4, $5, 1, 0) "
                + "ON CONFLICT (project_id, session_id) DO UPDATE SET ended_at = excluded.ended_at")
            .execute(Tuple.of(project, s.id(), s.person(), s.start(), s.end())).mapEmpty());
      }
      return chain.compose(v -> c.query("SELECT pg_current_xact_id()::text::int8").execute())
          .map(x -> new Flush(new DerivedFlush(Map.of(), List.of(), List.of(),
              b.build(x.iterator().next().getLong(0)))));
    });
  }

  private static <T> T on(Supplier<Future<T>> work) throws Exception {
    CompletableFuture<T> out = new CompletableFuture<>();
    ctx.runOnContext(v -> work.get().onComplete(ar -> {
      if (ar.succeeded()) {
        out.complete(ar.result());
      } else {
        out.completeExceptionally(ar.cause());
      }
    }));
    return out.get(60, TimeUnit.SECONDS);
  }

  private static Row sent(String person, LocalDate day, long n, double tokens, double cost, String model) {
    return new Row(person, day, "message_sent", "openai", model, "", n, tokens, cost, 0);
  }

  private static OffsetDateTime at(LocalDate day, int hour, int minute) {
    return day.atTime(hour, minute).atOffset(ZoneOffset.UTC);
  }

  /** What a fresh load reads from SQL for the project. */
  private static String fresh(String project) throws Exception {
    PatternIndex p = new PatternIndex(pool, CONVERSIONS);
    on(p::load);
    return on(() -> Future.succeededFuture(p.describe(project)));
  }

  /** The index's events, sessions, tokens, cost, revenue and session ms per person-day, in the test's layout. */
  private static Map<String, List<Double>> sums(PatternIndex index, String project) throws Exception {
    String text = on(() -> Future.succeededFuture(index.describe(project)));
    Map<String, List<Double>> out = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String[] w = line.split(" ");
      // person day: events E sent . msgs . errors . conv . sessions S tokens T cost C revenue R sessionMs M …
      out.put(w[0] + " " + w[1].replace(":", ""), List.of(Double.parseDouble(w[3]), Double.parseDouble(w[13]),
          Double.parseDouble(w[15]), Double.parseDouble(w[17]), Double.parseDouble(w[19]), Double.parseDouble(w[21])));
    }
    return out;
  }

  private Map<String, List<Double>> expectedSums() {
    Map<String, List<Double>> out = new TreeMap<>();
    expected.forEach((k, v) -> {
      if (v[0] != 0 || v[1] != 0) {
        out.put(k, List.of(v[0], v[1], v[2], v[3], v[4], v[5]));
      }
    });
    return out;
  }

  @Test
  void flushesSeenOrMissedByTheLoadAreCountedOnce() throws Exception {
    // GIVEN a project with one flush committed before the index loads
    String project = "delta-" + UUID.randomUUID();
    Flush f1 = on(() -> commit(project, List.of(sent("ann", D1, 2, 10.5, 0.25, "gpt-4"),
        new Row("ann", D1, "feature_used", "", "", "search", 1, 0, 0, 0)),
        List.of(new Session("s1", "ann", at(D1, 9, 0), at(D1, 9, 5)))));
    PatternIndex index = new PatternIndex(pool, CONVERSIONS);
    List<Flush> late = new ArrayList<>();
    // WHEN, between the load's snapshot and its reads, f1 is notified (the snapshot saw it), f2 commits and is
    // notified (the snapshot missed it), and f3 commits but is notified only after the load
    index.afterSnapshot = () -> {
      index.apply(f1.notice());
      return commit(project, List.of(sent("ann", D1, 1, 4, 0.125, "claude-3"), sent("bob", D1, 3, 6, 0.5, "gpt-4"),
              new Row("bob", D1, "payment", "", "", "", 1, 0, 0, 19.5)),
          List.of(new Session("s1", "ann", at(D1, 9, 0), at(D1, 9, 20)),
              new Session("s2", "bob", at(D1, 23, 50), at(D1, 23, 58))))
          .compose(f2 -> {
            index.apply(f2.notice());
            return commit(project, List.of(sent("bob", D2, 1, 1, 0.0625, "gpt-4")),
                List.of(new Session("s3", "bob", at(D2, 1, 0), at(D2, 1, 1))));
          })
          .map(f3 -> {
            late.add(f3);
            return null;
          });
    };
    on(index::load);
    index.afterSnapshot = null;
    on(() -> index.apply(late.get(0).notice()));
    // … and one more flush after the load
    Flush f4 = on(() -> commit(project, List.of(new Row("cat", D2, "signup", "", "", "", 1, 0, 0, 0)), List.of()));
    on(() -> index.apply(f4.notice()));

    // THEN the index holds what a fresh load reads, and what the test summed
    String got = on(() -> Future.succeededFuture(index.describe(project)));
    assertEquals(fresh(project), got);
    assertEquals(expectedSums(), sums(index, project));
    assertTrue(got.contains("ann 20710: events 4 sent 3 msgs 3 errors 0 conv 0 sessions 1 tokens 14.5 cost 0.375"),
        got);
    assertTrue(got.contains("providers [openai] models [claude-3, gpt-4] features {chat=3, search=1}"), got);
  }

  @Test
  void aNoticeOfAFlushTheLoadSawArrivingAfterItIsNotAddedAgain() throws Exception {
    // GIVEN a flush committed before the load but notified only after it (a delayed notice)
    String project = "delta-" + UUID.randomUUID();
    Flush f1 = on(() -> commit(project, List.of(sent("dan", D1, 5, 50, 1.5, "gpt-4")),
        List.of(new Session("s9", "dan", at(D1, 10, 0), at(D1, 10, 10)))));
    PatternIndex index = new PatternIndex(pool, CONVERSIONS);
    on(index::load);
    // WHEN it arrives, then a flush the load missed
    on(() -> index.apply(f1.notice()));
    Flush f2 = on(() -> commit(project, List.of(sent("dan", D1, 1, 2, 0.5, "gpt-4")),
        List.of(new Session("s9", "dan", at(D1, 10, 0), at(D1, 10, 30)))));
    on(() -> index.apply(f2.notice()));
    // THEN dan's day counts six messages and one 30-minute session
    String got = on(() -> Future.succeededFuture(index.describe(project)));
    assertEquals(fresh(project), got);
    assertEquals(expectedSums(), sums(index, project));
    assertTrue(got.contains("dan 20710: events 6 sent 6 msgs 6 errors 0 conv 0 sessions 1 tokens 52.0 cost 2.0 "
        + "revenue 0.0 sessionMs 1800000.0"), got);
  }

  @Test
  void flushesNotifiedWhileAMergedPersonIsReReadAreCountedOnce() throws Exception {
    // GIVEN a loaded index holding two persons
    String project = "delta-" + UUID.randomUUID();
    Flush f0 = on(() -> commit(project, List.of(sent("eve", D1, 1, 1, 0.5, "gpt-4"), sent("fay", D1, 1, 1, 0.5,
        "gpt-4")), List.of(new Session("s5", "eve", at(D1, 8, 0), at(D1, 8, 1)))));
    PatternIndex index = new PatternIndex(pool, CONVERSIONS);
    on(index::load);
    on(() -> index.apply(f0.notice()));
    // WHEN eve is re-read (an identity merge names her) and, between that read's snapshot and its statements, a flush
    // it saw (g1) and a flush it missed (g2) are notified, each touching eve and fay (who is not re-read)
    Flush g1 = on(() -> commit(project, List.of(sent("eve", D1, 2, 2, 0.25, "gpt-4"), sent("fay", D1, 2, 2, 0.25,
        "gpt-4")), List.of()));
    index.afterSnapshot = () -> {
      index.apply(g1.notice());
      return commit(project, List.of(sent("eve", D2, 4, 4, 1, "gpt-4"), sent("fay", D1, 4, 4, 1, "gpt-4")),
          List.of(new Session("s5", "eve", at(D1, 8, 0), at(D1, 8, 9)), new Session("s6", "eve", at(D2, 7, 0),
              at(D2, 7, 2))))
          .map(g2 -> {
            index.apply(g2.notice());
            return null;
          });
    };
    on(() -> index.apply(DerivedRewrite.merge(project, "eve-anon", "eve")));
    index.afterSnapshot = null;
    // THEN both persons hold each flush once
    String got = on(() -> Future.succeededFuture(index.describe(project)));
    assertEquals(fresh(project), got);
    assertEquals(expectedSums(), sums(index, project));
    assertTrue(got.contains("fay 20710: events 7 "), got);
    assertTrue(got.contains("eve 20710: events 3 sent 3 msgs 3 errors 0 conv 0 sessions 1 tokens 3.0 cost 0.75 "
        + "revenue 0.0 sessionMs 540000.0"), got);
  }
}
