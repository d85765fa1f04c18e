package io.tally.lifecycle;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Archive files of raw events: one gzip NDJSON file per project and UTC day (one event per line, as PostgreSQL's
 * {@code row_to_json} of the events row), beside a manifest {@code <file>.manifest.json} holding the range, the row
 * count and the SHA-256 of the uncompressed lines. A manifest is written only after its file was read back and
 * matched, so a manifest's presence means a complete, verified archive. Files are written to a temporary name,
 * fsynced and renamed.
 */
public final class ArchiveStore {
  static final String SUFFIX = ".ndjson.gz";
  static final String MANIFEST = ".manifest.json";

  private final Path dir;

  public ArchiveStore(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  /** One archive file's manifest. {@code redacted}: lines removed since by user deletions. */
  public record Manifest(Path file, String project, LocalDate day, String source, long rows, String sha256,
                         Instant minTs, Instant maxTs, Instant createdAt, long redacted) {
    JsonObject toJson() {
      return new JsonObject().put("file", file.getFileName().toString()).put("project", project)
          .put("range", new JsonObject().put("from", day.atStartOfDay().toInstant(java.time.ZoneOffset.UTC).toString())
              .put("to", day.plusDays(1).atStartOfDay().toInstant(java.time.ZoneOffset.UTC).toString()))
          .put("day", day.toString()).put("source", source).put("rows", rows).put("sha256", sha256)
          .put("minTs", minTs == null ? null : minTs.toString()).put("maxTs", maxTs == null ? null : maxTs.toString())
          .put("createdAt", createdAt.toString()).put("redacted", redacted).put("format", "ndjson.gz (row_to_json)");
    }

    static Manifest fromJson(Path manifestFile, JsonObject j) {
      return new Manifest(manifestFile.resolveSibling(j.getString("file")), j.getString("project"),
          LocalDate.parse(j.getString("day")), j.getString("source"), j.getLong("rows"), j.getString("sha256"),
          j.getString("minTs") == null ? null : Instant.parse(j.getString("minTs")),
          j.getString("maxTs") == null ? null : Instant.parse(j.getString("maxTs")),
          Instant.parse(j.getString("createdAt")), j.getLong("redacted", 0L));
    }

    Path manifestPath() {
      return file.resolveSibling(file.getFileName() + MANIFEST);
    }

    public Instant from() {
      return day.atStartOfDay().toInstant(java.time.ZoneOffset.UTC);
    }

    public Instant to() {
      return day.plusDays(1).atStartOfDay().toInstant(java.time.ZoneOffset.UTC);
    }
  }

  /** Writes one archive; {@link #finish()} verifies it and publishes its manifest. */
  public final class Writer implements AutoCloseable {
    private final String project;
    private final LocalDate day;
    private final String source;
    private final Path file;
    private final Path tmp;
    private final BufferedWriter out;
    private final MessageDigest sha = sha256();
    private long rows;
    private Instant minTs;
    private Instant maxTs;
    private boolean done;

    Writer(String project, LocalDate day, String source) throws IOException {
      this.project = project;
      this.day = day;
      this.source = source;
      Path projectDir = dir.resolve(safe(project));
      Files.createDirectories(projectDir);
      String base = "events_" + day.toString().replace("-", "") + "_" + System.currentTimeMillis();
      Path f = projectDir.resolve(base + SUFFIX);
      for (int i = 1; Files.exists(f); i++) {
        f = projectDir.resolve(base + "-" + i + SUFFIX);
      }
      this.file = f;
      this.tmp = f.resolveSibling(f.getFileName() + ".tmp");
      this.out = new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(tmp), 1 << 16),
          StandardCharsets.UTF_8), 1 << 16);
    }

    /** One event: its row JSON (no newline) and its time. */
    public void add(String json, Instant ts) throws IOException {
      byte[] line = (json + "\n").getBytes(StandardCharsets.UTF_8);
      sha.update(line);
      out.write(json);
      out.write('\n');
      rows++;
      if (ts != null) {
        minTs = minTs == null || ts.isBefore(minTs) ? ts : minTs;
        maxTs = maxTs == null || ts.isAfter(maxTs) ? ts : maxTs;
      }
    }

    public long rows() {
      return rows;
    }

    /** Closes, reads the file back (row count and checksum), fsyncs, renames and writes the manifest. */
    public Manifest finish() throws IOException {
      out.close();
      done = true;
      String digest = HexFormat.of().formatHex(sha.digest());
      Check c = check(tmp);
      if (c.rows() != rows || !c.sha256().equals(digest)) {
        Files.deleteIfExists(tmp);
        throw new IOException("archive " + file + " failed verification: wrote " + rows + " rows / " + digest
            + ", read back " + c.rows() + " rows / " + c.sha256());
      }
      fsync(tmp);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      Manifest m = new Manifest(file, project, day, source, rows, digest, minTs, maxTs, Instant.now(), 0);
      writeManifest(m);
      return m;
    }

    /** Abandons the file (nothing is published). */
    @Override
    public void close() throws IOException {
      if (!done) {
        out.close();
        Files.deleteIfExists(tmp);
      }
    }
  }

  public Writer begin(String project, LocalDate day, String source) throws IOException {
    return new Writer(project, day, source);
  }

  record Check(long rows, String sha256) {}

  static Check check(Path gz) throws IOException {
    MessageDigest sha = sha256();
    long rows = 0;
    try (BufferedReader in = reader(gz)) {
      String line;
      while ((line = in.readLine()) != null) {
        sha.update((line + "\n").getBytes(StandardCharsets.UTF_8));
        rows++;
      }
    }
    return new Check(rows, HexFormat.of().formatHex(sha.digest()));
  }

  /** Whether the file still matches its manifest. */
  public boolean verify(Manifest m) {
    try {
      Check c = check(m.file());
      return c.rows() == m.rows() && c.sha256().equals(m.sha256());
    } catch (IOException e) {
      return false;
    }
  }

  /** Every manifest (of one project, or all when null), oldest day first. */
  public List<Manifest> list(String project) {
    Path root = project == null ? dir : dir.resolve(safe(project));
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<Manifest> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root, 2)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (p.getFileName().toString().endsWith(MANIFEST)) {
          Manifest m = Manifest.fromJson(p, new JsonObject(Files.readString(p)));
          if (project == null || project.equals(m.project())) {
            out.add(m);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list archives in " + root, e);
    }
    out.sort(Comparator.comparing(Manifest::day).thenComparing(m -> m.file().getFileName().toString()));
    return out;
  }

  /** Calls {@code line} with each event of a verified archive (fails before the first line if it does not verify). */
  public void read(Manifest m, Consumer<JsonObject> line) throws IOException {
    if (!verify(m)) {
      throw new IOException("archive " + m.file() + " does not match its manifest (rows or checksum): not read");
    }
    try (BufferedReader in = reader(m.file())) {
      String s;
      while ((s = in.readLine()) != null) {
        line.accept(new JsonObject(s));
      }
    }
  }

  /**
   * Rewrites an archive without the events {@code drop} selects (user deletion); the new file is verified before it
   * replaces the old one. Returns how many events were removed (0: file untouched).
   */
  public long rewrite(Manifest m, Predicate<JsonObject> drop) throws IOException {
    long removed = 0;
    try (BufferedReader in = reader(m.file())) {
      String s;
      while ((s = in.readLine()) != null) {
        if (drop.test(new JsonObject(s))) {
          removed++;
        }
      }
    }
    if (removed == 0) {
      return 0;
    }
    Path tmp = m.file().resolveSibling(m.file().getFileName() + ".rewrite.tmp");
    MessageDigest sha = sha256();
    long rows = 0;
    try (BufferedReader in = reader(m.file());
         BufferedWriter out = new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(
             Files.newOutputStream(tmp), 1 << 16), StandardCharsets.UTF_8))) {
      String s;
      while ((s = in.readLine()) != null) {
        if (!drop.test(new JsonObject(s))) {
          sha.update((s + "\n").getBytes(StandardCharsets.UTF_8));
          out.write(s);
          out.write('\n');
          rows++;
        }
      }
    }
    String digest = HexFormat.of().formatHex(sha.digest());
    Check c = check(tmp);
    if (c.rows() != rows || !c.sha256().equals(digest)) {
      Files.deleteIfExists(tmp);
      throw new IOException("rewritten archive " + m.file() + " failed verification");
    }
    fsync(tmp);
    // the manifest first names the new checksum, then the file is swapped: a crash in between leaves a file that no
    // longer verifies (and is refused at restore) rather than a silently un-redacted one
    Manifest next = new Manifest(m.file(), m.project(), m.day(), m.source(), rows, digest, m.minTs(), m.maxTs(),
        m.createdAt(), m.redacted() + removed);
    writeManifest(next);
    Files.move(tmp, m.file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return removed;
  }

  private void writeManifest(Manifest m) throws IOException {
    Path target = m.manifestPath();
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.writeString(tmp, m.toJson().encodePrettily(), StandardCharsets.UTF_8);
    fsync(tmp);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static BufferedReader reader(Path gz) throws IOException {
    return new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(gz), 1 << 16),
        StandardCharsets.UTF_8), 1 << 16);
  }

  private static void fsync(Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  static String safe(String project) {
    return project.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
