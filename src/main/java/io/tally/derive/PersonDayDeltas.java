package io.tally.derive;

import io.vertx.core.shareddata.Shareable;

import java.util.ArrayList;
import java.util.List;

/**
 * What one derived-tables flush added to each person-day, as its statement computed it (persons resolved through
 * identity links as the rows were written): the per-person daily rollup rows it added to, and the sessions started
 * per person-day (an extended session counts as its old row out and its new row in). Travels inside the flush
 * notice without being copied ({@link Shareable}); never modified after {@link Builder#build}.
 *
 * <p>{@code xid} is the flush's transaction: a snapshot taken elsewhere tells from it whether it already saw these
 * additions.
 */
public final class PersonDayDeltas implements Shareable {
  public final long xid;
  /** Rollup rows: project, person, UTC day (epoch day), type, provider, model, feature and the sums. */
  public final String[] project;
  public final String[] person;
  public final int[] day;
  public final String[] type;
  public final String[] provider;
  public final String[] model;
  public final String[] feature;
  public final long[] events;
  public final double[] tokens;
  public final double[] cost;
  public final double[] amount;
  /** Session rows: project, person, start day, sessions added (may be negative) and duration added (ms). */
  public final String[] sProject;
  public final String[] sPerson;
  public final int[] sDay;
  public final long[] sessions;
  public final double[] sessionMs;

  private PersonDayDeltas(long xid, Builder b) {
    this.xid = xid;
    project = b.project.toArray(String[]::new);
    person = b.person.toArray(String[]::new);
    day = b.day.stream().mapToInt(Integer::intValue).toArray();
    type = b.type.toArray(String[]::new);
    provider = b.provider.toArray(String[]::new);
    model = b.model.toArray(String[]::new);
    feature = b.feature.toArray(String[]::new);
    events = b.events.stream().mapToLong(Long::longValue).toArray();
    tokens = doubles(b.tokens);
    cost = doubles(b.cost);
    amount = doubles(b.amount);
    sProject = b.sProject.toArray(String[]::new);
    sPerson = b.sPerson.toArray(String[]::new);
    sDay = b.sDay.stream().mapToInt(Integer::intValue).toArray();
    sessions = b.sessions.stream().mapToLong(Long::longValue).toArray();
    sessionMs = doubles(b.sessionMs);
  }

  private static double[] doubles(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  public int rows() {
    return project.length;
  }

  public int sessionRows() {
    return sProject.length;
  }

  /** Collects a flush's result rows. */
  public static final class Builder {
    private final List<String> project = new ArrayList<>();
    private final List<String> person = new ArrayList<>();
    private final List<Integer> day = new ArrayList<>();
    private final List<String> type = new ArrayList<>();
    private final List<String> provider = new ArrayList<>();
    private final List<String> model = new ArrayList<>();
    private final List<String> feature = new ArrayList<>();
    private final List<Long> events = new ArrayList<>();
    private final List<Double> tokens = new ArrayList<>();
    private final List<Double> cost = new ArrayList<>();
    private final List<Double> amount = new ArrayList<>();
    private final List<String> sProject = new ArrayList<>();
    private final List<String> sPerson = new ArrayList<>();
    private final List<Integer> sDay = new ArrayList<>();
    private final List<Long> sessions = new ArrayList<>();
    private final List<Double> sessionMs = new ArrayList<>();

    public Builder rollup(String project, String person, int day, String type, String provider, String model,
                          String feature, long events, double tokens, double cost, double amount) {
      this.project.add(project);
      this.person.add(person);
      this.day.add(day);
      this.type.add(type);
      this.provider.add(provider);
      this.model.add(model);
      this.feature.add(feature);
      this.events.add(events);
      this.tokens.add(tokens);
      this.cost.add(cost);
      this.amount.add(amount);
      return this;
    }

    public Builder sessions(String project, String person, int day, long sessions, double sessionMs) {
      this.sProject.add(project);
      this.sPerson.add(person);
      this.sDay.add(day);
      this.sessions.add(sessions);
      this.sessionMs.add(sessionMs);
      return this;
    }

    public PersonDayDeltas build(long xid) {
      return new PersonDayDeltas(xid, this);
    }
  }
}
