package io.tally.insight;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * At delivery, every address a webhook's host is or resolves to is checked, and the connection goes to the address
 * checked: listening sockets on the loopback addresses see no connection unless the operator allowed them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebhookDeliveryTest {
  private static final AlertWebhook.Options FAST = new AlertWebhook.Options(3, 50, 2.0, 500, 2_000, 0);

  /** A socket that records who connected and answers each request 204. */
  static final class Listener implements AutoCloseable {
    final ServerSocket socket;
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> bodies = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();

    Listener(String address, int port) throws IOException {
      socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(address), port));
      Thread t = new Thread(this::serve, "listener-" + address);
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    private void serve() {
      while (!socket.isClosed()) {
        try (Socket s = socket.accept()) {
          connections.incrementAndGet();
          s.setSoTimeout(5000);
          InputStream in = s.getInputStream();
          StringBuilder head = new StringBuilder();
          while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
              break;
            }
            head.append((char) c);
          }
          requests.add(head.toString());
          int length = 0;
          for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
              length = Integer.parseInt(line.substring(15).trim());
            }
          }
          bodies.add(new String(in.readNBytes(length), StandardCharsets.UTF_8));
          OutputStream out = s.getOutputStream();
          out.write("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // closed, or a client gone
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private Vertx vertx;
  private final List<Listener> listeners = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    for (Listener l : listeners) {
      l.close();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** Listeners on 127.0.0.1 and ::1, on one port. */
  private int listenOnLoopback() throws IOException {
    Listener v4 = new Listener("127.0.0.1", 0);
    listeners.add(v4);
    listeners.add(new Listener("::1", v4.port()));
    return v4.port();
  }

  private int connections() {
    return listeners.stream().mapToInt(l -> l.connections.get()).sum();
  }

  private static JsonObject payload(String id) {
    return new JsonObject().put("id", id).put("kind", "insight").put("severity", "high");
  }

  private static Throwable failure(Future<Void> f) throws Exception {
    try {
      f.await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      return e;
    }
    throw new AssertionError("the delivery succeeded");
  }

  @Test
  void verifiesThatEverySpellingOfALoopbackAddressIsRefusedWithoutAConnection() throws Exception {
    // GIVEN sockets listening on both loopback addresses, and a webhook allowed no network beyond the public ones
    int port = listenOnLoopback();
    AlertWebhook webhook = new AlertWebhook(vertx, FAST);
    List<String> hosts = new ArrayList<>(WebhookUrlTest.LOOPBACK_HOSTS);
    hosts.addAll(List.of("localhost", "LOCALHOST.", "LocalHost"));
    for (String host : hosts) {
      // WHEN an alert is sent to each spelling
      Throwable e = failure(webhook.send("http://" + host + ":" + port + "/hook", payload("a-" + host)));
      // THEN it is refused as such, at once
      assertInstanceOf(WebhookAddresses.RefusedException.class, e, host);
      assertTrue(e.getMessage().contains("loopback"), e.getMessage());
    }
    // AND no attempt was retried, and nothing ever connected to the listeners
    assertEquals(hosts.size(), webhook.refused());
    assertEquals(hosts.size(), webhook.attempts());
    assertEquals(0, connections(), "a refused delivery connected");
  }

  @Test
  void verifiesThatTheSameDeliveriesArriveWhereTheOperatorAllowsLoopback() throws Exception {
    // GIVEN the same listeners, and a webhook whose operator allows both loopback networks
    int port = listenOnLoopback();
    AlertWebhook webhook = new AlertWebhook(vertx, FAST, new WebhookAddresses(List.of("127.0.0.0/8", "::1/128")));
    List<String> hosts = new ArrayList<>(WebhookUrlTest.LOOPBACK_HOSTS);
    hosts.remove("[::127.0.0.1]"); // an IPv4-compatible address: no socket listens on it
    hosts.add("localhost");
    for (String host : hosts) {
      // WHEN an alert is sent to each spelling, THEN it is delivered
      webhook.send("http://" + host + ":" + port + "/hook", payload("b-" + host)).await(20, TimeUnit.SECONDS);
    }
    // (a delivery whose answer came late on a loaded machine is retried: the same alert may arrive twice, never less)
    java.util.Set<String> expected = new java.util.TreeSet<>();
    hosts.forEach(h -> expected.add("b-" + h));
    java.util.Set<String> delivered = new java.util.TreeSet<>();
    listeners.forEach(l -> l.bodies.forEach(b -> delivered.add(new JsonObject(b).getString("id"))));
    assertEquals(expected, delivered);
    assertTrue(connections() >= hosts.size());
    assertEquals(0, webhook.refused());
  }

  @Test
  void verifiesThatAPrivateOrMetadataAddressIsRefusedAndNeverRetried() throws Exception {
    AlertWebhook webhook = new AlertWebhook(vertx, FAST);
    for (String url : List.of("http://169.254.169.254/latest/meta-data/", "http://0xa9fea9fe/", "http://10.0.0.1/",
        "http://[fd00::1]/", "http://[::ffff:169.254.169.254]/", "http://[2002:a9fe:a9fe::1]/",
        "http://[64:ff9b::a9fe:a9fe]/", "http://100.64.0.1/", "http://0.0.0.0:9/")) {
      assertInstanceOf(WebhookAddresses.RefusedException.class, failure(webhook.send(url, payload(url))), url);
    }
    assertEquals(9, webhook.attempts());
  }

  @Test
  void verifiesThatANameIsRefusedWhenAnyOfItsAddressesIsAndConnectsToTheAddressItChecked() throws Exception {
    // GIVEN a socket on 127.0.0.1, another on 127.0.0.2 (same port), and an operator allowing 127.0.0.2 only
    Listener one = new Listener("127.0.0.1", 0);
    Listener two = new Listener("127.0.0.2", one.port());
    listeners.add(one);
    listeners.add(two);
    int port = one.port();
    // AND a resolver whose answer for "localhost" changes after the first question (DNS rebinding: the system's own
    // resolver, which the HTTP client would use, answers 127.0.0.1)
    AtomicInteger asked = new AtomicInteger();
    WebhookAddresses.Resolver rebinding = host -> new InetAddress[] {InetAddress.getByName(
        asked.getAndIncrement() == 0 ? "127.0.0.2" : "127.0.0.1")};
    AlertWebhook webhook = new AlertWebhook(vertx, FAST, new WebhookAddresses(List.of("127.0.0.2/32"), rebinding));
    // WHEN an alert goes to http://localhost
    webhook.send("http://localhost:" + port + "/hook", payload("rebind")).await(20, TimeUnit.SECONDS);
    // THEN it reached the address that was checked, with the name in its Host header, and nothing else
    assertEquals(1, two.connections.get());
    assertEquals(0, one.connections.get(), "the connection followed another DNS answer");
    assertTrue(two.requests.get(0).toLowerCase().contains("\r\nhost: localhost:" + port + "\r\n"),
        two.requests.get(0));
    // AND the next delivery, whose answer is now 127.0.0.1, is refused without connecting
    assertInstanceOf(WebhookAddresses.RefusedException.class, failure(webhook.send("http://localhost:" + port
        + "/hook", payload("rebind-2"))));
    assertEquals(0, one.connections.get());
    // AND a name with one allowed and one refused address is refused whole
    WebhookAddresses mixed = new WebhookAddresses(List.of("127.0.0.2/32"), host -> new InetAddress[] {
        InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1")});
    AlertWebhook both = new AlertWebhook(vertx, FAST, mixed);
    assertInstanceOf(WebhookAddresses.RefusedException.class, failure(both.send("http://localhost:" + port + "/hook",
        payload("mixed"))));
    assertEquals(1, two.connections.get());
    assertEquals(0, one.connections.get());
  }

  @Test
  void verifiesThatARedirectIsAFailedAttemptAndIsNotFollowed() throws Exception {
    // GIVEN an allowed receiver that redirects to the metadata service
    try (ServerSocket s = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
      AtomicInteger served = new AtomicInteger();
      Thread t = new Thread(() -> {
        while (!s.isClosed()) {
          try (Socket c = s.accept()) {
            served.incrementAndGet();
            c.getInputStream().read(new byte[8192]);
            c.getOutputStream().write(("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/\r\n"
                + "Content-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          } catch (IOException e) {
            // closed
          }
        }
      });
      t.setDaemon(true);
      t.start();
      AlertWebhook webhook = new AlertWebhook(vertx, FAST, new WebhookAddresses(List.of("127.0.0.1/32")));
      // WHEN an alert is sent there
      Throwable e = failure(webhook.send("http://127.0.0.1:" + s.getLocalPort() + "/", payload("redirect")));
      // THEN each attempt ends with the 3xx as a failure, and no redirect is followed
      assertInstanceOf(AlertWebhook.StatusException.class, e);
      assertEquals(307, ((AlertWebhook.StatusException) e).status());
      assertEquals(FAST.maxAttempts(), served.get());
    }
  }
}
