package io.tally.embedded;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pg_hba.conf rewrite of a cluster made without a password: only the method column changes. */
class EmbeddedPgHbaTest {

  @Test
  void verifiesThatEveryTrustMethodAndNothingElseBecomesScram() {
    // GIVEN the rules initdb -A trust writes, with a mask form, a comment and a database named "trust"
    String before = String.join("\n",
        "# TYPE  DATABASE        USER            ADDRESS                 METHOD",
        "local   all             all                                     trust",
        "host    all             all             127.0.0.1/32            trust",
        "host    all             all             ::1/128                 TRUST # old",
        "host    trust           all             10.0.0.0 255.0.0.0      trust",
        "hostssl all             all             samenet                 md5",
        "local   replication     all                                     peer",
        "include_if_exists trust.conf",
        "");
    // WHEN it is rewritten
    String after = EmbeddedPgHba.withoutTrust(before);
    // THEN each trust method asks for scram-sha-256; the rest (comments, other methods, names) is as it was
    assertEquals(String.join("\n",
        "# TYPE  DATABASE        USER            ADDRESS                 METHOD",
        "local   all             all                                     scram-sha-256",
        "host    all             all             127.0.0.1/32            scram-sha-256",
        "host    all             all             ::1/128                 scram-sha-256 # old",
        "host    trust           all             10.0.0.0 255.0.0.0      scram-sha-256",
        "hostssl all             all             samenet                 md5",
        "local   replication     all                                     peer",
        "include_if_exists trust.conf",
        ""), after);
    assertTrue(EmbeddedPgHba.trusts(before));
    assertFalse(EmbeddedPgHba.trusts(after));
    // AND a second rewrite changes nothing (a start interrupted after the rewrite repeats it harmlessly)
    assertEquals(after, EmbeddedPgHba.withoutTrust(after));
  }
}
