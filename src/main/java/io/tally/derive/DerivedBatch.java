package io.tally.derive;

import io.tally.event.Event;
import io.tally.schema.EventColumn;
import io.tally.schema.EventColumns;
import io.tally.schema.RollupDimension;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * One flush worth of derived rows, aggregated in memory from committed events: a row per session, person, rollup
 * key, touch and identity link, written by one {@link DerivedSql#FLUSH} statement. A batch the database refuses as
 * data is {@link #split} until the refused row is alone.
 */
final class DerivedBatch {
  /** The page rollup keys on the first this many characters of a path (its btree row must stay under 2,704 bytes). */
  static final int PAGE_PATH_KEY = 500;
  private static final RollupDimension[] DIMS = RollupDimension.ALL.toArray(RollupDimension[]::new);
  private static final List<EventColumn> SESSION_CONTEXT = EventColumns.SESSION_CONTEXT;

  final Map<String, SessionAgg> sessions = new HashMap<>();
  final Map<String, PersonAgg> people = new HashMap<>();
  final List<Event> touches = new ArrayList<>();
  final List<Link> links = new ArrayList<>();
  final Map<HourKey, Sums> hours = new HashMap<>();
  final Map<MinuteKey, long[]> minutes = new HashMap<>();
  final Map<MinuteTypeKey, Sums> minuteTypes = new HashMap<>();
  final Map<PageDayKey, Sums> pages = new HashMap<>();
  final Set<DayKey> days = new HashSet<>();
  final Map<PersonDayKey, Sums> personDays = new HashMap<>();
  final Map<String, Long> minTsByProject = new HashMap<>();
  long oldestReceivedMs = Long.MAX_VALUE;
  /** Events added. */
  int events;
  /** The earliest event time (µs) of the batch's people (bounds the first_seen values the flush can set). */
  long minPersonUs = Long.MAX_VALUE;

  /** An identity link an identify or alias event makes: the anonymous (or previous) id, its user, and when. */
  record Link(String project, String anon, String user, long atUs) {}

  boolean isEmpty() {
    return rows() == 0;
  }

  /** Rows of every table the batch writes. */
  int rows() {
    return sessions.size() + people.size() + touches.size() + links.size() + hours.size() + minutes.size()
        + minuteTypes.size() + pages.size() + days.size() + personDays.size();
  }

  void add(Event e) {
    oldestReceivedMs = Math.min(oldestReceivedMs, e.receivedAt().toEpochMilli());
    events++;
    long us = DerivedOrder.micros(e.timestamp());
    if ("identify".equals(e.type()) && e.anonymousId() != null && e.userId() != null) {
      links.add(new Link(e.projectId(), e.anonymousId(), e.userId(), us));
    } else if ("alias".equals(e.type()) && e.userId() != null && e.client().previousId() != null) {
      links.add(new Link(e.projectId(), e.client().previousId(), e.userId(), us));
    }
    if (e.bot()) {
      return;
    }
    Event.Enrichment en = e.enrichment() == null ? Event.Enrichment.NONE : e.enrichment();
    if (e.sessionId() != null) {
      sessions.computeIfAbsent(e.projectId() + '\u0001' + e.sessionId(), k -> new SessionAgg(e.projectId(),
          e.sessionId())).add(e, en, us);
    }
    rollup(e, en);
    String person = e.actor();
    if (person != null) {
      minPersonUs = Math.min(minPersonUs, us);
      people.computeIfAbsent(e.projectId() + '\u0001' + person, k -> new PersonAgg(e.projectId(), e.userId(),
          e.userId() == null ? e.anonymousId() : null)).add(e, en, us);
      if (en.attributionJson() != null) {
        touches.add(e);
      }
    }
  }

  private void rollup(Event e, Event.Enrichment en) {
    long t = e.timestamp().toEpochMilli();
    minTsByProject.merge(e.projectId(), t, Math::min);
    Event.Measures m = e.measures() == null ? Event.Measures.NONE : e.measures();
    String[] dims = new String[DIMS.length];
    for (int k = 0; k < dims.length; k++) {
      dims[k] = DIMS[k].of(e, en, m);
    }
    HourKey hk = new HourKey(e.projectId(), Math.floorDiv(t, 3_600_000L) * 3_600_000L, dims);
    hours.computeIfAbsent(hk, k -> new Sums()).add(m);
    minuteTypes.computeIfAbsent(new MinuteTypeKey(e.projectId(), Math.floorDiv(t, 60_000L) * 60_000L, e.type()),
        k -> new Sums()).add(m);
    String path = e.client() == null ? null : e.client().pagePath();
    pages.computeIfAbsent(new PageDayKey(e.projectId(), Math.floorDiv(t, 86_400_000L),
        DerivedOrder.left(nz(path), PAGE_PATH_KEY), e.type()), k -> new Sums()).add(m);
    boolean sent = "message_sent".equals(e.type());
    if (sent || "error".equals(e.type())) {
      long[] c = minutes.computeIfAbsent(new MinuteKey(e.projectId(), Math.floorDiv(t, 60_000L) * 60_000L),
          k -> new long[2]);
      c[sent ? 0 : 1]++;
    }
    if (e.actor() != null) {
      long day = Math.floorDiv(t, 86_400_000L);
      String anon = e.userId() == null ? e.anonymousId() : null;
      days.add(new DayKey(e.projectId(), day, e.userId(), anon));
      personDays.computeIfAbsent(new PersonDayKey(e.projectId(), day, e.userId(), anon, e.type(), nz(m.provider()),
          nz(m.model()), "feature_used".equals(e.type()) ? feature(e) : ""), k -> new Sums()).add(m);
    }
  }

  /**
   * Two batches holding this one's rows between them (each row in one of them), for isolating a row the database
   * refuses. Each half is written in a transaction of its own; the rules that merge rows make the order irrelevant.
   */
  DerivedBatch[] split() {
    DerivedBatch a = new DerivedBatch();
    DerivedBatch b = new DerivedBatch();
    int[] turn = {0};
    java.util.function.Supplier<DerivedBatch> next = () -> (turn[0]++ & 1) == 0 ? a : b;
    sessions.forEach((k, v) -> next.get().sessions.put(k, v));
    people.forEach((k, v) -> next.get().people.put(k, v));
    touches.forEach(t -> next.get().touches.add(t));
    links.forEach(l -> next.get().links.add(l));
    hours.forEach((k, v) -> next.get().hours.put(k, v));
    minutes.forEach((k, v) -> next.get().minutes.put(k, v));
    minuteTypes.forEach((k, v) -> next.get().minuteTypes.put(k, v));
    pages.forEach((k, v) -> next.get().pages.put(k, v));
    days.forEach(d -> next.get().days.add(d));
    personDays.forEach((k, v) -> next.get().personDays.put(k, v));
    a.events = events - events / 2;
    b.events = events / 2;
    for (DerivedBatch h : new DerivedBatch[] {a, b}) {
      h.oldestReceivedMs = oldestReceivedMs;
      h.minTsByProject.putAll(minTsByProject);
      h.people.values().forEach(p -> h.minPersonUs = Math.min(h.minPersonUs, p.firstUs));
    }
    return new DerivedBatch[] {a, b};
  }

  /**
   * The one row of a batch of one: its table, project and key (its key columns joined by " | ", as the repair's
   * per-row insert names them), for the dead-letter table.
   */
  String[] only() {
    for (var x : sessions.values()) {
      return new String[] {"sessions", x.project, x.project + " | " + x.session};
    }
    for (var x : people.values()) {
      return new String[] {"users", x.project, x.project + " | " + (x.user != null ? x.user : x.anon)};
    }
    for (Event x : touches) {
      return new String[] {"touchpoints", x.projectId(), x.projectId() + " | " + x.id()};
    }
    for (Link x : links) {
      return new String[] {"identities", x.project(), x.project() + " | " + x.anon() + " -> " + x.user()};
    }
    for (HourKey x : hours.keySet()) {
      return new String[] {"rollup_hourly", x.project(), x.project() + " | " + at(x.hourMs()) + " | "
          + String.join(" | ", x.dims())};
    }
    for (MinuteKey x : minutes.keySet()) {
      return new String[] {"rollup_minute", x.project(), x.project() + " | " + at(x.minuteMs())};
    }
    for (MinuteTypeKey x : minuteTypes.keySet()) {
      return new String[] {"rollup_minute_t", x.project(), String.join(" | ", x.project(), at(x.minuteMs()), x.type())};
    }
    for (PageDayKey x : pages.keySet()) {
      return new String[] {"rollup_page_daily", x.project(), String.join(" | ", x.project(),
          LocalDate.ofEpochDay(x.epochDay()).toString(), x.path(), x.type())};
    }
    for (DayKey x : days) {
      return new String[] {"user_days", x.project(), String.join(" | ", x.project(),
          LocalDate.ofEpochDay(x.epochDay()).toString(), x.user() != null ? x.user() : x.anon())};
    }
    for (PersonDayKey x : personDays.keySet()) {
      return new String[] {"user_daily", x.project(), String.join(" | ", x.project(),
          x.user() != null ? x.user() : x.anon(), LocalDate.ofEpochDay(x.epochDay()).toString(), x.type(),
          x.provider(), x.model(), x.feature())};
    }
    throw new IllegalStateException("empty batch");
  }

  /**
   * The statement's parameters; {@code watermark} null leaves the watermark where it is. The columns generated from
   * the event's column description come last ({@link FlushColumns}): the sessions' context, then the hourly rollup.
   */
  Tuple tuple(OffsetDateTime watermark, Map<String, KnownSession> knownSessions) {
    Object[][] s = sessionColumns(knownSessions);
    Object[][] p = personColumns();
    Tuple t = Tuple.tuple();
    add(t, s[0]);
    add(t, p[0]);
    add(t, touchColumns());
    add(t, linkColumns());
    t.addOffsetDateTime(watermark);
    withRollups(t);
    // $81…$90: what decides each "first" and "last" value
    add(t, s[1]);
    add(t, p[1]);
    add(t, s[2]);
    return withHours(t);
  }

  private static void add(Tuple t, Object[] columns) {
    for (Object c : columns) {
      t.addValue(c);
    }
  }

  /**
   * The sessions' arrays: [0] $1…$13, [1] the times and events that decide their first and last values, [2] their
   * context columns (as described).
   */
  private Object[][] sessionColumns(Map<String, KnownSession> knownSessions) {
    int n = sessions.size();
    String[] sp = new String[n], sid = new String[n], su = new String[n], sa = new String[n];
    OffsetDateTime[] ss = new OffsetDateTime[n], se = new OffsetDateTime[n];
    Integer[] sc = new Integer[n], spg = new Integer[n];
    String[] sentry = new String[n], sexit = new String[n], sctx = new String[n], sattr = new String[n];
    String[][] scols = new String[SESSION_CONTEXT.size()][n];
    Boolean[] ssrv = new Boolean[n];
    OffsetDateTime[] sentryAt = new OffsetDateTime[n], sexitAt = new OffsetDateTime[n];
    OffsetDateTime[] sctxAt = new OffsetDateTime[n], sattrAt = new OffsetDateTime[n];
    UUID[] sctxEv = new UUID[n], sattrEv = new UUID[n];
    int i = 0;
    for (Map.Entry<String, SessionAgg> x : sessions.entrySet()) {
      SessionAgg s = x.getValue();
      KnownSession ks = knownSessions.get(x.getKey());
      sp[i] = s.project;
      sid[i] = s.session;
      su[i] = s.user;
      sa[i] = s.anon;
      ss[i] = DerivedOrder.time(s.firstUs);
      se[i] = DerivedOrder.time(s.lastUs);
      sc[i] = s.count;
      spg[i] = s.pages;
      if (s.entry != null) {
        sentry[i] = s.entry;
        sentryAt[i] = DerivedOrder.time(s.entryUs);
      }
      if (s.exit != null) {
        sexit[i] = s.exit;
        sexitAt[i] = DerivedOrder.time(s.exitUs);
      }
      // what the session already has stored from an earlier event is not sent again (the row would keep its own)
      if (s.contextEvent != null && (ks == null || ks.contextEvent == null
          || DerivedOrder.before(s.contextUs, s.contextEvent, ks.contextUs, ks.contextEvent))) {
        sctx[i] = s.context;
        for (int c = 0; c < scols.length; c++) {
          scols[c][i] = SESSION_CONTEXT.get(c).read(s.contextOf);
        }
        sctxAt[i] = DerivedOrder.time(s.contextUs);
        sctxEv[i] = s.contextEvent;
      }
      if (s.attributionEvent != null && (ks == null || ks.attributionEvent == null
          || DerivedOrder.before(s.attributionUs, s.attributionEvent, ks.attributionUs, ks.attributionEvent))) {
        sattr[i] = s.attribution;
        sattrAt[i] = DerivedOrder.time(s.attributionUs);
        sattrEv[i] = s.attributionEvent;
      }
      ssrv[i] = s.serverAssigned;
      i++;
    }
    return new Object[][] {{sp, sid, su, sa, ss, se, sc, spg, sentry, sexit, sctx, sattr, ssrv},
        {sentryAt, sexitAt, sctxAt, sctxEv, sattrAt, sattrEv}, scols};
  }

  /** The people's arrays: [0] $14…$22, [1] the times and events of their first and last touch. */
  private Object[][] personColumns() {
    int m = people.size();
    String[] pp = new String[m], pu = new String[m], pa = new String[m], ptr = new String[m];
    String[] pft = new String[m], plt = new String[m];
    OffsetDateTime[] pf = new OffsetDateTime[m], pl = new OffsetDateTime[m];
    OffsetDateTime[] pftAt = new OffsetDateTime[m], pltAt = new OffsetDateTime[m];
    UUID[] pftEv = new UUID[m], pltEv = new UUID[m];
    Long[] pc = new Long[m];
    int j = 0;
    for (PersonAgg p : people.values()) {
      pp[j] = p.project;
      pu[j] = p.user;
      pa[j] = p.anon;
      pf[j] = DerivedOrder.time(p.firstUs);
      pl[j] = DerivedOrder.time(p.lastUs);
      pc[j] = p.count;
      ptr[j] = p.traitsSource();
      if (p.firstTouch != null) {
        pft[j] = p.firstTouch;
        pftAt[j] = DerivedOrder.time(p.firstTouchUs);
        pftEv[j] = p.firstTouchEvent;
        plt[j] = p.lastTouch;
        pltAt[j] = DerivedOrder.time(p.lastTouchUs);
        pltEv[j] = p.lastTouchEvent;
      }
      j++;
    }
    return new Object[][] {{pp, pu, pa, pf, pl, pc, ptr, pft, plt}, {pftAt, pftEv, pltAt, pltEv}};
  }

  /** The touchpoints' arrays ($23…$29). */
  private Object[] touchColumns() {
    int k = touches.size();
    String[] tp = new String[k], tu = new String[k], ta = new String[k], tt = new String[k], tat = new String[k];
    OffsetDateTime[] tts = new OffsetDateTime[k];
    UUID[] tid = new UUID[k];
    for (int x = 0; x < k; x++) {
      Event e = touches.get(x);
      tp[x] = e.projectId();
      tu[x] = e.userId();
      ta[x] = e.anonymousId();
      tts[x] = DerivedOrder.time(DerivedOrder.micros(e.timestamp()));
      tt[x] = e.type();
      tat[x] = e.enrichment().attributionJson();
      tid[x] = e.id();
    }
    return new Object[] {tp, tu, ta, tts, tt, tat, tid};
  }

  /** The identity links' arrays ($30…$33). */
  private Object[] linkColumns() {
    int l = links.size();
    String[] lp = new String[l], la = new String[l], lu = new String[l];
    OffsetDateTime[] lt = new OffsetDateTime[l];
    for (int x = 0; x < l; x++) {
      Link link = links.get(x);
      lp[x] = link.project();
      la[x] = link.anon();
      lu[x] = link.user();
      lt[x] = DerivedOrder.time(link.atUs());
    }
    return new Object[] {lp, la, lu, lt};
  }

  /** Appends the hourly rollup's arrays (project, hour, the described dimensions, the measures): the last ones. */
  private Tuple withHours(Tuple t) {
    int n = hours.size();
    String[] hp = new String[n];
    OffsetDateTime[] hh = new OffsetDateTime[n];
    String[][] hd = new String[DIMS.length][n];
    SumArrays hs = new SumArrays(n);
    int i = 0;
    for (Map.Entry<HourKey, Sums> x : hours.entrySet()) {
      HourKey k = x.getKey();
      hp[i] = k.project();
      hh[i] = odt(k.hourMs());
      for (int d = 0; d < hd.length; d++) {
        hd[d][i] = k.dims()[d];
      }
      hs.set(i++, x.getValue());
    }
    t.addArrayOfString(hp).addArrayOfOffsetDateTime(hh);
    for (String[] d : hd) {
      t.addArrayOfString(d);
    }
    return hs.addTo(t, true);
  }

  /** Appends the other rollup arrays ($35…$79) and the people's earliest event time ($80). */
  /** The minute, day, per-person daily, minute-by-type and page rollups' arrays, in the statement's order. */
  private void withRollups(Tuple t) {
    addMinutes(t);
    addDays(t);
    addPersonDays(t);
    addMinuteTypes(t);
    addPages(t);
    t.addOffsetDateTime(DerivedOrder.time(people.isEmpty() ? 0 : minPersonUs));
  }

  private void addMinutes(Tuple t) {
    int m = minutes.size();
    String[] mp = new String[m];
    OffsetDateTime[] mm = new OffsetDateTime[m];
    Long[] ms = new Long[m], me = new Long[m];
    int j = 0;
    for (Map.Entry<MinuteKey, long[]> x : minutes.entrySet()) {
      mp[j] = x.getKey().project();
      mm[j] = odt(x.getKey().minuteMs());
      ms[j] = x.getValue()[0];
      me[j] = x.getValue()[1];
      j++;
    }
    t.addArrayOfString(mp).addArrayOfOffsetDateTime(mm).addArrayOfLong(ms).addArrayOfLong(me);
  }

  private void addDays(Tuple t) {
    int d = days.size();
    String[] dp = new String[d], du = new String[d], da = new String[d];
    LocalDate[] dd = new LocalDate[d];
    int k = 0;
    for (DayKey x : days) {
      dp[k] = x.project();
      dd[k] = LocalDate.ofEpochDay(x.epochDay());
      du[k] = x.user();
      da[k] = x.anon();
      k++;
    }
    t.addArrayOfString(dp).addArrayOfLocalDate(dd).addArrayOfString(du).addArrayOfString(da);
  }

  private void addPersonDays(Tuple t) {
    int pd = personDays.size();
    String[] up = new String[pd], uu = new String[pd], ua = new String[pd], ut = new String[pd];
    String[] upr = new String[pd], um = new String[pd], uf = new String[pd];
    LocalDate[] ud = new LocalDate[pd];
    SumArrays us = new SumArrays(pd);
    int q = 0;
    for (Map.Entry<PersonDayKey, Sums> x : personDays.entrySet()) {
      PersonDayKey pk = x.getKey();
      up[q] = pk.project();
      ud[q] = LocalDate.ofEpochDay(pk.epochDay());
      uu[q] = pk.user();
      ua[q] = pk.anon();
      ut[q] = pk.type();
      upr[q] = pk.provider();
      um[q] = pk.model();
      uf[q] = pk.feature();
      us.set(q++, x.getValue());
    }
    t.addArrayOfString(up).addArrayOfLocalDate(ud).addArrayOfString(uu).addArrayOfString(ua)
        .addArrayOfString(ut).addArrayOfString(upr).addArrayOfString(um).addArrayOfString(uf);
    us.addTo(t, false);
  }

  private void addMinuteTypes(Tuple t) {
    int mt = minuteTypes.size();
    String[] mtp = new String[mt], mtt = new String[mt];
    OffsetDateTime[] mtm = new OffsetDateTime[mt];
    SumArrays mts = new SumArrays(mt);
    int z = 0;
    for (Map.Entry<MinuteTypeKey, Sums> x : minuteTypes.entrySet()) {
      mtp[z] = x.getKey().project();
      mtm[z] = odt(x.getKey().minuteMs());
      mtt[z] = x.getKey().type();
      mts.set(z++, x.getValue());
    }
    t.addArrayOfString(mtp).addArrayOfOffsetDateTime(mtm).addArrayOfString(mtt);
    mts.addTo(t, true);
  }

  private void addPages(Tuple t) {
    int pg = pages.size();
    String[] pgp = new String[pg], pgpath = new String[pg], pgt = new String[pg];
    LocalDate[] pgd = new LocalDate[pg];
    SumArrays pgs = new SumArrays(pg);
    int y = 0;
    for (Map.Entry<PageDayKey, Sums> x : pages.entrySet()) {
      pgp[y] = x.getKey().project();
      pgd[y] = LocalDate.ofEpochDay(x.getKey().epochDay());
      pgpath[y] = x.getKey().path();
      pgt[y] = x.getKey().type();
      pgs.set(y++, x.getValue());
    }
    t.addArrayOfString(pgp).addArrayOfLocalDate(pgd).addArrayOfString(pgpath).addArrayOfString(pgt);
    pgs.addTo(t, true);
  }


  /** The measure columns of rollup rows (events, tokens, cost, amount, response and load times), as arrays. */
  private static final class SumArrays {
    final Long[] events;
    final Double[] tokens;
    final Double[] cost;
    final Double[] amount;
    final Double[] rtSum;
    final Long[] rtN;
    final Double[] durSum;
    final Long[] durN;

    SumArrays(int n) {
      events = new Long[n];
      tokens = new Double[n];
      cost = new Double[n];
      amount = new Double[n];
      rtSum = new Double[n];
      rtN = new Long[n];
      durSum = new Double[n];
      durN = new Long[n];
    }

    void set(int i, Sums a) {
      events[i] = a.events;
      tokens[i] = a.tokens;
      cost[i] = a.cost;
      amount[i] = a.amount;
      rtSum[i] = a.rtSum;
      rtN[i] = a.rtN;
      durSum[i] = a.durSum;
      durN[i] = a.durN;
    }

    /** Appends the columns in statement order; the per-person daily rollup keeps no load times. */
    Tuple addTo(Tuple t, boolean durations) {
      t.addArrayOfLong(events).addArrayOfDouble(tokens).addArrayOfDouble(cost).addArrayOfDouble(amount)
          .addArrayOfDouble(rtSum).addArrayOfLong(rtN);
      return durations ? t.addArrayOfDouble(durSum).addArrayOfLong(durN) : t;
    }
  }

  static String nz(String s) {
    return s == null ? "" : s;
  }

  /** A time as PostgreSQL writes a timestamptz in JSON (how the repair's per-row insert names a key). */
  static String at(long ms) {
    return java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ssxxx").format(odt(ms));
  }

  static OffsetDateTime odt(long ms) {
    return DerivedOrder.time(ms * 1_000L);
  }

  /** An hourly rollup row's key: its dimensions' values in {@link RollupDimension#ALL}'s order. */
  record HourKey(String project, long hourMs, String[] dims) {
    @Override
    public boolean equals(Object o) {
      return o instanceof HourKey k && hourMs == k.hourMs && project.equals(k.project) && Arrays.equals(dims, k.dims);
    }

    @Override
    public int hashCode() {
      return (project.hashCode() * 31 + Long.hashCode(hourMs)) * 31 + Arrays.hashCode(dims);
    }
  }

  record MinuteKey(String project, long minuteMs) {}

  record MinuteTypeKey(String project, long minuteMs, String type) {}

  record PageDayKey(String project, long epochDay, String path, String type) {}

  record DayKey(String project, long epochDay, String user, String anon) {}

  record PersonDayKey(String project, long epochDay, String user, String anon, String type, String provider,
                      String model, String feature) {}

  /** feature_used's "feature" property when it is a string, else "" (as {@code tally_str} reads it in SQL). */
  static String feature(Event e) {
    if (e.propertiesJson() == null) {
      return "";
    }
    try {
      Object f = new JsonObject(e.propertiesJson()).getValue("feature");
      return f instanceof String s ? s : "";
    } catch (RuntimeException bad) {
      return "";
    }
  }

  /** One rollup row's worth of events within one flush. */
  static final class Sums {
    long events;
    double tokens;
    double cost;
    double amount;
    double rtSum;
    long rtN;
    double durSum;
    long durN;

    void add(Event.Measures m) {
      events++;
      if (m.has(Event.Measures.TOKENS)) {
        tokens += m.tokens();
      }
      if (m.has(Event.Measures.COST)) {
        cost += m.cost();
      }
      if (m.has(Event.Measures.AMOUNT)) {
        amount += m.amount();
      }
      if (m.has(Event.Measures.RESPONSE_TIME)) {
        rtSum += m.responseTimeMs();
        rtN++;
      }
      if (m.has(Event.Measures.DURATION)) {
        durSum += m.durationMs();
        durN++;
      }
    }
  }
}
