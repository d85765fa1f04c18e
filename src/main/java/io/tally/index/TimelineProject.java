package io.tally.index;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.tally.index.EventTimeline.*;

/** One project's events per person (and its person-less events, which only session and event figures use). */
public final class TimelineProject {
  public final Map<String, Integer> ids = new HashMap<>();
  public final List<String> keys = new ArrayList<>();
  public Track[] tracks = new Track[1024];
  /** Events without a person (a session id only): never counted as a person, never in a funnel. */
  public final Track orphans = new Track();
  public final Sessions sessions = new Sessions();
  final Map<List<String>, Integer> comboIds = new HashMap<>();
  final List<String[]> combos = new ArrayList<>();
  public final Map<String, Integer> typeIds = new HashMap<>();
  public final List<String> types = new ArrayList<>();
  /** anonymous (or previous) id → the user its events are stored under, as in {@code identities}. */
  final Map<String, String> links = new HashMap<>();
  public long size;
  boolean overflow;

  int person(String key) {
    Integer id = ids.get(key);
    if (id != null) {
      return id;
    }
    int n = keys.size();
    ids.put(key, n);
    keys.add(key);
    if (n == tracks.length) {
      tracks = Arrays.copyOf(tracks, n * 2);
    }
    tracks[n] = new Track();
    return n;
  }

  int type(String name) {
    Integer id = typeIds.get(name);
    if (id != null) {
      return id;
    }
    if (types.size() == MAX_TYPES) {
      overflow = true;
      return 0;
    }
    types.add(name);
    typeIds.put(name, types.size() - 1);
    return types.size() - 1;
  }

  /**
   * The stored person of an event: the user its user id (an alias's previous id) or, without one, its anonymous id
   * was linked to; else the user id, else the anonymous id.
   */
  String key(String user, String anon) {
    String id = user != null ? user : anon;
    return id == null ? null : links.getOrDefault(id, id);
  }

  /** The number of a dimension combination (values as stored: null when absent). */
  int combo(String[] values) {
    List<String> k = Arrays.asList(values);
    Integer id = comboIds.get(k);
    if (id == null) {
      String[] copy = values.clone();
      id = combos.size();
      combos.add(copy);
      comboIds.put(Arrays.asList(copy), id);
    }
    return id;
  }

  /** Adds an event of a person ({@code key}), or a person-less one ({@code key} null). */
  public void add(String key, long ms, String type, String[] dimValues, String session) {
    int s = session == null ? -1 : sessions.id(session, ms);
    Track t = orphans;
    if (key != null) {
      int p = person(key); // may grow the tracks array: index it after the call
      t = tracks[p];
    }
    t.insert((ms << TYPE_BITS) | type(type), combo(dimValues), s);
    size++;
  }

  /** Moves the history of {@code from} to {@code to} (an identity merge). */
  public void merge(String from, String to) {
    links.putIfAbsent(from, to);
    Integer f = ids.get(from);
    if (f == null || tracks[f].len == 0 || from.equals(to)) {
      return;
    }
    int t = person(to);
    tracks[t] = Track.merged(tracks[f], tracks[t]);
    tracks[f] = new Track();
  }

  void forget(String key) {
    Integer f = ids.get(key);
    if (f != null) {
      size -= tracks[f].len;
      tracks[f] = new Track();
    }
  }

  public int persons() {
    return keys.size();
  }

  /** Index of the first event of person p at or after {@code ms}. */
  public int from(int p, long ms) {
    return tracks[p].from(ms);
  }

  /** The persons with an event in [toMs, endMs) and none in [fromMs, toMs): one pass over the persons. */
  public List<String> onlyAfter(long fromMs, long toMs, long endMs) {
    List<String> out = new ArrayList<>();
    for (int p = 0; p < keys.size(); p++) {
      Track t = tracks[p];
      if (t.len == 0 || ms(t.ev[t.len - 1]) < toMs) {
        continue;
      }
      int i = t.from(fromMs);
      if (i < t.len && ms(t.ev[i]) >= toMs && ms(t.ev[i]) < endMs) {
        out.add(keys.get(p));
      }
    }
    return out;
  }

  /** Per type number: the bit set of steps (or 0). Types unknown to the project match nothing. */
  public int[] masks(List<String> stepTypes) {
    int[] m = new int[types.size()];
    for (int s = 0; s < stepTypes.size(); s++) {
      Integer id = typeIds.get(stepTypes.get(s));
      if (id != null) {
        m[id] |= 1 << s;
      }
    }
    return m;
  }

  /**
   * One person's events (or a project's person-less ones), sorted by time: the packed time and type, and in parallel
   * the event's dimension combination and its session's number (-1: none).
   */
  public static final class Track {
    public long[] ev = EMPTY;
    public int[] dims = NO_INTS;
    public int[] sess = NO_INTS;
    public int len;

    /** Inserts keeping the events sorted (appends in the usual case: time moves forward). */
    void insert(long v, int combo, int session) {
      int n = len;
      if (n == ev.length) {
        int cap = Math.max(4, n + (n >> 1));
        ev = Arrays.copyOf(ev, cap);
        dims = Arrays.copyOf(dims, cap);
        sess = Arrays.copyOf(sess, cap);
      }
      int i = n == 0 || ev[n - 1] <= v ? n : upper(ev, 0, n, v);
      if (i < n) {
        System.arraycopy(ev, i, ev, i + 1, n - i);
        System.arraycopy(dims, i, dims, i + 1, n - i);
        System.arraycopy(sess, i, sess, i + 1, n - i);
      }
      ev[i] = v;
      dims[i] = combo;
      sess[i] = session;
      len = n + 1;
    }

    /** Both tracks' events in one, in time order. */
    static Track merged(Track a, Track b) {
      Track out = new Track();
      int n = a.len + b.len;
      out.ev = new long[n];
      out.dims = new int[n];
      out.sess = new int[n];
      int i = 0;
      int j = 0;
      for (int k = 0; k < n; k++) {
        Track src;
        int at;
        if (j >= b.len || (i < a.len && a.ev[i] <= b.ev[j])) {
          src = a;
          at = i++;
        } else {
          src = b;
          at = j++;
        }
        out.ev[k] = src.ev[at];
        out.dims[k] = src.dims[at];
        out.sess[k] = src.sess[at];
      }
      out.len = n;
      return out;
    }

    /** Index of the first event at or after {@code ms}. */
    public int from(long ms) {
      return lower(ev, 0, len, ms << TYPE_BITS);
    }
  }

  /**
   * A project's sessions: a dense number per session id, and each session's first and last event (epoch ms) over the
   * events held, which is how the {@code sessions} table defines start, end, duration and bounce. Session ids are
   * kept as two independent 64-bit hashes in an open-addressing table (~40 bytes a session instead of ~140 for a
   * string map); telling two ids apart then fails with probability ~n²/2¹²⁹.
   */
  public static final class Sessions {
    private long[] keyA = new long[1024];
    private long[] keyB = new long[1024];
    /** Per slot: session number + 1, 0 when free. */
    private int[] slot = new int[1024];
    public long[] start = new long[256];
    public long[] end = new long[256];
    public int count;

    /** The session's number; widens its first/last event to include {@code ms}. */
    public int id(String session, long ms) {
      long a = hashA(session);
      long b = hashB(session);
      int mask = slot.length - 1;
      int i = (int) a & mask;
      while (slot[i] != 0) {
        if (keyA[i] == a && keyB[i] == b) {
          int id = slot[i] - 1;
          start[id] = Math.min(start[id], ms);
          end[id] = Math.max(end[id], ms);
          return id;
        }
        i = (i + 1) & mask;
      }
      int id = count++;
      if (id == start.length) {
        start = Arrays.copyOf(start, id * 2);
        end = Arrays.copyOf(end, id * 2);
      }
      start[id] = ms;
      end[id] = ms;
      keyA[i] = a;
      keyB[i] = b;
      slot[i] = id + 1;
      if (count * 2 > slot.length) {
        grow();
      }
      return id;
    }

    private void grow() {
      long[] oa = keyA;
      long[] ob = keyB;
      int[] os = slot;
      keyA = new long[os.length * 2];
      keyB = new long[os.length * 2];
      slot = new int[os.length * 2];
      int mask = slot.length - 1;
      for (int k = 0; k < os.length; k++) {
        if (os[k] != 0) {
          int i = (int) oa[k] & mask;
          while (slot[i] != 0) {
            i = (i + 1) & mask;
          }
          keyA[i] = oa[k];
          keyB[i] = ob[k];
          slot[i] = os[k];
        }
      }
    }

    /** FNV-1a over the UTF-16 units, finalised. */
    public static long hashA(String s) {
      long h = 0xcbf29ce484222325L;
      for (int k = 0; k < s.length(); k++) {
        h = (h ^ s.charAt(k)) * 0x100000001b3L;
      }
      return mix(h);
    }

    /** A multiply-rotate hash with other constants, finalised. */
    static long hashB(String s) {
      long h = 0x9E3779B97F4A7C15L ^ s.length();
      for (int k = 0; k < s.length(); k++) {
        h = Long.rotateLeft((h + s.charAt(k)) * 0xC2B2AE3D27D4EB4FL, 31);
      }
      return mix(h ^ 0x27D4EB2F165667C5L);
    }

    /** MurmurHash3's 64-bit finaliser. */
    private static long mix(long h) {
      h ^= h >>> 33;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
      h *= 0xc4ceb9fe1a85ec53L;
      return h ^ (h >>> 33);
    }
  }
}
