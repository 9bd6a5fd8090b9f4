package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.assertTs;
import static pekkopubsub.e2e.Wire.assertUsable;
import static pekkopubsub.e2e.Wire.next;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;
import pekkopubsub.client.PubSubClient;

/** The application-level heartbeat, on a server whose interval is short. */
class HeartbeatE2ETest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("connection.heartbeat-interval", "300ms"));
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void idleClientReceivesInfoPing() {
    try (PubSubClient client = server.connect()) {
      JsonNode heartbeat = next(client);
      assertHeartbeat(heartbeat);
      assertHeartbeat(next(client));
      assertUsable(client);
    }
  }

  @Test
  void idleSubscriberReceivesInfoPingAndStaysSubscribed() {
    String topic = server.createTopic("heartbeat");
    try (PubSubClient subscriber = server.connect(); PubSubClient publisher = server.connect()) {
      ack(subscriber.subscribe(topic), topic);
      assertHeartbeat(next(subscriber));
      ack(publisher.publish(topic, Wire.payload(1)), topic);
      JsonNode frame = next(subscriber);
      while ("info".equals(frame.path("type").asText())) {
        assertHeartbeat(frame);
        frame = next(subscriber);
      }
      assertEquals("event", frame.path("type").asText(), frame::toString);
      assertEquals(1, frame.path("offset").asLong());
    }
  }

  /** The JDK client answers WebSocket pings by itself, as every RFC 6455 client does. */
  @Test
  void aSilentClientThatAnswersPingsStaysConnected() {
    String topic = server.createTopic("silent");
    try (PubSubClient subscriber = server.connect(); PubSubClient publisher = server.connect()) {
      ack(subscriber.subscribe(topic), topic);
      LocalServer.sleep(3_000); // ten intervals: it would have been closed after three or four
      assertFalse(subscriber.closed().isDone(), "closed: " + subscriber.closed().getNow(null));
      ack(publisher.publish(topic, Wire.payload(1)), topic);
      JsonNode frame = next(subscriber);
      while ("info".equals(frame.path("type").asText())) frame = next(subscriber);
      assertEquals(1, frame.path("offset").asLong(), frame::toString);
    }
  }

  /**
   * The WebSocket ping that asks a silent peer for an answer comes with the heartbeat, not in its
   * place: a raw client that answers no ping still gets {@code info ping} every interval until it
   * is cut off (after two unanswered pings, at the third interval).
   */
  @Test
  void aClientThatAnswersNoPingStillReceivesAnInfoPingEveryInterval() {
    try (RawWebSocket silent = RawWebSocket.connect(server.httpBase())) {
      for (int interval = 1; interval <= 2; interval++) {
        RawWebSocket.Frame frame = silent.read();
        assertEquals(RawWebSocket.TEXT, frame.opcode(), "interval " + interval);
        assertHeartbeat(frame.json());
      }
    }
  }

  /** A peer gone without a close (here: one that stops reading, so it answers no ping) loses its subscriptions. */
  @Test
  void aClientThatAnswersNoPingIsClosedAndItsSubscriptionsFreed() {
    String topic = server.createTopic("vanished");
    try (PubSubClient gone = server.connect(); PubSubClient bystander = server.connect()) {
      ack(gone.subscribe(topic), topic);
      ack(bystander.subscribe(topic), topic);
      gone.pauseReading();
      Wire.eventually(Duration.ofSeconds(10), () -> server.topicStats(topic).path("subscribers").asInt(-1),
          n -> n == 1, "the silent subscriber's subscription is freed");
      gone.resumeReading();
      PubSubClient.CloseStatus status = Wire.await(gone.closed(), Duration.ofSeconds(10));
      assertEquals(-1, status.code(), "cut off without a close frame: " + status);
      assertFalse(bystander.closed().isDone(), "the other subscriber, which answers, stays");
      assertUsable(bystander);
      assertTrue(server.metric("pubsub_connections_unresponsive_total") >= 1, "counted in /metrics");
    }
  }

  /**
   * A subscriber that reads steadily, slower than its topic publishes, answers each ping only once
   * it reads it, behind a backlog of seconds: it is alive, and stays connected (losing events, counted).
   */
  @Test
  void aSlowReaderWhosePingsWaitBehindItsBacklogStaysConnected() throws Exception {
    // An interval longer than the socket takes to report room again once full (a third of its buffer read).
    try (TestServer server = TestServer.start(Map.of("connection.heartbeat-interval", "1s"))) {
      aSlowReaderWhosePingsWaitBehindItsBacklogStaysConnected(server);
    }
  }

  private static void aSlowReaderWhosePingsWaitBehindItsBacklogStaysConnected(TestServer server) throws Exception {
    String topic = server.createTopic("slow-reader");
    JsonNode payload = com.fasterxml.jackson.databind.node.TextNode.valueOf("x".repeat(30_000));
    try (RawWebSocket reader = RawWebSocket.connect(server.httpBase()); PubSubClient publisher = server.connect()) {
      reader.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"request_id\":\"s\"}");
      assertEquals("ack", reader.read().json().path("type").asText());
      java.util.concurrent.atomic.AtomicBoolean publishing = new java.util.concurrent.atomic.AtomicBoolean(true);
      Thread flood = new Thread(() -> {
        while (publishing.get()) {
          Wire.await(publisher.publish(topic, payload));
          LocalServer.sleep(2);
        }
      });
      flood.start();
      long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
      int events = 0;
      try {
        while (System.nanoTime() < end) {
          RawWebSocket.Frame frame = reader.readAny();
          assertTrue(frame != null && frame.opcode() != RawWebSocket.CLOSE, "cut off after " + events + " events: " + frame);
          if (frame.opcode() == RawWebSocket.PING) reader.send(RawWebSocket.PONG, frame.payload());
          if (frame.opcode() == RawWebSocket.TEXT) {
            events++;
            LocalServer.sleep(30);
          }
        }
      } finally {
        publishing.set(false);
        flood.join();
      }
      assertTrue(server.topicStats(topic).path("dropped").asLong() > 0, "it read too slowly to keep up (else the test proves nothing)");
      assertEquals(0, server.metric("pubsub_connections_unresponsive_total"), "not counted as unresponsive");
    }
  }

  private static void assertHeartbeat(JsonNode frame) {
    assertEquals("info", frame.path("type").asText(), frame::toString);
    assertEquals("ping", frame.path("msg").asText(), frame::toString);
    assertFalse(frame.hasNonNull("topic"), frame::toString);
    assertTs(frame);
  }
}
