package io.tally.config;

import java.time.ZoneId;
import java.util.List;

/**
 * One project: its keys, its reporting time zone and its data settings.
 *
 * @param strictEventTypes whether event types outside the catalogue are refused (default: accepted as custom)
 * @param ipMode           what is kept of the client IP: ANONYMIZE (default: last octet / 80 bits zeroed), FULL, or
 *                         NONE (config "none" or "drop": no IP stored and no geo lookup)
 * @param adminKeys        keys of the admin role (user deletion and export, insight settings)
 * @param privacy          Do Not Track, suppression of deleted users, retention windows
 * @param rateLimits       token buckets of each of the project's keys
 * @param trustEventIp     whether an event's {@code context.ip} (or the seed's {@code device.ip} / {@code browser.ip})
 *                         names its client — for a backend forwarding its users' addresses; by default (false) the
 *                         connection's address (through the trusted proxies) is the client's and those fields are
 *                         ignored, since any holder of a write key could otherwise place its events anywhere
 * @param allowedOrigins   browser origins ({@code https://app.example}, or {@code *}) whose pages may write with this
 *                         project's keys (CORS of the write routes, the WebSocket's Origin check); null: those of
 *                         {@code ingest.allowedOrigins}
 */
public record ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone,
                            boolean strictEventTypes, IpMode ipMode, List<String> adminKeys, Privacy privacy,
                            RateLimits rateLimits, boolean trustEventIp, List<String> allowedOrigins) {
  public enum IpMode { ANONYMIZE, FULL, NONE }

  /**
   * Token buckets, one per key: a write key spends one token per event it sends (a batch of 100 takes 100, all or
   * none), a read or admin key one per request. A bucket holds at most its burst and refills at its rate.
   *
   * @param writeEventsPerSecond  refill of a write key's bucket, events per second
   * @param writeBurst            its size: the most events a write key may send at once after a pause
   * @param readRequestsPerSecond refill of a read (or admin) key's bucket, requests per second
   * @param readBurst             its size
   */
  public record RateLimits(int writeEventsPerSecond, int writeBurst, int readRequestsPerSecond, int readBurst) {
    /** Generous: the load tests send ~25,000 events/s from one key and run closed-loop query benchmarks. */
    public static final RateLimits DEFAULTS = new RateLimits(50_000, 50_000, 1_000, 2_000);

    public RateLimits {
      if (writeEventsPerSecond < 1 || writeBurst < 1 || readRequestsPerSecond < 1 || readBurst < 1) {
        throw new IllegalArgumentException("rate limits and bursts must be >= 1");
      }
    }
  }

  /**
   * @param doNotTrack          whether events sent with {@code DNT: 1} or {@code doNotTrack: true} are dropped
   * @param suppressDeleted     whether a deleted user's future events are dropped (default of the DELETE route)
   * @param retentionDays       days raw events are kept (0: forever)
   * @param rollupRetentionDays days rollups, sessions and touchpoints are kept (0: forever)
   */
  public record Privacy(boolean doNotTrack, boolean suppressDeleted, int retentionDays, int rollupRetentionDays) {
    public static final Privacy DEFAULTS = new Privacy(true, true, 0, 0);

    public Privacy {
      if (retentionDays < 0 || rollupRetentionDays < 0) {
        throw new IllegalArgumentException("retention days must be >= 0 (0 = forever)");
      }
    }
  }

  public ProjectConfig {
    writeKeys = List.copyOf(writeKeys);
    readKeys = List.copyOf(readKeys);
    adminKeys = List.copyOf(adminKeys);
    allowedOrigins = allowedOrigins == null ? null : List.copyOf(allowedOrigins);
  }

  public ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone,
                       boolean strictEventTypes, IpMode ipMode, List<String> adminKeys, Privacy privacy,
                       RateLimits rateLimits, boolean trustEventIp) {
    this(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, adminKeys, privacy, rateLimits, trustEventIp,
        null);
  }

  public ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone,
                       boolean strictEventTypes, IpMode ipMode, List<String> adminKeys, Privacy privacy) {
    this(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, adminKeys, privacy, RateLimits.DEFAULTS, false);
  }

  public ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone,
                       boolean strictEventTypes, IpMode ipMode) {
    this(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, List.of(), Privacy.DEFAULTS);
  }

  public ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone) {
    this(id, writeKeys, readKeys, timezone, false, IpMode.ANONYMIZE);
  }

  public ProjectConfig withAdminKeys(List<String> keys) {
    return new ProjectConfig(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, keys, privacy, rateLimits,
        trustEventIp, allowedOrigins);
  }

  public ProjectConfig withPrivacy(Privacy p) {
    return new ProjectConfig(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, adminKeys, p, rateLimits,
        trustEventIp, allowedOrigins);
  }

  public ProjectConfig withRateLimits(RateLimits r) {
    return new ProjectConfig(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, adminKeys, privacy, r,
        trustEventIp, allowedOrigins);
  }

  public ProjectConfig withTrustEventIp(boolean trust) {
    return new ProjectConfig(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, adminKeys, privacy,
        rateLimits, trust, allowedOrigins);
  }

  /** {@code origins} null: those of {@code ingest.allowedOrigins}. */
  public ProjectConfig withAllowedOrigins(List<String> origins) {
    return new ProjectConfig(id, writeKeys, readKeys, timezone, strictEventTypes, ipMode, adminKeys, privacy,
        rateLimits, trustEventIp, origins);
  }
}
