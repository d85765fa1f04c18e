package io.tally.config;

import java.nio.file.Path;
import java.util.List;

/** The whole configuration, immutable once loaded. */
public record TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                          List<ProjectConfig> projects, Lifecycle lifecycle, Perimeter perimeter, Alerts alerts,
                          Query query) {

  public TallyConfig {
    projects = List.copyOf(projects);
  }

  public record Http(String host, int port, int instances) {}

  /**
   * The {@code http.*} settings that guard the door: timeouts, the per-address connection cap, and the throttling of
   * failed keys. Apart from {@link Http} because {@code Tally} rebuilds that with the port it bound.
   *
   * @param headerTimeoutMs          a new connection's first request head must be complete within this
   * @param bodyTimeoutMs            a request's body must be complete within this of its head (else 408)
   * @param idleTimeoutMs            a keep-alive connection with no request for this long is closed; the next request
   *                                 head must also be complete within it
   * @param maxConnectionsPerAddress open connections (WebSockets included) from one address (IPv6: its /64)
   * @param connectionCapExempt      addresses / CIDR blocks the cap does not apply to (reverse proxies, loopback)
   * @param keyFailuresPerMinute     unknown or malformed keys one client address may send within a minute
   * @param keyFailureBlockMs        how long an address over that gets 429 on every request carrying a key
   */
  public record Perimeter(long headerTimeoutMs, long bodyTimeoutMs, long idleTimeoutMs, int maxConnectionsPerAddress,
                          List<String> connectionCapExempt, int keyFailuresPerMinute, long keyFailureBlockMs) {
    public static final Perimeter DEFAULTS = new Perimeter(10_000, 30_000, 30_000, 1_000,
        List.of("127.0.0.0/8", "::1/128"), 20, 60_000);

    public Perimeter {
      connectionCapExempt = List.copyOf(connectionCapExempt);
    }
  }

  /** Empty pgUrl / redisUrl mean "start the embedded server". */
  public record Storage(Path dataDir, String pgUrl, String redisUrl, int pgPoolSize,
                        int embeddedPgPort, int embeddedRedisPort) {
    public boolean embeddedPg() {
      return pgUrl == null || pgUrl.isBlank();
    }

    public boolean embeddedRedis() {
      return redisUrl == null || redisUrl.isBlank();
    }
  }

  public record Ingest(int maxEventBytes, int maxBodyBytes, int maxBatchEvents, List<String> allowedOrigins,
                       long wsPingIntervalMs, int wsMaxFrameBytes, int wsMaxMessageBytes, int wsMaxInFlightFrames,
                       long retryAfterMs, long maxFutureSkewHours) {
    public Ingest {
      allowedOrigins = List.copyOf(allowedOrigins);
    }
  }

  /** @param shutdownDrainMs how long a graceful shutdown waits for the ring to drain and its batches to commit */
  public record Writer(int ringCapacity, int batchSize, long flushIntervalMs, int maxInFlightBatches,
                       int dedupeWindowDays, long retryBackoffMinMs, long retryBackoffMaxMs, int partitionDaysAhead,
                       long derivedFlushMs, long derivedRefreshMs, long shutdownDrainMs, int maxDerivedBacklog) {
    public static final long DEFAULT_SHUTDOWN_DRAIN_MS = 7_000;
    /**
     * Committed events the derived tables may be behind by before the writer stops taking new batches from the ring
     * (the ring then fills and ingestion answers 503 with Retry-After): the derived pipeline's memory stays bounded
     * when its flushes fall behind.
     */
    public static final int DEFAULT_MAX_DERIVED_BACKLOG = 50_000;

    public Writer(int ringCapacity, int batchSize, long flushIntervalMs, int maxInFlightBatches, int dedupeWindowDays,
                  long retryBackoffMinMs, long retryBackoffMaxMs, int partitionDaysAhead, long derivedFlushMs,
                  long derivedRefreshMs, long shutdownDrainMs) {
      this(ringCapacity, batchSize, flushIntervalMs, maxInFlightBatches, dedupeWindowDays, retryBackoffMinMs,
          retryBackoffMaxMs, partitionDaysAhead, derivedFlushMs, derivedRefreshMs, shutdownDrainMs,
          DEFAULT_MAX_DERIVED_BACKLOG);
    }

    public Writer(int ringCapacity, int batchSize, long flushIntervalMs, int maxInFlightBatches, int dedupeWindowDays,
                  long retryBackoffMinMs, long retryBackoffMaxMs, int partitionDaysAhead, long derivedFlushMs,
                  long derivedRefreshMs) {
      this(ringCapacity, batchSize, flushIntervalMs, maxInFlightBatches, dedupeWindowDays, retryBackoffMinMs,
          retryBackoffMaxMs, partitionDaysAhead, derivedFlushMs, derivedRefreshMs, DEFAULT_SHUTDOWN_DRAIN_MS);
    }
  }

  /** Enrichment: geo-IP database (empty = no location), trusted proxies, session cut, caches. */
  public record Enrich(String geoipDatabase, List<String> trustedProxies, int sessionTimeoutMinutes,
                       int userAgentCacheSize, String eventTypesFile) {
    public Enrich {
      trustedProxies = List.copyOf(trustedProxies);
    }
  }

  /**
   * @param poolSize           connections to Redis
   * @param poolWaiting        requests waiting for a connection
   * @param maxWaitingHandlers commands awaiting replies: a counter update pipelines a few commands per event of a
   *                           writer batch, and up to {@code maxInFlightUpdates} batches are in flight (the client's
   *                           default of 2,048 made updates fail, "waiting queue is full", whenever Redis lagged a
   *                           little at 5,000 events/s)
   */
  public record Redis(long minuteTtlSeconds, long userTtlSeconds, long dayTtlSeconds, int maxInFlightUpdates,
                      int poolSize, int poolWaiting, int maxWaitingHandlers) {
    public Redis(long minuteTtlSeconds, long userTtlSeconds, long dayTtlSeconds, int maxInFlightUpdates) {
      this(minuteTtlSeconds, userTtlSeconds, dayTtlSeconds, maxInFlightUpdates, 8, 256, 65_536);
    }
  }

  /**
   * The query side's budgets and its in-memory indexes' bounds.
   *
   * @param maxAnswerBytes            the largest answer a query may give (its JSON text)
   * @param statementTimeoutMs        PostgreSQL cancels a query statement running longer (the HTTP side waits 30 s)
   * @param insightBudgetMs           how long an insights answer waits for a slow part not cached yet
   * @param patternWarmMs             how often the default pattern detection and insights are computed ahead
   * @param alertScanMs               how often projects with a webhook have their last 24 hours checked for alerts
   * @param patternIndexBulkThreshold persons changed in one flush above which the pattern index re-reads in bulk
   * @param timelineMaxEvents         events the in-memory timeline holds at most (0: the maximum heap ÷ 64)
   * @param timelineMaxInbox          committed events waiting for the timeline at most, before it reloads
   * @param timelineLoadDelayMs       a pause before the timeline's load (tests use it to commit during a load)
   */
  public record Query(int maxAnswerBytes, long statementTimeoutMs, long insightBudgetMs, long patternWarmMs,
                      long alertScanMs, int patternIndexBulkThreshold, long timelineMaxEvents, long timelineMaxInbox,
                      long timelineLoadDelayMs) {
    public static final Query DEFAULTS = new Query(16 << 20, 25_000, 700, 300_000, 300_000, 2_000, 0, 5_000_000, 0);

    public Query withMaxAnswerBytes(int bytes) {
      return new Query(bytes, statementTimeoutMs, insightBudgetMs, patternWarmMs, alertScanMs,
          patternIndexBulkThreshold, timelineMaxEvents, timelineMaxInbox, timelineLoadDelayMs);
    }

    public Query withPatternIndexBulkThreshold(int persons) {
      return new Query(maxAnswerBytes, statementTimeoutMs, insightBudgetMs, patternWarmMs, alertScanMs, persons,
          timelineMaxEvents, timelineMaxInbox, timelineLoadDelayMs);
    }

    public Query withTimelineLoadDelayMs(long ms) {
      return new Query(maxAnswerBytes, statementTimeoutMs, insightBudgetMs, patternWarmMs, alertScanMs,
          patternIndexBulkThreshold, timelineMaxEvents, timelineMaxInbox, ms);
    }

    /** {@link #timelineMaxEvents}, with 0 resolved against this JVM's maximum heap. */
    public long timelineMaxEventsResolved() {
      return timelineMaxEvents > 0 ? timelineMaxEvents : Runtime.getRuntime().maxMemory() / 64;
    }
  }

  /**
   * Data lifecycle: where archives go, how often retention runs, and how gently it deletes.
   *
   * @param archiveDir       directory of the gzip NDJSON archives and their manifests
   * @param archive          whether raw events are archived before retention removes them
   * @param intervalMinutes  period of the retention job (first run one period after start)
   * @param deleteBatchRows  rows per DELETE statement of the retention job
   * @param deletePauseMs    pause between two such statements (ingestion keeps the machine)
   */
  public record Lifecycle(Path archiveDir, boolean archive, long intervalMinutes, int deleteBatchRows,
                          long deletePauseMs) {
    public static final Lifecycle DEFAULTS = new Lifecycle(Path.of("./data/archive"), true, 60, 5000, 20);
  }

  /**
   * Alert webhooks.
   *
   * @param allowedWebhookNetworks CIDR blocks a webhook may reach although they are not public (loopback, private,
   *                               link-local...); empty by default: webhooks reach public addresses only
   */
  public record Alerts(List<String> allowedWebhookNetworks) {
    public static final Alerts DEFAULTS = new Alerts(List.of());

    public Alerts {
      allowedWebhookNetworks = List.copyOf(allowedWebhookNetworks);
    }
  }

  public TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                     List<ProjectConfig> projects) {
    this(http, storage, ingest, writer, redis, enrich, projects, Lifecycle.DEFAULTS);
  }

  public TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                     List<ProjectConfig> projects, Lifecycle lifecycle) {
    this(http, storage, ingest, writer, redis, enrich, projects, lifecycle, Perimeter.DEFAULTS, Alerts.DEFAULTS);
  }

  public TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                     List<ProjectConfig> projects, Lifecycle lifecycle, Perimeter perimeter, Alerts alerts) {
    this(http, storage, ingest, writer, redis, enrich, projects, lifecycle, perimeter, alerts, Query.DEFAULTS);
  }

  public TallyConfig withQuery(Query q) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, lifecycle, perimeter, alerts, q);
  }

  public TallyConfig withAlerts(Alerts a) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, lifecycle, perimeter, a, query);
  }

  public TallyConfig withPerimeter(Perimeter p) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, lifecycle, p, alerts, query);
  }

  public TallyConfig withLifecycle(Lifecycle l) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, l, perimeter, alerts, query);
  }

  public TallyConfig withStorage(Storage s) {
    return new TallyConfig(http, s, ingest, writer, redis, enrich, projects, lifecycle, perimeter, alerts, query);
  }

  public TallyConfig withHttp(Http h) {
    return new TallyConfig(h, storage, ingest, writer, redis, enrich, projects, lifecycle, perimeter, alerts, query);
  }

  public TallyConfig withIngest(Ingest i) {
    return new TallyConfig(http, storage, i, writer, redis, enrich, projects, lifecycle, perimeter, alerts, query);
  }

  public TallyConfig withWriter(Writer w) {
    return new TallyConfig(http, storage, ingest, w, redis, enrich, projects, lifecycle, perimeter, alerts, query);
  }

  public TallyConfig withEnrich(Enrich e) {
    return new TallyConfig(http, storage, ingest, writer, redis, e, projects, lifecycle, perimeter, alerts, query);
  }

  public TallyConfig withProjects(List<ProjectConfig> p) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, p, lifecycle, perimeter, alerts, query);
  }
}
