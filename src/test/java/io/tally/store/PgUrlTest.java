package io.tally.store;

import io.tally.config.ConfigException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** PostgreSQL URLs that carry credentials: read, written back and shown. */
class PgUrlTest {

  @Test
  void verifiesThatAUserAndPasswordGivenInTheUrlAreUsedAsWritten() {
    // GIVEN a URL whose password holds characters URLs encode, and a literal '+'
    PgUrl u = PgUrl.parse("postgresql://tally%40ops:p%40ss%2Fw%3Ard+1%20x@db.example:5433/analytics");
    // THEN user and password are decoded exactly ('+' stays a plus: this is not a form)
    assertEquals("tally@ops", u.user());
    assertEquals("p@ss/w:rd+1 x", u.password());
    assertEquals("db.example", u.host());
    assertEquals(5433, u.port());
    assertEquals("analytics", u.database());
    assertEquals("jdbc:postgresql://db.example:5433/analytics", u.jdbcUrl());
    // AND the Vert.x client gets them too
    assertEquals("p@ss/w:rd+1 x", u.connectOptions().getPassword());
    assertEquals("tally@ops", u.connectOptions().getUser());
  }

  @Test
  void verifiesThatTheWholeUrlSurvivesARoundTripAndItsTextShowsNoPassword() {
    // GIVEN credentials with every awkward character
    PgUrl u = new PgUrl("localhost", 5432, "postgres", "us er:@/", "p+@:/ %?#é");
    // WHEN the URL handed to a child process is read back
    PgUrl back = PgUrl.parse(u.url());
    // THEN it names the same user and password
    assertEquals(u, back);
    // AND what is printed (banners, logs) never holds the password
    assertFalse(u.toString().contains("p+@"), u.toString());
    assertNull(PgUrl.parse("postgresql://postgres@h:1/db").password());
  }

  @Test
  void verifiesThatAnUnreadableUrlIsRefusedWithoutEchoingItsPassword() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> PgUrl.parse("postgresql://u:sec ret@h st:5432/db"));
    assertFalse(e.getMessage().contains("sec ret"), e.getMessage());
  }
}
