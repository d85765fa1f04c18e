package io.tally.dashboard;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verifies the shell's CSP admits exactly its inline scripts, by hash, and nothing inline besides. */
class ShellPolicyTest {
  @Test
  void inlineScriptsAreAllowedByTheirHashOnly() throws Exception {
    // GIVEN a page with one inline script, one module script and one external script
    String code = "\n  console.log('boot');\n";
    String page = "<head><script>" + code + "</script><script type=\"module\" src=\"js/app.js\"></script>"
        + "<script src=\"x.js\"></script></head>";
    // WHEN its policy is computed
    String policy = ShellPolicy.forPage(page);
    // THEN the inline script is allowed by its SHA-256 and nothing else inline
    String hash = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
        .digest(code.getBytes(StandardCharsets.UTF_8)));
    assertTrue(policy.contains("script-src 'self' 'sha256-" + hash + "';"), policy);
    assertEquals(1, policy.split("sha256-").length - 1, policy);
    String scriptSrc = java.util.Arrays.stream(policy.split(";")).map(String::trim)
        .filter(d -> d.startsWith("script-src")).findFirst().orElseThrow();
    assertFalse(scriptSrc.contains("unsafe-inline"), policy);
    assertTrue(policy.startsWith("default-src 'self'; "), policy);
  }

  @Test
  void theShippedPageHasItsBootScriptAllowed() {
    // the dashboard's own page: one inline script (the boot script that starts the Overview's queries)
    String policy = ShellPolicy.forResource("webroot/index.html");
    assertEquals(1, policy.split("sha256-").length - 1, policy);
  }
}
