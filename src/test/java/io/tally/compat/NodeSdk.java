package io.tally.compat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the pinned Node SDKs of src/test/node/sdk-compat: installs them with {@code npm ci} once per package-lock
 * (a stamp in node_modules keeps the install between runs), then runs a driver script with {@code node}.
 */
final class NodeSdk {
  static final Path DIR = Path.of("src/test/node/sdk-compat").toAbsolutePath();
  private static final Path STAMP = DIR.resolve("node_modules/.tally-lock-sha256");

  private NodeSdk() {
  }

  /** The output of a finished driver. */
  record Run(int exit, String output) {
    boolean delivered() {
      return exit == 0 && output.contains(": done") && !output.contains("delivery failed")
          && !output.contains("flush failed");
    }
  }

  static synchronized void install() throws Exception {
    assertTrue(onPath("node") && onPath("npm"), "the SDK compatibility tests need node and npm: apt-get install "
        + "nodejs npm (.ci/run does)");
    String lock = sha256(Files.readAllBytes(DIR.resolve("package-lock.json")));
    if (Files.exists(STAMP) && Files.readString(STAMP).equals(lock)) {
      return;
    }
    Run r = exec(List.of("npm", "ci", "--omit=optional", "--no-audit", "--no-fund"), Map.of(), 300);
    assertTrue(r.exit() == 0, "npm ci failed:\n" + r.output());
    Files.writeString(STAMP, lock);
  }

  /** Runs {@code script} (e.g. segment.js) with these environment variables; waits at most {@code seconds}. */
  static Run run(String script, Map<String, String> env, int seconds) throws Exception {
    return exec(List.of("node", script), env, seconds);
  }

  private static Run exec(List<String> command, Map<String, String> env, int seconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    // axios (RudderStack) honours proxy variables: the test server is local
    pb.environment().put("NO_PROXY", "127.0.0.1,localhost");
    pb.environment().put("no_proxy", "127.0.0.1,localhost");
    pb.environment().put("npm_config_cache", Path.of("target/npm-cache").toAbsolutePath().toString());
    pb.environment().put("npm_config_update_notifier", "false");
    Path log = Files.createTempFile("node-sdk", ".log");
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    try {
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        return new Run(-1, Files.readString(log) + "\n(timed out after " + seconds + " s)");
      }
      return new Run(p.exitValue(), Files.readString(log));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  private static String sha256(byte[] b) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
