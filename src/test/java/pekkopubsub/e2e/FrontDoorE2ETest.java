package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The port's two ways in: an upgrade that opens a connection is taken by the front door itself, and
 * an upgrade that follows other requests on a kept-alive connection is served by Pekko HTTP's /ws
 * route. Both are the same server to a client.
 */
class FrontDoorE2ETest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void framesSentTogetherWithTheUpgradeRequestAreAnswered() {
    try (RawWebSocket ws = RawWebSocket.connect(server.httpBase(), null, "{\"type\":\"ping\",\"request_id\":\"early\"}")) {
      JsonNode pong = ws.read().json();
      assertEquals("pong", pong.get("type").asText(), pong.toString());
      assertEquals("early", pong.get("request_id").asText());
    }
  }

  @Test
  void anUpgradeAfterARestRequestOnTheSameConnectionIsServedToo() {
    String health = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    try (RawWebSocket ws = RawWebSocket.connect(server.httpBase(), health, null)) {
      ws.sendText("{\"type\":\"ping\",\"request_id\":\"late\"}");
      JsonNode pong = ws.read().json();
      assertEquals("pong", pong.get("type").asText(), pong.toString());
      assertEquals("late", pong.get("request_id").asText());
    }
  }

  @Test
  void connectionsThroughEitherWayShareTopics() {
    String topic = server.createTopic("door");
    String health = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    try (RawWebSocket viaRoute = RawWebSocket.connect(server.httpBase(), health, null);
        RawWebSocket direct = RawWebSocket.connect(server.httpBase())) {
      viaRoute.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"request_id\":\"s\"}");
      assertEquals("ack", viaRoute.read().json().get("type").asText());
      direct.sendText("{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"payload\":{\"n\":1}},\"request_id\":\"p\"}");
      assertEquals("ack", direct.read().json().get("type").asText());
      JsonNode event = viaRoute.read().json();
      assertEquals("event", event.get("type").asText(), event.toString());
      assertEquals(1, event.get("message").get("payload").get("n").asInt());

      direct.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"last_n\":1,\"request_id\":\"s2\"}");
      JsonNode first = direct.read().json();
      JsonNode second = direct.read().json();
      JsonNode replayed = first.get("type").asText().equals("event") ? first : second;
      assertTrue(replayed.get("replay").asBoolean(), replayed.toString());
    }
  }
}
