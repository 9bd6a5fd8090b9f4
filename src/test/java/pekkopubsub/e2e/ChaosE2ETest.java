package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import pekkopubsub.LocalServer;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.http.TestCertificates;

/**
 * A bounded chaos run: clients with random behaviours (publish, subscribe with replay,
 * unsubscribe, abort, abort in the middle of a frame, stop reading, topics deleted under them),
 * then the checks of issue 5. Size by system properties {@code chaos.clients}, {@code chaos.seconds},
 * {@code chaos.seed} ({@code scripts/soak} sets them); CI runs the small default, over plain
 * TCP and over TLS ({@code chaos.transport}: {@code plain}, {@code tls}, or both when unset).
 *
 * <p>Conservation is checked exactly on "audited" topics, whose only subscribers are auditors
 * present from before the first publish until after the last (some of them stop reading for a
 * while, so they lose events): published x auditors = delivered + dropped, and the server's
 * dropped equals the offsets the auditors missed. Chaos clients publish to audited topics but
 * subscribe only to churn topics (and to topics that get deleted), whose presence windows a
 * client cannot know exactly; for those the run checks that every subscription is gone at the end.
 */
class ChaosE2ETest {
  private static final int CLIENTS = Integer.getInteger("chaos.clients", 40);
  private static final int SECONDS = Integer.getInteger("chaos.seconds", 8);
  private static final long SEED = Long.getLong("chaos.seed", System.nanoTime());
  private static final int AUDITED_TOPICS = 3;
  private static final int AUDITORS_PER_TOPIC = 3;

  private static final JsonNode BIG = com.fasterxml.jackson.databind.node.TextNode.valueOf("x".repeat(24 * 1024));

  private final Map<String, AtomicLong> faults = new ConcurrentHashMap<>();

  @TempDir
  Path dir;

  static Stream<String> transports() {
    String chosen = System.getProperty("chaos.transport", "");
    return Stream.of("plain", "tls").filter(transport -> chosen.isEmpty() || chosen.equals(transport));
  }

  @ParameterizedTest
  @MethodSource("transports")
  void serverSurvivesChaosLeaksNothingAndConservesEveryEvent(String transport) throws Exception {
    System.gc();
    long heapBefore = usedHeap();
    TestCertificates certificates = transport.equals("tls") ? TestCertificates.create(dir, "EC") : null;
    try (TestServer server = TestServer.start(Map.of("connection.outbound-queue-size", "32",
        "limits.publish-rate", "200", "limits.publish-burst", "50"), certificates)) {
      List<String> audited = new ArrayList<>();
      for (int i = 0; i < AUDITED_TOPICS; i++) audited.add(server.createTopic("audited"));
      List<String> churn = List.of(server.createTopic("churn"), server.createTopic("churn"));
      String doomedPrefix = TestServer.uniqueTopicName("doomed");
      List<String> doomed = List.of(doomedPrefix + "-a", doomedPrefix + "-b");
      doomed.forEach(t -> server.admin().createTopic(t));

      List<Auditor> auditors = new ArrayList<>();
      for (String topic : audited) {
        for (int i = 0; i < AUDITORS_PER_TOPIC; i++) {
          PubSubClient client = server.connect();
          Wire.ack(client.subscribe(topic), topic);
          Auditor auditor = new Auditor(topic, client, i == 0);
          auditors.add(auditor);
          start("auditor-" + topic + "-" + i, auditor::read);
        }
      }

      long deadline = System.nanoTime() + Duration.ofSeconds(SECONDS).toNanos();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        Random random = new Random(SEED + i);
        threads.add(start("chaos-" + i, () -> chaosClient(server, random, deadline, audited, churn, doomed)));
      }
      threads.add(start("deleter", () -> deleter(server, new Random(SEED - 1), deadline, doomed)));
      // Auditors marked slow stop reading now and then, so their queues overflow and drop.
      for (Auditor a : auditors) {
        if (a.slow) threads.add(start("slow-" + a.topic, () -> pauses(a.client, new Random(SEED ^ a.hashCode()), deadline)));
      }
      for (Thread t : threads) t.join(Duration.ofSeconds(SECONDS + 60).toMillis());

      // The server still answers.
      assertEquals(200, server.admin().health().status());
      Wire.assertUsable(server.connect());

      // Conservation on every audited topic.
      long totalMessages = 0;
      long totalDelivered = 0;
      long totalDropped = 0;
      for (String topic : audited) {
        long published = server.topicStats(topic).path("messages").asLong(-1);
        long delivered = 0;
        long missed = 0;
        for (Auditor a : auditors) {
          if (!a.topic.equals(topic)) continue;
          a.client.resumeReading();
          long received = a.readThrough(published);
          delivered += received;
          missed += published - received;
        }
        JsonNode stats = Wire.assertDroppedSettlesAt(server, topic, missed);
        assertEquals(published * AUDITORS_PER_TOPIC, delivered + stats.path("dropped").asLong(),
            "published x subscribers = delivered + dropped on " + topic);
        totalMessages += published;
        totalDelivered += delivered;
        totalDropped += stats.path("dropped").asLong();
      }
      auditors.forEach(a -> a.client.close());

      // Every subscription is gone once every client is.
      JsonNode all = Wire.eventually(Duration.ofSeconds(20), () -> server.admin().stats().body().path("topics"),
          ChaosE2ETest::noSubscribers, "/stats subscribers return to 0");
      assertTrue(noSubscribers(all));
      System.gc();
      long heapAfter = usedHeap();
      System.out.printf("chaos: %s, seed %d, %d clients, %d s, %d published to audited topics, %d delivered, %d dropped,"
              + " faults %s, heap %d -> %d MiB%n", transport, SEED, CLIENTS, SECONDS, totalMessages, totalDelivered, totalDropped,
          faults, heapBefore >> 20, heapAfter >> 20);
      assertTrue(totalMessages > 0, "the run published something");
    }
  }

  // ---------------------------------------------------------------- behaviours

  private void chaosClient(TestServer server, Random random, long deadline, List<String> audited,
      List<String> churn, List<String> doomed) {
    PubSubClient client = null;
    while (System.nanoTime() < deadline) {
      try {
        if (client == null) client = server.connect();
        // A reading client takes what arrived (only its pauses stop it); unread, it piled up in this JVM's heap.
        Wire.drain(client);
        int dice = random.nextInt(100);
        if (dice < 45) {
          String topic = pick(random, random.nextInt(4) == 0 ? doomed : audited);
          // Big events fill a paused reader's TCP buffers within its pause, so its server queue overflows.
          for (int i = 0, n = 1 + random.nextInt(5); i < n; i++) client.publish(topic, BIG);
          count("publish");
        } else if (dice < 65) {
          String topic = pick(random, random.nextBoolean() ? churn : doomed);
          client.subscribeLast(topic, random.nextInt(5));
          count("subscribe-with-replay");
        } else if (dice < 78) {
          client.unsubscribe(pick(random, random.nextBoolean() ? churn : doomed));
          count("unsubscribe");
        } else if (dice < 86) {
          client.pauseReading();
          LocalServer.sleep(100 + random.nextInt(400));
          client.resumeReading();
          count("pause-reading");
        } else if (dice < 93) {
          client.abort();
          client = null;
          count("abort");
        } else {
          try (RawWebSocket raw = RawWebSocket.connect(server.httpBase(), server.sockets())) {
            raw.sendText("{\"type\":\"subscribe\",\"topic\":\"" + pick(random, churn) + "\"}");
            byte[] half = ("{\"type\":\"publish\",\"topic\":\"" + pick(random, audited) + "\",\"message\":{\"payload\":1}}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            raw.abortMidFrame(half, 2 + random.nextInt(half.length));
          }
          count("abort-mid-frame");
        }
        LocalServer.sleep(random.nextInt(20));
      } catch (RuntimeException e) {
        count("client-error " + e.getClass().getSimpleName());
        if (client != null) client.abort();
        client = null;
      }
    }
    if (client != null) {
      if (random.nextBoolean()) client.close();
      else client.abort();
    }
  }

  private void deleter(TestServer server, Random random, long deadline, List<String> doomed) {
    while (System.nanoTime() < deadline) {
      LocalServer.sleep(200 + random.nextInt(600));
      String topic = pick(random, doomed);
      try {
        if (server.admin().deleteTopic(topic).status() == 200) count("topic-deleted");
        server.admin().createTopic(topic);
      } catch (RuntimeException e) {
        // A 300-client soak starves this JVM (server and clients share it) past the REST client's 10 s timeout at times.
        count("deleter-error " + e.getClass().getSimpleName());
      }
    }
  }

  private void pauses(PubSubClient client, Random random, long deadline) {
    while (System.nanoTime() < deadline) {
      client.pauseReading();
      count("auditor-pause");
      LocalServer.sleep(500 + random.nextInt(1500));
      client.resumeReading();
      LocalServer.sleep(100 + random.nextInt(300));
    }
  }

  /**
   * A subscriber of one audited topic for the whole run. It reads its frames as they come, on its
   * own thread, and keeps only a count and the newest offset: holding the events until the end
   * took the test JVM's whole heap in a 300-client soak. Reading stops only while it is paused.
   */
  private static final class Auditor {
    final String topic;
    final PubSubClient client;
    final boolean slow;
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong newestOffset = new AtomicLong();
    private final AtomicReference<String> disorder = new AtomicReference<>();

    Auditor(String topic, PubSubClient client, boolean slow) {
      this.topic = topic;
      this.client = client;
      this.slow = slow;
    }

    /** Runs until the client closes: events must come in strictly increasing offsets. */
    void read() {
      while (!client.closed().isDone()) {
        JsonNode frame = Wire.poll(client, Duration.ofMillis(200));
        if (frame == null || !"event".equals(frame.path("type").asText())) continue;
        long offset = frame.path("offset").asLong();
        long previous = newestOffset.get();
        if (offset <= previous) disorder.compareAndSet(null, "offset " + offset + " after " + previous);
        // Counted before the offset is published, so that a reader who sees the offset sees its count.
        received.incrementAndGet();
        newestOffset.set(offset);
      }
    }

    /** Events received once the newest offset reaches {@code lastOffset} (the newest is never the one dropped). */
    long readThrough(long lastOffset) {
      Wire.eventually(Duration.ofSeconds(60), newestOffset::get, offset -> offset >= lastOffset,
          topic + " auditor reaches offset " + lastOffset);
      assertNull(disorder.get(), "offsets increase");
      return received.get();
    }
  }

  private static boolean noSubscribers(JsonNode topics) {
    for (JsonNode t : topics) {
      if (t.path("subscribers").asInt(-1) != 0) return false;
    }
    return true;
  }

  private void count(String fault) {
    faults.computeIfAbsent(fault, f -> new AtomicLong()).incrementAndGet();
  }

  private static <T> T pick(Random random, List<T> list) {
    return list.get(random.nextInt(list.size()));
  }

  private static Thread start(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static long usedHeap() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
