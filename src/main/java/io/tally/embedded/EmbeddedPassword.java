package io.tally.embedded;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The password of an embedded server: 256 random bits (hex) made at the first start, kept in a file only its owner
 * may read or write (mode 0600) and read again at every later start. Hex, so it is safe unquoted in a URL, in
 * Redis's configuration and in initdb's password file.
 */
final class EmbeddedPassword {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPassword.class);
  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The password, and whether this call made it (no file was there). */
  record Loaded(String password, boolean created) {
  }

  private EmbeddedPassword() {
  }

  static Loaded readOrCreate(Path file) {
    try {
      if (Files.exists(file)) {
        ownerOnly(file);
        String password = Files.readString(file, StandardCharsets.UTF_8).strip();
        // whatever is there goes unquoted into a URL, redis.conf and initdb's password file
        if (!password.matches("[A-Za-z0-9._~-]{16,200}")) {
          throw new IllegalStateException("the password file " + file + " must hold one line of 16 to 200 "
              + "characters of [A-Za-z0-9._~-]");
        }
        return new Loaded(password, false);
      }
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      byte[] bytes = new byte[32];
      RANDOM.nextBytes(bytes);
      String password = HexFormat.of().formatHex(bytes);
      // written whole under another name, then renamed: a crash never leaves a half-written password behind
      Path tmp = dir.resolve(file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      if (Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null) {
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      } else {
        Files.createFile(tmp);
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap((password + "\n").getBytes(StandardCharsets.US_ASCII)));
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return new Loaded(password, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the password file " + file, e);
    }
  }

  /** A file others could read (copied, or a chmod -R) is narrowed back to its owner. */
  private static void ownerOnly(Path file) throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
    if (view != null && !view.readAttributes().permissions().equals(OWNER_ONLY)) {
      view.setPermissions(OWNER_ONLY);
      LOG.warn("the password file {} could be read by others: set back to mode 0600", file);
    }
  }
}
