package io.tally;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Verifies that the packages keep the shape README describes: no cycles, a model that knows no transport, and feature
 * packages that only the composition root (and the few features built on them) reach.
 */
@AnalyzeClasses(packages = "io.tally",
    importOptions = {ImportOption.DoNotIncludeTests.class, ArchitectureTest.NotLoadTests.class})
class ArchitectureTest {
  /** The load generator drives a whole Tally from outside: it is a client, not a package of the server. */
  static final class NotLoadTests implements ImportOption {
    @Override
    public boolean includes(com.tngtech.archunit.core.importer.Location location) {
      return !location.contains("/io/tally/loadtest/");
    }
  }

  /** GIVEN the production classes WHEN their packages' dependencies are followed THEN no path leads back. */
  @ArchTest
  static final ArchRule noPackageCycles = slices().matching("io.tally.(**)").should().beFreeOfCycles();

  /** The composition root (Tally, Main) uses every package; no package uses it back. */
  @ArchTest
  static final ArchRule nothingDependsOnTheRoot = noClasses().that().resideOutsideOfPackage("io.tally")
      .should().dependOnClassesThat().resideInAPackage("io.tally");

  /** The event model is plain data: no HTTP, WebSocket, router, SQL or Redis type, and no feature package. */
  @ArchTest
  static final ArchRule modelKnowsNoTransport = noClasses().that().resideInAPackage("io.tally.event..")
      .should().dependOnClassesThat().resideInAnyPackage("io.vertx.core.http..", "io.vertx.core.net..",
          "io.vertx.ext.web..", "io.vertx.sqlclient..", "io.vertx.pgclient..", "io.vertx.redis..",
          "io.vertx.core.eventbus..")
      .orShould().dependOnClassesThat().resideInAnyPackage("io.tally.ingest..", "io.tally.http..", "io.tally.auth..",
          "io.tally.store..", "io.tally.derive..", "io.tally.query..", "io.tally.index..", "io.tally.insight..",
          "io.tally.dashboard..", "io.tally.lifecycle..", "io.tally.realtime..", "io.tally.enrich..",
          "io.tally.buffer..", "io.tally.embedded..");

  /** The router mounts the route groups it is handed: it knows no feature. */
  @ArchTest
  static final ArchRule httpKnowsNoFeature = noClasses().that().resideInAPackage("io.tally.http..")
      .should().dependOnClassesThat().resideInAnyPackage("io.tally.ingest..", "io.tally.query..",
          "io.tally.insight..", "io.tally.dashboard..", "io.tally.lifecycle..", "io.tally.derive..",
          "io.tally.index..", "io.tally.realtime..", "io.tally.buffer..", "io.tally.embedded..");

  /** Who may reach each feature: the composition root sees them all, a feature only what it is built on. */
  @ArchTest
  static final ArchRule featuresReachedOnlyFromAbove = layeredArchitecture().consideringOnlyDependenciesInLayers()
      .layer("Root").definedBy("io.tally")
      .layer("Dashboard").definedBy("io.tally.dashboard..")
      .layer("Lifecycle").definedBy("io.tally.lifecycle..")
      .layer("Insight").definedBy("io.tally.insight..")
      .layer("Query").definedBy("io.tally.query..")
      .layer("Index").definedBy("io.tally.index..")
      .layer("Ingest").definedBy("io.tally.ingest..")
      .layer("Derive").definedBy("io.tally.derive..")
      .layer("Store").definedBy("io.tally.store..")
      .layer("Embedded").definedBy("io.tally.embedded..")
      .whereLayer("Root").mayNotBeAccessedByAnyLayer()
      .whereLayer("Dashboard").mayOnlyBeAccessedByLayers("Root")
      .whereLayer("Lifecycle").mayOnlyBeAccessedByLayers("Root")
      .whereLayer("Insight").mayOnlyBeAccessedByLayers("Root")
      .whereLayer("Query").mayOnlyBeAccessedByLayers("Root", "Insight", "Dashboard")
      .whereLayer("Index").mayOnlyBeAccessedByLayers("Root", "Query", "Insight")
      // lifecycle drops suppressed persons through ingestion's SuppressionList
      .whereLayer("Ingest").mayOnlyBeAccessedByLayers("Root", "Lifecycle")
      // its typed notices and addresses: the query side (its indexes and modules) follows flushes and rewrites,
      // lifecycle publishes rewrites and asks for a sync
      .whereLayer("Derive").mayOnlyBeAccessedByLayers("Root", "Store", "Index", "Query", "Insight", "Lifecycle")
      .whereLayer("Embedded").mayOnlyBeAccessedByLayers("Root", "Lifecycle");
}
