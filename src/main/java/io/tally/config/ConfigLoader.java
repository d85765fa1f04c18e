package io.tally.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads {@code config/tally.json} (or the copy inside the jar) and applies {@code TALLY_*} environment overrides.
 * <p>
 * An environment variable {@code TALLY_SECTION_SOME_KEY} overrides {@code section.someKey}; a few short aliases
 * exist ({@code TALLY_PG_URL}, {@code TALLY_REDIS_URL}, {@code TALLY_DATA_DIR}). Every error names the key.
 */
public final class ConfigLoader {

  private static final Map<String, String> ALIASES = Map.of(
      "PG_URL", "storage.pgUrl",
      "REDIS_URL", "storage.redisUrl",
      "DATA_DIR", "storage.dataDir");
  private static final Set<String> NOT_KEYS = Set.of("CONFIG");

  private ConfigLoader() {
  }

  /** Loads from {@code TALLY_CONFIG}, else {@code ./config/tally.json}, else the defaults in the jar. */
  public static TallyConfig load(Map<String, String> env) {
    String explicit = env.get("TALLY_CONFIG");
    JsonObject json;
    if (explicit != null && !explicit.isBlank()) {
      json = overDefaults(readFile(Path.of(explicit)));
    } else if (Files.isRegularFile(Path.of("config", "tally.json"))) {
      json = overDefaults(readFile(Path.of("config", "tally.json")));
    } else {
      json = defaults();
    }
    applyEnv(json, env);
    return bind(json);
  }

  /**
   * A configuration file laid over the jar's defaults: in each section, a key the file lacks takes its default (so a
   * file written for an earlier release, before a key existed, still starts, and its key can be set from the
   * environment); {@code projects} and any other non-object value in the file replace the default whole.
   */
  static JsonObject overDefaults(JsonObject file) {
    JsonObject out = defaults();
    for (String name : file.fieldNames()) {
      Object mine = file.getValue(name);
      if (mine instanceof JsonObject section && out.getValue(name) instanceof JsonObject base) {
        section.forEach(e -> base.put(e.getKey(), e.getValue()));
      } else {
        out.put(name, mine);
      }
    }
    return out;
  }

  /** The defaults shipped inside the jar. */
  public static JsonObject defaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("/config/tally.json")) {
      if (in == null) {
        throw new ConfigException("config/tally.json is missing from the classpath");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException("cannot read default config/tally.json: " + e.getMessage());
    }
  }

  static JsonObject readFile(Path path) {
    try {
      return new JsonObject(Files.readString(path));
    } catch (IOException e) {
      throw new ConfigException("cannot read configuration file " + path + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException("configuration file " + path + " is not valid JSON: " + e.getMessage());
    }
  }

  static void applyEnv(JsonObject json, Map<String, String> env) {
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!e.getKey().startsWith("TALLY_")) {
        continue;
      }
      String rest = e.getKey().substring("TALLY_".length());
      if (NOT_KEYS.contains(rest)) {
        continue;
      }
      String path = ALIASES.getOrDefault(rest, resolve(json, rest));
      if (path == null) {
        throw new ConfigException("unknown configuration variable " + e.getKey()
            + " (expected TALLY_<SECTION>_<KEY>, e.g. TALLY_HTTP_PORT for http.port)");
      }
      String[] parts = path.split("\\.");
      JsonObject section = json.getJsonObject(parts[0]);
      Object current = section.getValue(parts[1]);
      section.put(parts[1], coerce(current, e.getValue(), path, e.getKey()));
    }
  }

  /** Maps SECTION_SOME_KEY onto an existing section.someKey, ignoring case and underscores. */
  private static String resolve(JsonObject json, String rest) {
    int cut = rest.indexOf('_');
    if (cut < 0) {
      return null;
    }
    String sectionName = rest.substring(0, cut).toLowerCase(Locale.ROOT);
    Object section = json.getValue(sectionName);
    if (!(section instanceof JsonObject obj)) {
      return null;
    }
    String wanted = rest.substring(cut + 1).replace("_", "").toLowerCase(Locale.ROOT);
    for (String key : obj.fieldNames()) {
      if (key.toLowerCase(Locale.ROOT).equals(wanted)) {
        return sectionName + "." + key;
      }
    }
    return null;
  }

  private static Object coerce(Object current, String raw, String path, String var) {
    if (current instanceof Number) {
      try {
        return Long.parseLong(raw.trim());
      } catch (NumberFormatException ex) {
        throw new ConfigException(path + " (from " + var + ") must be an integer, got '" + raw + "'");
      }
    }
    if (current instanceof Boolean) {
      if (!raw.equalsIgnoreCase("true") && !raw.equalsIgnoreCase("false")) {
        throw new ConfigException(path + " (from " + var + ") must be true or false, got '" + raw + "'");
      }
      return Boolean.parseBoolean(raw);
    }
    if (current instanceof JsonArray) {
      JsonArray arr = new JsonArray();
      for (String s : raw.split(",")) {
        if (!s.isBlank()) {
          arr.add(s.trim());
        }
      }
      return arr;
    }
    return raw;
  }

  /** Binds and validates; every failure names its key. */
  public static TallyConfig bind(JsonObject json) {
    Reader r = new Reader(json);
    TallyConfig.Http http = new TallyConfig.Http(
        r.str("http.host"), r.intIn("http.port", 0, 65535), r.intIn("http.instances", 1, 64));
    TallyConfig.Storage storage = storage(r);
    TallyConfig.Ingest ingest = ingest(r);
    TallyConfig.Writer writer = writer(r);
    TallyConfig.Redis redis = redis(r);
    TallyConfig.Enrich enrich = enrich(r);
    return new TallyConfig(http, storage, ingest, writer, redis, enrich, projects(json, ingest), lifecycle(json),
        perimeter(r), alerts(json), query(json));
  }

  private static TallyConfig.Storage storage(Reader r) {
    String pgUrl = r.strOrEmpty("storage.pgUrl");
    if (!pgUrl.isEmpty() && !pgUrl.startsWith("postgresql://") && !pgUrl.startsWith("postgres://")) {
      throw new ConfigException("storage.pgUrl must be a postgresql:// URL, got " + scheme(pgUrl));
    }
    String redisUrl = r.strOrEmpty("storage.redisUrl");
    if (!redisUrl.isEmpty() && !redisUrl.startsWith("redis://")) {
      throw new ConfigException("storage.redisUrl must be a redis:// URL, got " + scheme(redisUrl));
    }
    return new TallyConfig.Storage(Path.of(r.str("storage.dataDir")), pgUrl, redisUrl,
        r.intIn("storage.pgPoolSize", 1, 100), r.intIn("storage.embeddedPgPort", 0, 65535),
        r.intIn("storage.embeddedRedisPort", 0, 65535));
  }

  private static TallyConfig.Ingest ingest(Reader r) {
    return new TallyConfig.Ingest(
        r.intIn("ingest.maxEventBytes", 256, 16 << 20),
        r.intIn("ingest.maxBodyBytes", 1024, 256 << 20),
        r.intIn("ingest.maxBatchEvents", 1, 100_000),
        r.strings("ingest.allowedOrigins"),
        r.longIn("ingest.wsPingIntervalMs", 100, 3_600_000),
        r.intIn("ingest.wsMaxFrameBytes", 1024, 256 << 20),
        r.intIn("ingest.wsMaxMessageBytes", 1024, 256 << 20),
        r.intIn("ingest.wsMaxInFlightFrames", 1, 1_000_000),
        r.longIn("ingest.retryAfterMs", 1, 600_000),
        r.longIn("ingest.maxFutureSkewHours", 0, 24 * 365));
  }

  private static TallyConfig.Writer writer(Reader r) {
    int ring = r.intIn("writer.ringCapacity", 2, 1 << 26);
    if (Integer.bitCount(ring) != 1) {
      throw new ConfigException("writer.ringCapacity must be a power of 2, got " + ring);
    }
    return new TallyConfig.Writer(ring,
        r.intIn("writer.batchSize", 1, 100_000),
        r.longIn("writer.flushIntervalMs", 0, 60_000),
        r.intIn("writer.maxInFlightBatches", 1, 64),
        r.intIn("writer.dedupeWindowDays", 7, 3650),
        r.longIn("writer.retryBackoffMinMs", 1, 60_000),
        r.longIn("writer.retryBackoffMaxMs", 1, 600_000),
        r.intIn("writer.partitionDaysAhead", 1, 366),
        r.longIn("writer.derivedFlushMs", 50, 600_000),
        r.longIn("writer.derivedRefreshMs", 0, 3_600_000),
        r.longIn("writer.shutdownDrainMs", 0, 600_000),
        r.intIn("writer.maxDerivedBacklog", 1_000, 10_000_000));
  }

  private static TallyConfig.Redis redis(Reader r) {
    return new TallyConfig.Redis(
        r.longIn("redis.minuteTtlSeconds", 3600, 30L * 86400),
        r.longIn("redis.userTtlSeconds", 60, 3650L * 86400),
        r.longIn("redis.dayTtlSeconds", 86400, 3650L * 86400),
        r.intIn("redis.maxInFlightUpdates", 1, 1024),
        r.intIn("redis.poolSize", 1, 1024),
        r.intIn("redis.poolWaiting", 1, 1_000_000),
        r.intIn("redis.maxWaitingHandlers", 1024, 16 << 20));
  }

  private static TallyConfig.Enrich enrich(Reader r) {
    List<String> proxies = r.strings("enrich.trustedProxies");
    for (String cidr : proxies) {
      if (!cidr.matches("[0-9a-fA-F:.]+(/[0-9]{1,3})?")) {
        throw new ConfigException("enrich.trustedProxies entries must be addresses or CIDR blocks, got '" + cidr + "'");
      }
    }
    String geo = r.strOrEmpty("enrich.geoipDatabase");
    if (!geo.isEmpty() && !java.nio.file.Files.isReadable(Path.of(geo))) {
      throw new ConfigException("enrich.geoipDatabase '" + geo + "' is not a readable file");
    }
    return new TallyConfig.Enrich(geo, proxies,
        r.intIn("enrich.sessionTimeoutMinutes", 1, 24 * 60),
        r.intIn("enrich.userAgentCacheSize", 100, 10_000_000),
        r.strOrEmpty("enrich.eventTypesFile"));
  }

  /** The optional {@code query} section; a missing key takes its default. */
  private static TallyConfig.Query query(JsonObject json) {
    TallyConfig.Query d = TallyConfig.Query.DEFAULTS;
    Object raw = json.getValue("query");
    if (raw == null) {
      return d;
    }
    if (!(raw instanceof JsonObject q)) {
      throw new ConfigException("query must be an object");
    }
    Reader r = new Reader(json);
    return new TallyConfig.Query(
        q.containsKey("maxAnswerBytes") ? r.intIn("query.maxAnswerBytes", 256, 1 << 30) : d.maxAnswerBytes(),
        q.containsKey("statementTimeoutMs") ? r.longIn("query.statementTimeoutMs", 100, 3_600_000)
            : d.statementTimeoutMs(),
        q.containsKey("insightBudgetMs") ? r.longIn("query.insightBudgetMs", 0, 60_000) : d.insightBudgetMs(),
        q.containsKey("patternWarmMs") ? r.longIn("query.patternWarmMs", 1_000, 86_400_000) : d.patternWarmMs(),
        q.containsKey("alertScanMs") ? r.longIn("query.alertScanMs", 1_000, 86_400_000) : d.alertScanMs(),
        q.containsKey("patternIndexBulkThreshold") ? r.intIn("query.patternIndexBulkThreshold", 1, 10_000_000)
            : d.patternIndexBulkThreshold(),
        q.containsKey("timelineMaxEvents") ? r.longIn("query.timelineMaxEvents", 0, Long.MAX_VALUE / 2)
            : d.timelineMaxEvents(),
        q.containsKey("timelineMaxInbox") ? r.longIn("query.timelineMaxInbox", 1_000, 1_000_000_000)
            : d.timelineMaxInbox(),
        q.containsKey("timelineLoadDelayMs") ? r.longIn("query.timelineLoadDelayMs", 0, 600_000)
            : d.timelineLoadDelayMs());
  }

  /** The {@code http.*} keys beyond host, port and instances. */
  private static TallyConfig.Perimeter perimeter(Reader r) {
    List<String> exempt = r.strings("http.connectionCapExempt");
    for (String cidr : exempt) {
      int slash = cidr.indexOf('/');
      boolean v4 = cidr.contains(".") && !cidr.contains(":");
      if (!cidr.matches("[0-9a-fA-F:.]+(/[0-9]{1,3})?")
          || slash > 0 && Integer.parseInt(cidr.substring(slash + 1)) > (v4 ? 32 : 128)) {
        throw new ConfigException("http.connectionCapExempt entries must be addresses or CIDR blocks, got '" + cidr
            + "'");
      }
    }
    return new TallyConfig.Perimeter(
        r.longIn("http.headerTimeoutMs", 100, 600_000),
        r.longIn("http.bodyTimeoutMs", 100, 3_600_000),
        r.longIn("http.idleTimeoutMs", 100, 3_600_000),
        r.intIn("http.maxConnectionsPerAddress", 1, 1_000_000),
        exempt,
        r.intIn("http.keyFailuresPerMinute", 1, 100_000),
        r.longIn("http.keyFailureBlockMs", 1_000, 86_400_000));
  }

  /**
   * A project's optional {@code rateLimits}; a missing key takes its default. A write burst smaller than
   * {@code ingest.maxBatchEvents} would refuse a full batch forever, so it is refused here.
   */
  private static ProjectConfig.RateLimits rateLimits(JsonObject p, String where, TallyConfig.Ingest ingest) {
    Object raw = p.getValue("rateLimits");
    ProjectConfig.RateLimits d = ProjectConfig.RateLimits.DEFAULTS;
    if (raw == null) {
      return d;
    }
    if (!(raw instanceof JsonObject o)) {
      throw new ConfigException(where + ".rateLimits must be an object {writeEventsPerSecond, writeBurst, "
          + "readRequestsPerSecond, readBurst}");
    }
    for (String k : o.fieldNames()) {
      if (!List.of("writeEventsPerSecond", "writeBurst", "readRequestsPerSecond", "readBurst").contains(k)) {
        throw new ConfigException(where + ".rateLimits." + k + " is not a rate limit (writeEventsPerSecond, "
            + "writeBurst, readRequestsPerSecond, readBurst)");
      }
    }
    int writeBurst = positive(o, where, "writeBurst", d.writeBurst());
    if (writeBurst < ingest.maxBatchEvents()) {
      throw new ConfigException(where + ".rateLimits.writeBurst must be at least ingest.maxBatchEvents ("
          + ingest.maxBatchEvents() + "), or a full batch could never be sent; got " + writeBurst);
    }
    return new ProjectConfig.RateLimits(positive(o, where, "writeEventsPerSecond", d.writeEventsPerSecond()),
        writeBurst, positive(o, where, "readRequestsPerSecond", d.readRequestsPerSecond()),
        positive(o, where, "readBurst", d.readBurst()));
  }

  private static int positive(JsonObject o, String where, String field, int dflt) {
    Object v = o.getValue(field, dflt);
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 1
        || n.longValue() > 10_000_000) {
      throw new ConfigException(where + ".rateLimits." + field + " must be a whole number from 1 to 10000000, got "
          + v);
    }
    return n.intValue();
  }

  /**
   * The optional {@code alerts} section: the networks an alert webhook may reach besides public addresses, each an
   * IPv4 or IPv6 address or CIDR block, read as literals only (never looked up).
   */
  private static TallyConfig.Alerts alerts(JsonObject json) {
    Object raw = json.getValue("alerts");
    if (raw == null) {
      return TallyConfig.Alerts.DEFAULTS;
    }
    if (!(raw instanceof JsonObject a)) {
      throw new ConfigException("alerts must be an object");
    }
    if (!a.containsKey("allowedWebhookNetworks")) {
      return TallyConfig.Alerts.DEFAULTS;
    }
    List<String> networks = new Reader(json).strings("alerts.allowedWebhookNetworks");
    for (String n : networks) {
      if (!network(n.trim())) {
        throw new ConfigException("alerts.allowedWebhookNetworks entries must be IPv4 or IPv6 addresses or CIDR "
            + "blocks such as 10.0.0.0/8 or fd00::/8, got '" + n + "'");
      }
    }
    return new TallyConfig.Alerts(networks);
  }

  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

  /** a.b.c.d[/0-32] or an IPv6 literal[/0-128]. */
  private static boolean network(String s) {
    String[] parts = s.split("/", 2);
    boolean v4 = parts[0].matches(OCTET + "(\\." + OCTET + "){3}");
    boolean v6 = !v4 && parts[0].contains(":") && parts[0].matches("[0-9a-fA-F:.]+");
    if (v6) {
      try {
        // a literal with a colon: parsed, never looked up
        java.net.InetAddress.getByName(parts[0]);
      } catch (java.net.UnknownHostException e) {
        return false;
      }
    }
    if (!v4 && !v6) {
      return false;
    }
    if (parts.length == 1) {
      return true;
    }
    return parts[1].matches("[0-9]{1,3}") && Integer.parseInt(parts[1]) <= (v4 ? 32 : 128);
  }

  /** What comes before "://" (the rest of a storage URL may hold a password, which no error message shows). */
  private static String scheme(String url) {
    int i = url.indexOf("://");
    return i < 0 ? "a value without a scheme" : url.substring(0, i) + "://…";
  }

  /** The optional {@code lifecycle} section; a missing key takes its default. */
  private static TallyConfig.Lifecycle lifecycle(JsonObject json) {
    TallyConfig.Lifecycle d = TallyConfig.Lifecycle.DEFAULTS;
    Object raw = json.getValue("lifecycle");
    if (raw == null) {
      return d;
    }
    if (!(raw instanceof JsonObject l)) {
      throw new ConfigException("lifecycle must be an object");
    }
    Reader r = new Reader(json);
    String dir = l.containsKey("archiveDir") ? r.str("lifecycle.archiveDir") : d.archiveDir().toString();
    Object archive = l.getValue("archive", d.archive());
    if (!(archive instanceof Boolean archiveFlag)) {
      throw new ConfigException("lifecycle.archive must be true or false");
    }
    return new TallyConfig.Lifecycle(Path.of(dir), archiveFlag,
        l.containsKey("intervalMinutes") ? r.longIn("lifecycle.intervalMinutes", 1, 7 * 24 * 60) : d.intervalMinutes(),
        l.containsKey("deleteBatchRows") ? r.intIn("lifecycle.deleteBatchRows", 100, 1_000_000) : d.deleteBatchRows(),
        l.containsKey("deletePauseMs") ? r.longIn("lifecycle.deletePauseMs", 0, 60_000) : d.deletePauseMs());
  }

  private static int days(JsonObject p, String where, String field) {
    Object v = p.getValue(field, 0);
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 0
        || n.longValue() > 36_500) {
      throw new ConfigException(where + "." + field + " must be a whole number of days from 0 (forever) to 36500");
    }
    return n.intValue();
  }

  private static boolean flag(JsonObject p, String where, String field, boolean dflt) {
    Object v = p.getValue(field, dflt);
    if (!(v instanceof Boolean b)) {
      throw new ConfigException(where + "." + field + " must be true or false");
    }
    return b;
  }

  private static List<ProjectConfig> projects(JsonObject json, TallyConfig.Ingest ingest) {
    Object raw = json.getValue("projects");
    if (!(raw instanceof JsonArray arr) || arr.isEmpty()) {
      throw new ConfigException("projects must be a non-empty array");
    }
    List<ProjectConfig> out = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < arr.size(); i++) {
      String where = "projects[" + i + "]";
      if (!(arr.getValue(i) instanceof JsonObject p)) {
        throw new ConfigException(where + " must be an object");
      }
      Object id = p.getValue("id");
      if (!(id instanceof String s) || !s.matches("[A-Za-z0-9_.-]{1,64}")) {
        throw new ConfigException(where + ".id must be 1-64 characters of [A-Za-z0-9_.-]");
      }
      if (!ids.add(s)) {
        throw new ConfigException(where + ".id '" + s + "' is used twice");
      }
      List<String> write = keyList(p, where + ".writeKeys", "writeKeys", keys);
      List<String> read = keyList(p, where + ".readKeys", "readKeys", keys);
      ZoneId zone;
      try {
        zone = ZoneId.of(p.getString("timezone", "UTC"));
      } catch (DateTimeException | ClassCastException e) {
        throw new ConfigException(where + ".timezone is not a valid time zone: " + p.getValue("timezone"));
      }
      Object strict = p.getValue("strictEventTypes", false);
      if (!(strict instanceof Boolean strictFlag)) {
        throw new ConfigException(where + ".strictEventTypes must be true or false");
      }
      ProjectConfig.IpMode ipMode;
      try {
        String ip = p.getString("ip", "anonymize").toUpperCase(java.util.Locale.ROOT);
        ipMode = ProjectConfig.IpMode.valueOf("DROP".equals(ip) ? "NONE" : ip);
      } catch (IllegalArgumentException | ClassCastException e) {
        throw new ConfigException(where + ".ip must be one of anonymize, full, none (or drop)");
      }
      List<String> admin = p.containsKey("adminKeys") ? keyList(p, where + ".adminKeys", "adminKeys", keys) : List.of();
      ProjectConfig.Privacy privacy = new ProjectConfig.Privacy(flag(p, where, "doNotTrack", true),
          flag(p, where, "suppressDeletedUsers", true), days(p, where, "retentionDays"),
          days(p, where, "rollupRetentionDays"));
      if (privacy.retentionDays() > 0 && privacy.rollupRetentionDays() > 0
          && privacy.rollupRetentionDays() < privacy.retentionDays()) {
        throw new ConfigException(where + ".rollupRetentionDays must be at least retentionDays (rollups outlive raw "
            + "events) or 0 (forever)");
      }
      out.add(new ProjectConfig(s, write, read, zone, strictFlag, ipMode, admin, privacy,
          rateLimits(p, where, ingest), flag(p, where, "trustEventIp", false), origins(p, where)));
    }
    return out;
  }

  /**
   * A project's optional {@code allowedOrigins} (absent: null, those of {@code ingest.allowedOrigins}): each entry is
   * {@code *} or an origin as browsers send it, {@code scheme://host[:port]} with no path.
   */
  private static List<String> origins(JsonObject p, String where) {
    if (!p.containsKey("allowedOrigins")) {
      return null;
    }
    if (!(p.getValue("allowedOrigins") instanceof JsonArray arr)) {
      throw new ConfigException(where + ".allowedOrigins must be an array of origins (\"https://app.example\") or "
          + "[\"*\"]");
    }
    List<String> out = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof String s) || !(s.equals("*") || s.matches("[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\\s]{1,253}"))) {
        throw new ConfigException(where + ".allowedOrigins entries must be \"*\" or scheme://host[:port] without a "
            + "path, got " + o);
      }
      out.add(s);
    }
    return out;
  }

  private static List<String> keyList(JsonObject p, String where, String field, Set<String> seen) {
    Object raw = p.getValue(field);
    if (!(raw instanceof JsonArray arr)) {
      throw new ConfigException(where + " must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof String k) || k.length() < 8) {
        throw new ConfigException(where + " entries must be strings of at least 8 characters");
      }
      if (!seen.add(k)) {
        throw new ConfigException(where + " repeats a key already used elsewhere: keys must be unique");
      }
      out.add(k);
    }
    return out;
  }

  /** Typed access to "section.key" with the key named in every error. */
  private record Reader(JsonObject json) {
    Object raw(String path) {
      String[] parts = path.split("\\.");
      Object section = json.getValue(parts[0]);
      if (!(section instanceof JsonObject obj)) {
        throw new ConfigException(parts[0] + " must be an object");
      }
      if (!obj.containsKey(parts[1])) {
        throw new ConfigException(path + " is missing");
      }
      return obj.getValue(parts[1]);
    }

    String str(String path) {
      Object v = raw(path);
      if (!(v instanceof String s) || s.isBlank()) {
        throw new ConfigException(path + " must be a non-empty string");
      }
      return s;
    }

    String strOrEmpty(String path) {
      String[] parts = path.split("\\.");
      JsonObject section = json.getJsonObject(parts[0]);
      Object v = section == null ? null : section.getValue(parts[1]);
      if (v == null) {
        return "";
      }
      if (!(v instanceof String s)) {
        throw new ConfigException(path + " must be a string");
      }
      return s.trim();
    }

    long longIn(String path, long min, long max) {
      Object v = raw(path);
      if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
        throw new ConfigException(path + " must be an integer, got " + v);
      }
      long l = n.longValue();
      if (l < min || l > max) {
        throw new ConfigException(path + " must be between " + min + " and " + max + ", got " + l);
      }
      return l;
    }

    int intIn(String path, int min, int max) {
      return (int) longIn(path, min, max);
    }

    List<String> strings(String path) {
      Object v = raw(path);
      if (!(v instanceof JsonArray arr)) {
        throw new ConfigException(path + " must be an array of strings");
      }
      List<String> out = new ArrayList<>();
      for (Object o : arr) {
        if (!(o instanceof String s)) {
          throw new ConfigException(path + " must be an array of strings");
        }
        out.add(s);
      }
      return out;
    }
  }
}
