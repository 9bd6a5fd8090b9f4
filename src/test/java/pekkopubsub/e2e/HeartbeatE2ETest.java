package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.assertTs;
import static pekkopubsub.e2e.Wire.assertUsable;
import static pekkopubsub.e2e.Wire.next;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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

  private static void assertHeartbeat(JsonNode frame) {
    assertEquals("info", frame.path("type").asText(), frame::toString);
    assertEquals("ping", frame.path("msg").asText(), frame::toString);
    assertFalse(frame.hasNonNull("topic"), frame::toString);
    assertTs(frame);
  }
}
