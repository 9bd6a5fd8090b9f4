package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.protocol.ErrorCode;
import pekkopubsub.protocol.FrameMutations;

/**
 * Whole sessions of random frames against the real server: every frame gets exactly one typed
 * answer, the connection survives, and a bystander connection sees exactly the events that were
 * published to its topic, nothing else.
 */
class SessionPropertiesTest {
  private static final Set<String> ANSWER_TYPES = Set.of("ack", "error", "pong");
  private static final Set<String> ERROR_CODES = Set.of(
      java.util.Arrays.stream(ErrorCode.values()).map(Enum::name).toArray(String[]::new));

  private static final String PLACEHOLDER = "bystander-placeholder";

  private static TestServer server;
  private static String sharedTopic;

  /** One client frame: opcode and bytes. */
  record Sent(int opcode, byte[] bytes) {
    @Override
    public String toString() {
      String text = new String(bytes, StandardCharsets.UTF_8);
      return (opcode == RawWebSocket.BINARY ? "binary " : "text ") + text.substring(0, Math.min(200, text.length()));
    }
  }

  @BeforeContainer
  static void start() {
    // Small frames keep the oversized case cheap; the rate limit stays on, its refusals are answers too.
    server = TestServer.start(Map.of("connection.max-frame-size", "4 KiB"));
    sharedTopic = server.createTopic("fuzz");
  }

  @AfterContainer
  static void stop() {
    server.close();
  }

  @Property(tries = 40)
  void everyFrameGetsOneTypedAnswerAndNoOtherConnectionIsTouched(@ForAll("sessions") List<Sent> frames) {
    String bystanderTopic = server.createTopic("bystander");
    PubSubClient bystander = server.connect();
    ack(bystander.subscribe(bystanderTopic), bystanderTopic);

    int answers = 0;
    int publishedToBystander = 0;
    try (RawWebSocket fuzzer = RawWebSocket.connect(server.httpBase())) {
      for (Sent frame : frames) {
        fuzzer.send(frame.opcode(), aimedAt(frame, bystanderTopic));
      }
      fuzzer.sendText("{\"type\":\"ping\",\"request_id\":\"end-of-session\"}");
      // A pong is answered by the connection itself, so it may overtake answers that come from a topic.
      boolean ended = false;
      while (!ended || answers < frames.size()) {
        RawWebSocket.Frame in = fuzzer.read();
        assertEquals(RawWebSocket.TEXT, in.opcode(), () -> "the connection stays open; sent " + frames);
        JsonNode json = in.json();
        String type = json.path("type").asText();
        if (type.equals("pong") && json.path("request_id").asText().equals("end-of-session")) {
          ended = true;
          continue;
        }
        if (type.equals("error")) {
          assertTrue(ERROR_CODES.contains(json.path("error").path("code").asText()), json::toString);
          assertTrue(json.path("error").path("message").isTextual(), json::toString);
        }
        if (ANSWER_TYPES.contains(type)) answers++;
        else assertTrue(Set.of("event", "info").contains(type), json::toString);
        if (type.equals("ack") && json.has("offset") && json.path("topic").asText().equals(bystanderTopic)) {
          publishedToBystander++;
        }
      }
    }
    assertEquals(frames.size(), answers, () -> "one answer per frame for " + frames);

    List<Long> offsets = new ArrayList<>();
    while (offsets.size() < publishedToBystander) {
      JsonNode frame = Wire.next(bystander);
      if ("event".equals(frame.path("type").asText())) offsets.add(frame.path("offset").asLong());
    }
    Wire.assertOffsets(1, publishedToBystander, offsets, "the bystander gets exactly what was published to it");
    Wire.assertUsable(bystander);
    assertEquals(null, Wire.poll(bystander, Duration.ofMillis(20)), "nothing else reached the bystander");
    bystander.abort();
    server.admin().deleteTopic(bystanderTopic);
  }

  /** Frames are drawn before the try's topic exists; a placeholder stands for it. */
  private static byte[] aimedAt(Sent frame, String bystanderTopic) {
    if (frame.opcode() != RawWebSocket.TEXT) return frame.bytes();
    String text = new String(frame.bytes(), StandardCharsets.UTF_8);
    return text.contains(PLACEHOLDER) ? text.replace(PLACEHOLDER, bystanderTopic).getBytes(StandardCharsets.UTF_8) : frame.bytes();
  }

  @Provide
  Arbitrary<List<Sent>> sessions() {
    return frames().list().ofMaxSize(25);
  }

  private Arbitrary<Sent> frames() {
    Arbitrary<String> topics = Arbitraries.of(sharedTopic, PLACEHOLDER, "no-such-topic", "bad name", "");
    Arbitrary<String> valid = Arbitraries.oneOf(
        topics.map(t -> "{\"type\":\"subscribe\",\"topic\":\"" + t + "\",\"last_n\":2,\"request_id\":\"s\"}"),
        topics.map(t -> "{\"type\":\"unsubscribe\",\"topic\":\"" + t + "\"}"),
        topics.map(t -> "{\"type\":\"publish\",\"topic\":\"" + t + "\",\"message\":{\"payload\":{\"n\":1}}}"),
        Arbitraries.just("{\"type\":\"ping\"}"));
    Arbitrary<String> texts = Arbitraries.frequencyOf(
        Tuple.of(5, valid),
        Tuple.of(3, net.jqwik.api.Combinators.combine(valid, Arbitraries.integers().between(0, 4),
            Arbitraries.integers().between(0, 1000), Arbitraries.chars()).as(FrameMutations::mutate)),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(60)),
        Tuple.of(1, Arbitraries.of(
            "{\"type\":\"publish\",\"topic\":\"" + sharedTopic + "\",\"message\":{\"payload\":" + "9".repeat(500) + "}}",
            "{\"type\":\"publish\",\"topic\":\"" + sharedTopic + "\",\"message\":{\"payload\":" + "[".repeat(300) + "]".repeat(300) + "}}",
            "{\"type\":\"subscribe\",\"topic\":5}", "{\"type\":[]}", "[]", "null", "{\"type\":\"publish\"}",
            "{\"type\":\"subscribe\",\"topic\":\"" + sharedTopic + "\",\"last_n\":1e400}",
            "{\"type\":\"ping\",\"request_id\":\"" + "r".repeat(300) + "\"}",
            "x".repeat(5000))));
    Arbitrary<Sent> text = texts.map(t -> new Sent(RawWebSocket.TEXT, t.getBytes(StandardCharsets.UTF_8)));
    Arbitrary<Sent> invalidUtf8 = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(40)
        .map(b -> { b[0] = (byte) 0xC3; if (b.length > 1) b[1] = (byte) 0x28; return new Sent(RawWebSocket.TEXT, b); });
    Arbitrary<Sent> binary = Arbitraries.bytes().array(byte[].class).ofMaxSize(40).map(b -> new Sent(RawWebSocket.BINARY, b));
    return Arbitraries.frequencyOf(Tuple.of(10, text), Tuple.of(1, invalidUtf8), Tuple.of(1, binary));
  }
}
