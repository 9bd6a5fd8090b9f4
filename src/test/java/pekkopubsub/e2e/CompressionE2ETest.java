package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Map;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.connection.DeflateClient;

/** permessage-deflate (RFC 7692) on a real server, spoken by a raw client that compresses as browsers do. */
class CompressionE2ETest {
  private static final String OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

  @Test
  void aClientThatOffersCompressionGetsLargeEventsCompressedAndMayPublishCompressed() throws Exception {
    try (TestServer server = TestServer.start(Map.of("connection.permessage-deflate", "true"))) {
      String topic = server.createTopic("deflate");
      try (RawWebSocket compressing = RawWebSocket.connectWithHeaders(server.httpBase(), OFFER);
          RawWebSocket plain = RawWebSocket.connectWithHeaders(server.httpBase(), "")) {
        assertTrue(compressing.handshake().contains("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"),
            compressing.handshake());
        assertFalse(plain.handshake().contains("Extensions"), plain.handshake());

        // The client keeps its window across messages, as browsers do: the second request refers back into the first.
        Deflater clientDeflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        compressing.sendCompressed(DeflateClient.compress(clientDeflater, "{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"request_id\":\"s1\"}"));
        assertAck(compressing.read(), "s1");
        plain.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"request_id\":\"s2\"}");
        assertAck(plain.read(), "s2");

        PubSubClient publisher = server.connect();
        JsonNode large = JsonNodeFactory.instance.objectNode().put("text", "a quote, a price, a headline ".repeat(40));
        await(publisher.publish(topic, large));
        compressing.sendCompressed(DeflateClient.compress(clientDeflater,
            "{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"request_id\":\"p1\",\"message\":{\"payload\":{\"n\":1}}}"));

        RawWebSocket.Frame compressedEvent = compressing.read();
        assertTrue(compressedEvent.compressed(), "a large event arrives compressed");
        String inflated = DeflateClient.inflate(compressedEvent.payload());
        assertTrue(compressedEvent.payload().length < inflated.length() / 4, compressedEvent.payload().length + " bytes for " + inflated.length());
        assertEquals(large, Wire.json(inflated).path("message").path("payload"));
        RawWebSocket.Frame plainEvent = plain.read();
        assertFalse(plainEvent.compressed());
        assertEquals(Wire.json(inflated), plainEvent.json(), "the same event to both");

        // Its own compressed publish is acked (answers are never compressed), and its small event is sent plain.
        JsonNode ack = null;
        JsonNode small = null;
        for (int i = 0; i < 2; i++) {
          RawWebSocket.Frame frame = compressing.read();
          assertFalse(frame.compressed(), "answers and events under 256 bytes are not compressed");
          JsonNode json = frame.json();
          if (json.path("type").asText().equals("ack")) ack = json;
          else small = json;
        }
        assertEquals("p1", ack.path("request_id").asText(), String.valueOf(ack));
        assertEquals(1, small.path("message").path("payload").path("n").asInt(), String.valueOf(small));
      }
    }
  }

  @Test
  void aReplayComesCompressedToAClientThatAgreedAndPlainToOneThatDidNot() throws Exception {
    try (TestServer server = TestServer.start(Map.of("connection.permessage-deflate", "true"))) {
      String topic = server.createTopic("replayed");
      PubSubClient publisher = server.connect();
      JsonNode large = JsonNodeFactory.instance.objectNode().put("text", "a quote, a price, a headline ".repeat(40));
      JsonNode small = JsonNodeFactory.instance.objectNode().put("n", 2);
      await(publisher.publish(topic, large));
      await(publisher.publish(topic, small));
      String subscribe = "{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"request_id\":\"s\",\"last_n\":2}";
      try (RawWebSocket compressing = RawWebSocket.connectWithHeaders(server.httpBase(), OFFER);
          RawWebSocket plain = RawWebSocket.connectWithHeaders(server.httpBase(), "")) {
        compressing.sendText(subscribe);
        assertEquals(2, compressing.read().json().path("replayed").asInt());
        RawWebSocket.Frame first = compressing.read();
        assertTrue(first.compressed(), "the large replayed event comes compressed");
        JsonNode firstEvent = Wire.json(DeflateClient.inflate(first.payload()));
        RawWebSocket.Frame second = compressing.read();
        assertFalse(second.compressed(), "the small one as it is");

        plain.sendText(subscribe);
        assertEquals(2, plain.read().json().path("replayed").asInt());
        RawWebSocket.Frame plainFirst = plain.read();
        assertFalse(plainFirst.compressed());
        assertEquals(plainFirst.json(), firstEvent, "the same replayed event to both");
        assertTrue(firstEvent.path("replay").asBoolean(), firstEvent.toString());
        assertEquals(large, firstEvent.path("message").path("payload"));
        assertEquals(second.json(), plain.read().json());
        assertEquals(small, second.json().path("message").path("payload"));
      }
    }
  }

  /** As PROTOCOL.md says of any frame over the limit: an error with its request_id, and the connection stays open. */
  @Test
  void aCompressedPublishThatInflatesPastTheLimitIsAnsweredPayloadTooLargeAndTheConnectionGoesOn() throws Exception {
    try (TestServer server = TestServer.start(Map.of("connection.permessage-deflate", "true"));
        RawWebSocket browser = RawWebSocket.connectWithHeaders(server.httpBase(), OFFER)) {
      String topic = server.createTopic("oversized");
      Deflater clientDeflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
      String oversized = "{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"request_id\":\"big\",\"message\":{\"payload\":\""
          + "a quote, a price, a headline ".repeat(2_500) + "\"}}";
      byte[] compressed = DeflateClient.compress(clientDeflater, oversized);
      assertTrue(oversized.length() > 64 * 1024 && compressed.length < 64 * 1024, compressed.length + " bytes compressed");
      browser.sendCompressed(compressed);
      JsonNode error = browser.read().json();
      assertEquals("PAYLOAD_TOO_LARGE", error.path("error").path("code").asText(), error.toString());
      assertEquals("big", error.path("request_id").asText(), error.toString());

      // The next message refers back into the oversized one: the server's window followed the client's.
      browser.sendCompressed(DeflateClient.compress(clientDeflater,
          "{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"request_id\":\"small\",\"message\":{\"payload\":\"a quote, a price\"}}"));
      JsonNode ack = browser.read().json();
      assertEquals("ack", ack.path("type").asText(), ack.toString());
      assertEquals("small", ack.path("request_id").asText(), ack.toString());
    }
  }

  /**
   * A few KB that inflate to megabytes are refused (1009) and counted, as is a frame that breaks the
   * protocol (1002): such closes were counted nowhere, so an operator could not tell them from clients
   * that left on their own.
   */
  @Test
  void aDeflateBombClosesTheConnectionWith1009AndIsCounted() {
    try (TestServer server = TestServer.start(Map.of("connection.permessage-deflate", "true"))) {
      String bombs = "pubsub_websocket_protocol_errors_total{close_code=\"1009\"}";
      String broken = "pubsub_websocket_protocol_errors_total{close_code=\"1002\"}";
      assertEquals(0, server.metric(bombs));
      try (RawWebSocket browser = RawWebSocket.connectWithHeaders(server.httpBase(), OFFER)) {
        byte[] bomb = DeflateClient.compress(new Deflater(Deflater.BEST_COMPRESSION, true),
            "{\"type\":\"ping\",\"request_id\":\"bomb\",\"pad\":\"" + " ".repeat(16 << 20) + "\"}");
        assertTrue(bomb.length < 64 * 1024, bomb.length + " bytes compressed");
        browser.sendCompressed(bomb);
        assertClosedWith(1009, browser);
      }
      assertEquals(1, server.metric(bombs));
      try (RawWebSocket browser = RawWebSocket.connectWithHeaders(server.httpBase(), OFFER)) {
        byte[] ping = RawWebSocket.frame(RawWebSocket.PING, new byte[] {'x'});
        ping[0] |= 0x40;
        browser.sendTogether(ping);
        assertClosedWith(1002, browser);
      }
      assertEquals(1, server.metric(broken));
      assertEquals(1, server.metric(bombs));
    }
  }

  private static void assertClosedWith(int code, RawWebSocket ws) {
    RawWebSocket.Frame close = ws.read();
    assertEquals(RawWebSocket.CLOSE, close.opcode(), close.text());
    assertEquals(code, ((close.payload()[0] & 0xFF) << 8) | (close.payload()[1] & 0xFF), close.text());
    assertNull(ws.readAny(), "the server ends the connection");
  }

  @Test
  void withCompressionOffTheOfferIsIgnored() {
    try (TestServer server = TestServer.start();
        RawWebSocket offering = RawWebSocket.connectWithHeaders(server.httpBase(), OFFER)) {
      assertFalse(offering.handshake().contains("Extensions"), offering.handshake());
      offering.sendText("{\"type\":\"ping\",\"request_id\":\"p\"}");
      assertEquals("pong", offering.read().json().path("type").asText());
    }
  }

  private static void assertAck(RawWebSocket.Frame frame, String requestId) {
    assertFalse(frame.compressed());
    JsonNode json = frame.json();
    assertEquals("ack", json.path("type").asText(), json.toString());
    assertEquals(requestId, json.path("request_id").asText(), json.toString());
  }
}
