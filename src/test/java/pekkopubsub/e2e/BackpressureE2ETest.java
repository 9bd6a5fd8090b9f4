package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.assertUsable;
import static pekkopubsub.e2e.Wire.await;
import static pekkopubsub.e2e.Wire.offsets;
import static pekkopubsub.e2e.Wire.range;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.net.SocketFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pekkopubsub.LocalServer;
import pekkopubsub.client.PubSubClient;

/**
 * Slow consumers: a subscriber that stops reading loses events (drop-oldest, counted) or its
 * connection (disconnect), never slows publishers or other subscribers; a client that floods
 * requests without reading loses no answer; a client that takes no frames stops reading at its bound.
 */
class BackpressureE2ETest {
  private static final int MESSAGES = 2000;
  /** These tests flood on purpose: 0 lifts the per-connection publish rate limit. */
  private static final String PUBLISH_RATE = "limits.publish-rate";
  /** Big enough that the paused client's kernel socket buffers fill well before the end. */
  private static final JsonNode BIG_PAYLOAD = TextNode.valueOf("x".repeat(8 * 1024));
  private static final Duration LONG = Duration.ofSeconds(60);

  /**
   * Queues smaller than the topic's largest batch (64 events), by count or by bytes: a subscriber
   * that reads as it should gets a burst whole, with either policy, and is no slow consumer.
   */
  @ParameterizedTest
  @CsvSource({"32, 1 MiB, disconnect, 10", "32, 1 MiB, drop-oldest, 10", "256, 16 KiB, disconnect, 1000"})
  void aSubscriberThatKeepsUpGetsABurstWholeThoughItsQueueHoldsLessThanABatch(
      String queueSize, String queueBytes, String policy, int payloadBytes) {
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0", "connection.outbound-queue-size", queueSize,
        "connection.outbound-queue-bytes", queueBytes, "connection.overflow-policy", policy))) {
      String topic = server.createTopic("burst");
      try (PubSubClient subscriber = server.connect(); PubSubClient publisher = server.connect()) {
        ack(subscriber.subscribe(topic), topic);
        JsonNode payload = TextNode.valueOf("x".repeat(payloadBytes));
        List<CompletableFuture<JsonNode>> acks = new ArrayList<>();
        for (int i = 0; i < 200; i++) acks.add(publisher.publish(topic, payload));
        acks.forEach(answer -> ack(answer, topic));
        assertEquals(range(1, 200), offsets(Wire.events(subscriber, topic, 200)));
      }
      assertEquals(0, server.metric("pubsub_events_dropped_total{reason=\"queue_full\"}"));
      assertEquals(0, server.metric("pubsub_events_dropped_total{reason=\"slow_consumer\"}"));
    }
  }

  @Test
  void dropOldestDropsAndCountsOnlyForTheSlowSubscriber() {
    dropOldestDropsAndCountsOnlyForTheSlowSubscriber(Map.of(PUBLISH_RATE, "0",
        "connection.outbound-queue-size", "16", "connection.overflow-policy", "drop-oldest"));
  }

  /** Room for every event by count, but not by bytes: the byte bound is what drops. */
  @Test
  void theByteBoundDropsLikeTheCountForTheSlowSubscriber() {
    dropOldestDropsAndCountsOnlyForTheSlowSubscriber(Map.of(PUBLISH_RATE, "0",
        "connection.outbound-queue-size", "100000", "connection.outbound-queue-bytes", "64 KiB",
        "connection.overflow-policy", "drop-oldest"));
  }

  /**
   * No bound of the queue is reached, but the heap is under pressure (a watermark of one byte, which
   * any collection leaves in use): the slow subscriber's queue keeps 64 KiB, and its drops are
   * counted as memory_pressure.
   */
  @Test
  void underHeapPressureTheSlowSubscriberDropsPast64KiBCountedAsMemoryPressure() throws InterruptedException {
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0",
        "connection.outbound-queue-size", "100000", "connection.outbound-queue-bytes", "0",
        "connection.heap-high-watermark", "1", "connection.overflow-policy", "drop-oldest"))) {
      long deadline = System.nanoTime() + LONG.toNanos();
      while (server.metric("pubsub_heap_pressure") != 1 && System.nanoTime() < deadline) {
        System.gc();
        Thread.sleep(50);
      }
      assertEquals(1, server.metric("pubsub_heap_pressure"), "the server heard of a collection");
      long dropped = dropOldestDropsAndCountsOnlyForTheSlowSubscriber(server);
      assertEquals(dropped, server.metric("pubsub_events_dropped_total{reason=\"memory_pressure\"}"));
      assertEquals(0, server.metric("pubsub_events_dropped_total{reason=\"queue_full\"}"));
    }
  }

  /**
   * A client that stops reading and then sends its close frame cannot take the server's: the close
   * timeout (1 s here) still ends the connection and frees its subscription.
   */
  @Test
  void aClientThatStopsReadingAndThenClosesIsClosedAfterTheCloseTimeout() {
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0", "connection.close-timeout", "1s"));
        RawWebSocket stuck = RawWebSocket.connect(server.httpBase());
        PubSubClient publisher = server.connect()) {
      String topic = server.createTopic("stuck-close");
      stuck.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"request_id\":\"s\"}");
      assertEquals("ack", stuck.read().json().path("type").asText());
      // Until its queue overflows: the socket's buffers are full, and nothing more it is sent can be written.
      JsonNode payload = TextNode.valueOf("x".repeat(60 * 1024));
      for (int i = 0; i < 1_000 && server.topicStats(topic).path("dropped").asLong() == 0; i++) {
        ack(publisher.publish(topic, payload), topic);
      }
      assertTrue(server.topicStats(topic).path("dropped").asLong() > 0, "the reader's buffers never filled");
      stuck.send(RawWebSocket.CLOSE, new byte[] {0x03, (byte) 0xE8});
      Wire.eventually(Duration.ofSeconds(10), () -> server.topicStats(topic).path("subscribers").asInt(-1),
          n -> n == 0, "the connection that closed is gone, its subscription freed");
    }
  }

  /**
   * A subscriber that publishes, unsubscribes and closes in one write: its event, published while
   * it was subscribed, is delivered to it or counted as dropped, though the unsubscribe is never answered.
   */
  @Test
  void anEventPublishedJustBeforeAnUnsubscribeAndACloseIsDeliveredOrCountedAsDropped() {
    try (TestServer server = TestServer.start()) {
      for (int run = 0; run < 5; run++) {
        String topic = server.createTopic("unsubscribe-close");
        int delivered = 0;
        try (RawWebSocket ws = RawWebSocket.connect(server.httpBase())) {
          ws.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"request_id\":\"s\"}");
          assertEquals("ack", ws.read().json().path("type").asText());
          ws.sendTogether(
              RawWebSocket.textFrame("{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"payload\":1}}"),
              RawWebSocket.textFrame("{\"type\":\"unsubscribe\",\"topic\":\"" + topic + "\"}"),
              RawWebSocket.frame(RawWebSocket.CLOSE, new byte[] {0x03, (byte) 0xE8}));
          for (RawWebSocket.Frame f; (f = ws.readAny()) != null && f.opcode() != RawWebSocket.CLOSE; ) {
            if (f.opcode() == RawWebSocket.TEXT && "event".equals(f.json().path("type").asText())) delivered++;
          }
        }
        JsonNode stats = Wire.assertDroppedSettlesAt(server, topic, 1 - delivered);
        assertEquals(1, stats.path("messages").asLong(), stats::toString);
      }
    }
  }

  /**
   * A subscriber whose replay is still paged out when it leaves, having read past the replayed
   * events into the live ones published since it subscribed: every live event is read by it or
   * counted as dropped, those in a replay page waiting unwritten in its queue too. With a close
   * frame the subscriber knows what it read; with a reset, the server knows what its socket took.
   */
  @ParameterizedTest
  @CsvSource({"close frame", "reset"})
  void liveEventsInReplayPagesUnwrittenWhenTheSubscriberLeavesAreCountedAsDropped(String leaving) {
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0", "topic.max-history", "1000"))) {
      String topic = server.createTopic("replay-pages-left");
      PubSubClient publisher = server.connect();
      String sixtyKilobytes = "x".repeat(60_000);
      // More than the sockets' buffers take, so that the replay is still paged out when the live events come.
      int replayed = 200;
      int live = 300;
      for (int i = 1; i <= replayed; i++) ack(publisher.publish(topic, Wire.payload(i).put("x", sixtyKilobytes)), topic);
      int liveRead = 0;
      try (RawWebSocket subscriber = RawWebSocket.connect(server.httpBase(), SMALL_RECEIVE_BUFFER)) {
        subscriber.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"since_offset\":0}");
        Wire.eventually(Wire.WAIT, () -> server.topicStats(topic), s -> s.path("subscribers").asInt() == 1, "the subscribe landed");
        // Published while its replay waits for it to read: they reach it in the replay's pages.
        for (int i = replayed + 1; i <= replayed + live; i++) {
          ack(publisher.publish(topic, Wire.payload(i).put("x", sixtyKilobytes)), topic);
        }
        long newest = 0;
        while (liveRead < 20) {
          RawWebSocket.Frame frame = subscriber.read();
          JsonNode json = frame.json();
          if (!"event".equals(json.path("type").asText())) continue;
          assertEquals(newest + 1, json.path("offset").asLong(), "in order, no gap: " + json.path("offset"));
          newest = json.path("offset").asLong();
          if (!json.path("replay").asBoolean(false)) liveRead++;
        }
        // It stops reading: the sockets' buffers fill, and a page waits in the server's queue.
        LocalServer.sleep(1_000);
        if (leaving.equals("reset")) {
          subscriber.reset();
        } else {
          subscriber.send(RawWebSocket.CLOSE, new byte[] {0x03, (byte) 0xE8});
          for (RawWebSocket.Frame f; (f = subscriber.readAny()) != null && f.opcode() != RawWebSocket.CLOSE; ) {
            if (f.opcode() != RawWebSocket.TEXT || !"event".equals(f.json().path("type").asText())) continue;
            assertEquals(++newest, f.json().path("offset").asLong());
            liveRead++;
          }
        }
      }
      Wire.eventually(Wire.WAIT, () -> server.topicStats(topic), s -> s.path("subscribers").asInt() == 0, "the subscriber left");
      long expected = leaving.equals("reset")
          ? replayed + live - (long) server.metric("pubsub_events_delivered_total")
          : live - liveRead;
      JsonNode stats = Wire.assertDroppedSettlesAt(server, topic, expected);
      assertEquals((double) stats.path("dropped").asLong(), server.metric("pubsub_events_dropped_total{reason=\"closing\"}")
          + server.metric("pubsub_events_dropped_total{reason=\"replay_evicted\"}"), 0.0, "the meters count what the topic's stats count");
    }
  }

  /** Sockets that take little at a time, so that a subscriber that stops reading soon holds up the server's writes. */
  private static final SocketFactory SMALL_RECEIVE_BUFFER = new SocketFactory() {
    @Override
    public Socket createSocket(String host, int port) throws IOException {
      Socket socket = new Socket();
      socket.setReceiveBufferSize(16 * 1024);
      socket.connect(new InetSocketAddress(host, port));
      return socket;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) {
      throw new UnsupportedOperationException();
    }
  };

  private static void dropOldestDropsAndCountsOnlyForTheSlowSubscriber(Map<String, String> overrides) {
    try (TestServer server = TestServer.start(overrides)) {
      dropOldestDropsAndCountsOnlyForTheSlowSubscriber(server);
    }
  }

  /** Returns how many events the slow subscriber lost. */
  private static long dropOldestDropsAndCountsOnlyForTheSlowSubscriber(TestServer server) {
    SlowSubscriberSetup setup = SlowSubscriberSetup.open(server, "drop-oldest");
    String topic = setup.topic();
    PubSubClient healthy = setup.healthy();
    PubSubClient slow = setup.slow();
    PubSubClient publisher = setup.publisher();

    // Publishers are never held back by the slow subscriber: every ack arrives while it still reads nothing.
    List<JsonNode> healthyEvents = publishAllKeepingUpWith(publisher, healthy, topic);
    Wire.assertOffsets(1, MESSAGES, offsets(healthyEvents), "the healthy subscriber gets every event in order");
    assertFalse(slow.closed().isDone());

    slow.resumeReading();
    // The newest event is never the one dropped under drop-oldest, so the slow one ends with it.
    List<JsonNode> slowEvents = readUntilOffset(slow, topic, MESSAGES);
    assertNull(Wire.poll(slow, Duration.ofMillis(200)), "nothing after the last event");
    assertIncreasing(offsets(slowEvents));
    int received = slowEvents.size();
    assertTrue(received < MESSAGES, "the paused subscriber lost events (else the test proves nothing)");

    JsonNode stats = Wire.assertDroppedSettlesAt(server, topic, MESSAGES - received);
    assertEquals(MESSAGES, stats.path("messages").asLong(-1), stats::toString);
    assertEquals(2, stats.path("subscribers").asInt(-1), "both stay subscribed: " + stats);

    assertUsable(slow);
    assertUsable(healthy);
    assertFalse(slow.closed().isDone(), "drop-oldest keeps the slow connection open");
    return MESSAGES - received;
  }

  @Test
  void disconnectPolicyClosesTheSlowSubscriberWith1008() {
    // A close timeout longer than the test's pause, so the paused client can still read its close frame.
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0",
        "connection.outbound-queue-size", "16", "connection.overflow-policy", "disconnect",
        "connection.close-timeout", "20s"))) {
      SlowSubscriberSetup setup = SlowSubscriberSetup.open(server, "disconnect");
      String topic = setup.topic();
      PubSubClient healthy = setup.healthy();
      PubSubClient slow = setup.slow();
      PubSubClient publisher = setup.publisher();

      Wire.assertOffsets(1, MESSAGES, offsets(publishAllKeepingUpWith(publisher, healthy, topic)),
          "the healthy subscriber gets every event in order");

      slow.resumeReading();
      PubSubClient.CloseStatus status = await(slow.closed(), LONG);
      List<JsonNode> slowFrames = Wire.drain(slow);
      assertEquals(1008, status.code(), "closed as a slow consumer: " + status);

      long last = 0;
      for (JsonNode frame : slowFrames) {
        String type = frame.path("type").asText();
        if ("event".equals(type)) {
          assertTrue(frame.path("offset").asLong() > last, "increasing offsets");
          last = frame.path("offset").asLong();
        } else {
          Wire.error(frame, "SLOW_CONSUMER");
        }
      }
      assertTrue(last < MESSAGES, "the slow subscriber was cut off before the end");

      assertUsable(healthy);
      assertFalse(healthy.closed().isDone(), "the healthy subscriber stays connected");
      Wire.eventually(Wire.WAIT, () -> server.topicStats(topic).path("subscribers").asInt(-1),
          n -> n == 1, "only the healthy subscriber is left");
    }
  }

  @Test
  void clientFloodingRequestsWithoutReadingLosesNoAnswerAndDisturbsNobody() {
    int pings = 20_000;
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0"))) {
      String topic = server.createTopic("flood");
      PubSubClient flooder = server.connect();
      PubSubClient other = server.connect();
      PubSubClient subscriber = server.connect();
      ack(subscriber.subscribe(topic), topic);
      flooder.pauseReading();

      CompletableFuture<?> lastSend = null;
      for (int i = 1; i <= pings; i++) {
        lastSend = flooder.sendText("{\"type\":\"ping\",\"request_id\":\"p" + i + "\"}");
      }

      // Meanwhile another client is served as usual.
      for (int i = 1; i <= 50; i++) {
        assertUsable(other);
        ack(other.publish(topic, Wire.payload(i)), topic);
      }
      assertEquals(range(1, 50), offsets(Wire.events(subscriber, topic, 50)));

      flooder.resumeReading();
      for (int i = 1; i <= pings; i++) {
        JsonNode pong = Wire.next(flooder);
        assertEquals("pong", pong.path("type").asText(), pong::toString);
        assertEquals("p" + i, pong.path("request_id").asText(), "pongs in request order, none lost");
      }
      await(lastSend.thenApply(ws -> (JsonNode) null), LONG);
      assertNull(Wire.poll(flooder, Duration.ofMillis(200)), "exactly one pong per ping");
      assertUsable(flooder);
      assertUsable(other);
    }
  }

  @Test
  void publisherThatDoesNotReadItsAcksLosesNone() {
    int publishes = 5_000;
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0"))) {
      String topic = server.createTopic("publish-flood");
      PubSubClient publisher = server.connect();
      PubSubClient other = server.connect();
      publisher.pauseReading();

      for (int i = 1; i <= publishes; i++) {
        publisher.sendText("{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"request_id\":\"a" + i
            + "\",\"message\":{\"payload\":" + i + "}}");
      }
      for (int i = 1; i <= 20; i++) assertUsable(other);

      publisher.resumeReading();
      for (int i = 1; i <= publishes; i++) {
        JsonNode answer = Wire.next(publisher);
        assertEquals("ack", answer.path("type").asText(), answer::toString);
        assertEquals("a" + i, answer.path("request_id").asText(), "acks in request order, none lost");
        assertEquals(i, answer.path("offset").asLong(), answer::toString);
      }
      assertNull(Wire.poll(publisher, Duration.ofMillis(200)), "exactly one ack per publish");
      assertEquals(publishes, server.topicStats(topic).path("messages").asLong(-1));
      assertUsable(publisher);
    }
  }

  @Test
  void clientThatDoesNotTakeItsFramesStopsReadingAtItsBoundAndLosesNothingUncounted() {
    int messages = PubSubClient.MAX_BUFFERED_FRAMES + 3_000;
    try (TestServer server = TestServer.start(Map.of(PUBLISH_RATE, "0",
        "connection.outbound-queue-size", "16", "connection.overflow-policy", "drop-oldest"))) {
      String topic = server.createTopic("unread");
      PubSubClient idle = server.connect();
      PubSubClient publisher = server.connect();
      ack(idle.subscribe(topic), topic);

      List<CompletableFuture<JsonNode>> acks = new ArrayList<>(messages);
      for (int i = 0; i < messages; i++) acks.add(publisher.publish(topic, BIG_PAYLOAD));
      for (CompletableFuture<JsonNode> answer : acks) ack(answer, topic);

      // The client reads until its buffer is full, then leaves the rest to TCP and the server's queue.
      Wire.eventually(LONG, idle::bufferedFrames, n -> n >= PubSubClient.MAX_BUFFERED_FRAMES, "the buffer fills");
      LocalServer.sleep(300);
      assertEquals(PubSubClient.MAX_BUFFERED_FRAMES, idle.bufferedFrames(), "no frame read beyond the bound");

      List<JsonNode> events = readUntilOffset(idle, topic, messages);
      assertNull(Wire.poll(idle, Duration.ofMillis(200)), "nothing after the last event");
      assertIncreasing(offsets(events));
      Wire.assertDroppedSettlesAt(server, topic, messages - events.size());
      assertUsable(idle);
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Publishes {@link #MESSAGES} big events in windows, each window's acks awaited while the slow
   * subscriber reads nothing; the healthy subscriber reads each window before the next is sent, so
   * it is a consumer that keeps up by construction and only the paused one can overflow.
   */
  /** A topic with a subscriber that reads, one that has stopped reading, and a publisher. */
  private record SlowSubscriberSetup(String topic, PubSubClient healthy, PubSubClient slow, PubSubClient publisher) {
    static SlowSubscriberSetup open(TestServer server, String topicName) {
      String topic = server.createTopic(topicName);
      SlowSubscriberSetup setup = new SlowSubscriberSetup(topic, server.connect(), server.connect(), server.connect());
      ack(setup.healthy().subscribe(topic), topic);
      ack(setup.slow().subscribe(topic), topic);
      setup.slow().pauseReading();
      return setup;
    }
  }

  private static List<JsonNode> publishAllKeepingUpWith(PubSubClient publisher, PubSubClient healthy, String topic) {
    int window = 8;
    List<JsonNode> received = new ArrayList<>(MESSAGES);
    for (int sent = 0; sent < MESSAGES; sent += window) {
      List<CompletableFuture<JsonNode>> acks = new ArrayList<>(window);
      for (int i = 0; i < window; i++) acks.add(publisher.publish(topic, BIG_PAYLOAD));
      for (int i = 0; i < window; i++) {
        assertEquals(sent + i + 1, await(acks.get(i), LONG).path("offset").asLong(), "publish ack");
      }
      received.addAll(Wire.events(healthy, topic, window));
    }
    return received;
  }

  private static List<JsonNode> readUntilOffset(PubSubClient client, String topic, long last) {
    List<JsonNode> out = new ArrayList<>();
    while (true) {
      JsonNode frame = Wire.next(client, LONG);
      assertEquals("event", frame.path("type").asText(), frame::toString);
      assertEquals(topic, frame.path("topic").asText());
      out.add(frame);
      if (frame.path("offset").asLong() >= last) return out;
    }
  }

  private static void assertIncreasing(List<Long> offsets) {
    for (int i = 1; i < offsets.size(); i++) {
      assertTrue(offsets.get(i) > offsets.get(i - 1), "increasing offsets, but " + offsets.get(i) + " after " + offsets.get(i - 1));
    }
  }

  private static void assertNull(Object value, String message) {
    org.junit.jupiter.api.Assertions.assertNull(value, message);
  }
}
