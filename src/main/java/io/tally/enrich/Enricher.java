package io.tally.enrich;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.tally.config.ProjectConfig;
import io.tally.event.Event;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Derives, on the ingest path, what the server knows about each event: device and browser from the user agent,
 * location from the IP (then anonymised), attribution, the bot flag and the server-side session. Everything is
 * cached (user agents, IPs, and the stored context JSON built from them) and computed once per request when the events
 * share their origin: no per-event I/O.
 */
public final class Enricher {
  /**
   * Origins (device, browser, location and their JSON) seen recently, by user agent, address and IP mode. A backend's
   * batch interleaves many users, so consecutive events rarely share an origin; building and encoding the JSON per
   * event was ~8 % of the server's CPU at 6,000 events/s (JFR).
   */
  private static final int ORIGIN_CACHE = 20_000;
  private final Cache<OriginKey, Origin> origins = Caffeine.newBuilder().maximumSize(ORIGIN_CACHE).build();
  /** Context JSON of an origin with a client environment (screen, language, ...), by origin JSON and environment. */
  private final Cache<ContextKey, String> contexts = Caffeine.newBuilder().maximumSize(ORIGIN_CACHE).build();
  private final UserAgentParser userAgents;
  private final GeoIpLookup geo;
  private final ClientAddress addresses;
  private final Sessionizer sessions;
  private final TallyMetrics metrics;

  /** What the transport knows about a request; {@code doNotTrack}: it carried {@code DNT: 1}. */
  public record RequestInfo(String peer, String forwardedFor, String userAgent, boolean doNotTrack) {
    public static final RequestInfo NONE = new RequestInfo(null, null, null);

    public RequestInfo(String peer, String forwardedFor, String userAgent) {
      this(peer, forwardedFor, userAgent, false);
    }
  }

  public Enricher(UserAgentParser userAgents, GeoIpLookup geo, ClientAddress addresses, Sessionizer sessions,
                  TallyMetrics metrics) {
    this.userAgents = userAgents;
    this.geo = geo;
    this.addresses = addresses;
    this.sessions = sessions;
    this.metrics = metrics;
  }

  /** Where locations come from, for GET /v1/about. */
  public io.vertx.core.json.JsonObject location() {
    return geo.describe();
  }

  public Sessionizer sessions() {
    return sessions;
  }

  public List<Event> enrich(List<Event> events, RequestInfo req, ProjectConfig project) {
    InetAddress requestIp = addresses.resolve(req.peer(), req.forwardedFor());
    // an event names its own client only where the project says its senders forward their users' addresses
    boolean eventIp = project.trustEventIp();
    List<Event> out = new ArrayList<>(events.size());
    // events of one request nearly always share their origin: compute the shared part once
    String lastUa = null;
    InetAddress lastIp = null;
    Origin lastOrigin = null;
    Origin lastContextOrigin = null;
    String lastContextKey = null;
    String lastContextJson = null;
    int bots = 0;
    for (Event e : events) {
      Event.ClientInfo c = e.client();
      String ua = c.userAgent() != null ? c.userAgent() : browserAgent(req.userAgent());
      InetAddress ip = eventIp && c.ip() != null ? ClientAddress.parse(c.ip()) : requestIp;
      Origin origin;
      if (lastOrigin != null && Objects.equals(ua, lastUa) && Objects.equals(ip, lastIp)) {
        origin = lastOrigin;
      } else {
        origin = origins.get(new OriginKey(ua, ip, project.ipMode()), k -> origin(k.userAgent(), k.ip(), k.mode()));
        lastUa = ua;
        lastIp = ip;
        lastOrigin = origin;
      }
      JsonObject attribution = Attribution.of(c.pageUrl(), c.pageSearch(), c.referrer());
      String context;
      if (c == Event.ClientInfo.EMPTY || !c.hasEnvironment()) {
        context = origin.json();
      } else {
        // a request's events usually share their client environment too: build its JSON once
        String key = c.environmentKey();
        if (origin != lastContextOrigin || !key.equals(lastContextKey)) {
          Origin o = origin;
          lastContextJson = contexts.get(new ContextKey(origin.json(), key), k -> withClient(o, c));
          lastContextKey = key;
          lastContextOrigin = origin;
        }
        context = lastContextJson;
      }
      int flags = origin.bot() ? Event.FLAG_BOT : 0;
      if (origin.bot()) {
        bots++;
      }
      String session = e.sessionId();
      String actor = e.actor();
      if (session == null && actor != null) {
        session = sessions.sessionFor(e.projectId(), actor, e.timestamp());
        flags |= Event.FLAG_SESSION_ASSIGNED;
      }
      out.add(e.enriched(new Event.Enrichment(context, attribution == null ? null : attribution.encode(),
          origin.country(), origin.deviceType(), origin.browser(), origin.storedIp()), flags, session));
    }
    if (bots > 0) {
      metrics.eventsBot(bots);
    }
    return out;
  }

  /**
   * The request's own User-Agent describes the end user only when a browser sent the request (browsers and the
   * crawlers imitating them all start with "Mozilla/"). A backend forwarding events (curl, python-requests, a Java
   * client) is not the user: it neither gives a device nor makes the events bot traffic. Such senders pass the
   * user's agent in {@code context.userAgent}.
   */
  static String browserAgent(String header) {
    return header != null && header.startsWith("Mozilla/") ? header : null;
  }

  /** Device, browser and location of one user agent + address, as stored. */
  private record Origin(UserAgentParser.UserAgentInfo ua, GeoIpLookup.Location location, String storedIp,
                        String json) {
    boolean bot() {
      return ua != null && ua.bot();
    }

    String country() {
      return location == null ? null : location.country();
    }

    String deviceType() {
      return ua == null ? null : ua.deviceType();
    }

    String browser() {
      return ua == null ? null : ua.browser();
    }
  }

  private record OriginKey(String userAgent, InetAddress ip, ProjectConfig.IpMode mode) {}

  /** An origin's JSON is one String instance while the origin is cached: its hash is computed once, equality is quick. */
  private record ContextKey(String originJson, String environmentKey) {}

  private Origin origin(String userAgent, InetAddress ip, ProjectConfig.IpMode mode) {
    UserAgentParser.UserAgentInfo ua = userAgents.parse(userAgent);
    GeoIpLookup.Location loc = null;
    String storedIp = null;
    if (ip != null && mode != ProjectConfig.IpMode.NONE) {
      loc = geo.lookup(ip);
      storedIp = mode == ProjectConfig.IpMode.FULL ? ip.getHostAddress() : ClientAddress.anonymize(ip);
    }
    return new Origin(ua, loc, storedIp, build(ua, loc, storedIp, Event.ClientInfo.EMPTY).encode());
  }

  private static String withClient(Origin o, Event.ClientInfo c) {
    return build(o.ua(), o.location(), o.storedIp(), c).encode();
  }

  private static JsonObject build(UserAgentParser.UserAgentInfo ua, GeoIpLookup.Location loc, String ip,
                                  Event.ClientInfo c) {
    JsonObject device = new JsonObject();
    JsonObject browser = new JsonObject();
    if (ua != null) {
      put(device, "type", ua.deviceType());
      put(device, "os", ua.os());
      put(device, "osVersion", ua.osVersion());
      put(device, "device", ua.device());
      put(browser, "name", ua.browser());
      put(browser, "version", ua.browserVersion());
      put(browser, "engine", ua.engine());
    }
    put(device, "screenResolution", c.screenResolution());
    put(device, "viewport", c.viewport());
    put(device, "language", c.language());
    put(device, "timezone", c.timezone());
    put(browser, "cookiesEnabled", c.cookiesEnabled());
    put(browser, "javascriptEnabled", c.javascriptEnabled());
    put(browser, "doNotTrack", c.doNotTrack());
    JsonObject location = new JsonObject();
    if (loc != null) {
      put(location, "country", loc.country());
      put(location, "region", loc.region());
      put(location, "city", loc.city());
      put(location, "timezone", loc.timezone());
      put(location, "isp", loc.isp());
    }
    JsonObject o = new JsonObject().put("device", device).put("browser", browser).put("location", location);
    if (ip != null) {
      o.put("ip", ip);
    }
    if (ua != null && ua.bot()) {
      o.put("bot", true);
    }
    return o;
  }

  private static void put(JsonObject o, String k, Object v) {
    if (v != null) {
      o.put(k, v);
    }
  }
}
