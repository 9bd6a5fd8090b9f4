package pekkopubsub.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Property-based tests of {@link JsonCodec#decode}: whatever the text, a Request or a typed Rejected, never an exception. */
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
