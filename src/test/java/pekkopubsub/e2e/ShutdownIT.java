package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.assertTs;
import static pekkopubsub.e2e.Wire.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.PubSubClient;

/**
 * The packaged server as a child process ({@code java -jar}, system property {@code server.jar}):
 * SIGTERM/SIGINT drain the open connections and exit with code 0.
 */
class ShutdownIT {
  private static final int DRAIN_SECONDS = 3;
  private static final JsonNode BIG_PAYLOAD = TextNode.valueOf("x".repeat(8 * 1024));

  private Process process;
  private URI base;
  private AdminClient admin;
  private final List<PubSubClient> clients = new ArrayList<>();

  @AfterEach
  void cleanUp() throws InterruptedException {
    clients.forEach(PubSubClient::abort);
    PackagedServer.stop(process);
  }

  @Test
  void sigtermDrainsConnectionsAnswers503MeanwhileAndExitsZero() throws Exception {
    startHealthyServer("sigterm");
    String topic = createTopic("shutdown");
    PubSubClient reader = connect();
    PubSubClient stalled = connect();
    PubSubClient publisher = connect();
    ack(reader.subscribe(topic), topic);
    ack(stalled.subscribe(topic), topic);
    // A subscriber that reads nothing keeps frames queued, so the drain lasts until its deadline.
    stalled.pauseReading();
    int published = 1000;
    List<CompletableFuture<JsonNode>> acks = new ArrayList<>();
    for (int i = 0; i < published; i++) acks.add(publisher.publish(topic, BIG_PAYLOAD));
    for (CompletableFuture<JsonNode> a : acks) ack(a, topic);

    signal("TERM");

    // While draining: /health answers 503 "shutting_down" and new upgrades are refused.
    AdminClient.Answer health = Wire.eventually(Duration.ofSeconds(DRAIN_SECONDS), () -> TestServer.healthOrNull(admin),
        a -> a != null && a.status() != 200, "/health leaves 200 after SIGTERM");
    assertEquals(503, health.status(), health::toString);
    assertEquals("shutting_down", health.body().path("status").asText(), health::toString);
    assertThrows(RuntimeException.class, () -> PubSubClient.connect(PubSubClient.webSocketUri(base),
        Duration.ofSeconds(5)), "a new WebSocket upgrade is refused while draining");

    // The reading client gets every event, then info shutting_down, then close 1001.
    long lastOffset = 0;
    JsonNode frame;
    while ("event".equals((frame = Wire.next(reader)).path("type").asText())) {
      lastOffset = frame.path("offset").asLong();
    }
    assertEquals(published, lastOffset, "queued events are flushed before the close");
    assertEquals("info", frame.path("type").asText(), frame.toString());
    assertEquals("shutting_down", frame.path("msg").asText(), frame.toString());
    assertTs(frame);
    PubSubClient.CloseStatus status = await(reader.closed(), Duration.ofSeconds(DRAIN_SECONDS + 10));
    assertEquals(1001, status.code(), status::toString);

    assertTrue(process.waitFor(DRAIN_SECONDS + 10, TimeUnit.SECONDS), "exited within drain deadline + 10 s");
    assertEquals(0, process.exitValue(), "exit code");
    stalled.resumeReading();
    assertNotNull(await(stalled.closed(), Duration.ofSeconds(10)), "the stalled client's connection ended too");
  }

  @Test
  void sigtermUnderLoadFlushesEverythingAckedToHealthyReadersAndExitsWithinTheDeadlinePlusOneSecond() throws Exception {
    startHealthyServer("sigterm-load");
    String topic = createTopic("load");
    List<PubSubClient> readers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      PubSubClient reader = connect();
      ack(reader.subscribe(topic), topic);
      readers.add(reader);
    }
    PubSubClient stalled = connect();
    ack(stalled.subscribe(topic), topic);
    stalled.pauseReading();
    PubSubClient publisher = connect();
    java.util.concurrent.atomic.AtomicLong lastAckedOffset = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicBoolean publishing = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread load = new Thread(() -> {
      while (publishing.get()) {
        publisher.publish(topic, Wire.payload(1)).thenAccept(a ->
            lastAckedOffset.accumulateAndGet(a.path("offset").asLong(0), Math::max));
        LocalServer.sleep(1);
      }
    });
    load.setDaemon(true);
    load.start();
    Wire.eventually(Duration.ofSeconds(10), lastAckedOffset::get, o -> o > 500, "load is flowing");

    long ackedBeforeSignal = lastAckedOffset.get();
    long signalled = System.nanoTime();
    signal("TERM");

    for (PubSubClient reader : readers) {
      List<Long> offsets = new ArrayList<>();
      JsonNode frame;
      while ("event".equals((frame = Wire.next(reader)).path("type").asText())) offsets.add(frame.path("offset").asLong());
      assertEquals("shutting_down", frame.path("msg").asText(), frame::toString);
      Wire.assertOffsets(1, offsets.get(offsets.size() - 1), offsets, "a healthy reader misses nothing");
      assertTrue(offsets.get(offsets.size() - 1) >= ackedBeforeSignal,
          "every event acked before the signal reached the reader: " + offsets.get(offsets.size() - 1) + " < " + ackedBeforeSignal);
      assertEquals(1001, await(reader.closed(), Duration.ofSeconds(DRAIN_SECONDS + 10)).code());
    }
    assertTrue(process.waitFor(DRAIN_SECONDS + 10, TimeUnit.SECONDS), "exited");
    long exitMillis = (System.nanoTime() - signalled) / 1_000_000;
    publishing.set(false);
    assertEquals(0, process.exitValue(), "exit code");
    assertTrue(exitMillis <= (DRAIN_SECONDS + 1) * 1000L, "exit within the drain deadline + 1 s, took " + exitMillis + " ms");
  }

  @Test
  void sigintOfAnIdleServerExitsZero() throws Exception {
    startHealthyServer("sigint");
    PubSubClient idle = connect();
    Wire.assertUsable(idle);

    signal("INT");

    JsonNode info = Wire.next(idle);
    assertEquals("info", info.path("type").asText(), info::toString);
    assertEquals("shutting_down", info.path("msg").asText(), info::toString);
    assertEquals(1001, await(idle.closed(), Duration.ofSeconds(DRAIN_SECONDS + 10)).code());
    assertTrue(process.waitFor(DRAIN_SECONDS + 10, TimeUnit.SECONDS), "exited in time");
    assertEquals(0, process.exitValue(), "exit code");
  }

  /** A SIGTERM while the server is still starting, before it listens, ends it with 0 too: the JVM's own handling gave 143. */
  @Test
  void sigtermWhileStartingExitsZero() throws Exception {
    process = startServer(LocalServer.freePort(), "sigterm-starting", Map.of("LOG_LEVEL", "DEBUG"));
    Path log = PackagedServer.jar().getParent().resolve("shutdown-it").resolve("sigterm-starting.log");
    // Main's first log line, about two seconds before the server listens.
    Wire.eventually(Duration.ofSeconds(30), () -> read(log), l -> l.contains("DEBUG pekkopubsub.Main") && l.contains("starting"),
        "the starting line");

    signal("TERM");

    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "exited");
    assertEquals(0, process.exitValue(), "exit code");
  }

  // ---------------------------------------------------------------- helpers

  private void startHealthyServer(String name) throws IOException {
    int port = LocalServer.freePort();
    base = URI.create("http://127.0.0.1:" + port);
    process = startServer(port, name);
    admin = new AdminClient(base);
    TestServer.awaitHealthy(process, admin);
  }

  private String createTopic(String prefix) {
    String topic = TestServer.uniqueTopicName(prefix);
    assertEquals(201, admin.createTopic(topic).status());
    return topic;
  }

  private Process startServer(int port, String name) throws IOException {
    return startServer(port, name, Map.of());
  }

  private Process startServer(int port, String name, Map<String, String> extraEnv) throws IOException {
    Path jar = PackagedServer.jar();
    Path workDir = Files.createDirectories(jar.getParent().resolve("shutdown-it"));
    ProcessBuilder builder = PackagedServer.command(jar, workDir, List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "MAX_CONNECTIONS",
            "IDLE_TIMEOUT", "MAX_HISTORY_PER_TOPIC", "OUTBOUND_QUEUE_SIZE", "OVERFLOW_POLICY", "MAX_FRAME_SIZE", "HEARTBEAT_INTERVAL"))
        .redirectErrorStream(true)
        .redirectOutput(workDir.resolve(name + ".log").toFile());
    Map<String, String> env = builder.environment();
    env.put("PORT", String.valueOf(port));
    env.put("HOST", "127.0.0.1");
    env.put("SHUTDOWN_DRAIN_DEADLINE", DRAIN_SECONDS + "s");
    // The load test publishes faster than the default per-connection rate limit.
    env.put("PUBLISH_RATE", "0");
    env.putAll(extraEnv);
    return builder.start();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private PubSubClient connect() {
    PubSubClient client = PubSubClient.connect(PubSubClient.webSocketUri(base), Duration.ofSeconds(10));
    clients.add(client);
    return client;
  }

  private void signal(String name) throws Exception {
    PackagedServer.signal(process, name);
  }
}
