package io.tally.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Content-Security-Policy of the app shell: our own origin only, plus exactly the inline scripts of
 * {@code index.html} by their SHA-256 (its boot script starts the Overview's queries before the modules load; a
 * hash, unlike {@code 'unsafe-inline'}, admits no other inline script). Computed from the page itself, so editing
 * the script cannot leave the policy behind.
 */
final class ShellPolicy {
  /** A {@code <script>} without attributes: one with {@code src} or {@code type} is not inline code we allow. */
  private static final Pattern INLINE_SCRIPT = Pattern.compile("<script>(.*?)</script>", Pattern.DOTALL);

  private ShellPolicy() {
  }

  /** The policy for the shell in the classpath resource {@code resource} (e.g. {@code webroot/index.html}). */
  static String forResource(String resource) {
    try (InputStream in = ShellPolicy.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("the dashboard's page " + resource + " is not on the classpath");
      }
      return forPage(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String forPage(String html) {
    StringBuilder scripts = new StringBuilder("script-src 'self'");
    Matcher m = INLINE_SCRIPT.matcher(html);
    while (m.find()) {
      scripts.append(" 'sha256-").append(sha256(m.group(1))).append('\'');
    }
    return "default-src 'self'; " + scripts + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        + "connect-src 'self'; frame-ancestors 'none'";
  }

  private static String sha256(String text) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
