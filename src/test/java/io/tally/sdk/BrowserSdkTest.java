package io.tally.sdk;

import com.sun.net.httpserver.HttpServer;
import io.tally.config.TallyConfig;
import io.tally.support.Db;
import io.tally.support.Eventually;
import io.tally.support.TestTally;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies the browser SDK (/sdk/tally.js) in a real headless Chromium against a real Tally: the test page comes from
 * another origin (a small server in the test), so CORS and the project's allowedOrigins are exercised as on a real
 * site. Events arrive in order with their acks; a Tally stopped mid-session and started again on the same port and
 * data loses nothing and stores nothing twice, across a reload too; a page closed right after a track still
 * delivers it; Do Not Track keeps the SDK silent.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class BrowserSdkTest {
  static final String SUFFIX = UUID.randomUUID().toString().substring(0, 8);
  static final String PROJECT = "p-sdk-" + SUFFIX;
  static final String WRITE = "w-sdk-" + SUFFIX;
  static final String READ = "r-sdk-" + SUFFIX;
  static TestTally t;
  static int port;
  static HttpServer pages;
  static String pageOrigin;
  static WebDriver driver;

  @BeforeAll
  static void start() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    pages.createContext("/", ex -> {
      byte[] html = page(ex.getRequestURI().getQuery()).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
      ex.sendResponseHeaders(200, html.length);
      ex.getResponseBody().write(html);
      ex.close();
    });
    pages.start();
    pageOrigin = "http://127.0.0.1:" + pages.getAddress().getPort();
    t = startTally();
    String chromium = System.getenv().getOrDefault("TALLY_TEST_CHROMIUM", "/usr/bin/chromium");
    String chromedriver = System.getenv().getOrDefault("TALLY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
    assertTrue(Files.isExecutable(Path.of(chromium)) && Files.isExecutable(Path.of(chromedriver)),
        "the SDK tests need " + chromium + " and " + chromedriver + ": apt-get install chromium chromium-driver");
    ChromeOptions o = new ChromeOptions();
    o.setBinary(chromium);
    o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--disable-extensions", "--no-first-run");
    driver = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(new File(chromedriver))
        .usingAnyFreePort().build(), o);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(90));
  }

  /** The same project, keys and port every time, so the page's SDK finds "the same" server after a restart. */
  static TestTally startTally() {
    return TestTally.start(PROJECT, WRITE, READ, c -> c.withHttp(new TallyConfig.Http("127.0.0.1", port, 2))
        .withProjects(c.projects().stream().map(p -> p.withAllowedOrigins(List.of(pageOrigin))).toList()));
  }

  /**
   * The test page: loads the SDK from Tally (another origin) and records every answer it gets. {@code nosend}:
   * neither WebSocket nor fetch can deliver (only the beacon can); {@code dnt}: the browser asks not to be tracked.
   */
  static String page(String query) {
    String q = query == null ? "" : query;
    String host = "http://127.0.0.1:" + port;
    String stubs = (q.contains("nosend") ? "window.WebSocket = undefined; window.fetch = function () { return new "
        + "Promise(function () {}); };" : "")
        + (q.contains("dnt") ? "Object.defineProperty(navigator, 'doNotTrack', {value: '1'});" : "");
    return "<!doctype html><html><head><title>SDK test</title><script>" + stubs + "</script>"
        + "<script src=\"" + host + "/sdk/tally.js\"></script>"
        + "<script>window.answers = []; window.t = Tally.init({host: '" + host + "', writeKey: '" + WRITE + "', "
        + "onAnswer: function (a) { answers.push(a); }});</script></head><body>page</body></html>";
  }

  @AfterEach
  void clearStorage() {
    if (driver != null && driver.getCurrentUrl().startsWith(pageOrigin)) {
      js("localStorage.clear();");
    }
  }

  @AfterAll
  static void stop() {
    if (driver != null) {
      driver.quit();
    }
    if (t != null) {
      t.stop();
    }
    if (pages != null) {
      pages.stop(0);
    }
  }

  @Test
  void verifiesThatEventsArriveInOrderWithTheirAcks() {
    // GIVEN a page with the SDK (it sends a page_view on load)
    driver.get(pageOrigin + "/?order");
    // WHEN it tracks 120 events (several messages of up to 50), identifies, tracks once more, and flushes
    Object flushed = async("var ids = []; for (var i = 0; i < 120; i++) ids.push(t.track('step', {i: i})); "
        + "t.identify('user-42', {plan: 'pro'}); ids.push(t.track('after_identify'));"
        + "t.flush(30000).then(function (ok) { done({ok: ok, ids: ids, answers: answers}); });");
    Map<?, ?> r = (Map<?, ?>) flushed;
    // THEN every message got its ack (none a nack: each seq once, whatever order the commits finished in), and
    // every event was accepted once
    assertEquals(true, r.get("ok"));
    List<?> answers = (List<?>) r.get("answers");
    long accepted = 0;
    java.util.Set<Long> acked = new java.util.TreeSet<>();
    for (Object o : answers) {
      Map<?, ?> a = (Map<?, ?>) o;
      assertTrue(acked.add((Long) a.get("ack")), "one answer per message, acks only: " + answers);
      accepted += (Long) a.get("accepted");
    }
    assertEquals(java.util.stream.LongStream.rangeClosed(1, answers.size()).boxed().toList(), List.copyOf(acked));
    assertTrue(answers.size() >= 3 && answers.size() <= 6, "events tracked together share messages of up to 50: "
        + answers.size() + " messages");
    assertEquals(123, accepted); // page_view + 120 steps + identify + after_identify
    // AND they are stored once each, and reached the server in the order tracked (receipt time: the stored event
    // time is corrected per message by its sentAt, so it need not follow the order across messages)
    List<Map<String, Object>> rows = Db.query("SELECT (properties->>'i')::int AS i FROM events WHERE project_id = ? "
        + "AND type = 'step' ORDER BY received_at, (properties->>'i')::int", PROJECT);
    assertEquals(120, rows.size());
    for (int i = 0; i < 120; i++) {
      assertEquals(i, ((Number) rows.get(i).get("i")).intValue());
    }
    // AND one anonymous id and one session throughout, the identify linking it to the user
    assertEquals(1, Db.count("SELECT count(DISTINCT anonymous_id) FROM events WHERE project_id = ? AND id = ANY(?::uuid[])",
        PROJECT, ids(r)));
    assertEquals(1, Db.count("SELECT count(DISTINCT session_id) FROM events WHERE project_id = ? AND id = ANY(?::uuid[])",
        PROJECT, ids(r)));
    assertEquals(1, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND type = 'identify' "
        + "AND user_id = 'user-42' AND anonymous_id IS NOT NULL", PROJECT));
  }

  @Test
  void verifiesThatAServerStoppedMidSessionLosesNothingAndStoresNothingTwice() {
    // GIVEN a page that has delivered some events
    driver.get(pageOrigin + "/?restart");
    Map<?, ?> before = (Map<?, ?>) async("var ids = []; for (var i = 0; i < 10; i++) ids.push(t.track('before', "
        + "{i: i})); t.flush(30000).then(function (ok) { done({ok: ok, ids: ids}); });");
    assertEquals(true, before.get("ok"));
    // WHEN Tally stops, the page tracks, reloads (the queue is in localStorage) and tracks again
    t.stop();
    t = null;
    List<String> down = new ArrayList<>();
    down.addAll(strings(js("var ids = []; for (var i = 0; i < 10; i++) ids.push(t.track('down', {i: i})); "
        + "return ids;")));
    driver.navigate().refresh();
    down.addAll(strings(js("var ids = []; for (var i = 0; i < 5; i++) ids.push(t.track('reloaded', {i: i})); "
        + "return ids;")));
    assertEquals(false, async("t.flush(1500).then(done);"), "nothing can be acked while Tally is down");
    // AND Tally starts again on the same port, with the same data
    t = startTally();
    Map<?, ?> after = (Map<?, ?>) async("t.flush(60000).then(function (ok) { done({ok: ok, left: t.q.length}); });");
    // THEN everything was delivered: each event stored exactly once, under the id the page gave it
    assertEquals(true, after.get("ok"), String.valueOf(after));
    assertEquals(0L, after.get("left"));
    String[] all = down.toArray(new String[0]);
    assertEquals(15, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND id = ANY(?::uuid[])", PROJECT,
        all));
    assertEquals(10, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND type = 'before'", PROJECT));
    assertEquals(10, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND type = 'down'", PROJECT));
    assertEquals(5, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND type = 'reloaded'", PROJECT));
    assertEquals(0, Db.count("SELECT count(*) FROM (SELECT id FROM events WHERE project_id = ? GROUP BY id "
        + "HAVING count(*) > 1) d", PROJECT));
  }

  @Test
  void verifiesThatAPageClosedRightAfterATrackStillDeliversIt() {
    String home = driver.getWindowHandle();
    // GIVEN a page whose WebSocket and fetch can deliver nothing (only the browser's beacon can)
    driver.switchTo().newWindow(WindowType.TAB);
    driver.get(pageOrigin + "/?nosend");
    // WHEN it tracks and the tab is closed at once
    String beaconed = (String) js("return t.track('closing', {via: 'beacon'});");
    driver.close();
    // AND a normal page does the same
    driver.switchTo().window(home);
    driver.switchTo().newWindow(WindowType.TAB);
    driver.get(pageOrigin + "/?close");
    String normal = (String) js("return t.track('closing', {via: 'normal'});");
    driver.close();
    driver.switchTo().window(home);
    // THEN both are stored, once
    Eventually.until("the closed pages' events stored", 30, () -> Db.count("SELECT count(*) FROM events WHERE "
        + "project_id = ? AND id = ANY(?::uuid[])", PROJECT, new String[] {beaconed, normal}) == 2);
  }

  @Test
  void verifiesThatDoNotTrackKeepsTheSdkSilent() throws InterruptedException {
    // GIVEN a browser asking not to be tracked
    driver.get(pageOrigin + "/?dnt");
    // WHEN the page tracks
    Object id = js("return t.track('dnt_event');");
    Thread.sleep(1500);
    // THEN nothing is queued, stored or sent
    assertNull(id);
    assertEquals(0, Db.count("SELECT count(*) FROM events WHERE project_id = ? AND type = 'dnt_event'", PROJECT));
    assertEquals(0L, js("return Object.keys(localStorage).filter(function (k) { return k.indexOf('.q.') > 0; })"
        + ".length;"));
  }

  private static Object js(String script) {
    return ((JavascriptExecutor) driver).executeScript(script);
  }

  /** Runs {@code script} with {@code done} as its completion callback. */
  private static Object async(String script) {
    return ((JavascriptExecutor) driver).executeAsyncScript("var done = arguments[arguments.length - 1]; " + script);
  }

  private static String[] ids(Map<?, ?> r) {
    return strings(r.get("ids")).toArray(new String[0]);
  }

  private static List<String> strings(Object list) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) list) {
      out.add((String) o);
    }
    return out;
  }
}
