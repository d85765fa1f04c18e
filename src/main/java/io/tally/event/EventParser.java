package io.tally.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.tally.error.ApiError;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a request body straight from bytes with a streaming parser: one pass, no intermediate tree. Sub-objects
 * ({@code properties}, {@code page}, {@code userContext}) are stored as the exact bytes the client sent, checked
 * against {@link EventBounds} in the same pass.
 * <p>
 * Whole-body problems (not UTF-8, malformed JSON, a value no event could hold, too many events) throw
 * {@link ApiError}; a problem with one event of a batch only rejects that event.
 */
public final class EventParser {
  private final JsonFactory factory;
  private final int maxEventBytes;
  private final int maxBatchEvents;
  private final long maxFutureSkewMs;
  private final EventCatalog catalog;

  public EventParser(int maxEventBytes, int maxBatchEvents, long maxFutureSkewMs) {
    this(maxEventBytes, maxBatchEvents, maxFutureSkewMs, EventCatalog.empty());
  }

  public EventParser(int maxEventBytes, int maxBatchEvents, long maxFutureSkewMs, EventCatalog catalog) {
    if (maxEventBytes <= 0 || maxBatchEvents <= 0 || maxFutureSkewMs < 0) {
      throw new IllegalArgumentException("limits must be positive");
    }
    this.maxEventBytes = maxEventBytes;
    this.maxBatchEvents = maxBatchEvents;
    this.maxFutureSkewMs = maxFutureSkewMs;
    this.catalog = catalog;
    // hostile bodies fail fast inside Jackson: no event could hold a string or name longer than an event, a number
    // longer than MAX_NUMBER_CHARS is in no bound (and costs quadratic time to parse), nor nesting deeper than this
    this.factory = JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
        .maxNestingDepth(EventBounds.MAX_BODY_DEPTH)
        .maxNumberLength(EventBounds.MAX_NUMBER_CHARS)
        .maxStringLength(maxEventBytes)
        .maxNameLength(maxEventBytes)
        .build()).build();
  }

  public EventCatalog catalog() {
    return catalog;
  }

  public ParsedBody parse(byte[] buf, int len, String projectId, Instant receivedAt) {
    return parse(buf, len, projectId, false, receivedAt);
  }

  /** @param strict whether unknown event types are refused (the project's strict mode) */
  public ParsedBody parse(byte[] buf, int len, String projectId, boolean strict, Instant receivedAt) {
    BodyEncoding.requireUtf8(buf, len);
    List<Event> events = new ArrayList<>();
    List<Rejection> rejected = new ArrayList<>();
    IntList indexes = new IntList();
    SubObjectWalk walk = new SubObjectWalk();
    try (JsonParser p = factory.createParser(buf, 0, len)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw ApiError.malformedJson("empty body: expected one event or {\"batch\": [...]}");
      }
      if (t == JsonToken.START_ARRAY) {
        int total = parseArray(p, buf, walk, projectId, strict, receivedAt, events, indexes, rejected);
        return body(p, true, null, total, events, indexes, rejected);
      }
      if (t != JsonToken.START_OBJECT) {
        throw ApiError.malformedJson("body must be a JSON object (one event or {\"batch\": [...]}), got " + t);
      }
      return parseObject(p, buf, len, walk, projectId, strict, receivedAt, events, indexes, rejected);
    } catch (StreamConstraintsException e) {
      throw JsonFailures.overLimit(e, maxEventBytes);
    } catch (JsonProcessingException e) {
      throw JsonFailures.malformed(e);
    } catch (IOException e) {
      // not expected when reading a byte array already checked to be UTF-8; its text is never an answer
      throw ApiError.malformedJson("unreadable body: not valid UTF-8 JSON");
    }
  }

  /** A body that is an object: one event, or {"batch": [...]} with an optional "seq". */
  private ParsedBody parseObject(JsonParser p, byte[] buf, int len, SubObjectWalk walk, String projectId,
                                 boolean strict, Instant receivedAt, List<Event> events, IntList indexes,
                                 List<Rejection> rejected) throws IOException {
    EventFields single = new EventFields(buf, walk);
    boolean batch = false;
    Long seq = null;
    int total = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (name.equals("batch")) {
        if (value != JsonToken.START_ARRAY) {
          throw ApiError.badRequest("batch", "batch must be an array of events");
        }
        batch = true;
        total = parseArray(p, buf, walk, projectId, strict, receivedAt, events, indexes, rejected);
      } else if (name.equals("seq") && value != JsonToken.START_OBJECT && value != JsonToken.START_ARRAY) {
        if (value == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          seq = p.getLongValue();
        } else if (value != JsonToken.VALUE_NULL) {
          throw ApiError.badRequest("seq", "seq must be a 64-bit integer");
        }
      } else {
        single.field(name, p);
      }
    }
    if (!batch) {
      total = 1;
      if (len > maxEventBytes) {
        throw ApiError.tooLarge("ingest.maxEventBytes", maxEventBytes,
            "event is " + len + " bytes; the limit ingest.maxEventBytes is " + maxEventBytes);
      }
      addOrReject(single, 0, projectId, strict, receivedAt, events, indexes, rejected);
    }
    return body(p, batch, seq, total, events, indexes, rejected);
  }

  /** The parsed body, once nothing follows the JSON value. */
  private static ParsedBody body(JsonParser p, boolean batch, Long seq, int total, List<Event> events,
                                 IntList indexes, List<Rejection> rejected) throws IOException {
    if (p.nextToken() != null) {
      throw ApiError.malformedJson("unexpected content after the end of the JSON body");
    }
    return new ParsedBody(batch, seq, total, events, indexes.toArray(), rejected);
  }

  private int parseArray(JsonParser p, byte[] buf, SubObjectWalk walk, String projectId, boolean strict,
                         Instant receivedAt, List<Event> events,
                         IntList indexes, List<Rejection> rejected) throws IOException {
    int index = 0;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t == null) {
        throw ApiError.malformedJson("unterminated batch array");
      }
      if (index >= maxBatchEvents) {
        throw ApiError.tooLarge("ingest.maxBatchEvents", maxBatchEvents,
            "batch has more than " + maxBatchEvents + " events; the limit ingest.maxBatchEvents is " + maxBatchEvents);
      }
      if (t != JsonToken.START_OBJECT) {
        p.skipChildren();
        rejected.add(new Rejection(index, "event", "event must be a JSON object"));
        index++;
        continue;
      }
      long start = p.currentTokenLocation().getByteOffset();
      EventFields f = new EventFields(buf, walk);
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        f.field(name, p);
      }
      long size = p.currentLocation().getByteOffset() - start;
      if (size > maxEventBytes) {
        rejected.add(new Rejection(index, "ingest.maxEventBytes",
            "event is " + size + " bytes; the limit ingest.maxEventBytes is " + maxEventBytes, (long) maxEventBytes));
      } else {
        addOrReject(f, index, projectId, strict, receivedAt, events, indexes, rejected);
      }
      index++;
    }
    return index;
  }

  private void addOrReject(EventFields f, int index, String projectId, boolean strict, Instant receivedAt,
                           List<Event> events, IntList indexes, List<Rejection> rejected) {
    Event e = f.build(projectId, receivedAt, maxFutureSkewMs, catalog, strict);
    if (e == null) {
      rejected.add(new Rejection(index, f.errorField(), f.error(), f.errorLimit()));
    } else {
      events.add(e);
      indexes.add(index);
    }
  }

  /** Growable int array, to avoid boxing the accepted indexes. */
  private static final class IntList {
    private int[] a = new int[16];
    private int n;

    void add(int v) {
      if (n == a.length) {
        a = java.util.Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    int[] toArray() {
      return java.util.Arrays.copyOf(a, n);
    }
  }
}
