package io.tally.lifecycle;

import io.tally.config.TallyConfig;
import io.tally.embedded.EmbeddedPostgresServer;
import io.tally.store.Migrations;
import io.tally.store.PgUrl;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code java -jar tally.jar archive list|verify|restore ...}: lists and checks the archives under
 * {@code lifecycle.archiveDir}, and puts archived events back into PostgreSQL (the configured one; with the embedded
 * one, Tally must be stopped first, since the CLI starts it on the same data directory).
 */
public final class ArchiveCli {
  static final String USAGE = """
      usage: java -jar target/tally.jar archive list    [--project P] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
             java -jar target/tally.jar archive verify  [--project P] [--from ...] [--to ...]
             java -jar target/tally.jar archive restore --project P [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--hold-days N]
             java -jar target/tally.jar archive restore FILE.ndjson.gz|FILE.manifest.json ...
        --from/--to select archived days (inclusive); restore skips events already present (same id) and events of
        deleted users, and keeps the restored days from the retention job for --hold-days (default 7)""";

  private ArchiveCli() {
  }

  /** Runs the command; returns the process exit code. */
  public static int run(String[] args, TallyConfig config, PrintStream out, PrintStream err) {
    if (args.length < 2) {
      err.println(USAGE);
      return 2;
    }
    String cmd = args[1];
    Options o;
    try {
      o = Options.parse(args);
    } catch (RuntimeException e) {
      err.println("archive: " + e.getMessage() + "\n" + USAGE);
      return 2;
    }
    ArchiveStore store = new ArchiveStore(config.lifecycle().archiveDir());
    List<ArchiveStore.Manifest> selected = o.files().isEmpty() ? inPeriod(store, o) : named(store, o.files());
    if (selected == null) {
      err.println("archive: not every file named is an archive (with its manifest) under "
          + store.dir().toAbsolutePath());
      return 2;
    }
    switch (cmd) {
      case "list" -> {
        long rows = 0;
        for (ArchiveStore.Manifest m : selected) {
          out.println(m.toJson().put("path", m.file().toString()).encode());
          rows += m.rows();
        }
        err.println(selected.size() + " archives, " + rows + " events, under " + store.dir().toAbsolutePath());
        return 0;
      }
      case "verify" -> {
        int bad = 0;
        for (ArchiveStore.Manifest m : selected) {
          boolean ok = store.verify(m);
          out.println((ok ? "OK   " : "BAD  ") + m.file());
          bad += ok ? 0 : 1;
        }
        return bad == 0 ? 0 : 1;
      }
      case "restore" -> {
        if (o.files().isEmpty() && o.project() == null) {
          err.println("archive restore: name files or --project\n" + USAGE);
          return 2;
        }
        return restore(config, store, selected, Duration.ofDays(o.holdDays()), out, err);
      }
      default -> {
        err.println("archive: unknown command " + cmd + "\n" + USAGE);
        return 2;
      }
    }
  }

  /** The command's options (after the command); files are the arguments that are not options. */
  private record Options(String project, LocalDate from, LocalDate to, int holdDays, List<String> files) {
    static Options parse(String[] args) {
      String project = null;
      LocalDate from = null;
      LocalDate to = null;
      int holdDays = 7;
      List<String> files = new ArrayList<>();
      for (int i = 2; i < args.length; i++) {
        switch (args[i]) {
          case "--project" -> project = args[++i];
          case "--from" -> from = LocalDate.parse(args[++i]);
          case "--to" -> to = LocalDate.parse(args[++i]);
          case "--hold-days" -> holdDays = Integer.parseInt(args[++i]);
          default -> {
            if (args[i].startsWith("--")) {
              throw new IllegalArgumentException("unknown option " + args[i]);
            }
            files.add(args[i]);
          }
        }
      }
      return new Options(project, from, to, holdDays, files);
    }
  }

  /** The archives named (by their file or their manifest), or null when a name is neither. */
  private static List<ArchiveStore.Manifest> named(ArchiveStore store, List<String> files) {
    List<ArchiveStore.Manifest> selected = new ArrayList<>();
    for (ArchiveStore.Manifest m : store.list(null)) {
      for (String f : files) {
        Path p = Path.of(f).toAbsolutePath().normalize();
        if (p.equals(m.file().toAbsolutePath().normalize())
            || p.equals(m.manifestPath().toAbsolutePath().normalize())) {
          selected.add(m);
        }
      }
    }
    return selected.size() == files.size() ? selected : null;
  }

  /** The project's (every project's without --project) archives of the days in [--from, --to]. */
  private static List<ArchiveStore.Manifest> inPeriod(ArchiveStore store, Options o) {
    List<ArchiveStore.Manifest> selected = new ArrayList<>();
    for (ArchiveStore.Manifest m : store.list(o.project())) {
      if ((o.from() == null || !m.day().isBefore(o.from())) && (o.to() == null || !m.day().isAfter(o.to()))) {
        selected.add(m);
      }
    }
    return selected;
  }

  private static int restore(TallyConfig config, ArchiveStore store, List<ArchiveStore.Manifest> selected,
                             Duration hold, PrintStream out, PrintStream err) {
    EmbeddedPostgresServer pg = null;
    try {
      PgUrl url;
      TallyConfig.Storage st = config.storage();
      if (st.embeddedPg()) {
        Path dir = st.dataDir().resolve("pg");
        if (Files.exists(dir.resolve("postmaster.pid"))) {
          err.println("archive restore: the embedded PostgreSQL in " + dir + " is in use: stop Tally first");
          return 1;
        }
        pg = EmbeddedPostgresServer.start(dir, st.embeddedPgPort());
        url = pg.url();
      } else {
        url = PgUrl.parse(st.pgUrl());
      }
      Migrations.migrate(url);
      ArchiveRestore.Result r = new ArchiveRestore(new Jdbc(url), store).restore(selected, hold);
      out.println(new JsonObject().put("restored", r.toJson()).encode());
      return 0;
    } catch (Exception e) {
      err.println("archive restore failed: " + e.getMessage());
      return 1;
    } finally {
      if (pg != null) {
        pg.close();
      }
    }
  }
}
