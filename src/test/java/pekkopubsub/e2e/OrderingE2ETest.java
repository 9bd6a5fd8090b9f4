package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.await;
import static pekkopubsub.e2e.Wire.offsets;
import static pekkopubsub.e2e.Wire.range;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pekkopubsub.client.PubSubClient;

/** Concurrent publishers, several subscribers: everyone sees every event once, in offset order. */
class OrderingE2ETest {
  private static final int PUBLISHERS = 3;
  private static final int PER_PUBLISHER = 300;
  private static final int SUBSCRIBERS = 4;
  private static TestServer server;

  /** Every event must arrive here, so no queue may drop one. */
  @BeforeAll
  static void start() {
    server = TestServer.startWithoutDrops();
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void concurrentPublishersAndSeveralSubscribersSeeOneGaplessOrder() throws Exception {
    assertOneGaplessOrder(server, SUBSCRIBERS);
  }

  /** Fan-out pacing holds events back and sends them in batches: nothing may be lost or reordered. */
  @Test
  void aPacedTopicStillGivesEverySubscriberOneGaplessOrder() throws Exception {
    try (TestServer paced = TestServer.start(Map.of(
        "connection.outbound-queue-size", "100000",
        "topic.fan-out-pacing.hot-deliveries-per-second", "0",
        "topic.fan-out-pacing.spacing-per-subscriber", "1ms",
        "topic.fan-out-pacing.max-spacing", "20ms"))) {
      assertOneGaplessOrder(paced, 20);
    }
  }

  private static void assertOneGaplessOrder(TestServer server, int subscriberCount) throws Exception {
    String topic = server.createTopic("ordering");
    int total = PUBLISHERS * PER_PUBLISHER;
    List<PubSubClient> subscribers = new ArrayList<>();
    List<PubSubClient> publishers = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(PUBLISHERS);
    try {
      for (int i = 0; i < subscriberCount; i++) {
        PubSubClient subscriber = server.connect();
        subscribers.add(subscriber);
        ack(subscriber.subscribe(topic), topic);
      }
      for (int p = 0; p < PUBLISHERS; p++) publishers.add(server.connect());

      // Each publisher sends all its messages at once (no waiting for acks) from its own thread.
      List<Future<List<CompletableFuture<JsonNode>>>> sending = new ArrayList<>();
      for (int p = 0; p < PUBLISHERS; p++) {
        int publisherNo = p;
        PubSubClient publisher = publishers.get(p);
        sending.add(pool.submit(() -> {
          List<CompletableFuture<JsonNode>> acks = new ArrayList<>();
          for (int seq = 0; seq < PER_PUBLISHER; seq++) {
            acks.add(publisher.publish(topic, Wire.object().put("publisher", publisherNo).put("seq", seq)));
          }
          return acks;
        }));
      }

      // The offset each message was given, by "publisher/seq", from the acks.
      Map<String, Long> ackedOffsets = new HashMap<>();
      for (int p = 0; p < PUBLISHERS; p++) {
        List<CompletableFuture<JsonNode>> acks = sending.get(p).get(30, TimeUnit.SECONDS);
        for (int seq = 0; seq < PER_PUBLISHER; seq++) {
          ackedOffsets.put(p + "/" + seq, ack(acks.get(seq), topic).path("offset").asLong());
        }
      }
      assertEquals(range(1, total), ackedOffsets.values().stream().sorted().toList(),
          "the acks hand out every offset 1..N exactly once");

      for (PubSubClient subscriber : subscribers) {
        List<JsonNode> received = collect(server, subscriber, topic, total);
        Wire.assertOffsets(1, total, offsets(received), "strictly increasing offsets, no gap, no duplicate");
        for (JsonNode event : received) {
          JsonNode payload = event.path("message").path("payload");
          String key = payload.path("publisher").asInt() + "/" + payload.path("seq").asInt();
          assertEquals(ackedOffsets.get(key), event.path("offset").asLong(),
              "the event carries the offset its publish was acked with: " + event);
        }
      }
      for (PubSubClient subscriber : subscribers) {
        Wire.assertUsable(subscriber);
        Wire.assertNothingBuffered(subscriber);
      }
      JsonNode stats = server.topicStats(topic);
      assertEquals(total, stats.path("messages").asLong(-1), stats::toString);
      assertEquals(0, stats.path("dropped").asLong(-1), stats::toString);
    } finally {
      pool.shutdownNow();
      subscribers.forEach(PubSubClient::close);
      publishers.forEach(PubSubClient::close);
    }
  }

  /** {@code n} events, or a failure that says how many came and what /stats counted. */
  private static List<JsonNode> collect(TestServer server, PubSubClient subscriber, String topic, int n) {
    List<JsonNode> received = new ArrayList<>(n);
    while (received.size() < n) {
      JsonNode frame = Wire.poll(subscriber, Wire.WAIT);
      if (frame == null) {
        fail("received " + received.size() + " of " + n + " events; last offsets "
            + offsets(received.subList(Math.max(0, received.size() - 5), received.size()))
            + "; /stats: " + server.topicStats(topic));
      }
      assertEquals("event", frame.path("type").asText(), frame::toString);
      received.add(frame);
    }
    return received;
  }

  @Test
  void eachPublishersOwnMessagesKeepTheirOrder() {
    String topic = server.createTopic("ordering-per-publisher");
    try (PubSubClient publisher = server.connect(); PubSubClient subscriber = server.connect()) {
      ack(subscriber.subscribe(topic), topic);
      List<CompletableFuture<JsonNode>> acks = new ArrayList<>();
      for (int i = 1; i <= 200; i++) acks.add(publisher.publish(topic, Wire.payload(i)));
      for (int i = 1; i <= 200; i++) {
        assertEquals(i, await(acks.get(i - 1)).path("offset").asLong(), "a lone publisher's offsets follow its order");
      }
      List<JsonNode> received = collect(server, subscriber, topic, 200);
      for (int i = 1; i <= 200; i++) {
        assertEquals(i, received.get(i - 1).path("message").path("payload").path("n").asInt());
      }
    }
  }
}
