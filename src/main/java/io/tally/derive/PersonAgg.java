package io.tally.derive;

import io.tally.event.Event;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static io.tally.derive.DerivedBatch.*;

/**
 * A person's events within one flush: first and last times, count, traits (for each key, the value of the latest
 * event that set it, ties to the greater event id) and first and last touch (the attribution of the earliest and
 * latest events with one).
 */
final class PersonAgg extends WaitingRows.Row<PersonAgg> {
  final String project;
  final String user;
  final String anon;
  long firstUs = Long.MAX_VALUE;
  long lastUs = Long.MIN_VALUE;
  long count;
  /** key → {time µs, event id, value}; null until an event sets a trait. */
  Map<String, Trait> traits;
  String firstTouch;
  long firstTouchUs;
  UUID firstTouchEvent;
  String lastTouch;
  long lastTouchUs;
  UUID lastTouchEvent;

  /** One trait's value and the event it comes from. */
  record Trait(long us, UUID event, Object value) {}

  PersonAgg(String project, String user, String anon) {
    this.project = project;
    this.user = user;
    this.anon = anon;
  }

  void add(Event e, Event.Enrichment en, long t) {
    count++;
    firstUs = Math.min(firstUs, t);
    lastUs = Math.max(lastUs, t);
    String props = e.client().userPropertiesJson();
    if (props != null) {
      JsonObject o;
      try {
        o = new JsonObject(props);
      } catch (RuntimeException bad) {
        o = null; // only an object is sliced; stored as sent, it is read the same way by the re-derivation
      }
      if (o != null) {
        for (Map.Entry<String, Object> kv : o) {
          trait(kv.getKey(), new Trait(t, e.id(), kv.getValue()));
        }
      }
    }
    if (en.attributionJson() != null) {
      touch(en.attributionJson(), t, e.id(), en.attributionJson(), t, e.id());
    }
  }

  private void trait(String key, Trait v) {
    if (traits == null) {
      traits = new HashMap<>(8);
    }
    Trait old = traits.get(key);
    if (old == null || DerivedOrder.before(old.us(), old.event(), v.us(), v.event())) {
      traits.put(key, v);
    }
  }

  private void touch(String first, long firstT, UUID firstId, String last, long lastT, UUID lastId) {
    if (firstTouchEvent == null || DerivedOrder.before(firstT, firstId, firstTouchUs, firstTouchEvent)) {
      firstTouch = first;
      firstTouchUs = firstT;
      firstTouchEvent = firstId;
    }
    if (lastTouchEvent == null || DerivedOrder.before(lastTouchUs, lastTouchEvent, lastT, lastId)) {
      lastTouch = last;
      lastTouchUs = lastT;
      lastTouchEvent = lastId;
    }
  }

  /** The traits as {@code {key: [epoch µs, event id, value]}} (what {@code tally_traits_merge} merges), or null. */
  String traitsSource() {
    if (traits == null) {
      return null;
    }
    JsonObject src = new JsonObject();
    traits.forEach((k, v) -> src.put(k, new JsonArray().add(v.us()).add(v.event().toString()).add(v.value())));
    return src.encode();
  }

  @Override
  void absorb(PersonAgg o) {
    count += o.count;
    firstUs = Math.min(firstUs, o.firstUs);
    lastUs = Math.max(lastUs, o.lastUs);
    if (o.traits != null) {
      o.traits.forEach(this::trait);
    }
    if (o.firstTouchEvent != null) {
      touch(o.firstTouch, o.firstTouchUs, o.firstTouchEvent, o.lastTouch, o.lastTouchUs, o.lastTouchEvent);
    }
  }
}
