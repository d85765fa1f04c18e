package io.tally.store;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/** Creates and migrates the schema with Flyway (versioned scripts under db/migration). */
public final class Migrations {
  private Migrations() {
  }

  public static MigrateResult migrate(PgUrl pg) {
    return Flyway.configure()
        .dataSource(pg.jdbcUrl(), pg.user(), pg.password())
        .locations("classpath:db/migration")
        .table("tally_schema_history")
        .load()
        .migrate();
  }
}
