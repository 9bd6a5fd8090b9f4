package pekkopubsub.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Property-based tests of {@link JsonCodec}: whatever the text, decode gives a Request or a typed
 * Rejected, never an exception; a publish's payload arrives as the same JSON value; the hand-written
 * event and ack encodings are byte for byte the mapper's.
 */
class JsonCodecPropertiesTest {

  @Property(tries = 2000)
  void anyTextDecodesToARequestOrABadRequest(@ForAll String text) {
    assertTyped(JsonCodec.decode(text));
  }

  @Property(tries = 2000)
  void mutatedValidFramesDecodeToARequestOrABadRequest(@ForAll("mutatedFrames") String frame) {
    assertTyped(JsonCodec.decode(frame));
  }

  @Property(tries = 500)
  void validPublishesRoundTrip(@ForAll("topicNames") String topic, @ForAll("requestIds") String requestId,
      @ForAll("payloadsWithinLimits") String payload) {
    String frame = "{\"type\":\"publish\",\"topic\":" + quote(topic) + ",\"request_id\":" + quote(requestId)
        + ",\"message\":{\"payload\":" + payload + "}}";
    Inbound decoded = JsonCodec.decode(frame);
    assertTrue(decoded instanceof Request.Publish, () -> frame + " -> " + decoded);
    Request.Publish p = (Request.Publish) decoded;
    assertEquals(topic, p.topic());
    assertEquals(requestId, p.requestId());
    assertEquals(tree(payload), tree(p.payload().text()), frame);
  }

  @Property(tries = 500)
  void aPayloadWithWhitespaceArrivesAsTheSameValueOnOneLine(@ForAll("payloadsWithinLimits") String payload,
      @ForAll("whitespace") String space) {
    // Whitespace goes between tokens only: the generated strings are scalars, left as they are.
    String spaced = payload.startsWith("\"") ? payload : payload.replace(",", space + "," + space).replace(":", space + ":" + space)
        .replace("[", "[" + space).replace("}", space + "}");
    Request.Publish p = (Request.Publish) JsonCodec.decode(
        "{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":" + space + spaced + space + "}}");
    assertEquals(tree(spaced), tree(p.payload().text()));
    assertFalse(p.payload().text().contains("\n") || p.payload().text().contains("\r"), p.payload().text());
  }

  @Property(tries = 1000)
  void ackBytesAreTheMappers(@ForAll("anyStrings") String requestId, @ForAll("anyStrings") String topic,
      @ForAll("anyStrings") String epoch, @ForAll long offset, @ForAll int replayed, @ForAll Boolean recovered,
      @ForAll("anyStrings") String ts) {
    for (Outbound.Ack ack : new Outbound.Ack[] {
        Outbound.Ack.published(requestId, topic, offset, ts),
        Outbound.Ack.published(null, topic, offset, ts),
        Outbound.Ack.subscribed(requestId, topic, offset, epoch, replayed, recovered, ts),
        Outbound.Ack.subscribed(null, topic, offset, epoch, replayed, null, ts),
        Outbound.Ack.unsubscribed(requestId, topic, ts),
        new Outbound.Ack(null, null, null, null, null, null, null, null, null, null)}) {
      assertEquals(JsonCodec.encodeWithMapper(ack), JsonCodec.encode(ack), ack::toString);
    }
  }

  @Property(tries = 1000)
  void eventBytesAreTheMappers(@ForAll("anyStrings") String topic, @ForAll("anyStrings") String id,
      @ForAll("jsonValues") String payload, @ForAll long offset, @ForAll("anyStrings") String ts) {
    Outbound.Event event = new Outbound.Event(topic, new Outbound.Message(id, RawJson.of(payload)), offset, ts);
    assertEquals(JsonCodec.encodeWithMapper(event), JsonCodec.encode(event), event::toString);
  }

  private static JsonNode tree(String json) {
    try {
      return JsonCodec.parse(json);
    } catch (JsonProcessingException e) {
      throw new AssertionError(json, e);
    }
  }

  @Property(tries = 300)
  void aWrongTypedFieldIsABadRequestThatEchoesTheRequestId(
      @ForAll("fieldsOfPublish") String field, @ForAll("wrongValues") String value) {
    String frame = "{\"type\":\"publish\",\"request_id\":\"r-1\",\"topic\":\"t\",\"message\":{\"payload\":1},"
        .replace("\"" + field + "\":", "\"ignored-" + field + "\":")
        + quote(field) + ":" + value + "}";
    Inbound decoded = JsonCodec.decode(frame);
    assertTyped(decoded);
    // A document over the JSON read limits is refused before any field is read, so it echoes nothing.
    if (decoded instanceof Inbound.Rejected r && !field.equals("request_id") && !r.message().contains("JSON limit")) {
      assertEquals("r-1", r.requestId(), frame);
    }
  }

  private static void assertTyped(Inbound decoded) {
    assertNotNull(decoded);
    if (decoded instanceof Inbound.Rejected r) {
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertFalse(r.message().isBlank());
      assertTrue(r.requestId() == null || r.requestId().codePointCount(0, r.requestId().length()) <= 128);
    } else {
      assertTrue(decoded instanceof Request, decoded::toString);
    }
  }

  // ---------------------------------------------------------------- generators

  @Provide
  Arbitrary<String> topicNames() {
    return Arbitraries.strings().withChars("abcXYZ019._-").ofMinLength(1).ofMaxLength(40)
        .filter(s -> !s.equals(".") && !s.equals(".."));
  }

  @Provide
  Arbitrary<String> requestIds() {
    return Arbitraries.strings().ofMaxLength(128);
  }

  /** Any UTF-16 text, lone surrogates included, often with the characters JSON escapes. */
  @Provide
  Arbitrary<String> anyStrings() {
    return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(40),
        Arbitraries.strings().withChars("\"\\\b\t\n\f\r\u0000\u001f\u007f\u0080\u07ff\u0800\u2028\uffff\uD800\uDBFF\uDC00\uDFFFaZ0")
            .ofMaxLength(40));
  }

  @Provide
  Arbitrary<String> whitespace() {
    return Arbitraries.strings().withChars(" \t\n\r").ofMaxLength(3);
  }

  @Provide
  Arbitrary<String> fieldsOfPublish() {
    return Arbitraries.of("type", "topic", "request_id", "message", "client_id", "last_n", "since_offset", "epoch");
  }

  @Provide
  Arbitrary<String> wrongValues() {
    return Arbitraries.oneOf(jsonValues(), Arbitraries.of("{\"id\":5,\"payload\":1}", "{\"id\":\"not-a-uuid\",\"payload\":1}",
        "{}", "[]", "-1", "1001", "1.5"));
  }

  @Provide
  Arbitrary<String> payloadsWithinLimits() {
    return jsonValues().filter(v -> !v.startsWith("[[".repeat(30)) && !v.startsWith("{\"a\":".repeat(30)));
  }

  @Provide
  Arbitrary<String> jsonValues() {
    Arbitrary<String> scalars = Arbitraries.oneOf(
        Arbitraries.integers().map(String::valueOf),
        Arbitraries.doubles().map(d -> Double.isFinite(d) ? String.valueOf(d) : "0"),
        Arbitraries.strings().ofMaxLength(50).map(JsonCodecPropertiesTest::quote),
        Arbitraries.of("true", "false", "null", "1e999999", "-1e-999999", "123456789012345678901234567890",
            "9".repeat(99), "0.000000000000000000000000000001"));
    Arbitrary<String> nested = Arbitraries.integers().between(1, 300).map(d -> "[".repeat(d) + "]".repeat(d));
    Arbitrary<String> objects = Arbitraries.integers().between(1, 100).map(d -> "{\"a\":".repeat(d) + "1" + "}".repeat(d));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, scalars), net.jqwik.api.Tuple.of(1, nested), net.jqwik.api.Tuple.of(1, objects));
  }

  @Provide
  Arbitrary<String> validFrames() {
    Arbitrary<String> topic = topicNames().map(JsonCodecPropertiesTest::quote);
    return Arbitraries.oneOf(
        topic.map(t -> "{\"type\":\"subscribe\",\"topic\":" + t + ",\"last_n\":3,\"request_id\":\"s\"}"),
        topic.map(t -> "{\"type\":\"subscribe\",\"topic\":" + t + ",\"since_offset\":7,\"epoch\":\"e\"}"),
        topic.map(t -> "{\"type\":\"unsubscribe\",\"topic\":" + t + ",\"client_id\":\"c\"}"),
        Combinators.combine(topic, jsonValues()).as((t, p) ->
            "{\"type\":\"publish\",\"topic\":" + t + ",\"message\":{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"payload\":" + p + "}}"),
        Arbitraries.just("{\"type\":\"ping\",\"request_id\":\"p\"}"));
  }

  @Provide
  Arbitrary<String> mutatedFrames() {
    return Combinators.combine(validFrames(), Arbitraries.integers().between(0, 4), Arbitraries.integers().between(0, 10_000),
        Arbitraries.chars()).as(FrameMutations::mutate);
  }

  static String quote(String s) {
    ObjectNode holder = JsonCodec.mapper().createObjectNode().put("s", s);
    String json = holder.toString();
    return json.substring(5, json.length() - 1);
  }
}
