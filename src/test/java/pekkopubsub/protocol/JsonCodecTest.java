package pekkopubsub.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Instant;
import pekkopubsub.config.Settings;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonCodecTest {

  private static final String UUID_1 = "123e4567-e89b-12d3-a456-426614174000";

  // ---------------------------------------------------------------- helpers

  private static <T extends Request> T decodeOk(String json, Class<T> type) {
    Inbound inbound = JsonCodec.decode(json);
    if (inbound instanceof Inbound.Rejected r) {
      throw new AssertionError("expected " + type.getSimpleName() + " but was rejected: " + r.message() + " for " + json);
    }
    return assertInstanceOf(type, inbound, json);
  }

  private static Inbound.Rejected decodeBad(String json) {
    Inbound inbound = JsonCodec.decode(json);
    Inbound.Rejected rejected = assertInstanceOf(Inbound.Rejected.class, inbound, "should be rejected: " + json);
    assertEquals(ErrorCode.BAD_REQUEST, rejected.code(), json);
    assertTrue(rejected.message() != null && !rejected.message().isBlank(), "a rejection explains itself: " + json);
    return rejected;
  }

  private static JsonNode json(String text) {
    try {
      return JsonCodec.parse(text);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static JsonNode encoded(Object record) {
    return json(JsonCodec.encodeToString(record));
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new TreeSet<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) names.add(it.next());
    return names;
  }

  // ---------------------------------------------------------------- valid requests

  @Test
  void decodesSubscribeWithOnlyATopic() {
    Request.Subscribe s = decodeOk("{\"type\":\"subscribe\",\"topic\":\"orders\"}", Request.Subscribe.class);
    assertEquals(new Request.Subscribe(null, "orders", null, 0, null, null), s);
  }

  @Test
  void decodesSubscribeWithEveryField() {
    Request.Subscribe s = decodeOk(
        "{\"type\":\"subscribe\",\"topic\":\"orders.eu_1-a\",\"client_id\":\"c-1\",\"last_n\":5,\"request_id\":\"r1\"}",
        Request.Subscribe.class);
    assertEquals(new Request.Subscribe("r1", "orders.eu_1-a", "c-1", 5, null, null), s);
  }

  @Test
  void decodesSubscribeWithSinceOffsetAndEpoch() {
    Request.Subscribe s = decodeOk(
        "{\"type\":\"subscribe\",\"topic\":\"orders\",\"since_offset\":42,\"epoch\":\"abc\",\"request_id\":\"r2\"}",
        Request.Subscribe.class);
    assertEquals(new Request.Subscribe("r2", "orders", null, 0, 42L, "abc"), s);
  }

  @Test
  void lastNBoundsAreAccepted() {
    assertEquals(0, decodeOk("{\"type\":\"subscribe\",\"topic\":\"t\",\"last_n\":0}", Request.Subscribe.class).lastN());
    assertEquals(1000, decodeOk("{\"type\":\"subscribe\",\"topic\":\"t\",\"last_n\":1000}", Request.Subscribe.class).lastN());
  }

  @Test
  void sinceOffsetZeroIsAccepted() {
    assertEquals(0L, decodeOk("{\"type\":\"subscribe\",\"topic\":\"t\",\"since_offset\":0}", Request.Subscribe.class).sinceOffset());
  }

  @Test
  void nullOptionalFieldsCountAsAbsent() {
    Request.Subscribe s = decodeOk(
        "{\"type\":\"subscribe\",\"topic\":\"t\",\"last_n\":null,\"since_offset\":7,\"client_id\":null,\"epoch\":null,\"request_id\":null}",
        Request.Subscribe.class);
    assertEquals(new Request.Subscribe(null, "t", null, 0, 7L, null), s);
  }

  @Test
  void decodesUnsubscribe() {
    assertEquals(new Request.Unsubscribe("r3", "orders", "c-9"),
        decodeOk("{\"type\":\"unsubscribe\",\"topic\":\"orders\",\"client_id\":\"c-9\",\"request_id\":\"r3\"}",
            Request.Unsubscribe.class));
    assertEquals(new Request.Unsubscribe(null, "orders", null),
        decodeOk("{\"type\":\"unsubscribe\",\"topic\":\"orders\"}", Request.Unsubscribe.class));
  }

  @Test
  void decodesPublishWithId() {
    Request.Publish p = decodeOk(
        "{\"type\":\"publish\",\"topic\":\"orders\",\"request_id\":\"r4\",\"message\":{\"id\":\"" + UUID_1
            + "\",\"payload\":{\"a\":1}}}",
        Request.Publish.class);
    assertEquals("r4", p.requestId());
    assertEquals("orders", p.topic());
    assertEquals(UUID_1, p.messageId());
    assertEquals(json("{\"a\":1}"), json(p.payload().text()));
  }

  @Test
  void payloadIsForwardedAsTheClientWroteIt() {
    String payload = "{\"b\":1, \"a\": 1.50,\t\"e\":1e2, \"s\":\"caf\\u00e9 \u00e9\", \"big\":123456789012345678901234567890.5}";
    Request.Publish p = decodeOk("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\": " + payload + " }}",
        Request.Publish.class);
    assertEquals(payload, p.payload().text());
    String event = JsonCodec.encodeToString(new Outbound.Event("t", new Outbound.Message(UUID_1, p.payload()), 1, "ts"));
    assertTrue(event.contains("\"payload\":" + payload + "}"), event);
  }

  @Test
  void aPayloadSpreadOverLinesIsForwardedOnOneLine() {
    Request.Publish p = decodeOk("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":{\n  \"a\": [1,\r\n 2]\n}}}",
        Request.Publish.class);
    assertEquals("{   \"a\": [1,   2] }", p.payload().text());
  }

  @Test
  void aPayloadSpreadOverLinesKeepsItsNumbersAndEscapesAsSent() {
    String values = "\"huge\":1e400, \"precise\":0.1000000000000000055511151231257827, \"big\":123456789012345678901234567890.5,"
        + " \"e\":1E2, \"lone\":\"\\ud800\"";
    Request.Publish p = decodeOk("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":{\n" + values + "\r\n}}}",
        Request.Publish.class);
    assertEquals("{ " + values + "  }", p.payload().text());
  }

  @Test
  void repeatedKeysKeepTheLastValueAsATreeWould() {
    Request.Publish p = decodeOk("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":1,\"payload\":[2]}}",
        Request.Publish.class);
    assertEquals("[2]", p.payload().text());
    Inbound second = JsonCodec.decode("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":1},\"message\":{}}");
    assertEquals("field 'message.payload' is required", assertInstanceOf(Inbound.Rejected.class, second).message());
    Inbound notAnObject = JsonCodec.decode("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":1},\"message\":7}");
    assertEquals("field 'message' must be an object", assertInstanceOf(Inbound.Rejected.class, notAnObject).message());
  }

  @Test
  void theStringLengthLimitHoldsInsidePayloads() {
    Settings.Limits d = Settings.Limits.defaults();
    RequestDecoder decoder = new RequestDecoder(new Settings.Limits(d.maxConnections(), d.maxHttpConnections(), d.maxSubscriptionsPerConnection(),
        d.maxTopics(), d.publishRate(), d.publishBurst(), d.idleTimeout(), d.maxRequestIdLength(), d.maxClientIdLength(),
        d.maxJsonNestingDepth(), d.maxJsonNumberLength(), 1024));
    String ok = "\"" + "x".repeat(1000) + "\"";
    String tooLong = "\"" + "x".repeat(2000) + "\"";
    for (String payload : new String[] {ok, "[" + ok + "]", "{\"k\":" + ok + "}"}) {
      assertInstanceOf(Request.Publish.class,
          decoder.decode("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":" + payload + "}}"));
    }
    for (String payload : new String[] {tooLong, "[1," + tooLong + "]", "{\"k\":{\"k\":" + tooLong + "}}"}) {
      Inbound decoded = decoder.decode("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":" + payload + "}}");
      assertTrue(assertInstanceOf(Inbound.Rejected.class, decoded).message().contains("JSON limit"), decoded::toString);
    }
  }

  @Test
  void anUppercaseUuidIsKeptAsTheClientSpelledIt() {
    Request.Publish p = decodeOk(
        "{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"id\":\"" + UUID_1.toUpperCase() + "\",\"payload\":1}}",
        Request.Publish.class);
    assertEquals(UUID_1.toUpperCase(), p.messageId());
  }

  @Test
  void publishWithoutIdLeavesItToTheServer() {
    Request.Publish p = decodeOk("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":\"x\"}}", Request.Publish.class);
    assertNull(p.messageId());
    assertNull(p.requestId());
    Request.Publish q = decodeOk("{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"id\":null,\"payload\":\"x\"}}", Request.Publish.class);
    assertNull(q.messageId());
  }

  /** A REST publish's body is a WebSocket publish's message, and its errors name the body's own fields. */
  @Test
  void aRestPublishBodyIsCheckedAsAPublishMessage() throws Exception {
    Request.Publish p = assertInstanceOf(Request.Publish.class,
        RequestDecoder.restPublish("orders", JsonCodec.parse("{\"id\":\"" + UUID_1 + "\",\"payload\":{\"a\":[1,2]}}")));
    assertEquals(new Request.Publish(null, "orders", UUID_1, RawJson.of("{\"a\":[1,2]}")), p);
    assertNull(assertInstanceOf(Request.Publish.class,
        RequestDecoder.restPublish("orders", JsonCodec.parse("{\"payload\":null}"))).messageId());
    Map<String, String> refused = Map.of(
        "{}", "field 'payload' is required",
        "{\"id\":\"1-2-3-4-5\",\"payload\":1}", "'id' is not a UUID",
        "{\"id\":7,\"payload\":1}", "'id' must be a UUID string",
        "[1]", "body must be a JSON object");
    refused.forEach((body, message) -> {
      try {
        Inbound.Rejected rejected = assertInstanceOf(Inbound.Rejected.class, RequestDecoder.restPublish("orders", JsonCodec.parse(body)));
        assertEquals(ErrorCode.BAD_REQUEST, rejected.code());
        assertTrue(rejected.message().startsWith(message), body + " -> " + rejected.message());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    Inbound.Rejected badName = assertInstanceOf(Inbound.Rejected.class, RequestDecoder.restPublish("..", JsonCodec.parse("{\"payload\":1}")));
    assertTrue(badName.message().contains("reserved"), badName.message());
  }

  static Stream<Arguments> payloads() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return Stream.of(
        Arguments.of("{\"any\":\"json\",\"nested\":{\"list\":[1,2,{\"x\":null}]}}"),
        Arguments.of("[1,\"two\",{\"three\":3},[],null]"),
        Arguments.of("\"just a string\""),
        Arguments.of("\"\""),
        Arguments.of("42"),
        Arguments.of("-3.25"),
        Arguments.of("12345678901234567890123"),
        Arguments.of("true"),
        Arguments.of("false"),
        Arguments.of("null"),
        Arguments.of("{}"),
        Arguments.of("[]"),
        Arguments.of("\"caf\u00e9 \uD83D\uDE00\""));
  }

  @ParameterizedTest
  @MethodSource("payloads")
  void payloadIsKeptAsAnyJson(String payload) {
    Request.Publish p = decodeOk(
        "{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":" + payload + "}}", Request.Publish.class);
    assertEquals(json(payload), json(p.payload().text()));
    // and it goes back out unchanged inside an event
    JsonNode event = encoded(new Outbound.Event("t", new Outbound.Message(UUID_1, p.payload()), 1, "ts"));
    assertEquals(json(payload), event.get("message").get("payload"));
    assertTrue(event.get("message").has("payload"), "a null payload is still sent");
  }

  @Test
  void decodesPing() {
    assertEquals(new Request.Ping("r5"), decodeOk("{\"type\":\"ping\",\"request_id\":\"r5\"}", Request.Ping.class));
    assertEquals(new Request.Ping(null), decodeOk("{\"type\":\"ping\"}", Request.Ping.class));
  }

  @Test
  void unknownExtraFieldsAreIgnored() {
    assertEquals(new Request.Ping("r"), decodeOk("{\"type\":\"ping\",\"request_id\":\"r\",\"extra\":[1]}", Request.Ping.class));
  }

  @Test
  void requestIdUpTo128CharactersIsAccepted() {
    String id = "r".repeat(128);
    assertEquals(id, decodeOk("{\"type\":\"ping\",\"request_id\":\"" + id + "\"}", Request.Ping.class).requestId());
    assertEquals("", decodeOk("{\"type\":\"ping\",\"request_id\":\"\"}", Request.Ping.class).requestId());
  }

  @Test
  void requestIdLimitCountsCharactersNotUtf16Units() {
    String id = "\uD83D\uDE00".repeat(100);
    assertEquals(id, decodeOk("{\"type\":\"ping\",\"request_id\":\"" + id + "\"}", Request.Ping.class).requestId());
  }

  @Test
  void topicOf256CharactersIsAccepted() {
    String topic = "t".repeat(256);
    assertEquals(topic, decodeOk("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\"}", Request.Subscribe.class).topic());
  }

  // ---------------------------------------------------------------- BAD_REQUEST rows

  @ParameterizedTest
  @ValueSource(strings = {
      "", "   ", "not json", "{", "{\"type\":\"ping\"", "{type:\"ping\"}", "{'type':'ping'}",
      "{\"type\":\"ping\"} trailing", "{\"type\":\"ping\"}{\"type\":\"ping\"}", "\u0000"})
  void notJsonIsABadRequest(String text) {
    assertNull(decodeBad(text).requestId());
  }

  /** A client waiting for the answer to its request_id gets it even when the JSON breaks off after the id. */
  @ParameterizedTest
  @ValueSource(strings = {
      "{\"type\":\"ping\",\"request_id\":\"r1\",", "{\"type\":\"ping\",\"request_id\":\"r1\"",
      "{\"request_id\":\"r1\",\"type\":\"ping\"} trailing", "{\"request_id\":\"r1\", type: ping}",
      "{\"message\":{\"request_id\":\"inner\"},\"request_id\":\"r1\",\"topic\":"})
  void notJsonAfterTheRequestIdIsABadRequestThatEchoesIt(String text) {
    Inbound.Rejected rejected = decodeBad(text);
    assertEquals("r1", rejected.requestId());
    assertEquals("message is not valid JSON", rejected.message());
  }

  @Test
  void aJsonLimitPassedAfterTheRequestIdEchoesIt() {
    String deep = "[".repeat(200) + "]".repeat(200);
    Inbound.Rejected rejected = decodeBad("{\"type\":\"ping\",\"request_id\":\"r1\",\"x\":" + deep + "}");
    assertEquals("r1", rejected.requestId());
    assertTrue(rejected.message().contains("JSON limit"), rejected.message());
  }

  @Test
  void aSalvagedRequestIdOverTheLengthLimitIsNotEchoed() {
    assertNull(decodeBad("{\"type\":\"ping\",\"request_id\":\"" + "r".repeat(129) + "\",").requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {"[]", "[{\"type\":\"ping\",\"request_id\":\"r\"}]", "\"ping\"", "42", "true", "null"})
  void notAnObjectIsABadRequest(String text) {
    assertNull(decodeBad(text).requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"request_id\":\"r1\"}",
      "{\"request_id\":\"r1\",\"type\":null}",
      "{\"request_id\":\"r1\",\"type\":\"subscribes\"}",
      "{\"request_id\":\"r1\",\"type\":\"SUBSCRIBE\"}",
      "{\"request_id\":\"r1\",\"type\":\"\"}",
      "{\"request_id\":\"r1\",\"type\":\"event\"}",
      "{\"request_id\":\"r1\",\"type\":42}",
      "{\"request_id\":\"r1\",\"type\":[\"ping\"]}",
      "{\"request_id\":\"r1\",\"type\":{\"name\":\"ping\"}}"})
  void missingOrUnknownTypeIsABadRequestThatEchoesTheRequestId(String text) {
    assertEquals("r1", decodeBad(text).requestId());
  }

  @Test
  void unknownTypeWithAHugeNameDoesNotEchoItAll() {
    String huge = "x".repeat(10_000);
    Inbound.Rejected r = decodeBad("{\"type\":\"" + huge + "\"}");
    assertTrue(r.message().length() < 1000, "message length " + r.message().length());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      // topic missing / ill-typed
      "{\"type\":\"subscribe\",\"request_id\":\"r1\"}",
      "{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":null}",
      "{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":42}",
      "{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":[\"orders\"]}",
      "{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":{\"name\":\"orders\"}}",
      "{\"type\":\"unsubscribe\",\"request_id\":\"r1\"}",
      "{\"type\":\"unsubscribe\",\"request_id\":\"r1\",\"topic\":true}",
      "{\"type\":\"publish\",\"request_id\":\"r1\",\"message\":{\"payload\":1}}",
      "{\"type\":\"publish\",\"request_id\":\"r1\",\"topic\":1,\"message\":{\"payload\":1}}",
      // optional strings of the wrong type
      "{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":\"t\",\"client_id\":42}",
      "{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":\"t\",\"client_id\":{}}",
      "{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":\"t\",\"since_offset\":1,\"epoch\":7}",
      "{\"type\":\"unsubscribe\",\"request_id\":\"r1\",\"topic\":\"t\",\"client_id\":[]}"})
  void missingOrIllTypedFieldIsABadRequestThatEchoesTheRequestId(String text) {
    assertEquals("r1", decodeBad(text).requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", " ", "or ders", "a/b", "caf\u00e9", "\u65e5\u672c", "orders\\n", "emoji\uD83D\uDE00", "a:b", "a#b"})
  void invalidTopicNameIsABadRequest(String topic) {
    String quoted = JsonCodec.encodeToString(topic);
    for (String type : new String[] {"subscribe", "unsubscribe"}) {
      assertEquals("r1", decodeBad("{\"type\":\"" + type + "\",\"request_id\":\"r1\",\"topic\":" + quoted + "}").requestId());
    }
    assertEquals("r1", decodeBad("{\"type\":\"publish\",\"request_id\":\"r1\",\"topic\":" + quoted
        + ",\"message\":{\"payload\":1}}").requestId());
  }

  @Test
  void topicOf257CharactersIsABadRequestWithoutEchoingIt() {
    String topic = "t".repeat(257);
    Inbound.Rejected r = decodeBad("{\"type\":\"subscribe\",\"request_id\":\"r1\",\"topic\":\"" + topic + "\"}");
    assertEquals("r1", r.requestId());
    String huge = "t".repeat(100_000);
    Inbound.Rejected h = decodeBad("{\"type\":\"subscribe\",\"topic\":\"" + huge + "\"}");
    assertTrue(h.message().length() < 1000, "message length " + h.message().length());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "-1", "1001", "1.5", "\"3\"", "1e30", "99999999999999999999", "-99999999999999999999",
      "2147483648", "true", "[3]", "{}"})
  void lastNOutOfRangeOrIllTypedIsABadRequest(String value) {
    Inbound.Rejected r = decodeBad("{\"type\":\"subscribe\",\"topic\":\"t\",\"request_id\":\"r1\",\"last_n\":" + value + "}");
    assertEquals("r1", r.requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "-9223372036854775808", "1.5", "\"3\"", "1e30", "99999999999999999999", "false", "[1]"})
  void sinceOffsetNegativeOrIllTypedIsABadRequest(String value) {
    Inbound.Rejected r = decodeBad("{\"type\":\"subscribe\",\"topic\":\"t\",\"request_id\":\"r1\",\"since_offset\":" + value + "}");
    assertEquals("r1", r.requestId());
  }

  @Test
  void bothLastNAndSinceOffsetIsABadRequest() {
    assertEquals("r1", decodeBad(
        "{\"type\":\"subscribe\",\"topic\":\"t\",\"request_id\":\"r1\",\"last_n\":3,\"since_offset\":5}").requestId());
    assertEquals("r1", decodeBad(
        "{\"type\":\"subscribe\",\"topic\":\"t\",\"request_id\":\"r1\",\"last_n\":0,\"since_offset\":0}").requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "\"not-a-uuid\"", "\"\"", "\"123e4567-e89b-12d3-a456-42661417400\"", "\"123e4567-e89b-12d3-a456-4266141740000\"",
      "\"123e4567e89b12d3a456426614174000\"", "\"1-1-1-1-1\"", "\"zzzzzzzz-e89b-12d3-a456-426614174000\"",
      "\"{123e4567-e89b-12d3-a456-426614174000}\"", "42", "true", "{}", "[\"" + UUID_1 + "\"]",
      "\"1-2-3-4-0000000000000000000000000000\"", "\"+0000000-0000-0000-0000-000000000000\"",
      "\"123e4567-e89b-12d3-a456+426614174000\"", "\"123e4567-e89b-12d3-a456-42661417400\uff10\""})
  void messageIdNotAUuidIsABadRequest(String id) {
    assertEquals("r1", decodeBad("{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":{\"id\":"
        + id + ",\"payload\":1}}").requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\"}",
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":null}",
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":\"hello\"}",
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":42}",
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":[{\"payload\":1}]}",
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"payload\":1}"})
  void messageMissingOrNotAnObjectIsABadRequest(String text) {
    assertEquals("r1", decodeBad(text).requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":{}}",
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":{\"id\":\"" + UUID_1 + "\"}}",
      "{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"r1\",\"message\":{\"Payload\":1}}"})
  void payloadMissingIsABadRequest(String text) {
    assertEquals("r1", decodeBad(text).requestId());
  }

  @ParameterizedTest
  @ValueSource(strings = {"42", "true", "{}", "[\"r1\"]", "1.5"})
  void requestIdNotAStringIsABadRequestWithoutAnEcho(String value) {
    assertNull(decodeBad("{\"type\":\"ping\",\"request_id\":" + value + "}").requestId());
    assertNull(decodeBad("{\"type\":\"subscribe\",\"topic\":\"t\",\"request_id\":" + value + "}").requestId());
  }

  @Test
  void requestIdOver128CharactersIsABadRequestWithoutAnEcho() {
    String id = "r".repeat(129);
    assertNull(decodeBad("{\"type\":\"ping\",\"request_id\":\"" + id + "\"}").requestId());
    assertNull(decodeBad("{\"type\":\"publish\",\"topic\":\"t\",\"request_id\":\"" + id
        + "\",\"message\":{\"payload\":1}}").requestId());
  }

  @Test
  void requestIdIsEchoedWhateverFieldComesFirst() {
    // request_id after the offending field in the text is still found and echoed
    assertEquals("late", decodeBad("{\"type\":\"subscribe\",\"topic\":\"a b\",\"request_id\":\"late\"}").requestId());
    assertEquals("late", decodeBad("{\"type\":\"nope\",\"request_id\":\"late\"}").requestId());
  }

  // ---------------------------------------------------------------- encoding

  @Test
  void encodesPublishAckWithTheContractFieldNames() {
    JsonNode ack = encoded(Outbound.Ack.published("r1", "orders", 42, "2026-11-22T10:00:00.123Z"));
    assertEquals(json("{\"type\":\"ack\",\"request_id\":\"r1\",\"topic\":\"orders\",\"status\":\"ok\",\"offset\":42,"
        + "\"ts\":\"2026-11-22T10:00:00.123Z\"}"), ack);
  }

  @Test
  void encodesSubscribeAck() {
    JsonNode ack = encoded(Outbound.Ack.subscribed("r1", "orders", 42, "e1", 3, true, "ts"));
    assertEquals(json("{\"type\":\"ack\",\"request_id\":\"r1\",\"topic\":\"orders\",\"status\":\"ok\",\"epoch\":\"e1\",\"newest_offset\":42,"
        + "\"replayed\":3,\"recovered\":true,\"ts\":\"ts\"}"), ack);
    JsonNode withoutRecovered = encoded(Outbound.Ack.subscribed(null, "orders", 0, "e1", 0, null, "ts"));
    assertEquals(Set.of("type", "topic", "status", "epoch", "newest_offset", "replayed", "ts"), fieldNames(withoutRecovered));
    JsonNode notRecovered = encoded(Outbound.Ack.subscribed("r", "orders", 0, "e1", 0, false, "ts"));
    assertEquals(false, notRecovered.get("recovered").asBoolean(true));
    assertTrue(notRecovered.get("recovered").isBoolean());
  }

  @Test
  void encodesUnsubscribeAckWithoutNulls() {
    JsonNode ack = encoded(Outbound.Ack.unsubscribed("r1", "orders", "ts"));
    assertEquals(json("{\"type\":\"ack\",\"request_id\":\"r1\",\"topic\":\"orders\",\"status\":\"ok\",\"ts\":\"ts\"}"), ack);
    JsonNode noRequestId = encoded(Outbound.Ack.unsubscribed(null, "orders", "ts"));
    assertEquals(Set.of("type", "topic", "status", "ts"), fieldNames(noRequestId));
  }

  @Test
  void encodesEvent() {
    JsonNode event = encoded(new Outbound.Event("orders", new Outbound.Message(UUID_1, RawJson.of("{\"any\":\"json\"}")), 42, "ts"));
    assertEquals(json("{\"type\":\"event\",\"topic\":\"orders\",\"message\":{\"id\":\"" + UUID_1
        + "\",\"payload\":{\"any\":\"json\"}},\"offset\":42,\"ts\":\"ts\"}"), event);
  }

  @Test
  void encodesEventWithNullPayloadKeepingThePayloadField() {
    JsonNode event = encoded(new Outbound.Event("t", new Outbound.Message(UUID_1, RawJson.of("null")), 1, "ts"));
    assertTrue(event.get("message").has("payload"));
    assertTrue(event.get("message").get("payload").isNull());
  }

  @Test
  void encodesError() {
    JsonNode error = encoded(new Outbound.Error("r1",
        new Outbound.ErrorBody(ErrorCode.TOPIC_NOT_FOUND, "topic 'orders' does not exist"), "ts"));
    assertEquals(json("{\"type\":\"error\",\"request_id\":\"r1\",\"error\":{\"code\":\"TOPIC_NOT_FOUND\","
        + "\"message\":\"topic 'orders' does not exist\"},\"ts\":\"ts\"}"), error);
    JsonNode noRequestId = encoded(new Outbound.Error(null, new Outbound.ErrorBody(ErrorCode.BAD_REQUEST, "m"), "ts"));
    assertEquals(Set.of("type", "error", "ts"), fieldNames(noRequestId));
  }

  @Test
  void encodesRateLimitedErrorWithRetryAfterMs() {
    JsonNode error = encoded(new Outbound.Error("r1",
        new Outbound.ErrorBody(ErrorCode.RATE_LIMITED.name(), "slow down", 250L), "ts"));
    assertEquals(json("{\"type\":\"error\",\"request_id\":\"r1\",\"error\":{\"code\":\"RATE_LIMITED\","
        + "\"message\":\"slow down\",\"retry_after_ms\":250},\"ts\":\"ts\"}"), error);
  }

  @Test
  void encodesPong() {
    assertEquals(json("{\"type\":\"pong\",\"request_id\":\"r1\",\"ts\":\"ts\"}"), encoded(new Outbound.Pong("r1", "ts")));
    assertEquals(json("{\"type\":\"pong\",\"ts\":\"ts\"}"), encoded(new Outbound.Pong(null, "ts")));
  }

  @Test
  void encodesInfos() {
    assertEquals(json("{\"type\":\"info\",\"topic\":\"orders\",\"msg\":\"topic_deleted\",\"ts\":\"ts\"}"),
        encoded(new Outbound.Info("orders", "topic_deleted", "ts")));
    assertEquals(json("{\"type\":\"info\",\"msg\":\"ping\",\"ts\":\"ts\"}"), encoded(new Outbound.Info(null, "ping", "ts")));
    assertEquals(json("{\"type\":\"info\",\"msg\":\"shutting_down\",\"ts\":\"ts\"}"),
        encoded(new Outbound.Info(null, "shutting_down", "ts")));
  }

  @Test
  void encodesRestBodiesWithTheContractFieldNames() {
    assertEquals(json("{\"status\":\"created\",\"topic\":\"orders\"}"), encoded(new Rest.TopicStatus("created", "orders")));
    assertEquals(json("{\"topics\":[{\"name\":\"orders\",\"subscribers\":3}]}"),
        encoded(new Rest.TopicList(java.util.List.of(new Rest.TopicEntry("orders", 3)))));
    assertEquals(json("{\"status\":\"ok\",\"uptime_sec\":123,\"topics\":2,\"subscribers\":4}"),
        encoded(new Rest.Health("ok", 123, 2, 4)));
    assertEquals(json("{\"topics\":{\"orders\":{\"messages\":42,\"subscribers\":3,\"dropped\":0}}}"),
        encoded(new Rest.Stats(java.util.Map.of("orders", new Rest.TopicStats(42, 3, 0)))));
    assertEquals(json("{\"error\":{\"code\":\"TOPIC_NOT_FOUND\",\"message\":\"m\"}}"),
        encoded(new Rest.ErrorResponse(new Outbound.ErrorBody(ErrorCode.TOPIC_NOT_FOUND, "m"))));
  }

  @Test
  void encodedFramesAreSingleLineJson() {
    String text = JsonCodec.encodeToString(new Outbound.Event("t", new Outbound.Message(UUID_1, RawJson.of("{\"a\":[1,2]}")), 1, "ts"));
    assertTrue(!text.contains("\n"), text);
  }

  @Test
  void asReplayAppendsReplayTrue() {
    ByteString event = JsonCodec.encode(new Outbound.Event("orders", new Outbound.Message(UUID_1, RawJson.of("[1,{\"a\":\"}\"}]")), 7, "ts"));
    ByteString replay = JsonCodec.asReplay(event);
    JsonNode expected = json(event.utf8String());
    ((com.fasterxml.jackson.databind.node.ObjectNode) expected).put("replay", true);
    assertEquals(expected, json(replay.utf8String()));
    assertTrue(replay.utf8String().endsWith(",\"replay\":true}"), replay.utf8String());
    // the stored bytes are left alone
    assertEquals(-1, event.utf8String().indexOf("replay"));
  }

  @Test
  void timestampsAreIsoUtcWithMilliseconds() {
    String pattern = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    String now = Timestamps.now();
    assertTrue(now.matches(pattern), now);
    assertEquals("2026-11-22T10:00:00.123Z", Timestamps.format(Instant.parse("2026-11-22T10:00:00.123456Z")));
    assertEquals("1970-01-01T00:00:00.000Z", Timestamps.format(Instant.EPOCH));
    assertEquals("2026-01-02T03:04:05.060Z", Timestamps.format(Instant.parse("2026-01-02T03:04:05.06Z")));
    Instant before = Instant.now().minusMillis(1);
    Instant parsed = Instant.parse(Timestamps.now());
    assertTrue(!parsed.isBefore(before.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)), parsed + " vs " + before);
  }
}
