package io.tally.enrich;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import nl.basjes.parse.useragent.UserAgent;
import nl.basjes.parse.useragent.UserAgentAnalyzer;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * User agent → device, browser and bot flag, with YAUAA. YAUAA is accurate but costs tens of microseconds per new
 * string and seconds to build, so one analyzer is shared by the whole JVM and results are cached by UA string.
 */
public final class UserAgentParser {
  private static final Set<String> BOT_CLASSES = Set.of("Robot", "Robot Mobile", "Robot Imitator", "Spy", "Hacker");
  private static final Pattern HEADLESS = Pattern.compile(
      "(?i)headless|phantomjs|puppeteer|playwright|selenium|webdriver|lighthouse|bot\\b|crawler|spider|slurp");
  private static volatile UserAgentAnalyzer shared;

  private final Cache<String, UserAgentInfo> cache;

  /** Device and browser as the seed's DeviceInfo / BrowserInfo need them. */
  public record UserAgentInfo(String deviceType, String os, String osVersion, String device, String browser,
                              String browserVersion, String engine, boolean bot) {}

  public UserAgentParser(int cacheSize) {
    this.cache = Caffeine.newBuilder().maximumSize(cacheSize).build();
  }

  private static UserAgentAnalyzer analyzer() {
    UserAgentAnalyzer a = shared;
    if (a == null) {
      synchronized (UserAgentParser.class) {
        a = shared;
        if (a == null) {
          a = UserAgentAnalyzer.newBuilder()
              .hideMatcherLoadStats()
              .withCache(0)
              .withFields(UserAgent.DEVICE_CLASS, UserAgent.DEVICE_NAME, UserAgent.OPERATING_SYSTEM_NAME,
                  UserAgent.OPERATING_SYSTEM_VERSION, UserAgent.AGENT_NAME, UserAgent.AGENT_VERSION,
                  UserAgent.LAYOUT_ENGINE_NAME, UserAgent.AGENT_CLASS)
              .immediateInitialization()
              .build();
          shared = a;
        }
      }
    }
    return a;
  }

  /** Builds the shared analyzer now (at start) rather than on the first event. */
  public static void warmUp() {
    analyzer();
  }

  public UserAgentInfo parse(String userAgent) {
    if (userAgent == null || userAgent.isBlank()) {
      return null;
    }
    String ua = userAgent.length() > 1024 ? userAgent.substring(0, 1024) : userAgent;
    return cache.get(ua, UserAgentParser::analyze);
  }

  private static UserAgentInfo analyze(String ua) {
    UserAgent r = analyzer().parse(ua);
    String deviceClass = r.getValue(UserAgent.DEVICE_CLASS);
    String agentClass = r.getValue(UserAgent.AGENT_CLASS);
    boolean bot = BOT_CLASSES.contains(deviceClass) || BOT_CLASSES.contains(agentClass)
        || HEADLESS.matcher(ua).find();
    return new UserAgentInfo(deviceType(deviceClass), known(r.getValue(UserAgent.OPERATING_SYSTEM_NAME)),
        known(r.getValue(UserAgent.OPERATING_SYSTEM_VERSION)), known(r.getValue(UserAgent.DEVICE_NAME)),
        capped(known(r.getValue(UserAgent.AGENT_NAME))), known(r.getValue(UserAgent.AGENT_VERSION)),
        known(r.getValue(UserAgent.LAYOUT_ENGINE_NAME)), bot);
  }

  /** The seed's three device types; phones, watches and other handhelds count as mobile. */
  static String deviceType(String deviceClass) {
    String c = deviceClass == null ? "" : deviceClass.toLowerCase(Locale.ROOT);
    if (c.contains("tablet") || c.contains("ereader")) {
      return "tablet";
    }
    if (c.contains("phone") || c.contains("mobile") || c.contains("watch") || c.contains("handheld")) {
      return "mobile";
    }
    return "desktop";
  }

  /** Longest browser name kept: it is a key of the rollups (a crafted agent can make it up to the agent's length). */
  static final int MAX_BROWSER = 64;

  private static String capped(String v) {
    return v == null || v.length() <= MAX_BROWSER ? v
        : v.substring(0, Character.isHighSurrogate(v.charAt(MAX_BROWSER - 1)) ? MAX_BROWSER - 1 : MAX_BROWSER);
  }

  private static String known(String v) {
    return v == null || v.startsWith("Unknown") || v.equals("??") ? null : v;
  }
}
