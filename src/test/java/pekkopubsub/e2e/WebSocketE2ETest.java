package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.assertNothingBuffered;
import static pekkopubsub.e2e.Wire.assertTs;
import static pekkopubsub.e2e.Wire.assertUsable;
import static pekkopubsub.e2e.Wire.await;
import static pekkopubsub.e2e.Wire.error;
import static pekkopubsub.e2e.Wire.events;
import static pekkopubsub.e2e.Wire.json;
import static pekkopubsub.e2e.Wire.next;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pekkopubsub.client.PubSubClient;

/** The WebSocket protocol over a real socket: frame shapes, acks, errors, limits and control frames. */
class WebSocketE2ETest {
  private static final int LIMIT = 64 * 1024;
  private static TestServer server;
  /** A topic that exists, for bad requests that must fail on their shape, not on the topic. */
  private static String existing;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    existing = server.createTopic("ws-existing");
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  // ---------------------------------------------------------------- happy path shapes

  @Test
  void serverSendsNothingUnsolicitedOnConnect() {
    try (PubSubClient client = server.connect()) {
      JsonNode pong = await(client.ping());
      assertEquals("pong", pong.path("type").asText());
      assertNothingBuffered(client);
    }
  }

  @Test
  void subscribePublishAckAndEventShapes() {
    String topic = server.createTopic("shapes");
    try (PubSubClient subscriber = server.connect(); PubSubClient publisher = server.connect()) {
      ObjectNode subscribe = PubSubClient.request("subscribe").put("topic", topic).put("client_id", "sub-1");
      JsonNode subscribed = ack(subscriber.request(subscribe), topic);
      assertEquals(subscribe.path("request_id").asText(), subscribed.path("request_id").asText());
      assertTrue(subscribed.path("epoch").isTextual(), subscribed::toString);
      assertFalse(subscribed.path("epoch").asText().isEmpty(), subscribed::toString);
      if (subscribed.has("replayed")) assertEquals(0, subscribed.path("replayed").asInt(), subscribed::toString);

      // server-assigned id
      ObjectNode payload = json("{\"order\":17,\"items\":[\"a\",{\"b\":null}],\"price\":12.5,\"ok\":true}").deepCopy();
      ObjectNode publish = PubSubClient.request("publish").put("topic", topic);
      publish.putObject("message").set("payload", payload);
      JsonNode published = ack(publisher.request(publish), topic);
      assertEquals(publish.path("request_id").asText(), published.path("request_id").asText());
      assertEquals(1, published.path("offset").asLong(), published::toString);
      assertTrue(published.path("offset").isIntegralNumber(), published::toString);

      JsonNode event = events(subscriber, topic, 1).get(0);
      assertEventShape(event, topic, 1, payload);
      String assigned = event.path("message").path("id").asText();
      assertEquals(assigned, UUID.fromString(assigned).toString(), "a canonical UUID: " + assigned);
      assertFalse(event.path("replay").asBoolean(false), "a live event is no replay: " + event);
      assertFalse(event.has("request_id"), "an event answers no request: " + event);

      // client-given id is kept
      String id = UUID.randomUUID().toString();
      ObjectNode withId = PubSubClient.request("publish").put("topic", topic);
      withId.putObject("message").put("id", id).put("payload", "text payload");
      assertEquals(2, ack(publisher.request(withId), topic).path("offset").asLong());
      JsonNode second = events(subscriber, topic, 1).get(0);
      assertEventShape(second, topic, 2, json("\"text payload\""));
      assertEquals(id, second.path("message").path("id").asText());

      // a publisher that is not subscribed gets acks only
      assertNothingBuffered(publisher);
    }
  }

  @Test
  void everyKindOfJsonPayloadArrivesUnchanged() {
    String topic = server.createTopic("payloads");
    List<String> payloads = List.of("{}", "[]", "\"\"", "\"h\\u00e9llo \\u2603 \\ud83d\\ude00\"", "0", "-12",
        "0.1", "1e300", "123456789012345678901234567890", "true", "false", "null",
        "[1,\"two\",{\"three\":[3]},null]", "{\"deep\":{\"deeper\":{\"deepest\":[{}]}}}");
    try (PubSubClient subscriber = server.connect(); PubSubClient publisher = server.connect()) {
      ack(subscriber.subscribe(topic), topic);
      for (String text : payloads) {
        ack(publisher.publish(topic, json(text)), topic);
      }
      List<JsonNode> received = events(subscriber, topic, payloads.size());
      for (int i = 0; i < payloads.size(); i++) {
        assertEventShape(received.get(i), topic, i + 1, json(payloads.get(i)));
      }
    }
  }

  @Test
  void unsubscribeIsAckedAndEndsTheEvents() {
    String topic = server.createTopic("unsub");
    try (PubSubClient client = server.connect()) {
      ack(client.subscribe(topic), topic);
      ack(client.publish(topic, Wire.payload(1)), topic);
      assertEquals(1, events(client, topic, 1).get(0).path("offset").asLong());

      ObjectNode unsubscribe = PubSubClient.request("unsubscribe").put("topic", topic).put("client_id", "me");
      JsonNode unsubscribed = ack(client.request(unsubscribe), topic);
      assertEquals(unsubscribe.path("request_id").asText(), unsubscribed.path("request_id").asText());

      // The topic would send an event to this connection before the publish ack: none comes.
      assertEquals(2, ack(client.publish(topic, Wire.payload(2)), topic).path("offset").asLong());
      assertNothingBuffered(client);
      assertEquals(0, server.topicStats(topic).path("subscribers").asInt(-1));
    }
  }

  @Test
  void pingIsAnsweredWithPongEchoingTheRequestId() {
    try (PubSubClient client = server.connect()) {
      ObjectNode ping = PubSubClient.request("ping");
      JsonNode pong = await(client.request(ping));
      assertEquals("pong", pong.path("type").asText());
      assertEquals(ping.path("request_id").asText(), pong.path("request_id").asText());
      assertTs(pong);

      String longest = "r".repeat(128);
      client.sendText("{\"type\":\"ping\",\"request_id\":\"" + longest + "\"}");
      JsonNode echoed = next(client);
      assertEquals("pong", echoed.path("type").asText(), echoed::toString);
      assertEquals(longest, echoed.path("request_id").asText());

      client.sendText("{\"type\":\"ping\"}");
      JsonNode anonymous = next(client);
      assertEquals("pong", anonymous.path("type").asText(), anonymous::toString);
      assertTs(anonymous);
    }
  }

  @Test
  void unsubscribeWithoutSubscriptionIsNotSubscribed() {
    String topic = server.createTopic("not-subscribed");
    try (PubSubClient client = server.connect()) {
      ObjectNode unsubscribe = PubSubClient.request("unsubscribe").put("topic", topic);
      JsonNode answer = error(await(client.request(unsubscribe)), "NOT_SUBSCRIBED");
      assertEquals(unsubscribe.path("request_id").asText(), answer.path("request_id").asText());

      ack(client.subscribe(topic), topic);
      ack(client.unsubscribe(topic), topic);
      error(await(client.unsubscribe(topic)), "NOT_SUBSCRIBED");
      assertUsable(client);
    }
  }

  @Test
  void requestsOnAMissingTopicAreTopicNotFound() {
    String missing = TestServer.uniqueTopicName("missing");
    try (PubSubClient client = server.connect()) {
      List<ObjectNode> requests = List.of(
          PubSubClient.request("subscribe").put("topic", missing),
          PubSubClient.request("unsubscribe").put("topic", missing),
          publishRequest(missing));
      for (ObjectNode request : requests) {
        JsonNode answer = error(await(client.request(request)), "TOPIC_NOT_FOUND");
        assertEquals(request.path("request_id").asText(), answer.path("request_id").asText(), answer::toString);
      }
      assertUsable(client);
    }
  }

  // ---------------------------------------------------------------- bad input

  static Stream<Arguments> badRequests() {
    String t = existing;
    return Stream.of(
        Arguments.of("not JSON", "{\"type\":\"ping\"", null),
        Arguments.of("plain text", "hello", null),
        Arguments.of("not an object: array", "[{\"type\":\"ping\",\"request_id\":\"in-array\"}]", null),
        Arguments.of("not an object: string", "\"ping\"", null),
        Arguments.of("not an object: number", "42", null),
        Arguments.of("not an object: null", "null", null),
        Arguments.of("unknown type", "{\"type\":\"dance\",\"request_id\":\"r-type\"}", "r-type"),
        Arguments.of("missing type", "{\"topic\":\"" + t + "\",\"request_id\":\"r-no-type\"}", "r-no-type"),
        Arguments.of("type not a string", "{\"type\":5,\"request_id\":\"r-type-num\"}", "r-type-num"),
        Arguments.of("subscribe without topic", "{\"type\":\"subscribe\",\"request_id\":\"r-sub\"}", "r-sub"),
        Arguments.of("unsubscribe without topic", "{\"type\":\"unsubscribe\",\"request_id\":\"r-uns\"}", "r-uns"),
        Arguments.of("publish without topic",
            "{\"type\":\"publish\",\"message\":{\"payload\":1},\"request_id\":\"r-pub\"}", "r-pub"),
        Arguments.of("topic not a string", "{\"type\":\"subscribe\",\"topic\":7,\"request_id\":\"r-t7\"}", "r-t7"),
        Arguments.of("invalid topic name", "{\"type\":\"subscribe\",\"topic\":\"bad name!\",\"request_id\":\"r-n\"}", "r-n"),
        Arguments.of("empty topic name", "{\"type\":\"subscribe\",\"topic\":\"\",\"request_id\":\"r-e\"}", "r-e"),
        Arguments.of("topic name over 256",
            "{\"type\":\"publish\",\"topic\":\"" + "x".repeat(257) + "\",\"message\":{\"payload\":1},\"request_id\":\"r-l\"}",
            "r-l"),
        Arguments.of("last_n over 1000",
            "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"last_n\":1001,\"request_id\":\"r-1001\"}", "r-1001"),
        Arguments.of("last_n negative",
            "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"last_n\":-1,\"request_id\":\"r-neg\"}", "r-neg"),
        Arguments.of("last_n not an integer",
            "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"last_n\":\"5\",\"request_id\":\"r-str\"}", "r-str"),
        Arguments.of("message.id not a UUID",
            "{\"type\":\"publish\",\"topic\":\"" + t + "\",\"message\":{\"id\":\"not-a-uuid\",\"payload\":1},"
                + "\"request_id\":\"r-id\"}", "r-id"),
        Arguments.of("message.id a number",
            "{\"type\":\"publish\",\"topic\":\"" + t + "\",\"message\":{\"id\":123,\"payload\":1},"
                + "\"request_id\":\"r-id-num\"}", "r-id-num"),
        Arguments.of("publish without message",
            "{\"type\":\"publish\",\"topic\":\"" + t + "\",\"request_id\":\"r-no-msg\"}", "r-no-msg"),
        Arguments.of("message not an object",
            "{\"type\":\"publish\",\"topic\":\"" + t + "\",\"message\":\"hi\",\"request_id\":\"r-msg-str\"}", "r-msg-str"),
        Arguments.of("message without payload",
            "{\"type\":\"publish\",\"topic\":\"" + t + "\",\"message\":{},\"request_id\":\"r-no-payload\"}",
            "r-no-payload"),
        Arguments.of("client_id not a string",
            "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"client_id\":5,\"request_id\":\"r-cid\"}", "r-cid"),
        Arguments.of("epoch not a string",
            "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"since_offset\":1,\"epoch\":1,\"request_id\":\"r-ep\"}",
            "r-ep"),
        Arguments.of("since_offset negative",
            "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"since_offset\":-1,\"request_id\":\"r-so\"}", "r-so"),
        Arguments.of("last_n and since_offset together",
            "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"last_n\":1,\"since_offset\":1,\"request_id\":\"r-both\"}",
            "r-both"),
        Arguments.of("request_id not a string", "{\"type\":\"ping\",\"request_id\":7}", null),
        Arguments.of("request_id over 128 characters",
            "{\"type\":\"ping\",\"request_id\":\"" + "r".repeat(129) + "\"}", null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  void badRequestIsAnsweredAndTheConnectionStaysUsable(String what, String frame, String requestId) {
    try (PubSubClient client = server.connect(); PubSubClient bystander = server.connect()) {
      ack(bystander.subscribe(existing), existing);
      client.sendText(frame);

      JsonNode answer = error(next(client), "BAD_REQUEST");
      if (requestId != null) {
        assertEquals(requestId, answer.path("request_id").asText(), answer::toString);
      } else {
        assertFalse(answer.hasNonNull("request_id"), answer::toString);
      }
      assertUsable(client);
      assertUsable(bystander);
      assertNothingBuffered(bystander);
      assertEquals(0, server.topicStats(existing).path("messages").asLong(-1), "nothing was published");
    }
  }

  @Test
  void binaryFrameIsBadRequestAndTheConnectionStaysUsable() {
    try (PubSubClient client = server.connect()) {
      client.sendBinary(ByteBuffer.wrap("{\"type\":\"ping\",\"request_id\":\"bin\"}".getBytes(StandardCharsets.UTF_8)));
      assertEquals("bin", error(next(client), "BAD_REQUEST").path("request_id").asText(), "the error echoes the request_id");
      assertUsable(client);
    }
  }

  /**
   * A publish and a ping sent in the same write as the client's close frame: both were acted on (the
   * message was published) but their answers were discarded with the close, the ack always, the
   * pong about one time in four; they now come before the echo of the close.
   */
  @Test
  void requestsSentWithTheCloseFrameAreAnsweredBeforeItsEcho() {
    String topic = server.createTopic("close-after-publish");
    for (int i = 0; i < 5; i++) {
      try (RawWebSocket ws = RawWebSocket.connect(server.httpBase())) {
        ws.sendTogether(
            RawWebSocket.textFrame("{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"request_id\":\"p\",\"message\":{\"payload\":" + i + "}}"),
            RawWebSocket.textFrame("{\"type\":\"ping\",\"request_id\":\"k\"}"),
            RawWebSocket.frame(RawWebSocket.CLOSE, new byte[] {0x03, (byte) 0xE8}));
        java.util.Set<String> answered = new java.util.HashSet<>();
        RawWebSocket.Frame frame;
        while ((frame = ws.read()).opcode() == RawWebSocket.TEXT) {
          answered.add(frame.json().path("type").asText() + " " + frame.json().path("request_id").asText());
        }
        assertEquals(java.util.Set.of("ack p", "pong k"), answered, "attempt " + i);
        assertEquals(RawWebSocket.CLOSE, frame.opcode());
        assertEquals(1000, ((frame.payload()[0] & 0xFF) << 8) | (frame.payload()[1] & 0xFF));
        assertEquals(null, ws.readAny(), "the server ends the connection after the echo");
      }
    }
    assertEquals(5, server.topicStats(topic).path("messages").asLong(-1));
  }

  /** C0 AF is an overlong "/" (not UTF-8): the errors answering such an id echoed "u/", an id the client never sent. */
  @Test
  void anIdWhoseBytesAreNotUtf8IsNotEchoed() {
    byte[] head = "{\"type\":\"ping\",\"request_id\":\"u".getBytes(StandardCharsets.UTF_8);
    byte[] message = java.util.Arrays.copyOf(head, head.length + 4);
    message[head.length] = (byte) 0xC0;
    message[head.length + 1] = (byte) 0xAF;
    message[head.length + 2] = '"';
    message[head.length + 3] = '}';
    try (RawWebSocket ws = RawWebSocket.connect(server.httpBase())) {
      for (int opcode : new int[] {RawWebSocket.TEXT, RawWebSocket.BINARY}) {
        ws.send(opcode, message);
        JsonNode answer = error(ws.read().json(), "BAD_REQUEST");
        assertFalse(answer.has("request_id"), answer::toString);
      }
      ws.sendText("{\"type\":\"ping\",\"request_id\":\"u/\"}");
      JsonNode pong = ws.read().json();
      assertEquals("pong", pong.path("type").asText(), pong::toString);
      assertEquals("u/", pong.path("request_id").asText(), pong::toString);
    }
  }

  // ---------------------------------------------------------------- size limit and fragments

  @Test
  void messageOverTheLimitIsPayloadTooLargeAndTheConnectionStaysUsable() {
    String topic = server.createTopic("too-large");
    try (PubSubClient client = server.connect()) {
      ack(client.subscribe(topic), topic);
      // Last, as a client that adds the id to an object it then serializes sends it.
      ObjectNode publish = publishRequest(topic, "x".repeat(70_000)).put("request_id", "big");
      client.sendText(publish.toString());

      assertEquals("big", error(next(client), "PAYLOAD_TOO_LARGE").path("request_id").asText(), "the error echoes the request_id");
      assertUsable(client);
      assertEquals(0, server.topicStats(topic).path("messages").asLong(-1), "the oversized publish was not published");
      assertNothingBuffered(client);
    }
  }

  @Test
  void theLimitIs64KiBExactly() {
    try (PubSubClient client = server.connect()) {
      String head = "{\"type\":\"ping\",\"request_id\":\"edge\"}";
      client.sendText(head + " ".repeat(LIMIT - head.length()));
      JsonNode pong = next(client);
      assertEquals("pong", pong.path("type").asText(), pong::toString);
      assertEquals("edge", pong.path("request_id").asText());

      client.sendText(head + " ".repeat(LIMIT - head.length() + 1));
      assertEquals("edge", error(next(client), "PAYLOAD_TOO_LARGE").path("request_id").asText());
      assertUsable(client);
    }
  }

  @Test
  void fragmentedMessageWithinTheLimitIsProcessed() {
    String topic = server.createTopic("fragments");
    try (PubSubClient client = server.connect()) {
      ack(client.subscribe(topic), topic);
      String payload = "y".repeat(40_000);
      String text = publishRequest(topic, payload).put("request_id", "frag").toString();
      int third = text.length() / 3;
      client.sendFragmented(text.substring(0, third), text.substring(third, 2 * third), text.substring(2 * third));

      // The ack and this connection's own event may come in either order: the contract orders neither.
      JsonNode first = next(client);
      JsonNode second = next(client);
      JsonNode ack = "ack".equals(first.path("type").asText()) ? first : second;
      JsonNode event = ack == first ? second : first;
      assertEventShape(event, topic, 1, json("\"" + payload + "\""));
      assertEquals("ack", ack.path("type").asText(), ack::toString);
      assertEquals("frag", ack.path("request_id").asText());
      assertEquals(1, ack.path("offset").asLong());
      assertUsable(client);
    }
  }

  @Test
  void fragmentedMessageOverTheLimitInTotalIsPayloadTooLarge() {
    String topic = server.createTopic("fragments-large");
    try (PubSubClient client = server.connect()) {
      ack(client.subscribe(topic), topic);
      String text = publishRequest(topic, "z".repeat(90_000)).put("request_id", "frag-big").toString();
      int third = text.length() / 3;
      client.sendFragmented(text.substring(0, third), text.substring(third, 2 * third), text.substring(2 * third));

      assertEquals("frag-big", error(next(client), "PAYLOAD_TOO_LARGE").path("request_id").asText());
      assertUsable(client);
      assertEquals(0, server.topicStats(topic).path("messages").asLong(-1));
      assertNothingBuffered(client);
    }
  }

  // ---------------------------------------------------------------- control frames

  @Test
  void rfc6455PingFrameIsAnsweredWithPongFrame() {
    try (PubSubClient client = server.connect()) {
      client.sendPing(ByteBuffer.wrap("are you there".getBytes(StandardCharsets.UTF_8)));
      Wire.eventually(Wire.WAIT, client::pongFramesReceived, n -> n >= 1, "a pong frame");
      client.sendPing(ByteBuffer.allocate(0));
      Wire.eventually(Wire.WAIT, client::pongFramesReceived, n -> n >= 2, "a second pong frame");
      assertUsable(client);
      assertNothingBuffered(client);
    }
  }

  @Test
  void cleanCloseIsAnsweredWithTheSameCode() {
    PubSubClient client = server.connect();
    assertUsable(client);
    client.close();
    PubSubClient.CloseStatus status = await(client.closed(), Wire.WAIT);
    assertEquals(1000, status.code(), status::toString);
  }

  // ---------------------------------------------------------------- helpers

  private static ObjectNode publishRequest(String topic) {
    return publishRequest(topic, "p");
  }

  private static ObjectNode publishRequest(String topic, String payload) {
    ObjectNode publish = PubSubClient.request("publish").put("topic", topic);
    publish.putObject("message").put("payload", payload);
    return publish;
  }

  static void assertEventShape(JsonNode event, String topic, long offset, JsonNode payload) {
    assertEquals("event", event.path("type").asText(), event::toString);
    assertEquals(topic, event.path("topic").asText(), event::toString);
    assertEquals(offset, event.path("offset").asLong(), event::toString);
    assertTrue(event.path("offset").isIntegralNumber(), event::toString);
    assertTrue(event.path("message").isObject(), event::toString);
    String id = event.path("message").path("id").asText("");
    assertTrue(Wire.UUID_TEXT.matcher(id).matches(), () -> "message.id is a UUID: " + event);
    assertTrue(event.path("message").has("payload"), event::toString);
    assertEquals(payload, event.path("message").path("payload"), event::toString);
    assertTs(event);
  }
}
