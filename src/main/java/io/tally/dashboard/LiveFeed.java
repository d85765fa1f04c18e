package io.tally.dashboard;

import io.tally.event.Event;
import io.tally.realtime.LiveWindow;
import io.tally.schema.RollupDimension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latest committed events of each project, for the dashboard's live tail. Fed by the writer's commit listener
 * (one call per batch: a counter and a reference per event, nothing converted on the writer's thread); read by the
 * live connections on the HTTP event loops, which turn the events they push into JSON. Keeps at most
 * {@code capacity} events per project.
 */
public final class LiveFeed {
  private final int capacity;
  private final Map<String, Tail> tails = new ConcurrentHashMap<>();

  public LiveFeed(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.capacity = capacity;
  }

  /**
   * Called on the writer's context after a commit; bots are left out, as everywhere in the analytics, and so are
   * events received long after they happened (a back-fill, an import: {@link LiveWindow}), which are not live.
   */
  public void record(List<Event> stored) {
    Tail last = null;
    for (int i = stored.size() - 1; i >= 0; i--) {
      Event e = stored.get(i);
      if (!LiveWindow.counts(e)) {
        continue;
      }
      Tail t = last != null && last.project.equals(e.projectId()) ? last
          : tails.computeIfAbsent(e.projectId(), p -> new Tail(p, capacity));
      t.addNewest(e);
      last = t;
    }
    tails.values().forEach(Tail::publishPending);
  }

  /**
   * Events of the project with a sequence number above {@code afterSeq}, oldest first, at most {@code max}, and
   * {@code total}: the project's live events committed since this server started (bots and late events excluded).
   */
  public JsonObject since(String project, long afterSeq, int max) {
    Tail t = tails.get(project);
    return t == null ? new JsonObject().put("seq", 0L).put("total", 0L).put("events", new JsonArray())
        : t.since(afterSeq, max);
  }

  /** The event's enrichment dimensions (country, device, browser…), as the rollups and the API name them. */
  private static final RollupDimension[] ENRICHED = RollupDimension.ALL.stream()
      .filter(d -> d.source() == RollupDimension.Source.ENRICHMENT).toArray(RollupDimension[]::new);

  static JsonObject describe(Event e, long seq) {
    Event.Enrichment en = e.enrichment() == null ? Event.Enrichment.NONE : e.enrichment();
    Event.Measures m = e.measures() == null ? Event.Measures.NONE : e.measures();
    JsonObject o = new JsonObject()
        .put("seq", seq)
        .put("id", e.id().toString())
        .put("timestamp", e.timestamp().toString())
        .put("receivedAt", e.receivedAt() == null ? null : e.receivedAt().toString())
        .put("type", e.type())
        .put("category", e.category())
        .put("userId", e.actor())
        .put("sessionId", e.sessionId())
        .put("provider", m.provider())
        .put("model", m.model());
    for (RollupDimension d : ENRICHED) {
      o.put(d.apiName(), d.event().read(en));
    }
    if (m.has(Event.Measures.TOKENS)) {
      o.put("tokens", m.tokens());
    }
    if (m.has(Event.Measures.COST)) {
      o.put("cost", m.cost());
    }
    if (e.client() != null && e.client().pagePath() != null) {
      o.put("page", e.client().pagePath());
    }
    return o;
  }

  private record Entry(long seq, Event event) {
  }

  /** One project's tail. Writers add newest-first within a batch, then publish the batch in time order. */
  private static final class Tail {
    private final String project;
    private final int capacity;
    private final ArrayDeque<Entry> events;
    private final ArrayDeque<Event> pending = new ArrayDeque<>();
    private long seq;
    private long total;

    Tail(String project, int capacity) {
      this.project = project;
      this.capacity = capacity;
      this.events = new ArrayDeque<>(capacity);
    }

    synchronized void addNewest(Event e) {
      total++;
      if (pending.size() < capacity) {
        pending.addFirst(e); // walking the batch backwards: the first element stays the oldest
      }
    }

    synchronized void publishPending() {
      for (Event e : pending) {
        events.addLast(new Entry(++seq, e));
        if (events.size() > capacity) {
          events.removeFirst();
        }
      }
      pending.clear();
    }

    JsonObject since(long afterSeq, int max) {
      ArrayDeque<Entry> picked = new ArrayDeque<>();
      long lastSeq;
      long lastTotal;
      synchronized (this) {
        Iterator<Entry> it = events.descendingIterator();
        while (it.hasNext() && picked.size() < max) {
          Entry e = it.next();
          if (e.seq() <= afterSeq) {
            break;
          }
          picked.addFirst(e);
        }
        lastSeq = seq;
        lastTotal = total;
      }
      JsonArray out = new JsonArray(); // converted outside the lock, on the reader's thread
      picked.forEach(e -> out.add(describe(e.event(), e.seq())));
      return new JsonObject().put("seq", lastSeq).put("total", lastTotal).put("events", out);
    }
  }
}
