package io.tally.config;

import java.nio.file.Path;
import java.util.List;

/** The whole configuration, immutable once loaded. */
public record TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                          List<ProjectConfig> projects, Lifecycle lifecycle, Perimeter perimeter, Alerts alerts) {

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
                     List<ProjectConfig> projects) {
    this(http, storage, ingest, writer, redis, enrich, projects, Lifecycle.DEFAULTS);
  }

  public TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                     List<ProjectConfig> projects, Lifecycle lifecycle) {
    this(http, storage, ingest, writer, redis, enrich, projects, lifecycle, Perimeter.DEFAULTS, Alerts.DEFAULTS);
  }

  public TallyConfig withAlerts(Alerts a) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, lifecycle, perimeter, a);
  }

  public TallyConfig withPerimeter(Perimeter p) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, lifecycle, p, alerts);
  }

  public TallyConfig withLifecycle(Lifecycle l) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects, l, perimeter, alerts);
  }

  public TallyConfig withStorage(Storage s) {
    return new TallyConfig(http, s, ingest, writer, redis, enrich, projects, lifecycle, perimeter, alerts);
  }

  public TallyConfig withHttp(Http h) {
    return new TallyConfig(h, storage, ingest, writer, redis, enrich, projects, lifecycle, perimeter, alerts);
  }

  public TallyConfig withIngest(Ingest i) {
    return new TallyConfig(http, storage, i, writer, redis, enrich, projects, lifecycle, perimeter, alerts);
  }

  public TallyConfig withWriter(Writer w) {
    return new TallyConfig(http, storage, ingest, w, redis, enrich, projects, lifecycle, perimeter, alerts);
  }

  public TallyConfig withEnrich(Enrich e) {
    return new TallyConfig(http, storage, ingest, writer, redis, e, projects, lifecycle, perimeter, alerts);
  }

  public TallyConfig withProjects(List<ProjectConfig> p) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, p, lifecycle, perimeter, alerts);
  }
}
