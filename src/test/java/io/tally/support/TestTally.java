package io.tally.support;

import io.tally.Tally;
import io.tally.config.ConfigLoader;
import io.tally.config.ProjectConfig;
import io.tally.config.TallyConfig;

import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** Starts a Tally against the shared test servers, with a fresh project (so tests never see each other's data). */
public final class TestTally implements AutoCloseable {
  public final Tally tally;
  public final String project;
  public final String writeKey;
  public final String readKey;
  public final Http http;

  private TestTally(Tally tally, String project, String writeKey, String readKey) {
    this.tally = tally;
    this.project = project;
    this.writeKey = writeKey;
    this.readKey = readKey;
    this.http = new Http(tally.port(), writeKey, readKey);
  }

  public static TestTally start() {
    return start(UnaryOperator.identity());
  }

  public static TestTally start(UnaryOperator<TallyConfig> tweak) {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    return start("p-" + suffix, "w-key-" + suffix, "r-key-" + suffix, tweak);
  }

  /** Starts with a fresh project that also has the given admin key (deletions, exports, insight settings). */
  public static TestTally startWithAdmin(String adminKey) {
    return startWithAdmin(adminKey, UnaryOperator.identity());
  }

  /** {@link #startWithAdmin(String)}, the configuration then changed by {@code tweak}. */
  public static TestTally startWithAdmin(String adminKey, UnaryOperator<TallyConfig> tweak) {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String project = "p-" + suffix;
    return start(project, "w-key-" + suffix, "r-key-" + suffix, c -> tweak.apply(c.withProjects(List.of(
        new ProjectConfig(project, List.of("w-key-" + suffix), List.of("r-key-" + suffix), ZoneOffset.UTC)
            .withAdminKeys(List.of(adminKey))))));
  }

  /** Starts with an explicit project and keys (to restart "the same" server). */
  public static TestTally start(String project, String writeKey, String readKey, UnaryOperator<TallyConfig> tweak) {
    TestServers servers = TestServers.get();
    TallyConfig base = ConfigLoader.bind(ConfigLoader.defaults());
    TallyConfig cfg = base
        .withHttp(new TallyConfig.Http("127.0.0.1", 0, 2))
        .withStorage(new TallyConfig.Storage(base.storage().dataDir(), servers.pgUrl().url(), servers.redisUrl(),
            4, 0, 0))
        .withProjects(List.of(new ProjectConfig(project, List.of(writeKey), List.of(readKey), ZoneOffset.UTC)));
    try {
      return new TestTally(Tally.start(tweak.apply(cfg)), project, writeKey, readKey);
    } catch (Exception e) {
      throw new IllegalStateException("test Tally failed to start", e);
    }
  }

  /**
   * Waits until no stored person or session has events waiting to be written (after a burst of at least
   * {@code DerivedUpdater.MIN_WAIT_EVENTS} events in one flush they may wait one more flush).
   */
  /**
   * Waits until the derived tables hold every committed event: no stored event waits for a derived flush (the lag
   * gauge is 0) and no derived row waits for its newer events, seen on two readings in a row (the writer hands a
   * committed batch to the derived pipeline just after acking it).
   */
  /** The value of a series of this server's {@code /metrics} (NaN when absent). */
  public double metric(String series) {
    return http.get("/metrics").body().lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).orElse(Double.NaN);
  }

  public void awaitDerived() {
    int[] quiet = {0};
    Eventually.until("derived tables caught up", 60, () -> {
      double behind = http.get("/metrics").body().lines()
          .filter(l -> l.startsWith("analytics_derived_rows_waiting{") || l.startsWith("analytics_derived_lag_seconds"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
      quiet[0] = behind == 0 ? quiet[0] + 1 : 0;
      return quiet[0] >= 2;
    });
  }

  public void stop() {
    try {
      tally.shutdown().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
