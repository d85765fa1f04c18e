package io.tally;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tally.auth.KeyAuth;
import io.tally.buffer.EventRing;
import io.tally.compat.SdkRoutes;
import io.tally.config.TallyConfig;
import io.tally.dashboard.DashboardRoutes;
import io.tally.dashboard.DashboardVerticle;
import io.tally.dashboard.LiveFeed;
import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.tally.derive.DerivedVerticle;
import io.tally.embedded.EmbeddedPostgresServer;
import io.tally.embedded.EmbeddedRedisServer;
import io.tally.enrich.ClientAddress;
import io.tally.enrich.Enricher;
import io.tally.enrich.GeoIpLookup;
import io.tally.enrich.Sessionizer;
import io.tally.enrich.UserAgentParser;
import io.tally.event.EventCatalog;
import io.tally.event.EventParser;
import io.tally.http.HttpServerVerticle;
import io.tally.http.RouteGroup;
import io.tally.http.ServerState;
import io.tally.index.EventTimeline;
import io.tally.ingest.BrowserOrigins;
import io.tally.ingest.IngestRoutes;
import io.tally.ingest.IngestService;
import io.tally.insight.InsightModule;
import io.tally.insight.InsightRoutes;
import io.tally.insight.WebhookAddresses;
import io.tally.lifecycle.ArchiveStore;
import io.tally.lifecycle.Jdbc;
import io.tally.lifecycle.LifecycleVerticle;
import io.tally.lifecycle.PersonData;
import io.tally.lifecycle.PrivacyRoutes;
import io.tally.lifecycle.RetentionJob;
import io.tally.lifecycle.Suppressions;
import io.tally.metrics.MicrometerTallyMetrics;
import io.tally.query.AnalyticsQueryVerticle;
import io.tally.query.QueryRoutes;
import io.tally.realtime.RedisCounters;
import io.tally.sdk.ClientAssets;
import io.tally.store.BatchWriterVerticle;
import io.tally.store.CommitNotice;
import io.tally.store.Migrations;
import io.tally.store.PgUrl;
import io.tally.store.StoreAddresses;
import io.tally.store.StoreHealth;
import io.tally.store.WriterProgress;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * One running Tally: storage (embedded or external), Vert.x with its verticles, and an orderly shutdown.
 * {@link Main} runs one; tests start and stop several.
 */
public final class Tally {
  private static final Logger LOG = LoggerFactory.getLogger(Tally.class);

  private final TallyConfig config;
  private final Servers servers;
  private final Vertx vertx;
  private final EventRing ring;
  private final ServerState state;
  private final List<HttpServerVerticle> httpVerticles;
  private final BatchWriterVerticle writer;
  private final int port;
  private final LifecycleVerticle lifecycle;

  private Tally(TallyConfig config, Servers servers, Vertx vertx, EventRing ring, ServerState state,
                List<HttpServerVerticle> http, BatchWriterVerticle writer, int port, LifecycleVerticle lifecycle) {
    this.config = config;
    this.servers = servers;
    this.vertx = vertx;
    this.ring = ring;
    this.state = state;
    this.httpVerticles = http;
    this.writer = writer;
    this.port = port;
    this.lifecycle = lifecycle;
  }

  /** Starts everything; blocks until Tally serves requests or fails to start. */
  public static Tally start(TallyConfig config) throws Exception {
    Servers servers = startServers(config.storage());
    LOG.info(collectorSettings());
    Migrations.migrate(servers.pgUrl());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = createVertx(registry);
    MicrometerTallyMetrics metrics = new MicrometerTallyMetrics(registry);
    vertx.setPeriodic(10_000, id -> metrics.ackRecorder().roll());
    Pools pools = Pools.create(vertx, servers.pgUrl(), config);
    Redis redis = redis(vertx, servers.redisUrl(), config.redis());
    EventRing ring = new EventRing(config.writer().ringCapacity());
    metrics.bufferedGauge(ring::occupancy);
    StoreHealth health = watchHealth(vertx, pools.query());

    RedisCounters counters = new RedisCounters(redis, config.redis(), metrics);
    LiveFeed live = new LiveFeed(LIVE_FEED_EVENTS);
    EventTimeline timeline = new EventTimeline(pools.query(), config.query());
    WriterProgress progress = new WriterProgress();
    // on a worker context of its own: a flush's CPU must not delay the writer's commits and acks
    DerivedVerticle derived = new DerivedVerticle(pools.derived(), config.writer(), metrics,
        progress::oldestPendingMs);
    BatchWriterVerticle writer = new BatchWriterVerticle(ring, pools.writer(), pools.derived(), config.writer(),
        metrics, health, derived, progress, fanOut(vertx, timeline, counters, live));
    EventCatalog catalog = EventCatalog.load(config.enrich().eventTypesFile());
    Suppressions suppressions = loadSuppressions(servers.pgUrl());
    ServerState state = new ServerState();
    IngestService ingest = new IngestService(ring, parser(config.ingest(), catalog),
        enricher(config.enrich(), pools.query(), metrics), metrics, state, config.ingest().retryAfterMs(),
        suppressions);
    LifecycleVerticle lifecycle = lifecycle(config, servers.pgUrl(), redis, suppressions);
    TallyConfig httpConfig = withPort(config);
    int port = httpConfig.http().port();
    // one set of keys for every HTTP verticle: a key's rate-limit bucket is shared by all of them
    KeyAuth keys = new KeyAuth(config.projects());
    List<HttpServerVerticle> http = new CopyOnWriteArrayList<>();
    Tally tally = new Tally(config, servers, vertx, ring, state, http, writer, port, lifecycle);
    try {
      vertx.deployVerticle(derived, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
          .compose(id -> vertx.deployVerticle(writer))
          .compose(id -> vertx.deployVerticle(lifecycle))
          .compose(id -> vertx.deployVerticle(queryVerticle(config, pools.query(), redis, metrics, catalog,
              timeline), new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)))
          .compose(id -> vertx.deployVerticle(new DashboardVerticle(pools.query())))
          .compose(id -> vertx.deployVerticle(() -> {
            HttpServerVerticle v = new HttpServerVerticle(httpConfig, keys, state, health,
                registry, routes(vertx, httpConfig, ingest, state, catalog, live));
            http.add(v);
            return v;
          }, new DeploymentOptions().setInstances(config.http().instances())))
          // generous: after a crash with many un-derived events the writer re-derives them first (logged per step)
          .toCompletionStage().toCompletableFuture().get(6, TimeUnit.HOURS);
    } catch (Exception e) {
      LOG.error("start failed, stopping what was started", e);
      tally.shutdown().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw e;
    }
    return tally;
  }

  /** What a commit tells the rest: the timeline, the Redis counters, the live views, and the event bus. */
  private static io.tally.store.CommitListener fanOut(Vertx vertx, EventTimeline timeline, RedisCounters counters,
                                                      LiveFeed live) {
    return (stored, xid) -> {
      timeline.committed(stored, xid);
      counters.record(stored);
      live.record(stored);
      vertx.eventBus().publish(StoreAddresses.EVENTS_COMMITTED, CommitNotice.of(stored), LOCAL);
    };
  }

  /** The configuration with the HTTP port to listen on: the configured one, or a free one for port 0. */
  private static TallyConfig withPort(TallyConfig config) throws java.io.IOException {
    int port = config.http().port() == 0 ? freePort() : config.http().port();
    return config.withHttp(new TallyConfig.Http(config.http().host(), port, config.http().instances()));
  }

  /** The recent events the dashboard's live views replay to a new viewer. */
  private static final int LIVE_FEED_EVENTS = 200;
  /** Delivery of the typed notices: within this process, by reference. */
  static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  /** PostgreSQL and Redis: embedded (started here) or external, and where each is reached. */
  private record Servers(EmbeddedPostgresServer embeddedPg, EmbeddedRedisServer embeddedRedis, PgUrl pgUrl,
                         String redisUrl) {}

  private static Servers startServers(TallyConfig.Storage st) throws Exception {
    EmbeddedPostgresServer pg = null;
    EmbeddedRedisServer redisServer = null;
    PgUrl pgUrl;
    String redisUrl;
    if (st.embeddedPg()) {
      LOG.info("starting embedded PostgreSQL 17 with data in {}", st.dataDir().resolve("pg").toAbsolutePath());
      pg = EmbeddedPostgresServer.start(st.dataDir().resolve("pg"), st.embeddedPgPort());
      pgUrl = pg.url();
    } else {
      pgUrl = PgUrl.parse(st.pgUrl());
    }
    if (st.embeddedRedis()) {
      redisServer = EmbeddedRedisServer.start(st.dataDir(), st.embeddedRedisPort());
      redisUrl = redisServer.url();
    } else {
      redisUrl = st.redisUrl();
    }
    // PgUrl prints no password; a Redis URL may carry one (the embedded server's always does)
    LOG.info("PostgreSQL at {}, Redis at {}", pgUrl, withoutPassword(redisUrl));
    return new Servers(pg, redisServer, pgUrl, redisUrl);
  }

  private static Vertx createVertx(PrometheusMeterRegistry registry) {
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
            .setJvmMetricsEnabled(true)))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
    registerLocalCodecs(vertx);
    return vertx;
  }

  /** The typed notices travel by reference within the process (publish them with {@link #LOCAL}). */
  static void registerLocalCodecs(Vertx vertx) {
    vertx.eventBus().registerDefaultCodec(CommitNotice.class, new LocalCodec<>(CommitNotice.class));
    vertx.eventBus().registerDefaultCodec(DerivedFlush.class, new LocalCodec<>(DerivedFlush.class));
    vertx.eventBus().registerDefaultCodec(DerivedRewrite.class, new LocalCodec<>(DerivedRewrite.class));
  }

  /** The three PostgreSQL pools: the ingest writer's, the derived tables', the queries'. */
  private record Pools(Pool writer, Pool derived, Pool query) {
    static Pools create(Vertx vertx, PgUrl pgUrl, TallyConfig config) {
      // the ingest statement is always the same shape: plan it once (measured: planning was ~0.7 ms of a 100-row
      // batch)
      Pool writer = PgBuilder.pool().with(new PoolOptions().setMaxSize(config.writer().maxInFlightBatches()))
          .connectingTo(pgUrl.connectOptions().addProperty("plan_cache_mode", "force_generic_plan")
              .addProperty("application_name", "tally-writer"))
          .using(vertx).build();
      // the derived tables' flush, the crash repair and partition upkeep, on a connection of their own (no ack waits
      // for them; named so pg_stat_activity tells them apart from the ingest statements)
      Pool derived = PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
          .connectingTo(pgUrl.connectOptions().addProperty("plan_cache_mode", "force_generic_plan")
              .addProperty("application_name", "tally-derived"))
          .using(vertx).build();
      // a query PostgreSQL has not answered when the caller stops waiting (30 s) is cancelled, not left running
      Pool query = PgBuilder.pool().with(new PoolOptions().setMaxSize(config.storage().pgPoolSize()))
          .connectingTo(pgUrl.connectOptions()
              .addProperty("statement_timeout", config.query().statementTimeoutMs() + "ms")
              .addProperty("application_name", "tally-query")).using(vertx).build();
      return new Pools(writer, derived, query);
    }
  }

  private static Redis redis(Vertx vertx, String url, TallyConfig.Redis rc) {
    return Redis.createClient(vertx, new RedisOptions().setConnectionString(url)
        .setMaxPoolSize(rc.poolSize()).setMaxPoolWaiting(rc.poolWaiting())
        .setMaxWaitingHandlers(rc.maxWaitingHandlers()));
  }

  /** PostgreSQL's health, checked every second with the query pool (readiness answers from it). */
  private static StoreHealth watchHealth(Vertx vertx, Pool queryPool) {
    StoreHealth health = new StoreHealth();
    vertx.setPeriodic(1000, id -> queryPool.query("SELECT 1").execute()
        .onSuccess(r -> health.markUp())
        .onFailure(err -> health.markDown(err.getMessage())));
    return health;
  }

  private static EventParser parser(TallyConfig.Ingest ic, EventCatalog catalog) {
    return new EventParser(ic.maxEventBytes(), ic.maxBatchEvents(), TimeUnit.HOURS.toMillis(ic.maxFutureSkewHours()),
        catalog);
  }

  /** User agents, geo-IP, client addresses and server-cut sessions (re-opened from the sessions table). */
  private static Enricher enricher(TallyConfig.Enrich ec, Pool queryPool, MicrometerTallyMetrics metrics)
      throws Exception {
    UserAgentParser.warmUp();
    GeoIpLookup geo = GeoIpLookup.open(ec.geoipDatabase());
    LOG.info("geo-IP: " + (!geo.enabled() ? "off (enrich.geoipDatabase is none): locations stay empty"
        : geo.source() + ", " + geo.level() + " level" + (geo.level().equals("city") ? ""
            : "; for regions and cities set enrich.geoipDatabase to a city database (docs/events.md, Enrichment)")));
    Sessionizer sessionizer = new Sessionizer(Duration.ofMinutes(ec.sessionTimeoutMinutes()));
    warmSessions(queryPool, sessionizer, ec.sessionTimeoutMinutes());
    return new Enricher(new UserAgentParser(ec.userAgentCacheSize()), geo, new ClientAddress(ec.trustedProxies()),
        sessionizer, metrics);
  }

  private static Suppressions loadSuppressions(PgUrl pgUrl) throws Exception {
    Suppressions suppressions = new Suppressions();
    try (java.sql.Connection c = new Jdbc(pgUrl).open()) {
      suppressions.load(c);
    }
    return suppressions;
  }

  /** Retention, archives, person deletion and export. */
  private static LifecycleVerticle lifecycle(TallyConfig config, PgUrl pgUrl, Redis redis, Suppressions suppressions) {
    Jdbc jdbc = new Jdbc(pgUrl);
    ArchiveStore archives = new ArchiveStore(config.lifecycle().archiveDir());
    Lock archiveLock = new ReentrantLock();
    return new LifecycleVerticle(new RetentionJob(jdbc, config.projects(), config.lifecycle(), archives, archiveLock),
        new PersonData(jdbc, archives, archiveLock), suppressions, redis, config);
  }

  /**
   * The query verticle, deployed as a worker: its in-memory indexes (persons, patterns) are summed over in CPU-bound
   * passes of up to a few hundred ms at 10M events, which must not hold an event loop; a worker context still runs
   * its handlers one at a time, so the indexes stay confined to it.
   */
  private static AnalyticsQueryVerticle queryVerticle(TallyConfig config, Pool queryPool, Redis redis,
                                                      MicrometerTallyMetrics metrics, EventCatalog catalog,
                                                      EventTimeline timeline) {
    InsightModule insights = new InsightModule(queryPool, catalog, metrics,
        new WebhookAddresses(config.alerts().allowedWebhookNetworks()), config.query());
    return new AnalyticsQueryVerticle(queryPool, redis, metrics, config.projects(), catalog, timeline,
        List.of(insights), config.query());
  }

  /** Every feature's routes, in the order they are mounted. */
  private static List<RouteGroup> routes(Vertx vertx, TallyConfig httpConfig, IngestService ingest, ServerState state,
                                         EventCatalog catalog, LiveFeed live) {
    // pages of the projects' allowed origins may write (CORS of the write routes, the WebSocket's Origin check)
    BrowserOrigins origins = new BrowserOrigins(httpConfig.projects(), httpConfig.ingest().allowedOrigins());
    return List.of(
        new IngestRoutes(vertx, httpConfig.ingest(), ingest, state, catalog, origins),
        (router, keys, perimeter) -> new SdkRoutes(keys, ingest, catalog, httpConfig.ingest(), origins).mount(router),
        (router, keys, perimeter) -> new ClientAssets().mount(router),
        new QueryRoutes(vertx),
        new InsightRoutes(vertx),
        (router, keys, perimeter) -> new PrivacyRoutes(vertx, keys).mount(router),
        (router, keys, perimeter) -> new DashboardRoutes(vertx, keys, live, httpConfig.http().host(),
            httpConfig.http().port()).mount(router));
  }

  /** The collector flags README.md recommends: under load they halve the young pauses that set the ack tail. */
  public static final String RECOMMENDED_JVM_OPTIONS = "-XX:MaxTenuringThreshold=1 -XX:MaxGCPauseMillis=30";

  /** This JVM's collector, heap and the two flags above, with a hint when they differ from the recommendation. */
  static String collectorSettings() {
    HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    String collectors = ManagementFactory.getGarbageCollectorMXBeans().stream()
        .map(GarbageCollectorMXBean::getName).collect(Collectors.joining(", "));
    return collectorSettings(collectors, Runtime.getRuntime().maxMemory() >> 20,
        hs.getVMOption("MaxTenuringThreshold").getValue(), hs.getVMOption("MaxGCPauseMillis").getValue());
  }

  static String collectorSettings(String collectors, long maxHeapMiB, String tenuring, String pauseMs) {
    String line = "JVM: " + collectors + "; max heap " + maxHeapMiB + " MiB; MaxTenuringThreshold=" + tenuring
        + ", MaxGCPauseMillis=" + pauseMs;
    boolean recommended = RECOMMENDED_JVM_OPTIONS.equals(
        "-XX:MaxTenuringThreshold=" + tenuring + " -XX:MaxGCPauseMillis=" + pauseMs);
    return recommended ? line : line + " (for a steadier ack latency under load run java with "
        + RECOMMENDED_JVM_OPTIONS + ": docs/operations.md)";
  }

  /** Re-opens server-cut sessions still live, so a restart does not split them. */
  private static void warmSessions(Pool pool, Sessionizer sessionizer, int timeoutMinutes) throws Exception {
    pool.preparedQuery("""
            SELECT project_id, coalesce(user_id, anonymous_id) AS actor, session_id, ended_at FROM sessions
            WHERE server_assigned AND ended_at > now() - make_interval(mins => $1::int)
              AND coalesce(user_id, anonymous_id) IS NOT NULL
            """).execute(io.vertx.sqlclient.Tuple.of(timeoutMinutes))
        .onSuccess(rows -> rows.forEach(r -> sessionizer.remember(r.getString(0), r.getString(1), r.getString(2),
            r.getOffsetDateTime(3).toInstant())))
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** redis://user:secret@host:port → redis://user@host:port; redis://:secret@host → redis://host. */
  static String withoutPassword(String url) {
    int start = url.indexOf("://");
    // the last '@': a password written without percent-encoding may hold '@' or '/' itself
    int at = url.lastIndexOf('@');
    if (start < 0 || at < start) {
      return url;
    }
    String user = url.substring(start + 3, at);
    int colon = user.indexOf(':');
    user = colon < 0 ? user : user.substring(0, colon);
    return url.substring(0, start + 3) + (user.isEmpty() ? "" : user + "@") + url.substring(at + 1);
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The routes of the HTTP server ("METHOD path"), as its first verticle mounted them. */
  public java.util.List<String> routes() {
    return httpVerticles.get(0).routes();
  }

  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public EventRing ring() {
    return ring;
  }

  public PgUrl pgUrl() {
    return servers.pgUrl();
  }

  public TallyConfig config() {
    return config;
  }

  /** Retention runs, person deletion and export. */
  public LifecycleVerticle lifecycle() {
    return lifecycle;
  }

  /**
   * Graceful shutdown: readiness goes 503 and new requests/connections are refused, the ring is drained and its
   * batches committed (so their acks go out), then WebSockets are closed with 1001 and everything stops.
   */
  public Future<Void> shutdown() {
    state.startClosing();
    return writer.drain(config.writer().shutdownDrainMs())
        .recover(err -> Future.succeededFuture(false))
        .compose(drained -> {
          if (!drained) {
            // under load the derived tables' last sync (every waiting row) can take longer than the drain allows
            LOG.warn("shutdown: not fully drained within {} ms: {} events left unacked in the ring (clients will "
                + "retry); derived rows not yet written are re-derived from the stored events at the next start",
                config.writer().shutdownDrainMs(), ring.occupancy());
          }
          for (ServerWebSocket ws : new ArrayList<>(state.sockets())) {
            ws.close((short) 1001, "server shutting down");
          }
          List<Future<Void>> closing = new ArrayList<>();
          for (HttpServerVerticle v : httpVerticles) {
            closing.add(v.shutdownServer(1000));
          }
          return Future.join(closing).recover(err -> Future.succeededFuture());
        })
        .compose(v -> vertx.close())
        .eventually(() -> {
          stopEmbedded();
          return Future.succeededFuture();
        })
        .mapEmpty();
  }

  private void stopEmbedded() {
    try {
      if (servers.embeddedRedis() != null) {
        servers.embeddedRedis().close();
      }
    } catch (RuntimeException e) {
      LOG.warn("stopping embedded Redis failed: {}", e.toString());
    }
    try {
      if (servers.embeddedPg() != null) {
        servers.embeddedPg().close();
      }
    } catch (RuntimeException e) {
      LOG.warn("stopping embedded PostgreSQL failed: {}", e.toString());
    }
  }
}
