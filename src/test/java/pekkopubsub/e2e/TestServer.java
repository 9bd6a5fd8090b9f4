package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.typed.ActorSystem;
import pekkopubsub.Guardian;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.http.TestCertificates;

/**
 * The real server, started in this JVM on a free port of 127.0.0.1 through {@link LocalServer#start},
 * with optional overrides of the {@code pubsub} configuration (keys relative to {@code pubsub},
 * e.g. {@code "connection.outbound-queue-size" -> "16"}). Closing it closes the clients it made
 * and terminates the actor system.
 */
public final class TestServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger TOPIC_COUNTER = new AtomicInteger();

  private final ActorSystem<Guardian.Command> system;
  private final URI httpBase;
  /** Null for plain HTTP; else the client side of the server's TLS. */
  private final SSLContext tls;
  private final HttpClient http;
  private final AdminClient admin;
  private final List<PubSubClient> clients = new ArrayList<>();

  private TestServer(ActorSystem<Guardian.Command> system, URI httpBase, SSLContext tls) {
    this.system = system;
    this.httpBase = httpBase;
    this.tls = tls;
    HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    this.http = (tls == null ? http : http.sslContext(tls)).build();
    this.admin = new AdminClient(httpBase, Map.of(), this.http);
  }

  public static TestServer start() {
    return start(Map.of());
  }

  /**
   * A server whose outbound queues are larger than any test's event count: the subscribers of a
   * test that counts every event read all the time, but a CPU-starved test JVM can still fall
   * behind a burst, and a dropped event would read as a gap. Drops are BackpressureE2ETest's subject.
   */
  public static TestServer startWithoutDrops() {
    return start(Map.of("connection.outbound-queue-size", "100000"));
  }

  /** Starts a server and waits until {@code GET /health} answers; retries on another port if the port was taken. */
  public static TestServer start(Map<String, String> overrides) {
    return start(overrides, null);
  }

  /** With {@code certificates} not null, the server speaks only https and wss, and this side trusts it. */
  public static TestServer start(Map<String, String> overrides, TestCertificates certificates) {
    Map<String, String> settings = new HashMap<>(overrides);
    if (certificates != null) {
      settings.put("http.tls.certificate", certificates.certificate().toString());
      settings.put("http.tls.private-key", certificates.privateKey().toString());
    }
    RuntimeException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = LocalServer.freePort();
      ActorSystem<Guardian.Command> system = LocalServer.start(port, settings);
      TestServer server = certificates == null
          ? new TestServer(system, URI.create("http://127.0.0.1:" + port), null)
          : new TestServer(system, URI.create("https://localhost:" + port), certificates.clientContext());
      try {
        server.awaitHealthy();
        return server;
      } catch (RuntimeException e) {
        last = e;
        server.close();
      }
    }
    throw last;
  }

  /** A server on {@code port}, as a restarted one comes back where clients expect it; one attempt. */
  public static TestServer startAt(int port) {
    TestServer server = new TestServer(LocalServer.start(port, Map.of()), URI.create("http://127.0.0.1:" + port), null);
    try {
      server.awaitHealthy();
      return server;
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
  }

  private void awaitHealthy() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (true) {
      if (system.getWhenTerminated().toCompletableFuture().isDone()) throw new IllegalStateException("server stopped while starting");
      try {
        if (admin.health().status() == 200) return;
      } catch (RuntimeException notYet) {
        // not bound yet
      }
      if (System.nanoTime() > deadline) throw new IllegalStateException("server did not become healthy in time");
      LocalServer.sleep(20);
    }
  }

  public URI httpBase() {
    return httpBase;
  }

  public URI webSocketUri() {
    return PubSubClient.webSocketUri(httpBase);
  }

  public AdminClient admin() {
    return admin;
  }

  /** Opens raw sockets to the server: TLS ones when it speaks TLS. */
  public SocketFactory sockets() {
    return tls == null ? SocketFactory.getDefault() : tls.getSocketFactory();
  }

  /** Sends {@code rawRequest} on a new connection and returns all it reads until the server closes it. */
  public String exchange(String rawRequest) throws java.io.IOException {
    return exchange(rawRequest.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  /** Sends {@code rawRequest} on a new connection and returns all it reads until the server closes it. */
  public String exchange(byte[] rawRequest) throws java.io.IOException {
    try (java.net.Socket socket = sockets().createSocket(httpBase.getHost(), httpBase.getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(rawRequest);
      return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** A new WebSocket client, closed with the server if the test did not close it. */
  public PubSubClient connect() {
    PubSubClient client = tls == null
        ? PubSubClient.connect(webSocketUri(), Duration.ofSeconds(10))
        : PubSubClient.connect(webSocketUri(), Duration.ofSeconds(10), Map.of(), http);
    synchronized (clients) {
      clients.add(client);
    }
    return client;
  }

  /** A topic name no other test uses, created over REST. */
  public String createTopic(String prefix) {
    String name = uniqueTopicName(prefix);
    AdminClient.Answer answer = admin.createTopic(name);
    if (answer.status() != 201) throw new IllegalStateException("create " + name + ": " + answer);
    return name;
  }

  public static String uniqueTopicName(String prefix) {
    return prefix + "-" + TOPIC_COUNTER.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
  }

  /** This topic's entry of {@code GET /stats}, or a missing node when the topic is not listed. */
  public JsonNode topicStats(String topic) {
    AdminClient.Answer answer = admin.stats();
    if (answer.status() != 200) throw new IllegalStateException("GET /stats: " + answer);
    return answer.body().path("topics").path(topic);
  }

  /** The value of the unlabelled series {@code name} in {@code GET /metrics}; fails when it is absent. */
  public double metric(String name) {
    AdminClient.Answer answer = admin.send("GET", "/metrics", null);
    if (answer.status() != 200) throw new IllegalStateException("GET /metrics: " + answer);
    return answer.body().asText().lines().filter(line -> line.startsWith(name + " ")).findFirst()
        .map(line -> Double.parseDouble(line.substring(name.length() + 1).trim()))
        .orElseThrow(() -> new AssertionError(name + " not in /metrics"));
  }

  @Override
  public void close() {
    List<PubSubClient> open;
    synchronized (clients) {
      open = new ArrayList<>(clients);
      clients.clear();
    }
    for (PubSubClient client : open) {
      if (!client.closed().isDone()) client.abort();
    }
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("server did not terminate", e);
    }
  }

  /** Waits until a server started as a child process answers {@code GET /health} with 200; fails if it exits first. */
  static void awaitHealthy(Process process, AdminClient admin) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      if (!process.isAlive()) fail("server exited with " + process.exitValue() + " while starting");
      AdminClient.Answer answer = healthOrNull(admin);
      if (answer != null && answer.status() == 200) return;
      if (System.nanoTime() > deadline) fail("server not healthy within 30 s");
      LocalServer.sleep(50);
    }
  }

  /** {@code GET /health}, or null while the server is not listening. */
  static AdminClient.Answer healthOrNull(AdminClient admin) {
    try {
      return admin.health();
    } catch (RuntimeException e) {
      return null;
    }
  }
}
