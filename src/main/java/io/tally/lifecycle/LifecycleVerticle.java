package io.tally.lifecycle;

import io.tally.config.TallyConfig;
import io.tally.derive.DerivedAddresses;
import io.tally.derive.DerivedRewrite;
import io.tally.error.ApiError;
import io.tally.realtime.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Wires the data lifecycle: the periodic retention job and the admin's person deletion and export. The blocking work
 * (JDBC, archive files) runs on a dedicated worker pool, never on an event loop. After anything that rewrites history
 * it publishes a {@code derived.flushed} notice naming the project as merged, so the query side drops its cached
 * answers (and, for a deletion, forgets the person's ids).
 */
public final class LifecycleVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(LifecycleVerticle.class);

  private final RetentionJob retention;
  private final PersonData people;
  private final Suppressions suppressions;
  private final Redis redis;
  private final TallyConfig config;
  private WorkerExecutor worker;

  public LifecycleVerticle(RetentionJob retention, PersonData people, Suppressions suppressions, Redis redis,
                           TallyConfig config) {
    this.retention = retention;
    this.people = people;
    this.suppressions = suppressions;
    this.redis = redis;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    // two threads: a deletion need not wait for a whole retention run (they share only the per-unit archive lock)
    worker = vertx.createSharedWorkerExecutor("tally-lifecycle", 2, 6, TimeUnit.HOURS);
    long period = TimeUnit.MINUTES.toMillis(config.lifecycle().intervalMinutes());
    vertx.setPeriodic(period, period, id -> runRetention(LocalDate.now(ZoneOffset.UTC))
        .onFailure(err -> LOG.warn("retention run failed, retried next period: {}", err.toString())));
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(PrivacyAddresses.PRIVACY_DELETE, this::delete).completion(),
        vertx.eventBus().<JsonObject>consumer(PrivacyAddresses.PRIVACY_EXPORT, this::export).completion());
  }

  @Override
  public Future<?> stop() {
    return worker == null ? Future.succeededFuture() : worker.close();
  }

  private volatile boolean running;

  /** One retention run with {@code today} as the current UTC day (tests pass their own). */
  public Future<RetentionJob.Report> runRetention(LocalDate today) {
    if (running) {
      return Future.failedFuture(new IllegalStateException("a retention run is already in progress"));
    }
    running = true;
    return worker.<RetentionJob.Report>executeBlocking(() -> retention.run(today), false)
        .onComplete(ar -> running = false)
        .onSuccess(r -> invalidate(new HashSet<>(r.projects()), List.of()));
  }

  private void invalidate(Set<String> projects, List<DerivedRewrite.PersonKey> deleted) {
    if (projects.isEmpty()) {
      return;
    }
    // rewritten: events left the table other than by a person's deletion (retention), so indexes holding events reload
    vertx.eventBus().publish(DerivedAddresses.DERIVED_REWRITTEN,
        new DerivedRewrite(projects, List.of(), deleted, deleted.isEmpty()), DerivedAddresses.LOCAL);
  }

  private void delete(Message<JsonObject> msg) {
    JsonObject q = msg.body();
    String project = q.getString("projectId");
    String user = q.getString("userId");
    boolean suppress = q.getBoolean("suppress");
    worker.<PersonData.Receipt>executeBlocking(() -> people.delete(project, user, suppress, null), false)
        .compose(first -> {
          if (suppress) {
            first.ids().forEach(i -> suppressions.add(project, Suppressions.hash(project, i)));
          } else {
            first.ids().forEach(i -> suppressions.remove(project, Suppressions.hash(project, i)));
          }
          // events committed just before the deletion may still be on their way into the derived tables (or wait
          // there: writer.derivedRefreshMs): sweep again once the writer has flushed them
          return syncDerived().compose(t -> worker.<PersonData.Receipt>executeBlocking(
              () -> people.delete(project, user, suppress, first.ids()), false)).map(first::plus);
        })
        .compose(receipt -> deleteRedis(project, receipt.ids()).map(keys -> receipt.toJson()
            .put("project", project).put("userId", user).put("deletedAt", java.time.Instant.now().toString())
            .put("redisKeys", keys)))
        .onSuccess(receipt -> {
          List<DerivedRewrite.PersonKey> gone = new ArrayList<>();
          receipt.getJsonArray("ids").forEach(i -> gone.add(new DerivedRewrite.PersonKey(project, (String) i)));
          invalidate(Set.of(project), gone);
          LOG.info("person deleted in project {}: {} ids, {} events", project, gone.size(),
              receipt.getJsonObject("deleted").getLong("events"));
          msg.reply(receipt);
        })
        .onFailure(err -> fail(msg, "deletion", err));
  }

  /** Per-user counters of every id (the per-day unique-user HyperLogLogs hold no recoverable id and stay). */
  private Future<Integer> deleteRedis(String project, List<String> ids) {
    Request del = Request.cmd(Command.DEL);
    ids.forEach(i -> del.arg(RedisKeys.user(project, i)));
    return redis.send(del).map(Response::toInteger);
  }

  /**
   * Waits until the writer's derived tables hold every event committed so far; without an answer (no writer in this
   * process, or a flush failing) it goes on after twice the derived flush interval, as the sweeps always did.
   */
  private Future<Void> syncDerived() {
    long wait = 2 * config.writer().derivedFlushMs() + 200;
    return vertx.eventBus().request(DerivedAddresses.DERIVED_SYNC, null,
            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(Math.max(wait, 10_000)))
        .<Void>mapEmpty()
        .recover(err -> {
          LOG.warn("derived tables not confirmed up to date ({}), going on after {} ms", err.getMessage(), wait);
          return vertx.timer(wait).mapEmpty();
        });
  }

  private void export(Message<JsonObject> msg) {
    JsonObject q = msg.body();
    String project = q.getString("projectId");
    String user = q.getString("userId");
    // under load a person's last-seen time and count may wait to be written (writer.derivedRefreshMs): have them written
    syncDerived()
        .compose(v -> worker.<JsonObject>executeBlocking(() -> people.export(project, user), false))
        .compose(out -> {
          List<String> ids = new ArrayList<>();
          out.getJsonArray("ids").forEach(i -> ids.add((String) i));
          List<Request> reqs = new ArrayList<>();
          ids.forEach(i -> reqs.add(Request.cmd(Command.HGETALL).arg(RedisKeys.user(project, i))));
          return redis.batch(reqs).map(rs -> {
            JsonObject counters = new JsonObject();
            for (int i = 0; i < ids.size(); i++) {
              Response r = rs.get(i);
              if (r != null && r.size() > 0) {
                JsonObject h = new JsonObject();
                for (String k : r.getKeys()) {
                  h.put(k, r.get(k).toLong());
                }
                counters.put(ids.get(i), h);
              }
            }
            return out.put("realtimeCounters", counters);
          }).recover(err -> Future.succeededFuture(out.put("realtimeCounters", (Object) null)
              .put("realtimeCountersError", "Redis unavailable: " + err.getMessage())));
        })
        .onSuccess(out -> {
          boolean found = !out.getJsonArray("events").isEmpty() || !out.getJsonArray("people").isEmpty()
              || !out.getJsonArray("sessions").isEmpty() || !out.getJsonArray("archivedEvents").isEmpty()
              || !out.getJsonArray("identities").isEmpty();
          if (!found) {
            fail(msg, "export", ApiError.notFound("nothing is held about user '" + user + "'"));
          } else {
            msg.reply(out);
          }
        })
        .onFailure(err -> fail(msg, "export", err));
  }

  private static void fail(Message<JsonObject> msg, String what, Throwable err) {
    if (err instanceof ApiError api) {
      msg.fail(api.status(), api.toJson().encode());
      return;
    }
    LOG.warn("{} failed: {}", what, err.toString());
    msg.fail(500, ApiError.unavailable(what + "_failed", what + " failed: " + err.getMessage(), 1000).toJson()
        .encode());
  }
}
