package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import pekkopubsub.LocalServer;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.protocol.JsonCodec;

/** Assertions and waits on what a client sees over the wire; every wait has a generous deadline. */
final class Wire {
  static final Duration WAIT = Duration.ofSeconds(10);
  static final Pattern TS = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
  static final Pattern UUID_TEXT =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private Wire() {}

  /** The answer of a request, waiting up to {@link #WAIT}. */
  static JsonNode await(CompletableFuture<JsonNode> answer) {
    return await(answer, WAIT);
  }

  static <T> T await(CompletableFuture<T> future, Duration timeout) {
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no answer within " + timeout);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError("request failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** An ack with status ok, the request's topic and a well-formed ts. */
  static JsonNode ack(CompletableFuture<JsonNode> answer, String topic) {
    JsonNode ack = await(answer);
    assertEquals("ack", ack.path("type").asText(), () -> "expected an ack, got " + ack);
    assertEquals("ok", ack.path("status").asText(), ack::toString);
    assertEquals(topic, ack.path("topic").asText(), ack::toString);
    assertTs(ack);
    return ack;
  }

  /** An error answer with {@code code}, a message and a well-formed ts. */
  static JsonNode error(JsonNode frame, String code) {
    assertEquals("error", frame.path("type").asText(), () -> "expected an error, got " + frame);
    assertEquals(code, frame.path("error").path("code").asText(), frame::toString);
    assertTrue(frame.path("error").path("message").isTextual(), frame::toString);
    assertTs(frame);
    return frame;
  }

  static void assertTs(JsonNode frame) {
    String ts = frame.path("ts").asText("");
    assertTrue(TS.matcher(ts).matches(), () -> "ts '" + ts + "' of " + frame);
  }

  /** The next frame that answers no pending request, failing after {@link #WAIT}. */
  static JsonNode next(PubSubClient client) {
    return next(client, WAIT);
  }

  static JsonNode next(PubSubClient client, Duration timeout) {
    try {
      JsonNode frame = client.nextFrame(timeout);
      assertNotNull(frame, "no frame within " + timeout);
      return frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next frame, or null when none came within {@code timeout}. */
  static JsonNode poll(PubSubClient client, Duration timeout) {
    try {
      return client.nextFrame(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Every frame already received and not yet taken, in arrival order. */
  static List<JsonNode> drain(PubSubClient client) {
    List<JsonNode> frames = new ArrayList<>();
    for (JsonNode f = poll(client, Duration.ZERO); f != null; f = poll(client, Duration.ZERO)) frames.add(f);
    return frames;
  }

  /**
   * The topic's stats once its {@code dropped} has reached {@code expected}, asserting that 300 ms
   * later it is exactly {@code expected} (a late drop report would show as more).
   */
  static JsonNode assertDroppedSettlesAt(TestServer server, String topic, long expected) {
    eventually(WAIT, () -> server.topicStats(topic), s -> s.path("dropped").asLong(-1) >= expected,
        topic + " dropped reaches " + expected);
    LocalServer.sleep(300);
    JsonNode stats = server.topicStats(topic);
    assertEquals(expected, stats.path("dropped").asLong(-1), "server's dropped = events its subscribers missed: " + stats);
    return stats;
  }

  /** The next {@code n} frames, each an event of {@code topic}. */
  static List<JsonNode> events(PubSubClient client, String topic, int n) {
    List<JsonNode> events = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      JsonNode frame = next(client);
      assertEquals("event", frame.path("type").asText(), () -> "expected an event, got " + frame);
      assertEquals(topic, frame.path("topic").asText(), frame::toString);
      events.add(frame);
    }
    return events;
  }

  static List<Long> offsets(List<JsonNode> events) {
    return events.stream().map(e -> e.path("offset").asLong()).toList();
  }

  static List<Long> range(long fromInclusive, long toInclusive) {
    List<Long> out = new ArrayList<>();
    for (long i = fromInclusive; i <= toInclusive; i++) out.add(i);
    return out;
  }

  /** {@code offsets} is exactly first, first+1, ..., last; a failure names the first deviation instead of both lists. */
  static void assertOffsets(long first, long last, List<Long> offsets, String what) {
    for (int i = 0; i < offsets.size(); i++) {
      long expected = first + i;
      if (expected > last || offsets.get(i) != expected) {
        fail(what + ": expected offsets " + first + ".." + last + ", but at index " + i + " got " + offsets.get(i)
            + " (expected " + (expected > last ? "nothing more" : String.valueOf(expected)) + "); "
            + offsets.size() + " offsets, around: "
            + offsets.subList(Math.max(0, i - 3), Math.min(offsets.size(), i + 4)));
      }
    }
    assertEquals(last - first + 1, offsets.size(), what + ": number of offsets " + first + ".." + last);
  }

  /** A ping answered by its pong: the connection is still usable. */
  static void assertUsable(PubSubClient client) {
    JsonNode pong = await(client.ping());
    assertEquals("pong", pong.path("type").asText(), pong::toString);
  }

  /** No frame is waiting: call it after a sync point that orders every earlier frame before it. */
  static void assertNothingBuffered(PubSubClient client) {
    assertEquals(0, client.bufferedFrames(), "frames nobody expected");
  }

  static ObjectNode payload(int i) {
    return JsonCodec.mapper().createObjectNode().put("n", i);
  }

  static ObjectNode object() {
    return JsonCodec.mapper().createObjectNode();
  }

  /** The body of a raw HTTP response: what follows its head. */
  static String bodyOf(String rawResponse) {
    return rawResponse.substring(rawResponse.indexOf("\r\n\r\n") + 4);
  }

  /** The JSON body of a raw HTTP response whose status is {@code status}; fails with the whole response otherwise. */
  static JsonNode bodyJson(String rawResponse, int status) {
    assertTrue(rawResponse.startsWith("HTTP/1.1 " + status + " "), rawResponse);
    return json(bodyOf(rawResponse));
  }

  static JsonNode json(String text) {
    try {
      return JsonCodec.parse(text);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Polls {@code value} until {@code done} holds, failing with the last value after {@code timeout}. */
  static <T> T eventually(Duration timeout, Supplier<T> value, java.util.function.Predicate<T> done, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = value.get();
    while (!done.test(last)) {
      if (System.nanoTime() > deadline) fail(what + " within " + timeout + "; last seen: " + last);
      LocalServer.sleep(20);
      last = value.get();
    }
    return last;
  }
}
