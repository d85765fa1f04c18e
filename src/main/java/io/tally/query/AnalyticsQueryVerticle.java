package io.tally.query;

import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;
import io.tally.derive.DerivedAddresses;
import io.tally.derive.DerivedChange;
import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.tally.event.EventCatalog;
import io.tally.index.EventTimeline;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers analytics queries over the event bus: wires the query families and the modules beside them (patterns,
 * insights) to their consumers, and every derived flush to the indexes and the cache. Deployed as a worker: its
 * in-memory indexes are summed over in CPU-bound passes that must not hold an event loop, and a worker context still
 * runs its handlers one at a time, so the indexes stay confined to it.
 */
public final class AnalyticsQueryVerticle extends VerticleBase {
  private final Pool pool;
  private final Redis redis;
  private final TallyMetrics metrics;
  private final Map<String, ZoneId> zones = new HashMap<>();
  private final EventCatalog catalog;
  private final EventTimeline timeline;
  private final List<QueryModule> modules;
  /** The largest answer a query may give (its JSON text): the period limits keep every route well under it. */
  private final int maxAnswerBytes;
  private final long statementTimeoutMs;
  private long drainTimer = -1;

  public AnalyticsQueryVerticle(Pool pool, Redis redis, TallyMetrics metrics, List<ProjectConfig> projects,
                                EventCatalog catalog, EventTimeline timeline, List<QueryModule> modules,
                                TallyConfig.Query config) {
    this.maxAnswerBytes = config.maxAnswerBytes();
    this.statementTimeoutMs = config.statementTimeoutMs();
    this.pool = pool;
    this.redis = redis;
    this.metrics = metrics;
    projects.forEach(p -> zones.put(p.id(), p.timezone()));
    this.catalog = catalog;
    this.timeline = timeline;
    this.modules = List.copyOf(modules);
  }

  @Override
  public Future<?> start() {
    QueryAnswers answers = new QueryAnswers(vertx, metrics, maxAnswerBytes, statementTimeoutMs);
    QueryFamilies families = new QueryFamilies(pool, redis, catalog, timeline);
    QueryHost host = new QueryHost(vertx, answers, families, zones);
    vertx.eventBus().<DerivedFlush>consumer(DerivedAddresses.DERIVED_FLUSHED, m -> changed(m.body(), families, answers));
    vertx.eventBus().<DerivedRewrite>consumer(DerivedAddresses.DERIVED_REWRITTEN,
        m -> changed(m.body(), families, answers));
    List<Future<?>> registered = new ArrayList<>();
    // the modules first: the pattern index starts loading before the person index and the timeline
    modules.forEach(m -> registered.add(m.start(host)));
    families.load(vertx, metrics);
    drainTimer = vertx.setPeriodic(1000, id -> timeline.drain());
    registered.addAll(families.register(host));
    return Future.all(registered);
  }

  private void changed(DerivedChange change, QueryFamilies families, QueryAnswers answers) {
    families.changed(change);
    answers.invalidate(change);
    // a module re-reads what changed (the pattern index, its person-days): answers cached meanwhile are dropped again
    modules.forEach(m -> m.changed(change).onComplete(ar -> answers.invalidate(change)));
  }

  @Override
  public Future<?> stop() {
    if (drainTimer >= 0) {
      vertx.cancelTimer(drainTimer);
    }
    List<Future<?>> stopping = new ArrayList<>();
    modules.forEach(m -> stopping.add(m.stop()));
    return Future.all(stopping);
  }
}
