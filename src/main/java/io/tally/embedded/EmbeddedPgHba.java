package io.tally.embedded;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and rewrites the authentication method of a {@code pg_hba.conf}: which lines let a client in without a
 * password ({@code trust}), and the same file with each of those asking for scram-sha-256 instead. Everything else
 * (comments, other lines, spacing) is kept as it was.
 */
final class EmbeddedPgHba {
  static final String SCRAM = "scram-sha-256";
  private static final Pattern TOKEN = Pattern.compile("\\S+");
  private static final Set<String> INCLUDES = Set.of("include", "include_if_exists", "include_dir");

  private EmbeddedPgHba() {
  }

  /** Whether any rule of the file authenticates with {@code trust}. */
  static boolean trusts(String text) {
    return !text.equals(withoutTrust(text));
  }

  /** The file with every {@code trust} method replaced by scram-sha-256. */
  static String withoutTrust(String text) {
    StringBuilder out = new StringBuilder(text.length() + 64);
    for (String line : text.split("\n", -1)) {
      out.append(rewrite(line)).append('\n');
    }
    out.setLength(out.length() - 1);
    return out.toString();
  }

  private static String rewrite(String line) {
    int hash = line.indexOf('#');
    String rule = hash < 0 ? line : line.substring(0, hash);
    Matcher m = TOKEN.matcher(rule);
    java.util.List<int[]> spans = new java.util.ArrayList<>();
    java.util.List<String> tokens = new java.util.ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(), m.end()});
      tokens.add(m.group());
    }
    if (tokens.size() < 4 || INCLUDES.contains(tokens.get(0))) {
      return line;
    }
    int method = methodIndex(tokens);
    if (method >= tokens.size() || !tokens.get(method).equalsIgnoreCase("trust")) {
      return line;
    }
    int[] span = spans.get(method);
    return line.substring(0, span[0]) + SCRAM + line.substring(span[1]);
  }

  /**
   * local: type, database, user, method; host*: type, database, user, address, method — or, when the address is a
   * bare IP followed by its mask, the method comes one later.
   */
  private static int methodIndex(java.util.List<String> t) {
    if (t.get(0).equals("local")) {
      return 3;
    }
    String address = t.get(3);
    boolean bareIp = !address.contains("/") && address.matches("[0-9a-fA-F:.]+")
        && (address.contains(".") || address.contains(":"));
    return bareIp ? 5 : 4;
  }
}
