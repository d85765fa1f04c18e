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
 * flavour of DB-IP). Without a database every lookup is empty: location is never invented.
 */
public final class GeoIpLookup implements AutoCloseable {
  private final Reader reader;
  private final Cache<String, Optional<Location>> cache = Caffeine.newBuilder().maximumSize(50_000).build();

  /** The seed's LocationInfo; a field is null when the database does not know it. */
  public record Location(String country, String region, String city, String timezone, String isp) {}

  private GeoIpLookup(Reader reader) {
    this.reader = reader;
  }

  public static GeoIpLookup none() {
    return new GeoIpLookup(null);
  }

  public static GeoIpLookup open(String path) {
    if (path == null || path.isBlank()) {
      return none();
    }
    try {
      return new GeoIpLookup(new Reader(new File(path), new CHMCache()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open geo-IP database " + path, e);
    }
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
