package io.tally.dashboard;

import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.text.NumberFormat;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies the dashboard in a real headless Chromium (Debian chromium + chromedriver, driven by Selenium) against a
 * real Tally on the embedded PostgreSQL and Redis: sign-in, every view, the numbers shown equal both the API's
 * answers and figures the test computes itself from the events it sent, filters, funnels, CSV export, the live
 * counter, segments and keyboard navigation; then a tour of every view after the --demo back-fill. A screenshot of
 * each view goes to target/screenshots/. No test leaves an error in the browser's console (checked after each).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {
  static final Path SHOTS = Path.of("target", "screenshots");
  static final String[][] MODELS = {{"openai", "gpt-4o"}, {"openai", "o3"}, {"anthropic", "claude"}};
  static final String DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      + "Chrome/124.0.0.0 Safari/537.36";
  static final String PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      + "like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

  static TestTally t;
  static WebDriver driver;
  static WebDriverWait wait;
  static Path downloads;
  /** What the test sent, counted here independently of Tally. */
  static final Expected all = new Expected();
  static final Expected openai = new Expected();
  static final Map<String, Integer> messagesSentBy = new HashMap<>();
  static final Map<String, Integer> eventsBy = new HashMap<>();
  static int funnel1;
  static int funnel2;
  static int funnel3;
  static String someUser;

  static final class Expected {
    long events;
    long messages;
    long tokens;
    double cost;
    final Set<String> persons = new HashSet<>();
    final Map<String, Long> eventsByProvider = new HashMap<>();
  }

  @BeforeAll
  static void start() throws IOException {
    t = TestTally.start();
    // persons of the last two hours: each views a page, then some chat (sent → received), a few fail or pay
    Random rnd = new Random();
    Instant base = Instant.now().minus(2, ChronoUnit.HOURS);
    if (!base.truncatedTo(ChronoUnit.DAYS).equals(Instant.now().truncatedTo(ChronoUnit.DAYS))) {
      base = Instant.now().truncatedTo(ChronoUnit.DAYS).plusSeconds(1); // keep every event in today's UTC day
    }
    JsonArray batch = new JsonArray();
    int persons = 10 + rnd.nextInt(8);
    for (int p = 0; p < persons; p++) {
      String person = "person-" + p;
      String session = person + "-s1";
      String[] model = MODELS[rnd.nextInt(MODELS.length)];
      String agent = rnd.nextBoolean() ? DESKTOP : PHONE;
      Instant at = base.plusSeconds(rnd.nextInt(1800));
      add(batch, person, session, at, "page_view", new JsonObject(), agent);
      funnel1++;
      boolean sent = false;
      boolean received = false;
      int turns = rnd.nextInt(4); // 0 turns: the person leaves after the page view
      for (int i = 0; i < turns; i++) {
        at = at.plusSeconds(5 + rnd.nextInt(60));
        add(batch, person, session, at, "message_sent", new JsonObject().put("provider", model[0])
            .put("model", model[1]).put("tokens", 10 + rnd.nextInt(300)).put("cost", rnd.nextInt(500) / 10_000.0),
            agent);
        sent = true;
        at = at.plusSeconds(1 + rnd.nextInt(20));
        if (rnd.nextInt(5) == 0) {
          add(batch, person, session, at, "error", new JsonObject().put("code", "timeout")
              .put("provider", model[0]), agent);
        } else {
          add(batch, person, session, at, "message_received", new JsonObject().put("provider", model[0])
              .put("model", model[1]).put("tokens", 50 + rnd.nextInt(900)).put("cost", rnd.nextInt(900) / 10_000.0)
              .put("responseTimeMs", 200 + rnd.nextInt(3000)), agent);
          received = true;
        }
      }
      if (rnd.nextInt(4) == 0) {
        add(batch, person, session, at.plusSeconds(30), "payment", new JsonObject().put("amount", 20)
            .put("currency", "USD"), agent);
      }
      funnel2 += sent ? 1 : 0;
      funnel3 += received ? 1 : 0; // a received message always follows a sent one here
    }
    someUser = batch.getJsonObject(batch.size() - 1).getJsonObject("userContext").getString("userId");
    post(batch);
    Eventually.until("people and rollups derived", () -> {
      Http.Response r = t.http.get("/v1/metrics/usage?from=" + Instant.now().truncatedTo(ChronoUnit.DAYS)
          .minus(6, ChronoUnit.DAYS) + "&to=" + Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS));
      return r.status() == 200 && r.json().getJsonObject("users").getInteger("active") == all.persons.size()
          && r.json().getJsonObject("sessions").getInteger("total") == all.persons.size();
    });

    Files.createDirectories(SHOTS);
    downloads = Files.createTempDirectory(Path.of("target"), "downloads-").toAbsolutePath();
    String chromium = System.getenv().getOrDefault("TALLY_TEST_CHROMIUM", "/usr/bin/chromium");
    String chromedriver = System.getenv().getOrDefault("TALLY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
    assertTrue(Files.isExecutable(Path.of(chromium)) && Files.isExecutable(Path.of(chromedriver)),
        "the dashboard tests need " + chromium + " and " + chromedriver + ": apt-get install chromium chromium-driver "
            + "(.ci/run does), or point TALLY_TEST_CHROMIUM / TALLY_TEST_CHROMEDRIVER at them");
    ChromeOptions o = new ChromeOptions();
    o.setBinary(chromium);
    o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1366,2200", "--disable-extensions", "--no-first-run");
    o.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
        "download.prompt_for_download", false));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL); // the console, read after each test
    o.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(chromedriver)).usingAnyFreePort().build();
    driver = new ChromeDriver(service, o);
    wait = new WebDriverWait(driver, Duration.ofSeconds(30));
  }

  static void add(JsonArray batch, String person, String session, Instant at, String type, JsonObject props,
                  String agent) {
    batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
        .put("sessionId", session).put("type", type).put("properties", props)
        .put("page", new JsonObject().put("url", "https://chat.example/chat").put("path", "/chat"))
        .put("userContext", new JsonObject().put("userId", person).put("sessionId", session))
        .put("context", new JsonObject().put("userAgent", agent)));
    String provider = props.getString("provider");
    count(all, person, type, props);
    if ("openai".equals(provider)) {
      count(openai, person, type, props);
    }
    eventsBy.merge(person, 1, Integer::sum);
    if (type.equals("message_sent")) {
      messagesSentBy.merge(person, 1, Integer::sum);
    }
  }

  static void count(Expected e, String person, String type, JsonObject props) {
    e.events++;
    e.persons.add(person);
    String provider = props.getString("provider");
    if (provider != null) {
      e.eventsByProvider.merge(provider, 1L, Long::sum);
    }
    if (type.equals("message_sent") || type.equals("message_received")) {
      e.messages++;
      e.tokens += props.getLong("tokens");
      e.cost += props.getDouble("cost");
    }
  }

  static void post(JsonArray batch) {
    Http.Response r = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/events"))
        .header("Authorization", "Bearer " + t.writeKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("batch", batch).encode())).build());
    assertEquals(200, r.status(), r.body());
    assertEquals(batch.size(), r.json().getInteger("accepted"), r.body());
  }

  @AfterAll
  static void stop() {
    if (driver != null) {
      driver.quit();
    }
    if (t != null) {
      t.stop();
    }
  }

  /** Tests that provoke errors on purpose, and the only console errors each may leave. */
  static final Map<String, String> EXPECTED_CONSOLE_ERRORS = Map.of(
      "wrongKeysAreRefusedClearly", "status of 40[13]", // the refused keys' answers
      "userView", "/analytics\\?.* status of 404", // the person nobody ever saw, looked up on purpose
      "theBootScriptDrawsTheFirstNumberItself", "ERR_BLOCKED_BY_CLIENT"); // app.js blocked on purpose

  /** Verifies that the test left no error in the browser's console (a failed request, an exception, a bad favicon). */
  @AfterEach
  void noConsoleErrors(TestInfo info) {
    List<String> errors = consoleErrors();
    String allowed = EXPECTED_CONSOLE_ERRORS.get(info.getTestMethod().orElseThrow().getName());
    errors.removeIf(e -> allowed != null && java.util.regex.Pattern.compile(allowed).matcher(e).find());
    assertEquals(List.of(), errors, "errors in the browser's console");
  }

  /** The console's errors since the last call (reading drains the log). */
  static List<String> consoleErrors() {
    List<String> out = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
        out.add(e.getMessage());
      }
    }
    return out;
  }

  // ---- helpers ---------------------------------------------------------------------------------------------------

  static String url(String hash) {
    return "http://127.0.0.1:" + t.tally.port() + "/" + hash;
  }

  static void open(String hash) {
    driver.get(url(hash));
    ready(hash.replaceFirst("^#/", "").replaceFirst("\\?.*", ""));
  }

  /** Waits until the view finished loading (the app sets body[data-ready=view] when every widget settled). */
  static void ready(String view) {
    wait.until(d -> view.equals(d.findElement(By.tagName("body")).getAttribute("data-ready")));
  }

  static double value(String css) {
    WebElement el = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(css)));
    return Double.parseDouble(el.getAttribute("data-value"));
  }

  static String text(String css) {
    return driver.findElement(By.cssSelector(css)).getText();
  }

  static void shot(String name) throws IOException {
    File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
    Files.copy(f.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  static void noErrorBoxes() {
    List<WebElement> errors = driver.findElements(By.cssSelector(".error-box"));
    assertTrue(errors.isEmpty(), () -> "error shown: " + errors.get(0).getText());
    String main = text("main");
    assertFalse(main.contains("undefined") || main.contains("NaN") || main.contains("[object"), main);
  }

  static String period7d() {
    Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
    return "from=" + to.minus(7, ChronoUnit.DAYS) + "&to=" + to;
  }

  static double seriesSum(String metric, String filters) {
    Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
    JsonObject r = t.http.get("/v1/timeseries?metric=" + metric + "&interval=day&from=" + to.minus(7, ChronoUnit.DAYS)
        + "&to=" + to + filters).json();
    return r.getJsonArray("points").stream().mapToDouble(p -> ((JsonObject) p).getDouble("value")).sum();
  }

  static JsonObject funnelApi(List<String> steps, long windowSeconds) {
    Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
    JsonArray s = new JsonArray();
    steps.forEach(e -> s.add(new JsonObject().put("event", e)));
    Http.Response r = t.http.send(HttpRequest.newBuilder(t.http.uri("/v1/funnels"))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", "funnel").put("steps", s)
            .put("windowSeconds", windowSeconds).put("from", to.minus(7, ChronoUnit.DAYS).toString())
            .put("to", to.toString()).encode())).build());
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  static String fmtInt(double v) {
    return NumberFormat.getIntegerInstance(Locale.US).format(Math.round(v));
  }

  // ---- tests -----------------------------------------------------------------------------------------------------

  /** Verifies that a wrong key and a write key are refused with messages saying what is wrong. */
  @Test
  @Order(1)
  void wrongKeysAreRefusedClearly() throws IOException {
    driver.get(url(""));
    WebElement key = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("key")));
    key.sendKeys("not-a-key", Keys.ENTER);
    wait.until(d -> text("#signin-error").contains("not known"));
    shot("signin-wrong-key");
    key.clear();
    key.sendKeys(t.writeKey, Keys.ENTER);
    wait.until(d -> text("#signin-error").contains("write key"));
    onlyTheSignInForm();
  }

  /** Before sign-in only the sign-in form shows: no views, filters or buttons to press, and no view is drawn. */
  static void onlyTheSignInForm() {
    for (String id : List.of("nav", "filters", "sign-out", "print")) {
      assertFalse(driver.findElement(By.id(id)).isDisplayed(), id + " shows before sign-in");
    }
    assertTrue(driver.findElement(By.id("signin")).isDisplayed());
    assertEquals(0L, ((Number) ((JavascriptExecutor) driver).executeScript(
        "return document.querySelectorAll('#view *').length")).longValue(), "no view drawn");
    driver.findElement(By.tagName("body")).sendKeys("2"); // the keyboard's view switch does nothing either
    assertFalse(driver.getCurrentUrl().contains("#/usage"), driver.getCurrentUrl());
  }

  /** Verifies that after sign-in the Overview shows the same numbers as the API and as the test's own count. */
  @Test
  @Order(2)
  void overviewNumbersEqualTheApiAndTheEventsSent() throws IOException {
    driver.get(url(""));
    WebElement key = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("key")));
    key.clear();
    key.sendKeys(t.readKey, Keys.ENTER);
    ready("overview");
    noErrorBoxes();
    assertEquals(t.readKey, ((JavascriptExecutor) driver).executeScript(
        "return sessionStorage.getItem('tally.readKey')"), "the key lives in sessionStorage");

    JsonObject usage = t.http.get("/v1/metrics/usage?" + period7d()).json();
    assertEquals(all.persons.size(), value("output[data-metric=active_users]"));
    assertEquals(usage.getJsonObject("users").getInteger("active"), (int) value("output[data-metric=active_users]"));
    assertEquals(all.persons.size(), (int) value("output[data-metric=sessions]"));
    assertEquals(all.events, (long) value("output[data-metric=events]"));
    assertEquals(seriesSum("events", ""), value("output[data-metric=events]"));
    assertEquals(all.messages, (long) value("output[data-metric=messages]"));
    assertEquals(all.tokens, (long) value("output[data-metric=tokens]"));
    assertEquals(all.cost, value("output[data-metric=cost]"), 1e-9);
    assertEquals(seriesSum("cost", ""), value("output[data-metric=cost]"), 1e-9);
    assertEquals(usage.getJsonObject("performance").getDouble("errorRate"), value("output[data-metric=error_rate]"),
        1e-12);
    assertEquals(all.persons.size(), (int) value("output[data-metric=dau]"));
    // what a person reads is the same number, formatted
    assertEquals(fmtInt(all.messages), text("output[data-metric=messages]"));
    assertEquals(fmtInt(all.tokens), text("output[data-metric=tokens]"));
    // money shows its currency
    assertEquals(NumberFormat.getCurrencyInstance(Locale.US).format(all.cost), text("output[data-metric=cost]"));
    assertTrue(text("output[data-metric=revenue]").startsWith("$"), text("output[data-metric=revenue]"));
    assertTrue(text("#period-label").startsWith("Last 7 days"), text("#period-label"));
    assertFalse(driver.findElements(By.cssSelector("#charts canvas")).isEmpty(), "time-series charts drawn");
    shot("overview");
  }

  /** Verifies that a provider filter changes the numbers to those of the matching events, and lands in the URL. */
  @Test
  @Order(3)
  void providerFilterChangesTheNumbers() throws IOException {
    open("#/overview");
    double before = value("output[data-metric=messages]");
    WebElement provider = driver.findElement(By.id("f-provider"));
    provider.clear();
    provider.sendKeys("openai");
    driver.findElement(By.id("f-apply")).click();
    wait.until(d -> d.getCurrentUrl().contains("provider=openai"));
    ready("overview");
    wait.until(d -> value("output[data-metric=messages]") != before || openai.messages == all.messages);
    assertEquals(openai.messages, (long) value("output[data-metric=messages]"));
    assertEquals(openai.tokens, (long) value("output[data-metric=tokens]"));
    assertEquals(seriesSum("messages", "&provider=openai"), value("output[data-metric=messages]"));
    if (openai.messages != all.messages) {
      assertNotEquals(before, value("output[data-metric=messages]"));
    }
    assertTrue(text("#period-label").contains("provider = openai"));
    shot("overview-filtered");
    // the URL carries the state: a fresh load of it shows the same
    driver.navigate().refresh();
    ready("overview");
    assertEquals(openai.messages, (long) value("output[data-metric=messages]"));
    assertEquals("openai", driver.findElement(By.id("f-provider")).getAttribute("value"));
  }

  /** Verifies the Usage view's breakdowns equal the API and the test's counts, and its CSV export parses back. */
  @Test
  @Order(4)
  void usageBreakdownsAndCsvExport() throws Exception {
    open("#/usage");
    noErrorBoxes();
    JsonObject api = t.http.get("/v1/breakdown?dimension=provider&metric=events&limit=20&" + period7d()).json();
    for (Object o : api.getJsonArray("rows")) {
      JsonObject row = (JsonObject) o;
      String key = row.getString("key") == null ? "" : row.getString("key");
      double shown = value("[data-dimension=provider] span[data-key='" + key + "']");
      assertEquals(row.getDouble("value"), shown, "provider " + key);
      if (!key.isEmpty()) {
        assertEquals(all.eventsByProvider.get(key), (long) shown, "provider " + key + " counted by the test");
      }
    }
    assertEquals(all.events, (long) Double.parseDouble(driver.findElement(By.cssSelector("[data-dimension=event]"))
        .getAttribute("data-total")));
    // AND the Country card says where locations come from (the bundled database) and how to get cities
    WebElement source = driver.findElement(By.cssSelector("[data-dimension=country] #location-source"));
    assertEquals("country", source.getAttribute("data-level"));
    assertTrue(source.getText().contains("bundled country database"), source.getText());
    assertTrue(source.getText().contains("enrich.geoipDatabase to a city database"), source.getText());
    shot("usage");

    // WHEN the provider card's CSV button is pressed THEN a CSV with the same rows is downloaded
    try (Stream<Path> s = Files.list(downloads)) {
      s.forEach(p -> p.toFile().delete());
    }
    driver.findElement(By.cssSelector("[data-dimension=provider] button[data-format=csv]")).click();
    Path csv = waitForDownload(".csv");
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    assertEquals("key,value", lines.get(0));
    Map<String, Double> parsed = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",", -1);
      parsed.put(cells[0], Double.parseDouble(cells[1]));
    }
    assertEquals(api.getJsonArray("rows").size(), parsed.size());
    for (Object o : api.getJsonArray("rows")) {
      JsonObject row = (JsonObject) o;
      assertEquals(row.getDouble("value"), parsed.get(row.getString("key") == null ? "" : row.getString("key")));
    }
    // the same data as JSON, straight from the export route
    Http.Response json = t.http.get("/v1/export/breakdown?format=json&dimension=provider&metric=events&limit=20&"
        + period7d());
    assertEquals(200, json.status());
    assertEquals(api.getJsonArray("rows"), json.json().getJsonArray("rows"));
  }

  static Path waitForDownload(String suffix) throws Exception {
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline) {
      try (Stream<Path> s = Files.list(downloads)) {
        List<Path> done = s.filter(p -> p.toString().endsWith(suffix)).toList();
        if (!done.isEmpty()) {
          return done.get(0);
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no " + suffix + " download in " + downloads);
  }

  /** Verifies a person's page: their analytics, sessions and recent events, as the API and the test count them. */
  @Test
  @Order(5)
  void userView() throws IOException {
    open("#/users?user=" + someUser);
    noErrorBoxes();
    JsonObject a = t.http.get("/v1/users/" + someUser + "/analytics?" + period7d()).json();
    assertEquals(String.valueOf(messagesSentBy.getOrDefault(someUser, 0)),
        text("output[data-metric=messagesSent]").replace(",", ""));
    assertEquals(fmtInt(a.getJsonObject("usage").getLong("messagesSent")), text("output[data-metric=messagesSent]"));
    assertEquals("1", text("output[data-metric=totalSessions]"));
    assertEquals(1, driver.findElements(By.cssSelector("#user-sessions tbody tr")).size());
    assertEquals((int) eventsBy.get(someUser), driver.findElements(By.cssSelector("#user-events tbody tr")).size());
    shot("users");
    // an unknown person is an explained empty state, not an error
    open("#/users?user=nobody-" + UUID.randomUUID());
    assertTrue(text(".empty").contains("No events were ever stored"));
  }

  /**
   * Verifies the Funnels view: the funnel the insights watch runs at once (no button to press) and equals the API's;
   * a funnel built in the page has the persons the test sent through each step, and each step's time from the previous
   * shows its median beside its mean, both the API's.
   */
  @Test
  @Order(6)
  void buildAndSaveAFunnel() throws IOException {
    open("#/funnels");
    List<WebElement> inputs = driver.findElements(By.cssSelector("#funnel-steps input"));
    JsonArray watched = t.http.get("/v1/insights/settings").json().getJsonArray("funnelSteps");
    assertEquals(watched.getList(), inputs.stream().map(i -> i.getAttribute("value")).toList(),
        "the insights' funnel");
    assertEquals(watched.size(), driver.findElements(By.cssSelector(".step-users")).size(), "shown at once");
    JsonObject api = funnelApi(watched.stream().map(String::valueOf).toList(), 86_400);
    assertEquals(api.getJsonArray("steps").stream().map(x -> ((JsonObject) x).getDouble("users")).toList(),
        driver.findElements(By.cssSelector(".step-users")).stream()
            .map(u -> Double.parseDouble(u.getAttribute("data-value"))).toList());

    driver.findElements(By.cssSelector("#funnel-steps button")).get(3).click(); // remove the fourth step
    inputs = driver.findElements(By.cssSelector("#funnel-steps input"));
    assertEquals(3, inputs.size());
    inputs.get(0).clear();
    inputs.get(0).sendKeys("page_view");
    inputs.get(1).clear();
    inputs.get(1).sendKeys("message_sent");
    inputs.get(2).clear();
    inputs.get(2).sendKeys("message_received");
    new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("funnel-window"))).selectByVisibleText("7 days");
    driver.findElement(By.id("funnel-run")).click();
    wait.until(d -> d.getCurrentUrl().contains("steps=page_view"));
    ready("funnels");
    noErrorBoxes();
    List<WebElement> users = driver.findElements(By.cssSelector(".step-users"));
    assertEquals(List.of((double) funnel1, (double) funnel2, (double) funnel3),
        users.stream().map(u -> Double.parseDouble(u.getAttribute("data-value"))).toList());
    // the median beside the mean, for every step after the first
    JsonObject built = funnelApi(List.of("page_view", "message_sent", "message_received"), 7 * 86_400);
    List<Double> medians = driver.findElements(By.cssSelector(".step-median")).stream()
        .map(m -> Double.parseDouble(m.getAttribute("data-value"))).toList();
    List<Double> means = driver.findElements(By.cssSelector(".step-mean")).stream()
        .map(m -> Double.parseDouble(m.getAttribute("data-value"))).toList();
    assertEquals(built.getJsonArray("steps").stream().skip(1).map(x -> ((JsonObject) x).getDouble("medianTime"))
        .toList(), medians);
    assertEquals(built.getJsonArray("steps").stream().skip(1).map(x -> ((JsonObject) x).getDouble("averageTime"))
        .toList(), means);
    assertTrue(text("#funnel-results").contains("median") && text("#funnel-results").contains("mean"));
    shot("funnels");

    driver.findElement(By.id("funnel-save")).click();
    Alert prompt = wait.until(ExpectedConditions.alertIsPresent());
    prompt.sendKeys("Chat activation");
    prompt.accept();
    Eventually.until("funnel saved", () -> t.http.get("/v1/saved-funnels").json().getJsonArray("items").stream()
        .anyMatch(i -> ((JsonObject) i).getString("name").equals("Chat activation")));
    JsonObject saved = (JsonObject) t.http.get("/v1/saved-funnels").json().getJsonArray("items").getValue(0);
    assertEquals(3, saved.getJsonArray("steps").size());
  }

  /** Verifies the retention heat map: today's cohort holds every person the test sent (all are new today). */
  @Test
  @Order(7)
  void retentionHeatMap() throws IOException {
    open("#/retention?provider=openai");
    assertTrue(text("main").contains("the provider filter does not apply here"), text("main"));
    open("#/retention");
    noErrorBoxes();
    assertFalse(text("main").contains("null") || text("main").contains("undefined"), text("main"));
    JsonObject r = t.http.get("/v1/retention?granularity=day&periods=14&" + period7d()).json();
    JsonArray cohorts = r.getJsonArray("cohorts");
    JsonObject today = cohorts.getJsonObject(cohorts.size() - 1);
    assertEquals(all.persons.size(), today.getInteger("size"));
    List<WebElement> rows = driver.findElements(By.cssSelector("table.heat tbody tr"));
    assertEquals(cohorts.size(), rows.size());
    assertEquals(String.valueOf(all.persons.size()), rows.get(rows.size() - 1).findElements(By.tagName("td")).get(0)
        .getText());
    shot("retention");
  }

  /** Verifies the patterns & insights view shows content, or a clear "not available yet" where a route is missing. */
  @Test
  @Order(8)
  void patternsAndInsights() throws IOException {
    open("#/insights");
    noErrorBoxes();
    for (String box : List.of("patterns", "insights", "anomalies")) {
      int status = t.http.get(switch (box) {
        case "patterns" -> "/v1/patterns/detect?" + period7d();
        case "insights" -> "/v1/insights?" + period7d();
        default -> "/v1/anomalies?metric=events&granularity=day&" + period7d();
      }).status();
      WebElement el = driver.findElement(By.id(box));
      if (status == 404) {
        assertTrue(el.getText().contains("Not available yet"), box + ": " + el.getText());
      } else {
        assertEquals(200, status, box);
        assertFalse(el.getText().contains("Not available yet"), box);
      }
    }
    shot("insights");
  }

  /**
   * Verifies the patterns & insights view renders answers of the agreed contracts (issue 6's routes): the browser's
   * fetch is given contract-shaped answers for those four routes only, everything else still reaches Tally.
   */
  @Test
  @Order(9)
  void patternsAndInsightsRenderTheirContracts() throws IOException {
    JsonObject detect = new JsonObject().put("from", "x").put("to", "y").put("activeUsers", 1234)
        .put("patterns", new JsonArray().add(new JsonObject().put("id", "pat-1").put("name", "Night owls")
            .put("description", "Chat mostly after 22:00").put("type", "temporal").put("frequency", 321)
            .put("share", 0.26).put("confidence", 0.91).put("impact", "high").put("reported", true)
            .put("recommendations", new JsonArray().add("Schedule maintenance in the morning"))
            .put("pattern", new JsonObject())));
    JsonObject users = new JsonObject().put("patternId", "pat-1").put("users", new JsonArray().add("owl-1").add("owl-2"));
    JsonObject insights = new JsonObject().put("insights", new JsonArray().add(new JsonObject().put("id", "i-1")
        .put("type", "performance").put("severity", "medium").put("title", "Slower answers from o3")
        .put("description", "Response time rose 40 %").put("metrics", new JsonObject().put("p50", 1800))
        .put("recommendations", new JsonArray().add("Route long prompts to gpt-4o"))));
    JsonArray points = new JsonArray();
    for (int i = 0; i < 7; i++) {
      points.add(new JsonObject().put("timestamp", "2026-11-1" + i + "T00:00:00Z").put("expected", 100)
          .put("actual", i == 4 ? 260 : 100 + i).put("score", i == 4 ? 5.2 : 0.1).put("direction", "up")
          .put("severity", i == 4 ? "high" : "none"));
    }
    JsonObject anomalies = new JsonObject().put("metric", "events").put("granularity", "day").put("points", points);
    stubAndOpenInsights(detect, users, insights, anomalies, "pat-1");
    noErrorBoxes();
    String patterns = text("#patterns");
    assertTrue(patterns.contains("Night owls") && patterns.contains("321") && patterns.contains("91 %")
        && patterns.contains("high") && patterns.contains("1,234"), patterns);
    driver.findElement(By.cssSelector("#patterns button")).click();
    wait.until(d -> text("#pattern-users").contains("owl-2"));
    assertEquals(List.of("owl-1", "owl-2"), driver.findElements(By.cssSelector("#pattern-users a")).stream()
        .map(WebElement::getText).toList(), "matched users link to their Users page");
    String insight = text("#insights");
    assertTrue(insight.contains("Slower answers from o3") && insight.contains("medium")
        && insight.contains("Route long prompts to gpt-4o"), insight);
    String anomaly = text("#anomalies");
    assertTrue(anomaly.contains("260") && anomaly.contains("high"), anomaly);
    assertEquals(1, driver.findElements(By.cssSelector("#anomalies tbody tr")).size(), "one anomaly listed");
    assertFalse(driver.findElements(By.cssSelector("#anomalies canvas")).isEmpty(), "anomalies marked on a chart");
    shot("insights-with-data");
  }

  /** Gives the page's fetch these answers for the four pattern/insight routes only, then opens the view. */
  static void stubAndOpenInsights(JsonObject detect, JsonObject users, JsonObject insights, JsonObject anomalies,
                                  String patternId) {
    open("#/overview");
    ((JavascriptExecutor) driver).executeScript("""
        const answers = arguments[0];
        const real = window.fetch;
        window.fetch = (url, init) => {
          const path = String(url).split('?')[0];
          const body = answers[path];
          return body ? Promise.resolve(new Response(body, {status: 200,
            headers: {'Content-Type': 'application/json'}})) : real(url, init);
        };""", Map.of("/v1/patterns/detect", detect.encode(), "/v1/patterns/" + patternId + "/users", users.encode(),
        "/v1/insights", insights.encode(), "/v1/anomalies", anomalies.encode()));
    ((JavascriptExecutor) driver).executeScript("location.hash = '#/insights'");
    ready("insights");
  }

  /**
   * Verifies the view also reads the answers as issue 6 built them: reported and not-reported patterns,
   * activeUsers per pattern, users with total/truncated, anomalies in points with every bucket in series.
   */
  @Test
  @Order(10)
  void patternsAndInsightsRenderIssue6Shapes() throws IOException {
    JsonObject churn = new JsonObject().put("id", "churn-risk").put("name", "Churn risk").put("description", "Quiet")
        .put("type", "churn").put("frequency", 40).put("activeUsers", 800).put("share", 0.05).put("confidence", 0.75)
        .put("minConfidence", 0.7).put("reported", true).put("impact", "medium").put("recommendations",
            new JsonArray().add("Win them back"));
    JsonObject power = new JsonObject().put("id", "power-users").put("name", "Power users").put("type", "engagement")
        .put("frequency", 0).put("activeUsers", 800).put("share", 0.0).putNull("confidence").put("reported", false)
        .put("impact", "low");
    JsonObject detect = new JsonObject().put("patterns", new JsonArray().add(churn))
        .put("notReported", new JsonArray().add(power));
    JsonObject users = new JsonObject().put("users", new JsonArray().add("quiet-1")).put("total", 40)
        .put("truncated", true);
    JsonObject insights = new JsonObject().put("insights", new JsonArray().add(new JsonObject().put("id", "x")
        .put("type", "performance_alert").put("subject", "project").put("severity", "high")
        .put("title", "Error rate 7 %").put("description", "Above 5 %").put("recommendations", new JsonArray())
        .put("metrics", new JsonObject().put("errorRate", 0.07))));
    JsonArray series = new JsonArray();
    for (int i = 0; i < 5; i++) {
      series.add(new JsonObject().put("timestamp", "2026-11-2" + i + "T00:00:00Z").put("actual", i == 3 ? 90 : 10)
          .put("expected", 10).put("score", i == 3 ? 8.0 : 0.2).put("direction", "up")
          .put("severity", i == 3 ? "medium" : "none"));
    }
    JsonObject anomalies = new JsonObject().put("points", new JsonArray().add(series.getJsonObject(3)))
        .put("series", series).put("insufficientHistory", false).put("method", "seasonal-median");
    stubAndOpenInsights(detect, users, insights, anomalies, "churn-risk");
    noErrorBoxes();
    String patterns = text("#patterns");
    assertTrue(patterns.contains("800 active users") && patterns.contains("Churn risk") && patterns.contains("75 %"),
        patterns);
    assertTrue(patterns.contains("1 pattern checked, not reported"), patterns);
    driver.findElement(By.cssSelector("#patterns button")).click();
    wait.until(d -> text("#pattern-users").contains("quiet-1"));
    assertTrue(text("#pattern-users").contains("(40, first 1 shown)"), text("#pattern-users"));
    assertTrue(text("#insights").contains("7 % of the messages sent in this period ended in an error"),
        text("#insights"));
    assertFalse(text("#insights").contains("errorRate"), text("#insights"));
    assertEquals(1, driver.findElements(By.cssSelector("#anomalies tbody tr")).size(), "one anomaly listed");
    assertTrue(text("#anomalies").contains("90"));
    shot("insights-issue6-shapes");
  }

  /** Verifies the live counter and the live tail move when events are committed, without reloading the page. */
  @Test
  @Order(11)
  void liveCounterAndTailMove() throws IOException {
    open("#/overview");
    wait.until(d -> d.findElement(By.cssSelector(".live-dot")).getAttribute("class").contains("on"));
    double before = value("#live-total");
    int n = 3 + new Random().nextInt(5);
    JsonArray batch = new JsonArray();
    for (int i = 0; i < n; i++) {
      batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", Instant.now().toString())
          .put("type", "page_view").put("userContext", new JsonObject().put("userId", "live-" + i)));
    }
    post(batch);
    wait.until(d -> value("#live-total") == before + n);
    assertEquals(before + n, value("#live-total"));
    shot("overview-live");

    open("#/live");
    wait.until(d -> !d.findElements(By.cssSelector("#live-rows tr")).isEmpty());
    JsonArray more = new JsonArray();
    more.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", Instant.now().toString())
        .put("type", "feature_used").put("properties", new JsonObject().put("feature", "voice"))
        .put("userContext", new JsonObject().put("userId", "live-tail")).put("context",
            new JsonObject().put("userAgent", PHONE)));
    post(more);
    wait.until(d -> !d.findElements(By.cssSelector("#live-rows tr[data-type=feature_used]")).isEmpty());
    String row = driver.findElement(By.cssSelector("#live-rows tr[data-type=feature_used]")).getText();
    assertTrue(row.contains("live-tail") && row.contains("Safari") && row.contains("mobile"), row);
    assertEquals(1.0, value("#live-count"));
    shot("live");
  }

  /** Verifies saving a segment stores it for the project and applying it restores its filters. */
  @Test
  @Order(12)
  void segmentsAreSavedAndApplied() {
    open("#/overview?range=30d&provider=anthropic");
    driver.findElement(By.id("seg-save")).click();
    Alert prompt = wait.until(ExpectedConditions.alertIsPresent());
    prompt.sendKeys("Anthropic, 30 days");
    prompt.accept();
    Eventually.until("segment saved", () -> t.http.get("/v1/segments").json().getJsonArray("items").size() == 1);
    JsonObject seg = t.http.get("/v1/segments").json().getJsonArray("items").getJsonObject(0);
    assertEquals(new JsonObject().put("range", "30d").put("provider", "anthropic"), seg.getJsonObject("filters"));

    open("#/overview");
    new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("f-segment")))
        .selectByVisibleText("Anthropic, 30 days");
    wait.until(d -> d.getCurrentUrl().contains("provider=anthropic") && d.getCurrentUrl().contains("range=30d"));
    ready("overview");
    assertEquals(all.messages - openai.messages, (long) value("output[data-metric=messages]"));
  }

  /** Verifies keyboard navigation: the number keys switch views, the skip link reaches the content. */
  @Test
  @Order(13)
  void keyboardNavigation() {
    open("#/overview");
    driver.findElement(By.tagName("body")).sendKeys("2");
    wait.until(d -> d.getCurrentUrl().contains("#/usage"));
    ready("usage");
    driver.findElement(By.tagName("body")).sendKeys("7");
    wait.until(d -> d.getCurrentUrl().contains("#/live"));
    // every form control has a label
    List<String> unlabelled = new ArrayList<>();
    for (WebElement el : driver.findElements(By.cssSelector("input:not([type=hidden]), select"))) {
      Object labelled = ((JavascriptExecutor) driver).executeScript(
          "const e = arguments[0]; return !!(e.labels && e.labels.length) || e.hasAttribute('aria-label');", el);
      if (!Boolean.TRUE.equals(labelled) && el.isDisplayed()) {
        unlabelled.add(el.getAttribute("id"));
      }
    }
    assertTrue(unlabelled.isEmpty(), "unlabelled controls: " + unlabelled);
  }

  /** Verifies the layout holds at phone width (no horizontal scrolling of the page) and takes that screenshot. */
  @Test
  @Order(14)
  void phoneWidth() throws IOException {
    driver.manage().window().setSize(new org.openqa.selenium.Dimension(390, 2000));
    try {
      open("#/overview");
      Object overflow = ((JavascriptExecutor) driver).executeScript(
          "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
      assertTrue(((Number) overflow).intValue() <= 0, "page scrolls sideways by " + overflow + " px");
      shot("overview-phone");
    } finally {
      driver.manage().window().setSize(new org.openqa.selenium.Dimension(1366, 2200));
    }
  }

  /** Verifies the print stylesheet: a printed view keeps its numbers and period, without navigation or controls. */
  @Test
  @Order(15)
  void printLayout() throws IOException {
    open("#/overview");
    ChromeDriver chrome = (ChromeDriver) driver;
    chrome.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("media", "print"));
    try {
      assertFalse(driver.findElement(By.id("nav")).isDisplayed(), "navigation hidden in print");
      assertFalse(driver.findElement(By.id("filters")).isDisplayed(), "filters hidden in print");
      assertFalse(driver.findElement(By.cssSelector("button[data-export]")).isDisplayed(), "export buttons hidden");
      assertTrue(driver.findElement(By.cssSelector("output[data-metric=messages]")).isDisplayed());
      assertTrue(driver.findElement(By.id("period-label")).getText().startsWith("Last 7 days"));
      shot("overview-print");
    } finally {
      chrome.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("media", ""));
    }
  }

  /** Verifies an empty period explains what to send instead of showing bare zeros, in every data view. */
  @Test
  @Order(16)
  void emptyPeriodsExplainWhatToSend() {
    String empty = "range=custom&from=2020-01-06&to=2020-01-12";
    open("#/overview?" + empty);
    noErrorBoxes();
    assertTrue(text(".empty").contains("No events in this period") && text(".empty").contains("--demo"),
        text(".empty"));
    assertEquals(0.0, value("output[data-metric=events]"));
    open("#/usage?" + empty);
    assertTrue(text("main").contains("No events in this period"));
    open("#/retention?" + empty);
    assertTrue(text("main").contains("no cohorts"));
    open("#/funnels?" + empty + "&steps=page_view,message_sent");
    assertTrue(text("#funnel-results").contains("Nobody did"), text("#funnel-results"));
  }

  /**
   * Verifies the headline numbers and their change stay exact for a project whose days start elsewhere than at UTC
   * midnight (there a day bucket straddles the period's start): GIVEN events on both sides of the period's start
   * inside one New York day WHEN the Overview shows the last 7 days THEN current and previous are counted apart.
   */
  @Test
  @Order(17)
  void changeIsExactForAProjectOutsideUtc() throws IOException {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String project = "ny-" + suffix;
    String wk = "w-ny-" + suffix;
    String rk = "r-ny-" + suffix;
    try (TestTally ny = TestTally.start(project, wk, rk, c -> c.withProjects(List.of(
        new io.tally.config.ProjectConfig(project, List.of(wk), List.of(rk), java.time.ZoneId.of("America/New_York")))))) {
      Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
      Instant from = to.minus(7, ChronoUnit.DAYS);
      Random rnd = new Random();
      int justAfter = 1 + rnd.nextInt(5);
      int justBefore = 1 + rnd.nextInt(5);
      int recent = 1 + rnd.nextInt(5);
      JsonArray batch = new JsonArray();
      for (int i = 0; i < justAfter + justBefore + recent; i++) {
        Instant at = i < justAfter ? from.plus(1, ChronoUnit.HOURS)
            : i < justAfter + justBefore ? from.minus(2, ChronoUnit.HOURS) : Instant.now().minus(1, ChronoUnit.HOURS);
        batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.plusSeconds(i)
            .toString()).put("type", "page_view").put("userContext", new JsonObject().put("userId", "ny-" + i)));
      }
      Http.Response posted = ny.http.post(new JsonObject().put("batch", batch).encode());
      assertEquals(200, posted.status(), posted.body());
      Eventually.until("rollups hold the events", () -> {
        Http.Response r = ny.http.get("/v1/timeseries?metric=events&interval=day&from=" + from.minus(7,
            ChronoUnit.DAYS) + "&to=" + to);
        return r.status() == 200 && r.json().getJsonArray("points").stream()
            .mapToDouble(p -> ((JsonObject) p).getDouble("value")).sum() == batch.size();
      });
      driver.get("http://127.0.0.1:" + ny.tally.port() + "/#/overview");
      WebElement key = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("key")));
      key.sendKeys(rk, Keys.ENTER);
      ready("overview");
      noErrorBoxes();
      assertEquals(justAfter + recent, (int) value("output[data-metric=events]"));
      double change = Double.parseDouble(driver.findElement(By.cssSelector("section[aria-label=Events] .delta"))
          .getAttribute("data-change"));
      assertEquals((double) (justAfter + recent - justBefore) / justBefore, change, 1e-9);
      driver.get("about:blank"); // before its server stops: the page would keep asking it
    }
  }

  /**
   * Verifies every view after the --demo back-fill (the generator of DemoTrafficTest: five weeks), and takes the
   * screenshots of the tour: the Overview's every change is a number (a previous period exists), money shows its
   * currency, the Users view lists people who link to their pages, the default funnel is drawn, retention fits the
   * range, the insights read as sentences and the anomaly names its provider, the present plays into the live tail;
   * in every view no number wraps (at laptop and phone width), every bar of a chart is labelled, every user id links
   * to that person, and the console stays clean.
   */
  @Test
  @Order(18)
  void demoTourOfEveryView() throws Exception {
    try (TestTally demoTally = TestTally.start()) {
      Clock now = Clock.fixed(Instant.now(), ZoneOffset.UTC);
      DemoTraffic demo = new DemoTraffic(demoTally.tally.vertx(), demoTally.tally.port(), demoTally.writeKey,
          demoTally.readKey, DemoTrafficTest.FIVE_WEEKS, now);
      try {
        demo.start().toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
        demoTally.awaitDerived();
        String base = "http://127.0.0.1:" + demoTally.tally.port() + "/";
        driver.get(base + "#/overview");
        onlyTheSignInForm();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("key"))).sendKeys(demoTally.readKey, Keys.ENTER);
        ready("overview");
        noErrorBoxes();
        // every headline figure is compared with the previous period: a number, not "new"
        List<WebElement> deltas = driver.findElements(By.cssSelector("#kpis .delta"));
        assertEquals(12, deltas.size());
        for (WebElement d : deltas) {
          assertTrue(d.getAttribute("data-change") != null, "a change, not: " + d.getText());
        }
        assertTrue(text("output[data-metric=cost]").startsWith("$"));
        tourChecks("overview");

        driver.get(base + "#/usage?metric=cost");
        ready("usage");
        assertTrue(driver.findElement(By.cssSelector("[data-dimension=model] td.num")).getText().startsWith("$"));
        tourChecks("usage");

        driver.get(base + "#/users");
        ready("users");
        List<String> active = ids(demoTally.http.get("/v1/people?limit=15&" + period7d()).json());
        assertEquals(active, driver.findElements(By.cssSelector("#people-active a.user-link")).stream()
            .map(WebElement::getText).toList());
        tourChecks("users");
        driver.findElement(By.cssSelector("#people-active a.user-link")).click();
        wait.until(d -> d.getCurrentUrl().contains("user=" + active.get(0)));
        ready("users");
        assertTrue(driver.findElements(By.cssSelector("#user-events tbody tr")).size() > 0);
        tourChecks("user");

        driver.get(base + "#/funnels");
        ready("funnels");
        assertEquals(4, driver.findElements(By.cssSelector(".step-users")).size(), "the default funnel, at once");
        tourChecks("funnels");

        driver.get(base + "#/retention?range=30d");
        ready("retention");
        assertEquals(30, driver.findElements(By.cssSelector("table.heat thead th")).size() - 2, "d0 to d29");
        tourChecks("retention");

        driver.get(base + "#/insights");
        ready("insights");
        assertTrue(driver.findElements(By.cssSelector("#insights article")).size() >= 3);
        String insights = text("#insights");
        for (String raw : List.of("dropOffRate", "stepIndex", "usersBefore", "error_rate", "averageResponseTime")) {
          assertFalse(insights.contains(raw), raw + " in " + insights);
        }
        assertTrue(insights.contains("Error rate spiked on"), insights);
        wait.until(d -> !d.findElements(By.cssSelector("article[data-type=anomaly] .why[data-provider]")).isEmpty());
        assertEquals(DemoCatalog.INCIDENT_PROVIDER, driver.findElement(By.cssSelector(
            "article[data-type=anomaly] .why[data-provider]")).getAttribute("data-provider"), "the incident's provider");
        tourChecks("insights");

        driver.get(base + "#/live");
        ready("live");
        int played = demo.tick(now.instant().plus(2, ChronoUnit.HOURS)).toCompletionStage().toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
        assertTrue(played > 0);
        wait.until(d -> d.findElements(By.cssSelector("#live-rows tr")).size() >= Math.min(played, 50));
        tourChecks("live");

        driver.manage().window().setSize(new org.openqa.selenium.Dimension(390, 2000));
        try {
          for (String view : List.of("overview", "users", "funnels", "insights")) {
            driver.get(base + "#/" + view);
            ready(view);
            tourChecks(view + "-phone");
          }
        } finally {
          driver.manage().window().setSize(new org.openqa.selenium.Dimension(1366, 2200));
        }
      } finally {
        demo.stop();
        driver.get("about:blank"); // before its server stops: the page would keep asking it
      }
    }
  }

  static List<String> ids(JsonObject people) {
    return people.getJsonArray("people").stream().map(p -> ((JsonObject) p).getString("userId")).toList();
  }

  /**
   * The checks of every view of the tour, then its screenshot (demo-{name}.png): no error shown, no number or number
   * with its unit broken over two lines, every bar of a bar chart labelled, every user id shown a link to that person.
   */
  @SuppressWarnings("unchecked")
  static void tourChecks(String name) throws IOException {
    noErrorBoxes();
    wait.until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript("return typeof Chart === 'undefined' "
        + "|| [...document.querySelectorAll('main canvas')].every((c) => Chart.getChart(c))")));
    List<String> wrapped = (List<String>) ((JavascriptExecutor) driver).executeScript(NUMBERS_ON_TWO_LINES);
    assertEquals(List.of(), wrapped, name + ": numbers broken over two lines");
    List<String> unlabelled = (List<String>) ((JavascriptExecutor) driver).executeScript(UNLABELLED_BARS);
    assertEquals(List.of(), unlabelled, name + ": bar charts with unlabelled bars");
    List<String> bare = (List<String>) ((JavascriptExecutor) driver).executeScript(UNLINKED_USER_IDS);
    assertEquals(List.of(), bare, name + ": user ids without a link to the person");
    shot("demo-" + name);
  }

  /**
   * Each number in the page (with its sign, currency and unit; a date), and each user id, whose text lies on two lines.
   */
  static final String NUMBERS_ON_TWO_LINES = """
      const out = [];
      const re = /\\d{4}-\\d\\d-\\d\\d|(?<![\\p{L}\\p{N}_])[$+\u2212-]?\\d[\\d,.]*(?:[\u00a0 ](?:%|ms|s|min|h)(?![\\w]))?/gu;
      const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) {
        const n = walk.currentNode;
        if (!n.parentElement || !n.parentElement.getClientRects().length) continue;
        for (const m of n.data.matchAll(re)) {
          const r = document.createRange();
          r.setStart(n, m.index);
          r.setEnd(n, m.index + m[0].length);
          const tops = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
          if (tops.size > 1) out.push(m[0] + ' in ' + n.parentElement.outerHTML.slice(0, 120));
        }
      }
      for (const a of document.querySelectorAll('main a.user-link')) { // ids too stay whole
        if (new Set([...a.getClientRects()].map((x) => Math.round(x.top))).size > 1) out.push(a.textContent);
      }
      return out;""";

  /** Bar charts whose category axis leaves a category without its label. */
  static final String UNLABELLED_BARS = """
      if (typeof Chart === 'undefined') return [];
      return [...document.querySelectorAll('main canvas')].map((c) => Chart.getChart(c))
        .filter((c) => c && c.config.type === 'bar')
        .flatMap((c) => Object.values(c.scales).filter((s) => s.type === 'category'
          && s.ticks.length !== c.data.labels.length).map((s) => c.canvas.getAttribute('aria-label') + ': '
          + s.ticks.length + ' of ' + c.data.labels.length + ' labelled'));""";

  /** Text that is a user id the page shows (from its own user links and tables) but not inside a link to the person. */
  static final String UNLINKED_USER_IDS = """
      const ids = new Set([...document.querySelectorAll('a.user-link')].map((a) => a.textContent));
      const out = [];
      const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) {
        const n = walk.currentNode;
        const text = n.data.trim();
        if (!/^[a-z]+-[0-9a-z]{4}$/.test(text) && !ids.has(text)) continue;
        if (!n.parentElement.closest('a[href^="#/users?user="]') && !n.parentElement.closest('h1, input, option')) {
          out.push(text + ' in ' + n.parentElement.outerHTML.slice(0, 120));
        }
      }
      return out;""";

  /**
   * Verifies a fresh load of the Overview takes its answers from the page's boot script: GIVEN a signed-in tab WHEN the
   * page is loaded anew on the Overview THEN each of its queries is asked once (the boot script's URLs are the app's;
   * without them the 7-day usage is asked twice, with drifted ones every query twice), the numbers still equal the
   * API's, and the charts are drawn; a later visit of the Overview asks Tally again; a load on
   * another view starts no Overview query.
   */
  @Test
  @Order(19)
  void aFreshLoadTakesTheBootScriptsAnswers() {
    driver.get(url(""));
    ((JavascriptExecutor) driver).executeScript("sessionStorage.setItem('tally.readKey', arguments[0])", t.readKey);
    driver.get(url("?fresh=1#/overview?range=7d"));
    ready("overview");
    noErrorBoxes();
    assertEquals(1L, ((Number) ((JavascriptExecutor) driver).executeScript(
        "return performance.getEntriesByName('first-meaningful-render').length")).longValue(), "one mark");
    assertEquals(1L, ((Number) ((JavascriptExecutor) driver).executeScript(
        "return document.querySelectorAll('#view > .view').length")).longValue(), "one Overview drawn");
    List<String> asked = overviewRequests();
    assertEquals(new HashSet<>(asked).size(), asked.size(), "a query asked twice: " + asked);
    // 6 series, usage of the period and of the one before, of the last day and 30 days (the last 7 days = the
    // period), daily active users, the real-time snapshot
    assertEquals(12, asked.size(), asked.toString());
    JsonObject usage = t.http.get("/v1/metrics/usage?" + period7d()).json();
    assertEquals(usage.getJsonObject("users").getInteger("active"), (int) value("output[data-metric=active_users]"));
    assertEquals(seriesSum("events", ""), value("output[data-metric=events]"));
    assertEquals(seriesSum("messages", ""), value("output[data-metric=messages]"));
    assertEquals(fmtInt(seriesSum("tokens", "")), text("output[data-metric=tokens]"));
    Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
    assertEquals(t.http.get("/v1/metrics/usage?from=" + to.minus(1, ChronoUnit.DAYS) + "&to=" + to).json()
        .getJsonObject("users").getInteger("active"), (int) value("output[data-metric=dau]"));
    wait.until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript("return typeof Chart !== 'undefined' "
        + "&& [...document.querySelectorAll('#charts canvas')].every((c) => Chart.getChart(c))")));

    ((JavascriptExecutor) driver).executeScript("location.hash = '#/usage'"); // the same page, no reload
    ready("usage");
    ((JavascriptExecutor) driver).executeScript("location.hash = '#/overview?range=7d'");
    ready("overview");
    assertEquals(2, overviewRequests().stream().filter(u -> u.contains("metric=events&")).count(),
        "the second visit asks Tally again");

    driver.get(url("?fresh=2#/retention"));
    ready("retention");
    assertEquals(List.of(), overviewRequests(), "no Overview query on another view");
  }

  /** The Overview's queries this page asked, in order (from the browser's resource timing). */
  @SuppressWarnings("unchecked")
  static List<String> overviewRequests() {
    return (List<String>) ((JavascriptExecutor) driver).executeScript("return performance.getEntriesByType('resource')"
        + ".map((r) => r.name.replace(location.origin, '')).filter((n) => /^\\/v1\\/(timeseries|metrics\\/usage|realtime)/"
        + ".test(n))");
  }

  /**
   * Verifies the boot script draws the first number on its own, before (here: without) the app's modules: GIVEN a
   * signed-in tab whose app module cannot load WHEN the Overview is loaded anew THEN the Events widget shows the
   * period's events as the API counts them, the first-meaningful-render mark is set, and no other widget claims a
   * number.
   */
  @Test
  @Order(20)
  void theBootScriptDrawsTheFirstNumberItself() {
    ChromeDriver chrome = (ChromeDriver) driver;
    driver.get(url(""));
    ((JavascriptExecutor) driver).executeScript("sessionStorage.setItem('tally.readKey', arguments[0])", t.readKey);
    chrome.executeCdpCommand("Network.enable", Map.of());
    chrome.executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of("*/js/app.js")));
    try {
      driver.get(url("?fresh=3#/overview?range=7d"));
      wait.until(d -> !d.findElement(By.cssSelector("output[data-metric=events]")).getAttribute("data-value")
          .isEmpty());
      assertEquals(seriesSum("events", ""), value("output[data-metric=events]"));
      assertEquals(fmtInt(seriesSum("events", "")), text("output[data-metric=events]"));
      assertEquals(1L, ((Number) ((JavascriptExecutor) driver).executeScript(
          "return performance.getEntriesByName('first-meaningful-render').length")).longValue());
      assertEquals("…", text("output[data-metric=messages]"), "only the boot script drew");
      assertEquals(null, driver.findElement(By.tagName("body")).getAttribute("data-ready"), "the app did not run");
    } finally {
      chrome.executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of()));
    }
  }

  /**
   * Verifies the Users view without a person: the most active and the most recent people of the period, as the API
   * lists them, each linking to their page; typing the start of an id narrows both lists, an exact id opens its page.
   */
  @Test
  @Order(21)
  void peopleAreListedAndFoundByPrefix() throws IOException {
    open("#/users");
    noErrorBoxes();
    List<String> active = ids(t.http.get("/v1/people?limit=15&" + period7d()).json());
    List<String> recent = ids(t.http.get("/v1/people?limit=15&sort=recent&" + period7d()).json());
    assertEquals(active, linksIn("#people-active"));
    assertEquals(recent, linksIn("#people-recent"));
    assertTrue(active.contains(someUser) || active.size() == 15, active.toString());
    shot("users-list");
    // WHEN the start of an id is typed THEN both lists hold only the people whose id starts with it
    driver.findElement(By.id("user-id")).sendKeys("person-1");
    wait.until(d -> "person-1".equals(d.findElement(By.id("people")).getAttribute("data-prefix")));
    List<String> expected = ids(t.http.get("/v1/people?limit=15&prefix=person-1&" + period7d()).json());
    assertFalse(expected.isEmpty());
    assertEquals(expected, linksIn("#people-active"));
    assertTrue(linksIn("#people-recent").stream().allMatch(id -> id.startsWith("person-1")));
    assertTrue(driver.getCurrentUrl().contains("q=person-1"), "the search is in the URL");
    // AND a link opens the person's page
    driver.findElement(By.cssSelector("#people-active a.user-link")).click();
    wait.until(d -> d.getCurrentUrl().contains("user=" + expected.get(0)));
    ready("users");
    assertEquals(1, driver.findElements(By.cssSelector("#user-sessions tbody tr")).size());
    // AND an exact id typed and submitted opens that person
    open("#/users");
    WebElement input = driver.findElement(By.id("user-id"));
    input.sendKeys(someUser, Keys.ENTER);
    wait.until(d -> d.getCurrentUrl().contains("user=" + someUser));
    ready("users");
    assertEquals(String.valueOf(messagesSentBy.getOrDefault(someUser, 0)),
        text("output[data-metric=messagesSent]").replace(",", ""));
  }

  static List<String> linksIn(String css) {
    return driver.findElements(By.cssSelector(css + " a.user-link")).stream().map(WebElement::getText).toList();
  }

  /**
   * Verifies the insights read as sentences: GIVEN an answer with one insight of each global kind (the route's own
   * shape, figures in metrics) WHEN the view shows them THEN each is a sentence with its figures formatted (money with
   * its currency, shares as percentages, times with units), and no metric name or raw figure is dumped.
   */
  @Test
  @Order(22)
  void insightsReadAsSentences() throws IOException {
    JsonObject settings = new JsonObject().put("errorRateAbove", 0.05).put("funnelSteps", new JsonArray()
        .add("page_view").add("conversation_created").add("message_sent").add("conversation_completed"));
    JsonArray list = new JsonArray()
        .add(insight("performance_alert", null, "high", new JsonObject().put("errorRate", 0.0712)))
        .add(insight("funnel_dropoff", "conversation_completed", "low", new JsonObject().put("dropOffRate", 0.4213)
            .put("usersBefore", 1234).put("usersAfter", 714).put("stepIndex", 4)))
        .add(insight("active_users_growth", null, "low", new JsonObject().put("activeUsers", 507)
            .put("previousActiveUsers", 412).put("change", 0.2306)))
        .add(insight("cost_spike", "gpt-4o", "high", new JsonObject().put("cost", 1234.5).put("previousCost", 410.25)
            .put("ratio", 3.0091)))
        .add(insight("slow_provider", "google", "medium", new JsonObject().put("averageResponseTime", 3883.2)
            .put("othersAverageResponseTime", 1704.9).put("ratio", 2.2776)))
        .add(insight("pattern", "power-users", "high", new JsonObject().put("frequency", 16).put("share", 0.0687)
            .put("confidence", 0.9333)).put("title", "Power users"))
        .add(insight("anomaly", "error_rate@2026-12-04T00:00:00Z", "high", new JsonObject().put("actual", 0.21)
            .put("expected", 0.012).put("score", 18.8)).put("anomaly", new JsonObject().put("metric", "error_rate")
            .put("granularity", "day").put("timestamp", "2026-12-04T00:00:00Z").put("actual", 0.21)
            .put("expected", 0.012).put("score", 18.8).put("direction", "up").put("severity", "high")));
    JsonObject insights = new JsonObject().put("insights", list).put("settings", settings);
    JsonObject detect = new JsonObject().put("patterns", new JsonArray().add(new JsonObject().put("id", "power-users")
        .put("name", "Power users").put("description", "Very active users").put("type", "engagement")
        .put("frequency", 16).put("share", 0.0687).put("confidence", 0.9333).put("impact", "high")
        .put("reported", true)));
    JsonObject anomalies = new JsonObject().put("points", new JsonArray()).put("series", new JsonArray());
    stubAndOpenInsights(detect, new JsonObject().put("users", new JsonArray()), insights, anomalies, "power-users");
    noErrorBoxes();
    Map<String, String> said = new HashMap<>();
    for (WebElement a : driver.findElements(By.cssSelector("#insights article"))) {
      said.put(a.getAttribute("data-type"), a.findElement(By.cssSelector("p.what")).getText());
    }
    assertEquals(7, said.size(), said.toString());
    assertEquals("7.1 % of the messages sent in this period ended in an error, above the alert threshold of 5 %.",
        said.get("performance_alert"));
    assertEquals("42.1 % of the people who got to “message sent” did not go on to “conversation completed” "
        + "(1,234 → 714), the largest loss between two steps of the funnel.", said.get("funnel_dropoff"));
    assertEquals("507 people were active in this period, 23.1 % more than in the previous period of the same length "
        + "(412).", said.get("active_users_growth"));
    assertEquals("gpt-4o cost $1,234.50 in this period, 3.01 times the $410.25 of the previous period.",
        said.get("cost_spike"));
    assertEquals("google took 3,883 ms on average to answer, 2.28 times as long as the other providers (1,705 ms).",
        said.get("slow_provider"));
    assertEquals("16 people (6.9 % of the active people) match “Power users”: very active users. Checked against the "
        + "window before: it held for 93.3 % of the cases.", said.get("pattern"));
    assertEquals("Error rate was 21 % on Fri 4 Dec, against about 1.2 % expected for that day of the week, 17.5 "
        + "times as high.", said.get("anomaly"));
    String all = text("#insights");
    for (String raw : List.of("dropOffRate", "stepIndex", "usersBefore", "errorRate", "previousCost", "ratio:",
        "error_rate", "0.0712", "raw title", "raw description")) {
      assertFalse(all.contains(raw), raw + " shown in " + all);
    }
    shot("insights-sentences");
  }

  static JsonObject insight(String type, String subject, String severity, JsonObject metrics) {
    return new JsonObject().put("id", type + ":" + subject).put("type", type).put("subject", subject)
        .put("severity", severity).put("title", "raw title").put("description", "raw description")
        .put("recommendations", new JsonArray().add("Do something")).put("metrics", metrics);
  }

  /**
   * Verifies retention's default periods fit the chosen range: as many periods after the first cohort as the range
   * holds (7 days: d0-d6, 30 days: d0-d29), cohorts by week beyond a month (90 days: w0-w12).
   */
  @Test
  @Order(23)
  void retentionPeriodsFitTheRange() {
    for (Object[] c : new Object[][] {{"7d", 7, "d"}, {"30d", 30, "d"}, {"90d", 13, "w"}}) {
      open("#/retention?range=" + c[0]);
      noErrorBoxes();
      List<String> heads = driver.findElements(By.cssSelector("table.heat thead th")).stream()
          .map(WebElement::getText).skip(2).toList();
      assertEquals((int) c[1], heads.size(), c[0] + ": " + heads);
      assertEquals(c[2] + "0", heads.get(0));
      assertEquals((String) c[2] + ((int) c[1] - 1), heads.get(heads.size() - 1));
    }
  }

  /** Verifies the page has a favicon, served by Tally as an image (a missing one is a console error, checked after). */
  @Test
  @Order(24)
  void favicon() {
    open("#/overview");
    String href = driver.findElement(By.cssSelector("link[rel=icon]")).getAttribute("href");
    Http.Response r = t.http.get(href.replace("http://127.0.0.1:" + t.tally.port(), ""));
    assertEquals(200, r.status());
    assertEquals("image/svg+xml", r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
    assertTrue(r.body().startsWith("<svg"), r.body());
  }
}
