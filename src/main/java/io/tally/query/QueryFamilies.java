package io.tally.query;

import io.tally.derive.DerivedChange;
import io.tally.event.EventCatalog;
import io.tally.index.EventTimeline;
import io.tally.index.PersonIndex;
import io.tally.metrics.TallyMetrics;
import io.tally.realtime.RealtimeQuery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;

/** One object per query family, over the shared in-memory indexes, and the consumer each answers on. */
public final class QueryFamilies {
  private static final Logger LOG = LoggerFactory.getLogger(QueryFamilies.class);

  private final EventTimeline timeline;
  private final PersonIndex persons;
  private final RealtimeQuery realtime;
  private final EventCountQuery count;
  private final SessionQuery sessions;
  private final UserAnalyticsQuery user;
  private final UsageQuery usage;
  private final FunnelQuery funnel;
  private final RetentionQuery retention;
  private final ConversionQuery conversions;
  private final SeriesQuery series;
  private final PeopleQuery people;

  QueryFamilies(Pool pool, Redis redis, EventCatalog catalog, EventTimeline timeline) {
    this.timeline = timeline;
    this.persons = new PersonIndex(pool);
    this.realtime = new RealtimeQuery(redis, Clock.systemUTC());
    this.count = new EventCountQuery(pool);
    this.sessions = new SessionQuery(pool);
    this.user = new UserAnalyticsQuery(pool);
    this.usage = new UsageQuery(pool, persons, timeline);
    this.funnel = new FunnelQuery(pool, timeline);
    this.retention = new RetentionQuery(pool, persons);
    this.conversions = new ConversionQuery(pool, catalog);
    this.series = new SeriesQuery(pool, persons, timeline);
    this.people = new PeopleQuery(pool);
  }

  public EventTimeline timeline() {
    return timeline;
  }

  public UserAnalyticsQuery user() {
    return user;
  }

  public UsageQuery usage() {
    return usage;
  }

  public FunnelQuery funnel() {
    return funnel;
  }

  /** Starts loading the in-memory indexes; until loaded, the figures they serve are computed in SQL. */
  void load(Vertx vertx, TallyMetrics metrics) {
    metrics.personIndexGauge(persons::persons);
    persons.load().onFailure(err -> LOG.error("person index failed to load; distinct-person figures stay on SQL",
        err));
    metrics.eventTimelineGauge(timeline::events);
    // after the person index (and the pattern index, started by its module): it reads every event; until loaded,
    // funnels, distinct persons per bucket or value and filtered usage use SQL
    timeline.retryWith(task -> vertx.setTimer(60_000, id -> task.run()));
    timeline.start();
  }

  /** Folds a change of the derived tables into the person index and the timeline. */
  void changed(DerivedChange change) {
    persons.apply(change);
    timeline.apply(change);
  }

  /** Registers one consumer per family; completes once all are registered. */
  List<Future<Void>> register(QueryHost host) {
    QueryAnswers a = host.answers();
    return List.of(
        a.consume(QueryAddresses.QUERY_REALTIME, "realtime", q -> realtime.run(q.getString("projectId"))),
        a.consume(QueryAddresses.QUERY_EVENT_COUNT, "events_count", count::run),
        a.consume(QueryAddresses.QUERY_SESSION, "session", sessions::one),
        a.consume(QueryAddresses.QUERY_USER_SESSIONS, "user_sessions", sessions::ofUser),
        a.consume(QueryAddresses.QUERY_USER_ANALYTICS, "user_analytics", a.cached("user_analytics",
            q -> user.run(q, host.zone(q)))),
        a.consume(QueryAddresses.QUERY_USAGE, "usage", a.cached("usage", usage::run)),
        a.consume(QueryAddresses.QUERY_PEOPLE, "people", a.cached("people", people::run)),
        a.consume(QueryAddresses.QUERY_FUNNEL, "funnel", a.cached("funnel", funnel::run)),
        a.consume(QueryAddresses.QUERY_RETENTION, "retention", a.cached("retention",
            q -> retention.run(q, host.zone(q)))),
        a.consume(QueryAddresses.QUERY_CONVERSIONS, "conversions", a.cached("conversions", conversions::run)),
        a.consume(QueryAddresses.QUERY_TIMESERIES, "timeseries", a.cached("timeseries",
            q -> series.timeseries(q, host.zone(q)))),
        a.consume(QueryAddresses.QUERY_BREAKDOWN, "breakdown", a.cached("breakdown", series::breakdown)));
  }
}
