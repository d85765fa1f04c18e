package io.tally.dashboard;

/**
 * The fixed cast of the demo's chat product: its models (each with its own latency, price and failure rate), the
 * browsers and places its people come from, the features they may adopt and the product's daily rhythm.
 */
final class DemoCatalog {
  private DemoCatalog() {
  }

  /** A model: prices per 1,000 prompt / answer tokens (USD), mean answer time, share of calls that fail. */
  record Model(String provider, String name, double inPer1k, double outPer1k, int latencyMs, double errorRate) {}

  static final Model GPT_4O = new Model("openai", "gpt-4o", 0.0025, 0.01, 1_700, 0.012);
  static final Model GPT_4O_MINI = new Model("openai", "gpt-4o-mini", 0.00015, 0.0006, 800, 0.008);
  static final Model CLAUDE_SONNET = new Model("anthropic", "claude-sonnet", 0.003, 0.015, 2_200, 0.010);
  static final Model CLAUDE_HAIKU = new Model("anthropic", "claude-haiku", 0.0008, 0.004, 1_000, 0.008);
  // the slowest and least reliable: the "slowest provider" insight names it
  static final Model GEMINI_PRO = new Model("google", "gemini-pro", 0.00125, 0.005, 3_900, 0.025);

  /** Models people settle on: everyday users favour the cheap ones, power users the strongest. */
  static final Model[] EVERYDAY = {GPT_4O_MINI, GPT_4O_MINI, GPT_4O_MINI, GPT_4O, GPT_4O, CLAUDE_SONNET,
      CLAUDE_HAIKU, CLAUDE_HAIKU, GEMINI_PRO, GEMINI_PRO};
  static final Model[] POWER = {GPT_4O, GPT_4O, CLAUDE_SONNET, CLAUDE_SONNET, GEMINI_PRO};

  /** The provider whose outage the demo's history holds (the anomaly and its insight). */
  static final String INCIDENT_PROVIDER = "anthropic";

  static final String[] DESKTOP = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
      "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "
          + "Edg/124.0.0.0"};
  static final String[] MOBILE = {
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
          + "Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
          + "Safari/537.36"};
  static final String[] TABLET = {
      "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
          + "Mobile/15E148 Safari/604.1"};

  /**
   * Public addresses of national networks (sent as {@code context.ip}), weighted by how many people come from each
   * country: with a geo-IP database configured, the dashboard shows where people are.
   */
  static final String[][] PLACES = {
      {"216.160.83.56", "US", "30"}, {"81.2.69.142", "GB", "12"},
      {"84.150.10.10", "DE", "12"}, {"90.84.1.1", "FR", "9"}, {"89.160.20.112", "SE", "4"},
      {"99.230.1.1", "CA", "7"}, {"1.128.0.1", "AU", "5"}, {"126.1.2.3", "JP", "6"},
      {"200.160.2.3", "BR", "6"}, {"117.200.1.1", "IN", "9"}};

  /** Features a person may adopt, with the share of people who do: code_interpreter stays a niche (a gap). */
  static final String[] FEATURES = {"search", "file_upload", "voice", "image_generation", "code_interpreter"};
  static final double[] ADOPTION = {0.38, 0.27, 0.17, 0.13, 0.05};

  /** First names for people's ids ({@code maya-4k2p}), so the Users view's search by prefix has something to find. */
  static final String[] NAMES = {"maya", "leo", "ana", "noah", "ines", "omar", "lena", "yuki", "sofia", "ravi",
      "emma", "luca", "chloe", "arjun", "zoe", "ivan", "nora", "mateo", "aisha", "felix", "hana", "diego", "ella",
      "kofi", "mila", "sven", "lucia", "tariq", "julia", "ben"};

  /** Share of a day's visits starting in each UTC hour: quiet at night, busy in the European afternoon and evening. */
  static final double[] HOURS = {1.0, 0.7, 0.5, 0.4, 0.4, 0.5, 0.8, 1.3, 2.0, 2.8, 3.4, 3.8, 4.2, 4.6, 5.0, 5.3,
      5.4, 5.2, 4.9, 4.6, 4.1, 3.3, 2.4, 1.6};
}
