package io.tally.dashboard;

import io.tally.realtime.LiveWindow;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * {@code --demo}: the history and the present of a chat product ({@link DemoWorld}), sent through the normal ingestion
 * path ({@code POST /v1/events} with the project's write key). First the back-fill: every event of the last
 * {@link Options#days} days up to the live window before now (older than the live views' hour, so they count it at
 * its own time and not as live traffic: {@link LiveWindow}); then the present, played as it happens: each event
 * of the world is sent when its time comes. Event ids are stable, so a restart re-sends its last days as duplicates,
 * which Tally drops; older days that already hold events are not sent again (the dedupe registry forgets ids after
 * {@code writer.dedupeWindowDays}).
 */
public final class DemoTraffic {
  private static final Logger LOG = LoggerFactory.getLogger(DemoTraffic.class);
  /** Days re-sent on a restart whatever they hold: within the dedupe registry's minimum window of 7 days. */
  static final int RESEND_DAYS = 6;
  /** The Overview's default period (7 days) and the one it is compared with. */
  static final int OVERVIEW_DAYS = 14;

  /**
   * @param days            days of history to back-fill (today's hours before the live window included)
   * @param arrivalsPerDay  people joining on a weekday now: the world's size
   * @param incidentDaysAgo the provider outage happens this many days before today (UTC)
   */
  public record Options(int days, double arrivalsPerDay, int incidentDaysAgo) {
    public Options {
      if (days < 1 || days > 365) {
        throw new IllegalArgumentException("days must be 1 to 365");
      }
      if (incidentDaysAgo < 1) {
        throw new IllegalArgumentException("incidentDaysAgo must be at least 1 (a whole day in the past)");
      }
    }

    /**
     * Eight weeks (the weekly baselines of the anomaly detector, a 30-day window with most of the one before it for
     * the patterns' backtests) of a product with about 180 weekly active people now: about 65,000 events.
     */
    public static Options defaults() {
      return new Options(56, 9, 3);
    }
  }

  /** What the back-fill did. */
  public record Backfill(int days, int daysSkipped, long sent, long accepted, long millis) {}

  private final Vertx vertx;
  private final int port;
  private final String readKey;
  private final Options options;
  private final Clock clock;
  private final DemoSender sender;
  private final DemoWorld world;
  private final LocalDate today;
  private final Instant now;
  private final PriorityQueue<JsonObject> upcoming = new PriorityQueue<>(Comparator.comparing(
      (JsonObject e) -> e.getString("timestamp")));
  /** The last day whose events were queued for playing. */
  private LocalDate playing;
  private long timer = -1;
  private boolean stopped;

  public DemoTraffic(Vertx vertx, int port, String writeKey, String readKey) {
    this(vertx, port, writeKey, readKey, Options.defaults(), Clock.systemUTC());
  }

  DemoTraffic(Vertx vertx, int port, String writeKey, String readKey, Options options, Clock clock) {
    this.vertx = vertx;
    this.port = port;
    this.readKey = readKey;
    this.options = options;
    this.clock = clock;
    this.sender = new DemoSender(vertx, port, writeKey);
    this.now = clock.instant();
    this.today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    this.world = new DemoWorld(today, options.arrivalsPerDay(), today.minusDays(options.incidentDaysAgo()));
    this.playing = today.minusDays(1);
  }

  /** The back-fill's end: history stops where the live views' window starts. */
  Instant historyEnd() {
    return now.minus(LiveWindow.WINDOW);
  }

  /** Back-fills, then plays the present until {@link #stop()}; a failure is logged and ends the demo, never Tally. */
  public Future<Backfill> start() {
    long t0 = System.nanoTime();
    return storedDays().compose(stored -> {
      Future<Void> chain = Future.succeededFuture();
      int[] skipped = {0};
      // newest day first: the Overview's period and the one before it are complete a few seconds in, while the
      // older weeks (the baselines of anomalies and patterns) follow
      for (int d = 0; d < options.days(); d++) {
        LocalDate day = today.minusDays(d);
        if (d > RESEND_DAYS && stored.contains(day)) {
          skipped[0]++;
        } else {
          chain = chain.compose(v -> vertx.executeBlocking(() -> history(day), false)).compose(sender::sendAll);
        }
        if (d == OVERVIEW_DAYS - 1) {
          chain = chain.onSuccess(v -> LOG.info("demo: the last {} days are in (the Overview's default period and the "
              + "one before it), {} ms after the start; older weeks follow", OVERVIEW_DAYS,
              (System.nanoTime() - t0) / 1_000_000));
        }
      }
      return chain.map(v -> new Backfill(options.days(), skipped[0], sender.sent.get(), sender.accepted.get(),
          (System.nanoTime() - t0) / 1_000_000));
    }).onComplete(r -> {
      if (r.failed()) {
        LOG.warn("demo: the back-fill failed ({}); no live traffic", r.cause().toString());
        return;
      }
      Backfill b = r.result();
      LOG.info("demo: back-filled {} days of history ({} already stored, skipped): {} events sent, {} new, in {} ms; "
          + "now streaming the present", b.days(), b.daysSkipped(), b.sent(), b.accepted(), b.millis());
      if (!stopped) {
        timer = vertx.setPeriodic(0, 1000, id -> tick(clock.instant())
            .onFailure(err -> LOG.debug("demo: a live batch failed: {}", err.toString())));
      }
    });
  }

  public void stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    sender.close();
  }

  /** The world's events of {@code day} that are history: before {@link #historyEnd()}, in time order. */
  List<JsonObject> history(LocalDate day) {
    String end = historyEnd().toString();
    List<JsonObject> out = new ArrayList<>();
    for (DemoVisit v : world.visits(day)) {
      for (JsonObject e : v.events()) {
        if (e.getString("timestamp").compareTo(end) < 0) {
          out.add(e);
        }
      }
    }
    out.sort(Comparator.comparing(e -> e.getString("timestamp")));
    return out;
  }

  /**
   * Every second: the world's events whose time has come since the demo started (the present, played live), at most a
   * batch; the answer completes when Tally acknowledged them.
   */
  synchronized Future<Integer> tick(Instant at) {
    LocalDate day = LocalDate.ofInstant(at, ZoneOffset.UTC);
    String start = now.toString();
    while (playing.isBefore(day)) {
      playing = playing.plusDays(1);
      for (DemoVisit v : world.visits(playing)) {
        for (JsonObject e : v.events()) {
          if (e.getString("timestamp").compareTo(start) >= 0) {
            upcoming.add(e);
          }
        }
      }
    }
    JsonArray batch = new JsonArray();
    String until = at.toString();
    while (!upcoming.isEmpty() && upcoming.peek().getString("timestamp").compareTo(until) <= 0
        && batch.size() < DemoSender.BATCH) {
      batch.add(upcoming.poll());
    }
    if (batch.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return sender.send(batch).map(batch.size());
  }

  /**
   * The UTC days of the back-fill that already hold events (a previous run's), from the hourly event counts; none
   * without a read key or when the query fails (then every day is sent, and the registry drops what it knows).
   */
  private Future<Set<LocalDate>> storedDays() {
    if (readKey == null) {
      return Future.succeededFuture(Set.of());
    }
    Instant from = today.minusDays(options.days() - 1L).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = today.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    HttpClient client = vertx.createHttpClient();
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
        .setURI("/v1/timeseries?metric=events&interval=hour&from=" + from + "&to=" + to)
        .putHeader("Authorization", "Bearer " + readKey);
    return client.request(o).compose(req -> req.send()).compose(res -> res.body().map(b -> {
      Set<LocalDate> days = new HashSet<>();
      if (res.statusCode() == 200) {
        for (Object p : new JsonObject(b).getJsonArray("points")) {
          JsonObject point = (JsonObject) p;
          if (point.getDouble("value") > 0) {
            days.add(LocalDate.ofInstant(Instant.parse(point.getString("t")), ZoneOffset.UTC));
          }
        }
      } else {
        LOG.warn("demo: could not read which days are stored (HTTP {}): sending them all", res.statusCode());
      }
      return days;
    })).recover(err -> {
      LOG.warn("demo: could not read which days are stored ({}): sending them all", err.toString());
      return Future.succeededFuture(Set.<LocalDate>of());
    }).onComplete(r -> client.close());
  }
}
