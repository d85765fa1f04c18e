package io.tally.config;

import java.nio.file.Path;
import java.util.List;

/** The whole configuration, immutable once loaded. */
public record TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                          List<ProjectConfig> projects, Lifecycle lifecycle, Alerts alerts) {

  public TallyConfig {
    projects = List.copyOf(projects);
  }

  public record Http(String host, int port, int instances) {}

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

  public record Writer(int ringCapacity, int batchSize, long flushIntervalMs, int maxInFlightBatches,
                       int dedupeWindowDays, long retryBackoffMinMs, long retryBackoffMaxMs, int partitionDaysAhead,
                       long derivedFlushMs, long derivedRefreshMs) {}

  /** Enrichment: geo-IP database (empty = no location), trusted proxies, session cut, caches. */
  public record Enrich(String geoipDatabase, List<String> trustedProxies, int sessionTimeoutMinutes,
                       int userAgentCacheSize, String eventTypesFile) {
    public Enrich {
      trustedProxies = List.copyOf(trustedProxies);
    }
  }

  public record Redis(long minuteTtlSeconds, long userTtlSeconds, long dayTtlSeconds, int maxInFlightUpdates) {}

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
                     List<ProjectConfig> projects, Lifecycle lifecycle) {
    this(http, storage, ingest, writer, redis, enrich, projects, lifecycle, Alerts.DEFAULTS);
  }

  public TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                     List<ProjectConfig> projects) {
    this(http, storage, ingest, writer, redis, enrich, projects, Lifecycle.DEFAULTS);
  }

  public TallyConfig withAlerts(Alerts a) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, lifecycle, a);
  }

  public TallyConfig withLifecycle(Lifecycle l) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, l, alerts);
  }

  public TallyConfig withStorage(Storage s) {
    return new TallyConfig(http, s, ingest, writer, redis, enrich, projects, lifecycle, alerts);
  }

  public TallyConfig withHttp(Http h) {
    return new TallyConfig(h, storage, ingest, writer, redis, enrich, projects, lifecycle, alerts);
  }

  public TallyConfig withIngest(Ingest i) {
    return new TallyConfig(http, storage, i, writer, redis, enrich, projects, lifecycle, alerts);
  }

  public TallyConfig withWriter(Writer w) {
    return new TallyConfig(http, storage, ingest, w, redis, enrich, projects, lifecycle, alerts);
  }

  public TallyConfig withEnrich(Enrich e) {
    return new TallyConfig(http, storage, ingest, writer, redis, e, projects, lifecycle, alerts);
  }

  public TallyConfig withProjects(List<ProjectConfig> p) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, p, lifecycle, alerts);
  }
}
