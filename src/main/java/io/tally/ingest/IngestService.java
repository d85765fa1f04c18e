package io.tally.ingest;

import io.tally.auth.KeyAuth;
import io.tally.auth.Perimeter;
import io.tally.auth.TokenBucket;
import io.tally.buffer.EventRing;
import io.tally.buffer.IngestTicket;
import io.tally.buffer.PendingEvent;
import io.tally.config.ProjectConfig;
import io.tally.enrich.Enricher;
import io.tally.error.ApiError;
import io.tally.event.Event;
import io.tally.event.EventParser;
import io.tally.event.ParsedBody;
import io.tally.event.Rejection;
import io.tally.http.ServerState;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The ingestion path shared by HTTP and WebSocket: parse and validate, reserve room in the ring for all valid
 * events at once (or answer 503), publish, and answer once the writer has committed them.
 */
public final class IngestService {
  /** What a client hears of an event PostgreSQL refused: its error text is internal (and logged here). */
  static final String STORAGE_REFUSED = "refused by storage as invalid data (logged); not stored";
  private final EventRing ring;
  private final EventParser parser;
  private final TallyMetrics metrics;
  private final ServerState state;
  private final long retryAfterMs;
  private final Enricher enricher;
  private final SuppressionList suppressions;

  public IngestService(EventRing ring, EventParser parser, Enricher enricher, TallyMetrics metrics,
                       ServerState state, long retryAfterMs) {
    this(ring, parser, enricher, metrics, state, retryAfterMs, SuppressionList.NONE);
  }

  public IngestService(EventRing ring, EventParser parser, Enricher enricher, TallyMetrics metrics,
                       ServerState state, long retryAfterMs, SuppressionList suppressions) {
    this.suppressions = suppressions;
    this.enricher = enricher;
    this.ring = ring;
    this.parser = parser;
    this.metrics = metrics;
    this.state = state;
    this.retryAfterMs = retryAfterMs;
  }

  /** The parsed request plus the future answer; {@code seq} is what the client sent, if anything. */
  /** Where the enrichment's locations come from (GET /v1/about). */
  public JsonObject location() {
    return enricher.location();
  }

  public record Submission(Long seq, Future<JsonObject> answer) {}

  /**
   * Must be called on an event loop (the answer is delivered there). Throws {@link ApiError} for whole-request
   * problems; per-event problems are listed in the answer.
   *
   * @param singleInvalidIsError whether an invalid single-event body fails the request (HTTP: 400) rather than
   *                             being answered as a rejection (WebSocket ack)
   */
  public Submission submit(KeyAuth.Principal principal, byte[] buf, int len, long startNanos,
                           boolean singleInvalidIsError, Enricher.RequestInfo request) {
    ParsedBody body;
    try {
      body = parser.parse(buf, len, principal.projectId(), principal.project().strictEventTypes(), Instant.now());
    } catch (ApiError e) {
      metrics.eventsRejected(e.status() == 413 ? "too_large" : "malformed", 1);
      throw e;
    }
    if (!body.rejected().isEmpty()) {
      metrics.eventsRejected("invalid", body.rejected().size());
    }
    int tokens = body.total();
    spend(principal, tokens);
    try {
      return submitParsed(principal, body, startNanos, singleInvalidIsError, request);
    } catch (ApiError e) {
      if (e.status() == 503) {
        // refused whole for the server's sake (shutting down, ring full): nothing stored, nothing spent
        principal.bucket().giveBack(tokens);
      }
      throw e;
    }
  }

  /**
   * Spends one token per event of the request, all or none: a request over its key's rate is refused whole (429,
   * nothing stored), one bigger than the burst can never pass (413).
   */
  private void spend(KeyAuth.Principal principal, int events) {
    TokenBucket bucket = principal.bucket();
    if (events > bucket.burst()) {
      metrics.eventsRejected("rate_limited", events);
      throw ApiError.tooLarge("rateLimits.writeBurst", bucket.burst(), "this request holds " + events + " events, more"
          + " than this key's burst of " + bucket.burst() + " (rateLimits.writeBurst): it could never pass; send "
          + "smaller batches");
    }
    long wait = events == 0 ? 0 : bucket.take(events, System.nanoTime());
    if (wait > 0) {
      metrics.eventsRejected("rate_limited", events);
      Perimeter perimeter = state.perimeter();
      if (perimeter != null) {
        perimeter.metrics().rateLimited("write");
      }
      throw KeyAuth.rateLimited(principal, wait);
    }
  }

  private Submission submitParsed(KeyAuth.Principal principal, ParsedBody body, long startNanos,
                                  boolean singleInvalidIsError, Enricher.RequestInfo request) {
    if (!body.batch() && singleInvalidIsError && !body.rejected().isEmpty()) {
      Rejection r = body.rejected().get(0);
      throw ApiError.badRequest(r.field(), r.error(), r.limit());
    }
    int[] ignored = new int[2];
    body = withoutUntracked(body, principal.project(), request, ignored);
    JsonObject ignoredJson = ignored[0] + ignored[1] == 0 ? null
        : new JsonObject().put("doNotTrack", ignored[0]).put("suppressed", ignored[1]);
    ParsedBody kept = body;
    List<Event> parsed = body.events();
    if (parsed.isEmpty()) {
      return new Submission(body.seq(), Future.succeededFuture(withIgnored(answer(body,
          new IngestTicket.Outcome(0, 0, List.of())), ignoredJson)));
    }
    if (state.closing()) {
      throw ApiError.unavailable("shutting_down", "server is shutting down; retry against another instance or later",
          retryAfterMs);
    }
    if (!ring.tryReserve(parsed.size())) {
      metrics.eventsRejected("buffer_full", parsed.size());
      throw ApiError.unavailable("buffer_full", "ingestion buffer is full (writer.ringCapacity="
          + ring.capacity() + "); nothing of this request was stored, retry after " + retryAfterMs + " ms",
          retryAfterMs);
    }
    List<Event> events = enricher.enrich(parsed, request, principal.project());
    Context context = Vertx.currentContext();
    IngestTicket ticket = new IngestTicket(context, events.size());
    List<PendingEvent> pending = new ArrayList<>(events.size());
    int[] indexes = body.indexes();
    for (int i = 0; i < events.size(); i++) {
      pending.add(new PendingEvent(events.get(i), ticket, indexes[i]));
    }
    ring.publish(pending);
    Future<JsonObject> answer = ticket.future().map(outcome -> {
      metrics.ackLatency(System.nanoTime() - startNanos);
      return withIgnored(answer(kept, outcome), ignoredJson);
    });
    return new Submission(body.seq(), answer);
  }

  /**
   * Drops, before anything is stored or enriched, the events the project must not keep: Do Not Track (the request's
   * {@code DNT: 1} or the event's {@code doNotTrack: true}) when the project honours it, and events of deleted,
   * suppressed persons. They are answered as received (200) and counted; {@code ignored} gets {dnt, suppressed}.
   */
  private ParsedBody withoutUntracked(ParsedBody body, ProjectConfig project, Enricher.RequestInfo request,
                                      int[] ignored) {
    List<Event> events = body.events();
    boolean dnt = project.privacy().doNotTrack();
    if (events.isEmpty()) {
      return body;
    }
    if (dnt && request.doNotTrack()) {
      ignored[0] = events.size();
      metrics.eventsDoNotTrack(events.size());
      return new ParsedBody(body.batch(), body.seq(), body.total(), List.of(), new int[0], body.rejected());
    }
    List<Event> kept = null;
    int[] idx = body.indexes();
    int[] keptIdx = null;
    int n = 0;
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      boolean drop = false;
      if (dnt && Boolean.TRUE.equals(e.client().doNotTrack())) {
        ignored[0]++;
        drop = true;
      } else if (suppressions.suppressed(e.projectId(), e.userId(), e.anonymousId())) {
        ignored[1]++;
        drop = true;
      }
      if (drop && kept == null) {
        kept = new ArrayList<>(events.subList(0, i));
        keptIdx = java.util.Arrays.copyOf(idx, events.size());
        n = i;
      } else if (!drop && kept != null) {
        kept.add(e);
        keptIdx[n++] = idx[i];
      }
    }
    if (kept == null) {
      return body;
    }
    if (ignored[0] > 0) {
      metrics.eventsDoNotTrack(ignored[0]);
    }
    if (ignored[1] > 0) {
      metrics.eventsSuppressed(ignored[1]);
    }
    return new ParsedBody(body.batch(), body.seq(), body.total(), kept, java.util.Arrays.copyOf(keptIdx, n),
        body.rejected());
  }

  private static JsonObject withIgnored(JsonObject answer, JsonObject ignored) {
    return ignored == null ? answer : answer.put("ignored", ignored);
  }

  static JsonObject answer(ParsedBody body, IngestTicket.Outcome outcome) {
    List<Rejection> all = new ArrayList<>(body.rejected());
    if (!outcome.storeRejections().isEmpty()) {
      // rare (the bounds keep out what PostgreSQL refuses); the writer logs PostgreSQL's words, at most once a minute
      for (Rejection r : outcome.storeRejections()) {
        all.add(new Rejection(r.index(), r.field(), STORAGE_REFUSED));
      }
    }
    all.sort(Comparator.comparingInt(Rejection::index));
    JsonArray rejected = new JsonArray();
    all.forEach(r -> rejected.add(r.toJson()));
    JsonObject out = new JsonObject()
        .put("accepted", outcome.accepted())
        .put("duplicates", outcome.duplicates())
        .put("rejected", rejected);
    JsonArray assigned = null;
    List<Event> events = body.events();
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).idAssigned()) {
        if (assigned == null) {
          assigned = new JsonArray();
        }
        assigned.add(new JsonObject().put("index", body.indexes()[i]).put("id", events.get(i).id().toString()));
      }
    }
    if (assigned != null) {
      out.put("assignedIds", assigned);
    }
    return out;
  }
}
