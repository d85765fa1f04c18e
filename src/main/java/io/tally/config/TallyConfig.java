package io.tally.config;

import java.nio.file.Path;
import java.util.List;

/** The whole configuration, immutable once loaded. */
public record TallyConfig(Http http, Storage storage, Ingest ingest, Writer writer, Redis redis, Enrich enrich,
                          List<ProjectConfig> projects) {

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
                       long derivedFlushMs) {}

  /** Enrichment: geo-IP database (empty = no location), trusted proxies, session cut, caches. */
  public record Enrich(String geoipDatabase, List<String> trustedProxies, int sessionTimeoutMinutes,
                       int userAgentCacheSize, String eventTypesFile) {
    public Enrich {
      trustedProxies = List.copyOf(trustedProxies);
    }
  }

  public record Redis(long minuteTtlSeconds, long userTtlSeconds, long dayTtlSeconds, int maxInFlightUpdates) {}

  public TallyConfig withStorage(Storage s) {
    return new TallyConfig(http, s, ingest, writer, redis, enrich, projects);
  }

  public TallyConfig withHttp(Http h) {
    return new TallyConfig(h, storage, ingest, writer, redis, enrich, projects);
  }

  public TallyConfig withIngest(Ingest i) {
    return new TallyConfig(http, storage, i, writer, redis, enrich, projects);
  }

  public TallyConfig withWriter(Writer w) {
    return new TallyConfig(http, storage, ingest, w, redis, enrich, projects);
  }

  public TallyConfig withEnrich(Enrich e) {
    return new TallyConfig(http, storage, ingest, writer, redis, e, projects);
  }

  public TallyConfig withProjects(List<ProjectConfig> p) {
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, p);
  }
}
