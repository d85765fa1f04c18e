package io.tally.loadtest.dashboard;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dashboard load speed in headless Chromium against a running Tally (issue 7 §2): for each load, the Navigation
 * Timing entry, the first contentful paint, the app's {@code first-meaningful-render} mark (the first Overview
 * widget filled with data) and its {@code widgets-ready} mark (every Overview widget filled). Two rounds of
 * {@code bench.loads} loads (default 5): <b>cold</b>, each over a different 7-day period (so every query misses
 * Tally's result cache) and with the browser cache disabled, then <b>warm</b>, the same period again. Prints the
 * medians and appends one JSON line per round to {@code load-tests/dashboard-results.jsonl}. Also recorded per load,
 * to see where the time goes: {@code parsed} (the document parsed), {@code firstQuery} / {@code firstAnswer} (the
 * first {@code /v1/} request started / answered); {@code -Dbench.detail=true} adds every resource's start, request
 * start and end.
 *
 * <pre>
 * mvn -q test -Dtest=DashboardBench -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dbench.url=http://127.0.0.1:8080 -Dbench.key=dev-read-key -Dbench.lastDay=2026-11-24 -Dbench.label=10M
 * </pre>
 * Not part of {@code mvn verify} (its name does not end in Test); it needs a Tally holding a dataset.
 */
class DashboardBench {
  @Test
  void overviewLoad() throws Exception {
    String url = System.getProperty("bench.url");
    if (url == null) {
      System.out.println("DashboardBench: set -Dbench.url=http://host:port (and bench.key, bench.lastDay)");
      return;
    }
    String key = System.getProperty("bench.key", "dev-read-key");
    LocalDate lastDay = LocalDate.parse(System.getProperty("bench.lastDay", LocalDate.now().toString()));
    int loads = Integer.getInteger("bench.loads", 5);
    String label = System.getProperty("bench.label", "");

    ChromeOptions o = new ChromeOptions();
    o.setBinary(System.getenv().getOrDefault("TALLY_TEST_CHROMIUM", "/usr/bin/chromium"));
    o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1366,900", "--no-first-run", "--disable-extensions");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(
        System.getenv().getOrDefault("TALLY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))).usingAnyFreePort().build();
    ChromeDriver driver = new ChromeDriver(service, o);
    try {
      driver.get(url + "/");
      ((JavascriptExecutor) driver).executeScript("sessionStorage.setItem('tally.readKey', arguments[0])", key);
      driver.executeCdpCommand("Network.enable", Map.of());
      driver.executeCdpCommand("Network.setCacheDisabled", Map.of("cacheDisabled", true));
      List<JsonObject> cold = new ArrayList<>();
      for (int i = 0; i < loads; i++) {
        cold.add(load(driver, url, lastDay.minusDays(i), i));
      }
      driver.executeCdpCommand("Network.setCacheDisabled", Map.of("cacheDisabled", false));
      load(driver, url, lastDay, 100); // fills the browser cache
      List<JsonObject> warm = new ArrayList<>();
      for (int i = 0; i < loads; i++) {
        warm.add(load(driver, url, lastDay, 200 + i));
      }
      report(label, "cold", cold);
      report(label, "warm", warm);
    } finally {
      driver.quit();
    }
  }

  /** One full load of the Overview for the 7 days ending with {@code last}; timings in ms from navigation start. */
  private static JsonObject load(WebDriver driver, String url, LocalDate last, int n) {
    String hash = "#/overview?range=custom&from=" + last.minusDays(6) + "&to=" + last;
    driver.get(url + "/?load=" + n + hash);
    new WebDriverWait(driver, Duration.ofSeconds(120)).until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d)
        .executeScript("return performance.getEntriesByName('widgets-ready').length > 0")));
    String json = (String) ((JavascriptExecutor) driver).executeScript("""
        const nav = performance.getEntriesByType('navigation')[0];
        const mark = (n) => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
        const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
        return JSON.stringify({ ttfb: nav.responseStart, parsed: nav.domInteractive,
          domContentLoaded: nav.domContentLoadedEventEnd,
          load: nav.loadEventEnd, fcp: fcp ? fcp.startTime : null, fmr: mark('first-meaningful-render'),
          widgetsReady: mark('widgets-ready'),
          requests: performance.getEntriesByType('resource').filter((r) => r.name.includes('/v1/')).length,
          firstQuery: Math.min(...performance.getEntriesByType('resource').filter((r) => r.name.includes('/v1/'))
            .map((r) => r.startTime)),
          firstAnswer: Math.min(...performance.getEntriesByType('resource').filter((r) => r.name.includes('/v1/'))
            .map((r) => r.responseEnd)),
          detail: arguments[0] ? ['document ' + Math.round(nav.responseStart) + '-' + Math.round(nav.responseEnd)
            + ', parser started ' + (performance.timing.domLoading - performance.timing.navigationStart)]
            .concat(performance.getEntriesByType('resource').map((r) => r.name.replace(location.origin, '')
              .slice(0, 90) + ' ' + Math.round(r.startTime) + '/' + Math.round(r.requestStart) + '/'
              + Math.round(r.responseEnd))) : undefined,
          slowest: performance.getEntriesByType('resource').sort((a, b) => b.responseEnd - a.responseEnd).slice(0, 3)
            .map((r) => ({ name: r.name.replace(location.origin, '').slice(0, 120), start: Math.round(r.startTime),
              requestStart: Math.round(r.requestStart), end: Math.round(r.responseEnd) })) });""",
        Boolean.getBoolean("bench.detail"));
    JsonObject r = new JsonObject(json).put("period", hash);
    System.out.println("load " + n + ": " + r.encode());
    return r;
  }

  private static void report(String label, String round, List<JsonObject> runs) throws Exception {
    JsonObject medians = new JsonObject();
    for (String k : List.of("ttfb", "parsed", "domContentLoaded", "fcp", "firstQuery", "firstAnswer", "fmr",
        "widgetsReady")) {
      double[] v = runs.stream().mapToDouble(r -> r.getDouble(k) == null ? Double.NaN : r.getDouble(k)).sorted()
          .toArray();
      medians.put(k, Math.round(v[v.length / 2] * 10) / 10.0);
    }
    JsonObject line = new JsonObject().put("label", label).put("round", round).put("loads", runs.size())
        .put("median", medians).put("runs", new JsonArray(new ArrayList<>(runs)))
        .put("at", java.time.Instant.now().toString());
    System.out.println("DashboardBench " + label + " " + round + " median (ms): " + medians.encode());
    Path out = Path.of("load-tests", "dashboard-results.jsonl");
    Files.writeString(out, line.encode() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    assertTrue(runs.stream().allMatch(r -> r.getDouble("widgetsReady") != null), "every load got widgets-ready");
  }
}
