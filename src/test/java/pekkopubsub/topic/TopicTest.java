package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.DeflateClient;
import pekkopubsub.connection.WebSocketFrames;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.RawJson;
import pekkopubsub.protocol.JsonCodec;

class TopicTest {

  private static final String TS_PATTERN = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
  private static final AtomicInteger NAMES = new AtomicInteger();

  private static ActorTestKit testKit;
  private final EventReader events = new EventReader();

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  // ---------------------------------------------------------------- helpers

  /** A fresh topic with its name and epoch. */
  private record Fixture(String name, String epoch, ActorRef<Topic.Command> ref) {}

  private static Fixture topic(int maxHistory) {
    String name = "topic-test-" + NAMES.incrementAndGet();
    String epoch = "epoch-" + UUID.randomUUID();
    return new Fixture(name, epoch, testKit.spawn(Topic.create(name, epoch, maxHistory, new ServerMetrics(new SimpleMeterRegistry()))));
  }

  /** A fresh topic whose replay buffer counts against {@code memory}. */
  private static Fixture topic(int maxHistory, HistoryMemory memory) {
    String name = "topic-test-" + NAMES.incrementAndGet();
    return new Fixture(name, "e", testKit.spawn(Topic.create(
        name, "e", maxHistory, memory, Settings.FanOutPacing.OFF, FanOutBatch.UNBOUNDED_QUEUES,
        new ServerMetrics(new SimpleMeterRegistry()))));
  }

  /** A fresh topic whose batches fit {@code batch}. */
  private static Fixture topic(FanOutBatch batch) {
    String name = "topic-test-" + NAMES.incrementAndGet();
    return new Fixture(name, "e", testKit.spawn(Topic.create(
        name, "e", 100, HistoryMemory.unlimited(), Settings.FanOutPacing.OFF, batch, new ServerMetrics(new SimpleMeterRegistry()))));
  }

  /** A fresh topic that paces its fan-outs whatever its rate. */
  private static Fixture pacedTopic(Duration spacingPerSubscriber) {
    String name = "topic-test-" + NAMES.incrementAndGet();
    Settings.FanOutPacing pacing =
        new Settings.FanOutPacing(spacingPerSubscriber, spacingPerSubscriber.multipliedBy(10), 0);
    return new Fixture(name, "e", testKit.spawn(Topic.create(name, "e", 10, HistoryMemory.unlimited(), pacing, FanOutBatch.UNBOUNDED_QUEUES,
        new ServerMetrics(new SimpleMeterRegistry()))));
  }

  private static TestProbe<Topic.Reply> probe() {
    return testKit.createTestProbe(Topic.Reply.class);
  }

  /** The JSON inside one server-to-client text frame (FIN + text opcode, unmasked, 7/16/64-bit length). */
  static JsonNode frameJson(ByteString frame) {
    byte[] b = frame.toArray();
    assertTrue(b.length >= 2, "frame too short");
    assertEquals(0x81, b[0] & 0xFF, "a final text frame");
    assertEquals(0, b[1] & 0x80, "server frames are not masked");
    int len7 = b[1] & 0x7F;
    int header;
    long length;
    if (len7 < 126) {
      header = 2;
      length = len7;
    } else if (len7 == 126) {
      header = 4;
      length = ((b[2] & 0xFFL) << 8) | (b[3] & 0xFFL);
    } else {
      header = 10;
      length = 0;
      for (int i = 2; i < 10; i++) length = (length << 8) | (b[i] & 0xFFL);
    }
    assertEquals(b.length - header, length, "frame length field matches its payload");
    try {
      return JsonCodec.parse(new String(b, header, b.length - header, StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw new AssertionError("frame payload is not JSON", e);
    }
  }

  private static long offsetOf(ByteString frame) {
    return frameJson(frame).get("offset").asLong();
  }

  private static JsonNode payload(int i) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("n", i);
    return node;
  }

  private static void publish(Fixture t, TestProbe<Topic.Reply> publisher, String requestId, JsonNode payload) {
    t.ref().tell(new Topic.Publish(t.name(), requestId, publisher.getRef(), null, RawJson.of(payload)));
  }

  /** Publishes {@code count} messages and waits for their acks; returns the acked offsets. */
  private static List<Long> publishAndAwait(Fixture t, int count) {
    TestProbe<Topic.Reply> publisher = probe();
    for (int i = 0; i < count; i++) publish(t, publisher, "p" + i, payload(i));
    List<Long> offsets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Topic.Published ack = publisher.expectMessageClass(Topic.Published.class);
      assertEquals("p" + i, ack.requestId());
      offsets.add(ack.offset());
    }
    return offsets;
  }

  private static TestProbe<Topic.Reply> subscribedProbe(Fixture t, String requestId) {
    TestProbe<Topic.Reply> subscriber = probe();
    subscribe(t, subscriber, requestId, 0);
    return subscriber;
  }

  /** Unsubscribes {@code subscriber} and reads what it was sent before the answer, up to the answer. */
  private static void unsubscribeReadingUpToTheAnswer(Fixture t, TestProbe<Topic.Reply> subscriber, String requestId) {
    t.ref().tell(new Topic.Unsubscribe(t.name(), requestId, subscriber.getRef()));
    while (!(subscriber.receiveMessage() instanceof Topic.Unsubscribed)) {
      // an event sent before the answer
    }
  }

  private static Topic.Subscribed subscribe(Fixture t, TestProbe<Topic.Reply> subscriber, String requestId, int lastN) {
    t.ref().tell(new Topic.Subscribe(t.name(), requestId, subscriber.getRef(), "client", lastN, null, null));
    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(requestId, subscribed.requestId());
    assertEquals(t.name(), subscribed.topic());
    assertEquals(t.epoch(), subscribed.epoch());
    return subscribed;
  }

  private static Topic.Subscribed subscribeSince(Fixture t, TestProbe<Topic.Reply> subscriber, long since, String epoch) {
    t.ref().tell(new Topic.Subscribe(t.name(), "since", subscriber.getRef(), null, 0, since, epoch));
    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(t.epoch(), subscribed.epoch(), "the ack always carries the topic's own epoch");
    return subscribed;
  }

  private static List<Long> replayOffsets(Topic.Subscribed subscribed) {
    List<Long> offsets = new ArrayList<>();
    for (ByteString frame : subscribed.replay()) {
      JsonNode json = frameJson(frame);
      assertEquals("event", json.get("type").asText());
      assertTrue(json.path("replay").asBoolean(false), "a replayed event carries \"replay\":true: " + json);
      offsets.add(json.get("offset").asLong());
    }
    return offsets;
  }

  static List<Long> range(long fromInclusive, long toInclusive) {
    List<Long> out = new ArrayList<>();
    for (long o = fromInclusive; o <= toInclusive; o++) out.add(o);
    return out;
  }

  /**
   * The next two messages of a subscriber that just published: the ack and an event batch holding
   * only that publish, in either order (a publish after a quiet spell reaches the subscribers first).
   */
  private static void expectAckAndOwnEvent(Fixture t, TestProbe<Topic.Reply> subscriber, String requestId, long offset) {
    List<Topic.Reply> next = subscriber.receiveSeveralMessages(2);
    Topic.Events batch = null;
    int acks = 0;
    for (Topic.Reply reply : next) {
      if (reply instanceof Topic.Events e) batch = e;
      else if (reply.equals(new Topic.Published(requestId, t.name(), offset))) acks++;
    }
    assertEquals(1, acks, "one ack of the publish among " + next);
    assertTrue(batch != null, "one event batch among " + next);
    assertEquals(List.of(offset), offsetsOf(batch));
  }

  private static Topic.Stats stats(Fixture t) {
    TestProbe<Topic.Stats> statsProbe = testKit.createTestProbe(Topic.Stats.class);
    t.ref().tell(new Topic.GetStats(statsProbe.getRef()));
    return statsProbe.receiveMessage();
  }

  private static Behavior<Topic.Reply> forwardTo(ActorRef<Topic.Reply> target) {
    return Behaviors.receiveMessage(message -> {
      target.tell(message);
      return Behaviors.same();
    });
  }

  // ---------------------------------------------------------------- publish

  @Test
  void offsetsStartAtOneAndIncreaseByOneAndTheAckCarriesThem() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> publisher = probe();
    for (int i = 1; i <= 5; i++) {
      publish(t, publisher, "r" + i, payload(i));
      publisher.expectMessage(new Topic.Published("r" + i, t.name(), i));
    }
    assertEquals(new Topic.Stats(t.name(), 5, 0, 0), stats(t));
  }

  @Test
  void ackWithoutRequestIdHasNone() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, null, payload(0));
    publisher.expectMessage(new Topic.Published(null, t.name(), 1));
  }

  @Test
  void subscribersThatAgreedToCompressionGetEachLargeEventCompressedOnceAndTheOthersPlainFrames() throws Exception {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> plain = probe();
    TestProbe<Topic.Reply> compressing = probe();
    subscribe(t, plain, "p", 0);
    t.ref().tell(new Topic.Subscribe(t.name(), "c", compressing.getRef(), "client", 0, null, null, true));
    compressing.expectMessageClass(Topic.Subscribed.class);

    TestProbe<Topic.Reply> publisher = probe();
    JsonNode large = JsonNodeFactory.instance.objectNode().put("text", "compressible ".repeat(100));
    JsonNode small = JsonNodeFactory.instance.objectNode().put("n", 1);
    t.ref().tell(new Topic.Publish(t.name(), "r1", publisher.getRef(), null, RawJson.of(large)));
    t.ref().tell(new Topic.Publish(t.name(), "r2", publisher.getRef(), null, RawJson.of(small)));

    List<ByteString> plainFrames = new ArrayList<>();
    List<ByteString> compressedFrames = new ArrayList<>();
    while (plainFrames.size() < 2) {
      Topic.Events events = plain.expectMessageClass(Topic.Events.class);
      assertSame(events, compressing.expectMessageClass(Topic.Events.class), "one message for both kinds of subscriber");
      plainFrames.addAll(events.frames());
      compressedFrames.addAll(events.compressedFrames());
    }
    assertEquals(large, frameJson(plainFrames.get(0)).get("message").get("payload"));
    ByteString compressed = compressedFrames.get(0);
    assertEquals(0xC1, compressed.apply(0) & 0xFF, "FIN, RSV1 and text");
    assertTrue(compressed.size() < plainFrames.get(0).size() / 4, compressed.size() + " against " + plainFrames.get(0).size());
    assertEquals(frameJson(plainFrames.get(0)), JsonCodec.parse(inflate(compressed)));
    assertSame(plainFrames.get(1), compressedFrames.get(1), "an event under 256 bytes goes uncompressed to everyone");

    // Once the last compressing subscriber has gone, nothing is compressed.
    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", compressing.getRef()));
    compressing.expectMessageClass(Topic.Unsubscribed.class);
    t.ref().tell(new Topic.Publish(t.name(), "r3", publisher.getRef(), null, RawJson.of(large)));
    assertEquals(null, plain.expectMessageClass(Topic.Events.class).compressedFrames());
  }

  /**
   * A replay to subscribers that agreed to compression is compressed by the topic once per event and
   * shared by all of them, and counted in the history's memory; plain subscribers get plain replays.
   */
  @Test
  void compressedReplaysAreMadeOncePerEventAndSharedAndTheirBytesCounted() throws Exception {
    HistoryMemory memory = new HistoryMemory(10_000_000);
    Fixture t = topic(100, memory);
    TestProbe<Topic.Reply> publisher = probe();
    JsonNode large = JsonNodeFactory.instance.objectNode().put("text", "compressible ".repeat(100));
    JsonNode small = JsonNodeFactory.instance.objectNode().put("n", 1);
    t.ref().tell(new Topic.Publish(t.name(), "r1", publisher.getRef(), null, RawJson.of(large)));
    t.ref().tell(new Topic.Publish(t.name(), "r2", publisher.getRef(), null, RawJson.of(small)));
    publisher.expectMessageClass(Topic.Published.class);
    publisher.expectMessageClass(Topic.Published.class);
    long plainWeight = memory.retainedBytes();

    List<ByteString> first = compressedReplay(t, "c1");
    List<ByteString> second = compressedReplay(t, "c2");
    assertEquals(0xC1, first.get(0).apply(0) & 0xFF, "FIN, RSV1 and text");
    JsonNode replayed = JsonCodec.parse(inflate(first.get(0)));
    assertEquals(large, replayed.get("message").get("payload"));
    assertTrue(replayed.get("replay").asBoolean(), replayed::toString);
    assertSame(first.get(0), second.get(0), "one compressed frame for every such subscriber");
    assertEquals(0x81, first.get(1).apply(0) & 0xFF, "an event under 256 bytes is replayed uncompressed");
    assertEquals(plainWeight + first.get(0).size(), memory.retainedBytes(), "the compressed frame is counted once");

    TestProbe<Topic.Reply> plain = probe();
    t.ref().tell(new Topic.Subscribe(t.name(), "p", plain.getRef(), "client", 100, null, null, false));
    ByteString plainReplay = plain.expectMessageClass(Topic.Subscribed.class).replay().get(0);
    assertEquals(0x81, plainReplay.apply(0) & 0xFF, "FIN and text, not compressed");
  }

  private List<ByteString> compressedReplay(Fixture t, String requestId) {
    TestProbe<Topic.Reply> subscriber = probe();
    t.ref().tell(new Topic.Subscribe(t.name(), requestId, subscriber.getRef(), "client", 100, null, null, true));
    List<ByteString> replay = subscriber.expectMessageClass(Topic.Subscribed.class).replay();
    assertEquals(2, replay.size());
    return replay;
  }

  /** The text of a compressed server frame, inflated as a client does. */
  private static String inflate(ByteString frame) throws java.util.zip.DataFormatException {
    return DeflateClient.inflate(WebSocketFrames.payloadOf(frame).toArray());
  }

  @Test
  void everySubscriberReceivesTheSameEventWithTheContractFields() {
    Fixture t = topic(100);
    List<TestProbe<Topic.Reply>> subscribers = List.of(probe(), probe(), probe());
    for (TestProbe<Topic.Reply> s : subscribers) assertEquals(List.of(), subscribe(t, s, "s", 0).replay());

    TestProbe<Topic.Reply> publisher = probe();
    String id = UUID.randomUUID().toString();
    JsonNode body = JsonNodeFactory.instance.objectNode().put("any", "json").put("caf\u00e9", "\uD83D\uDE00");
    t.ref().tell(new Topic.Publish(t.name(), "r1", publisher.getRef(), id, RawJson.of(body)));
    publisher.expectMessage(new Topic.Published("r1", t.name(), 1));

    List<Topic.Events> received = new ArrayList<>();
    for (TestProbe<Topic.Reply> s : subscribers) received.add(s.expectMessageClass(Topic.Events.class));
    assertSame(received.get(0), received.get(1), "encoded once, one message for all");
    assertSame(received.get(0), received.get(2));
    assertEquals(t.ref(), received.get(0).from(), "drops are reported to the topic the event came from");
    assertEquals(1, received.get(0).frames().size());

    JsonNode json = frameJson(received.get(0).frames().get(0));
    assertEquals("event", json.get("type").asText());
    assertEquals(t.name(), json.get("topic").asText());
    assertEquals(id, json.get("message").get("id").asText());
    assertEquals(body, json.get("message").get("payload"));
    assertEquals(1, json.get("offset").asLong());
    assertTrue(json.get("offset").isIntegralNumber());
    assertTrue(json.get("ts").asText().matches(TS_PATTERN), json.get("ts").asText());
    assertFalse(json.has("replay"), "a live event is not a replay");
  }

  @Test
  void aBurstOfPublishesArrivesInBoundedBatchesInOffsetOrderWithNothingLeftOut() {
    Fixture t = topic(100);
    assertBurstArrivesInBatchesOfAtMost(t, FanOutBatch.MOST_EVENTS, Long.MAX_VALUE);
  }

  /** A subscriber's queue takes a batch whole before it writes any: no batch may overflow it, whatever its size. */
  @Test
  void batchesHoldNoMoreEventsOrBytesThanTheSubscribersQueues() {
    assertBurstArrivesInBatchesOfAtMost(topic(FanOutBatch.fitting(16, 0)), 16, Long.MAX_VALUE);
    // Events of about 130 bytes: 7 fit in 1,000.
    assertBurstArrivesInBatchesOfAtMost(topic(FanOutBatch.fitting(256, 1_000)), 64, 1_000);
  }

  private void assertBurstArrivesInBatchesOfAtMost(Fixture t, int maxEvents, long maxBytes) {
    TestProbe<Topic.Reply> a = subscribedProbe(t, "a");
    TestProbe<Topic.Reply> b = subscribedProbe(t, "b");
    int total = 3 * FanOutBatch.MOST_EVENTS + 5;
    publishAndAwait(t, total);
    for (TestProbe<Topic.Reply> s : List.of(a, b)) {
      List<Long> offsets = new ArrayList<>();
      int batches = 0;
      while (offsets.size() < total) {
        Topic.Events batch = s.expectMessageClass(Topic.Events.class);
        batches++;
        assertTrue(batch.frames().size() <= maxEvents, "batch of " + batch.frames().size());
        long bytes = batch.frames().stream().mapToLong(ByteString::size).sum();
        assertTrue(bytes <= maxBytes, "batch of " + bytes + " bytes");
        for (ByteString frame : batch.frames()) offsets.add(offsetOf(frame));
        // The connection reports the newest offset it received as it leaves; the topic counts the rest as dropped.
        assertEquals(offsets.get(offsets.size() - 1), batch.lastOffset(), "a batch names its own newest event");
      }
      assertEquals(range(1, total), offsets);
      assertTrue(batches < total, "publishes handled together travel together: " + batches + " batches");
      s.expectNoMessage(Duration.ofMillis(50));
    }
  }

  @Test
  void underPacingPublishesCloseAfterAFanOutReachEachSubscriberTogetherLaterWhileTheirAcksDoNotWait() {
    Fixture t = pacedTopic(Duration.ofSeconds(1));
    TestProbe<Topic.Reply> a = subscribedProbe(t, "a");
    TestProbe<Topic.Reply> b = subscribedProbe(t, "b");
    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, "p1", payload(1));
    publisher.expectMessage(new Topic.Published("p1", t.name(), 1));
    for (TestProbe<Topic.Reply> s : List.of(a, b)) {
      assertEquals(List.of(1L), offsetsOf(s.expectMessageClass(Topic.Events.class)), "the first fan-out goes at once");
    }
    publish(t, publisher, "p2", payload(2));
    publish(t, publisher, "p3", payload(3));
    publisher.expectMessage(new Topic.Published("p2", t.name(), 2));
    publisher.expectMessage(new Topic.Published("p3", t.name(), 3));
    a.expectNoMessage(Duration.ofMillis(300));
    for (TestProbe<Topic.Reply> s : List.of(a, b)) {
      Topic.Events later = s.expectMessageClass(Topic.Events.class, Duration.ofSeconds(10));
      assertEquals(List.of(2L, 3L), offsetsOf(later), "two subscribers x 1 s: held up to 2 s, then one message");
    }
  }

  @Test
  void aPublishAfterAQuietSpellReachesTheSubscribersBeforeItsAck() {
    // One probe both subscribes and publishes, as a connection can: what it hears first is the order.
    Fixture t = topic(100);
    TestProbe<Topic.Reply> connection = subscribedProbe(t, "s");
    publish(t, connection, "p1", payload(1));
    assertEquals(List.of(1L), offsetsOf(connection.expectMessageClass(Topic.Events.class)));
    connection.expectMessage(new Topic.Published("p1", t.name(), 1));
  }

  private static List<Long> offsetsOf(Topic.Events events) {
    return events.frames().stream().map(TopicTest::offsetOf).toList();
  }

  @Test
  void aSubscriberThatJoinsDuringABurstGetsEachEventOnceEitherReplayedOrLive() {
    Fixture t = topic(1_000);
    TestProbe<Topic.Reply> publisher = probe();
    for (int i = 0; i < 100; i++) publish(t, publisher, "p" + i, payload(i));
    TestProbe<Topic.Reply> late = probe();
    t.ref().tell(new Topic.Subscribe(t.name(), "late", late.getRef(), "client", 1_000, null, null));
    for (int i = 100; i < 200; i++) publish(t, publisher, "p" + i, payload(i));
    Topic.Subscribed subscribed = late.expectMessageClass(Topic.Subscribed.class);
    List<Long> offsets = new ArrayList<>();
    for (ByteString frame : subscribed.replay()) offsets.add(offsetOf(frame));
    while (offsets.size() < 200) offsets.add(offsetOf(events.next(late).frame()));
    assertEquals(range(1, 200), offsets);
    assertTrue(events.allRead());
  }

  @Test
  void theTopicAssignsAUuidWhenThePublisherGaveNone() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "s");
    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, "a", payload(1));
    publish(t, publisher, "b", payload(2));
    String id1 = frameJson(events.next(subscriber).frame()).get("message").get("id").asText();
    String id2 = frameJson(events.next(subscriber).frame()).get("message").get("id").asText();
    assertEquals(id1, UUID.fromString(id1).toString());
    assertEquals(id2, UUID.fromString(id2).toString());
    assertFalse(id1.equals(id2), "each message gets its own id");
  }

  @Test
  void anyJsonPayloadAndLargeFramesArriveIntact() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "s");
    TestProbe<Topic.Reply> publisher = probe();
    JsonNodeFactory f = JsonNodeFactory.instance;
    List<JsonNode> payloads = List.of(
        f.nullNode(), f.textNode("text"), f.numberNode(42), f.booleanNode(false),
        f.arrayNode().add(1).add("two").addNull(),
        f.textNode("x".repeat(1_000)),   // 16-bit length header
        f.textNode("y".repeat(70_000))); // 64-bit length header
    for (JsonNode p : payloads) publish(t, publisher, "p", p);
    for (JsonNode p : payloads) {
      JsonNode json = frameJson(events.next(subscriber).frame());
      assertTrue(json.get("message").has("payload"));
      assertEquals(p, json.get("message").get("payload"));
    }
  }

  @Test
  void publishingWithoutSubscribersOnlyAcks() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, "r", payload(1));
    publish(t, publisher, "r", payload(2));
    publisher.expectMessage(new Topic.Published("r", t.name(), 1));
    publisher.expectMessage(new Topic.Published("r", t.name(), 2));
  }

  // ---------------------------------------------------------------- ordering

  @Test
  void subscribersSeeOffsetsInOrderWithoutDuplicatesUnderConcurrentPublishers() throws Exception {
    Fixture t = topic(100);
    List<TestProbe<Topic.Reply>> subscribers = List.of(probe(), probe(), probe());
    for (TestProbe<Topic.Reply> s : subscribers) subscribe(t, s, "s", 0);

    int publishers = 4;
    int perPublisher = 150;
    List<TestProbe<Topic.Reply>> publisherProbes = new ArrayList<>();
    for (int p = 0; p < publishers; p++) publisherProbes.add(probe());
    ExecutorService pool = Executors.newFixedThreadPool(publishers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (TestProbe<Topic.Reply> p : publisherProbes) {
        done.add(pool.submit(() -> {
          for (int i = 0; i < perPublisher; i++) publish(t, p, "r" + i, payload(i));
        }));
      }
      for (Future<?> d : done) d.get();
    } finally {
      pool.shutdown();
    }

    int total = publishers * perPublisher;
    List<Long> allAcked = new ArrayList<>();
    for (TestProbe<Topic.Reply> p : publisherProbes) {
      long previous = 0;
      for (int i = 0; i < perPublisher; i++) {
        Topic.Published ack = p.expectMessageClass(Topic.Published.class);
        assertEquals("r" + i, ack.requestId(), "acks come back in the order of the publisher's requests");
        assertTrue(ack.offset() > previous, "one publisher's messages get increasing offsets");
        previous = ack.offset();
        allAcked.add(ack.offset());
      }
    }
    allAcked.sort(null);
    assertEquals(range(1, total), allAcked, "every offset is given exactly once");

    for (TestProbe<Topic.Reply> s : subscribers) {
      List<Long> seen = new ArrayList<>();
      for (int i = 0; i < total; i++) seen.add(offsetOf(events.next(s).frame()));
      assertEquals(range(1, total), seen);
    }
  }

  // ---------------------------------------------------------------- replay

  @Test
  void subscribeWithLastNReplaysTheNewestThenLiveEventsWithoutGapOrDuplicateInOneBurst() {
    Fixture t = topic(100);
    assertEquals(range(1, 10), publishAndAwait(t, 10));

    TestProbe<Topic.Reply> publisher = probe();
    TestProbe<Topic.Reply> subscriber = probe();
    // One burst from this thread: the topic sees the messages in exactly this order.
    for (int i = 11; i <= 13; i++) publish(t, publisher, "p" + i, payload(i));
    t.ref().tell(new Topic.Subscribe(t.name(), "sub", subscriber.getRef(), null, 5, null, null));
    for (int i = 14; i <= 20; i++) publish(t, publisher, "p" + i, payload(i));

    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals("sub", subscribed.requestId());
    assertNull(subscribed.recovered(), "recovered is only claimed for since_offset");
    assertEquals(range(9, 13), replayOffsets(subscribed), "the 5 newest at the time of subscribing");
    for (long o = 14; o <= 20; o++) {
      assertEquals(o, offsetOf(events.next(subscriber).frame()));
    }
    // no duplicate after the last one either: next come our own publish's ack and its event, alone
    assertTrue(events.allRead(), "nothing after event 20 in its batch");
    publish(t, subscriber, "own", payload(21));
    expectAckAndOwnEvent(t, subscriber, "own", 21);
  }

  @Test
  void replayThenLiveIsContiguousWhileAnotherThreadPublishes() throws Exception {
    Fixture t = topic(100);
    publishAndAwait(t, 60);
    int more = 400;
    TestProbe<Topic.Reply> publisher = probe();
    TestProbe<Topic.Reply> subscriber = probe();
    Thread background = new Thread(() -> {
      for (int i = 0; i < more; i++) publish(t, publisher, "bg", payload(i));
    });
    background.start();
    t.ref().tell(new Topic.Subscribe(t.name(), "sub", subscriber.getRef(), null, 50, null, null));
    background.join();

    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    List<Long> replay = replayOffsets(subscribed);
    assertEquals(50, replay.size(), "at least 60 were retained when the subscribe arrived");
    long lastReplayed = replay.get(replay.size() - 1);
    assertEquals(range(lastReplayed - 49, lastReplayed), replay);
    long total = 60 + more;
    for (long o = lastReplayed + 1; o <= total; o++) {
      assertEquals(o, offsetOf(events.next(subscriber).frame()), "no gap, no duplicate");
    }
  }

  @Test
  void replayedFramesAreTheLiveEventsMarkedAsReplay() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> live = subscribedProbe(t, "live");
    publishAndAwait(t, 3);
    List<JsonNode> liveJson = new ArrayList<>();
    for (int i = 0; i < 3; i++) liveJson.add(frameJson(events.next(live).frame()));

    Topic.Subscribed subscribed = subscribe(t, probe(), "late", 3);
    assertEquals(3, subscribed.replay().size());
    for (int i = 0; i < 3; i++) {
      ObjectNode expected = liveJson.get(i).deepCopy();
      expected.put("replay", true);
      assertEquals(expected, frameJson(subscribed.replay().get(i)));
    }
  }

  @Test
  void lastNZeroReplaysNothingAndLargeLastNReplaysAllRetained() {
    Fixture t = topic(5);
    publishAndAwait(t, 8);
    assertEquals(List.of(), subscribe(t, probe(), "zero", 0).replay());
    assertEquals(range(4, 8), replayOffsets(subscribe(t, probe(), "many", 1000)));
    assertEquals(range(7, 8), replayOffsets(subscribe(t, probe(), "two", 2)));
  }

  @Test
  void replayOfAnEmptyTopicIsEmpty() {
    Fixture t = topic(100);
    assertEquals(List.of(), subscribe(t, probe(), "s", 10).replay());
    Topic.Subscribed since = subscribeSince(t, probe(), 0, t.epoch());
    assertEquals(List.of(), since.replay());
    assertEquals(Boolean.TRUE, since.recovered(), "nothing was ever missed");
  }

  /** A client that loses its connection before it reads an event resumes after newestOffset minus replayed. */
  @Test
  void theAnswerNamesTheNewestOffsetWhereTheReplayEndsAndLiveEventsBegin() {
    Fixture t = topic(5);
    assertEquals(0, subscribe(t, probe(), "empty", 10).newestOffset(), "nothing published yet");
    publishAndAwait(t, 12); // retains 8..12
    Topic.Subscribed lastTwo = subscribe(t, probe(), "two", 2);
    assertEquals(12, lastTwo.newestOffset());
    assertEquals(range(lastTwo.newestOffset() - lastTwo.replayed() + 1, 12), replayOffsets(lastTwo));
    Topic.Subscribed evicted = subscribeSince(t, probe(), 3, t.epoch());
    assertEquals(12, evicted.newestOffset());
    assertEquals(range(evicted.newestOffset() - evicted.replayed() + 1, 12), replayOffsets(evicted));
    Topic.Subscribed none = subscribe(t, probe(), "none", 0);
    assertEquals(12, none.newestOffset());

    TestProbe<Topic.Reply> live = probe();
    subscribe(t, live, "live", 0);
    publish(t, probe(), "p13", payload(13));
    assertEquals(13, offsetOf(events.next(live).frame()), "the first live event comes after the newest offset");
    assertEquals(13, subscribe(t, live, "again", 0).newestOffset(), "subscribing again names the newest too");
  }

  @Test
  void withoutHistoryNothingIsReplayed() {
    Fixture t = topic(0);
    publishAndAwait(t, 3);
    assertEquals(List.of(), subscribe(t, probe(), "s", 10).replay());
    Topic.Subscribed behind = subscribeSince(t, probe(), 1, t.epoch());
    assertEquals(List.of(), behind.replay());
    assertEquals(Boolean.FALSE, behind.recovered(), "offsets 2 and 3 were not retained");
    Topic.Subscribed upToDate = subscribeSince(t, probe(), 3, t.epoch());
    assertEquals(Boolean.TRUE, upToDate.recovered());
  }

  // ---------------------------------------------------------------- reading history without subscribing

  private static Topic.History readHistory(Fixture t, int limit, Long since, String epoch) {
    TestProbe<Topic.Reply> reader = probe();
    t.ref().tell(new Topic.ReadHistory(t.name(), limit, since, epoch, reader.getRef()));
    Topic.History history = reader.expectMessageClass(Topic.History.class);
    assertEquals(t.epoch(), history.epoch());
    return history;
  }

  private static List<Long> historyOffsets(Topic.History history) {
    List<Long> offsets = new ArrayList<>();
    for (ByteString json : history.events()) {
      JsonNode event = parseJson(json);
      assertEquals("event", event.path("type").asText(), event::toString);
      assertFalse(event.has("replay"), "read as published: " + event);
      offsets.add(event.path("offset").asLong());
    }
    return offsets;
  }

  private static JsonNode parseJson(ByteString json) {
    try {
      return JsonCodec.parse(json.utf8String());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + json.utf8String(), e);
    }
  }

  @Test
  void historyReadsTheNewestOrWhatFollowsAnOffsetUpToTheLimit() {
    Fixture t = topic(5);
    Topic.History empty = readHistory(t, 10, null, null);
    assertEquals(List.of(), empty.events());
    assertEquals(0, empty.newestOffset());
    assertFalse(empty.more());
    assertNull(empty.recovered(), "recovered answers since_offset only");

    publishAndAwait(t, 12); // retains 8..12
    Topic.History newest = readHistory(t, 3, null, null);
    assertEquals(range(10, 12), historyOffsets(newest));
    assertEquals(12, newest.newestOffset());
    assertFalse(newest.more());
    assertEquals(range(8, 12), historyOffsets(readHistory(t, 100, null, null)), "all that is retained");

    Topic.History after9 = readHistory(t, 2, 8L, t.epoch());
    assertEquals(List.of(9L, 10L), historyOffsets(after9));
    assertEquals(Boolean.TRUE, after9.recovered());
    assertTrue(after9.more(), "11 and 12 follow");
    Topic.History rest = readHistory(t, 100, 10L, null);
    assertEquals(List.of(11L, 12L), historyOffsets(rest));
    assertFalse(rest.more());

    Topic.History evicted = readHistory(t, 100, 3L, t.epoch());
    assertEquals(Boolean.FALSE, evicted.recovered(), "4..7 are gone");
    assertEquals(range(8, 12), historyOffsets(evicted));
    Topic.History otherEpoch = readHistory(t, 100, 11L, "an-older-epoch");
    assertEquals(Boolean.FALSE, otherEpoch.recovered());
    assertEquals(range(8, 12), historyOffsets(otherEpoch), "from the oldest retained, as a subscribe's replay");
    Topic.History upToDate = readHistory(t, 100, 12L, t.epoch());
    assertEquals(List.of(), upToDate.events());
    assertEquals(Boolean.TRUE, upToDate.recovered());
    assertEquals(0, stats(t).subscribers(), "reading subscribes nobody");
  }

  @Test
  void historyAnswersAtMostAReplayPageOfBytesAndAtLeastOneEvent() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> publisher = probe();
    String large = "x".repeat((int) (Topic.REPLAY_PAGE_BYTES / 3));
    for (int i = 1; i <= 5; i++) {
      t.ref().tell(new Topic.Publish(t.name(), "p" + i, publisher.getRef(), null, RawJson.of("\"" + large + "\"")));
      publisher.expectMessageClass(Topic.Published.class);
    }
    Topic.History first = readHistory(t, 100, 0L, null);
    assertEquals(List.of(1L, 2L), historyOffsets(first), "a third would pass the page's bytes");
    assertTrue(first.more());
    assertEquals(List.of(3L, 4L), historyOffsets(readHistory(t, 100, 2L, null)));

    String huge = "y".repeat((int) Topic.REPLAY_PAGE_BYTES + 10);
    t.ref().tell(new Topic.Publish(t.name(), "p6", publisher.getRef(), null, RawJson.of("\"" + huge + "\"")));
    publisher.expectMessageClass(Topic.Published.class);
    assertEquals(List.of(6L), historyOffsets(readHistory(t, 100, 5L, null)), "one event larger than a page still comes");
  }

  // ---------------------------------------------------------------- since_offset

  @Test
  void sinceOffsetRecoversWhenEverythingAfterItIsRetained() {
    Fixture t = topic(10);
    publishAndAwait(t, 5);
    Topic.Subscribed s = subscribeSince(t, probe(), 2, t.epoch());
    assertEquals(Boolean.TRUE, s.recovered());
    assertEquals(range(3, 5), replayOffsets(s));

    Topic.Subscribed all = subscribeSince(t, probe(), 0, t.epoch());
    assertEquals(Boolean.TRUE, all.recovered());
    assertEquals(range(1, 5), replayOffsets(all));

    Topic.Subscribed upToDate = subscribeSince(t, probe(), 5, t.epoch());
    assertEquals(Boolean.TRUE, upToDate.recovered());
    assertEquals(List.of(), upToDate.replay());
  }

  @Test
  void sinceOffsetWithoutEpochAssumesTheCurrentOne() {
    Fixture t = topic(10);
    publishAndAwait(t, 5);
    Topic.Subscribed s = subscribeSince(t, probe(), 3, null);
    assertEquals(Boolean.TRUE, s.recovered());
    assertEquals(range(4, 5), replayOffsets(s));
  }

  @Test
  void sinceOffsetIsNotRecoveredWhenEventsWereEvicted() {
    Fixture t = topic(5);
    publishAndAwait(t, 12); // retains 8..12
    Topic.Subscribed evicted = subscribeSince(t, probe(), 3, t.epoch());
    assertEquals(Boolean.FALSE, evicted.recovered());
    assertEquals(range(8, 12), replayOffsets(evicted), "the replay starts at the oldest retained event");

    Topic.Subscribed justEvicted = subscribeSince(t, probe(), 6, t.epoch());
    assertEquals(Boolean.FALSE, justEvicted.recovered(), "offset 7 is gone");
    assertEquals(range(8, 12), replayOffsets(justEvicted));

    Topic.Subscribed edge = subscribeSince(t, probe(), 7, t.epoch());
    assertEquals(Boolean.TRUE, edge.recovered(), "8..12 are all there");
    assertEquals(range(8, 12), replayOffsets(edge));
  }

  @Test
  void sinceOffsetWithAnotherEpochIsNeverRecovered() {
    Fixture t = topic(5);
    publishAndAwait(t, 12); // retains 8..12
    Topic.Subscribed s = subscribeSince(t, probe(), 10, "some-older-epoch");
    assertEquals(Boolean.FALSE, s.recovered());
    assertEquals(range(8, 12), replayOffsets(s), "the replay starts from the oldest retained event");

    Fixture small = topic(100);
    publishAndAwait(small, 3);
    Topic.Subscribed s2 = subscribeSince(small, probe(), 3, "other");
    assertEquals(Boolean.FALSE, s2.recovered());
    assertEquals(range(1, 3), replayOffsets(s2));
  }

  /** PROTOCOL: since_offset replays every retained event with a larger offset; past the newest there is none. */
  @Test
  void sinceOffsetBeyondTheNewestInThisEpochReplaysNothingAndIsNotRecovered() {
    Fixture t = topic(10);
    publishAndAwait(t, 5);
    for (String epoch : new String[] {t.epoch(), null}) {
      TestProbe<Topic.Reply> subscriber = probe();
      Topic.Subscribed s = subscribeSince(t, subscriber, 9, epoch);
      assertEquals(Boolean.FALSE, s.recovered(), "this epoch never reached offset 9");
      assertEquals(List.of(), s.replay(), "no retained event has a larger offset");
      assertEquals(0, s.replayed());
      long next = publishAndAwait(t, 1).get(0);
      assertEquals(next, offsetOf(events.next(subscriber).frame()), "live events follow");
    }
  }

  @Test
  void recoveredIsAbsentWithoutSinceOffset() {
    Fixture t = topic(10);
    publishAndAwait(t, 3);
    Topic.Subscribed s = subscribe(t, probe(), "s", 2);
    assertNull(s.recovered());
    assertEquals(range(2, 3), replayOffsets(s));
  }

  @Test
  void sinceOffsetReplayIsFollowedByLiveEventsWithoutGap() {
    Fixture t = topic(10);
    publishAndAwait(t, 4);
    TestProbe<Topic.Reply> publisher = probe();
    TestProbe<Topic.Reply> subscriber = probe();
    publish(t, publisher, "p5", payload(5));
    t.ref().tell(new Topic.Subscribe(t.name(), "s", subscriber.getRef(), null, 0, 2L, t.epoch()));
    publish(t, publisher, "p6", payload(6));
    Topic.Subscribed s = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(Boolean.TRUE, s.recovered());
    assertEquals(range(3, 5), replayOffsets(s));
    assertEquals(6, offsetOf(events.next(subscriber).frame()));
  }

  // ---------------------------------------------------------------- subscription lifecycle

  @Test
  void subscribingTwiceIsOneSubscription() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "first");
    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, "p1", payload(1));
    assertEquals(1, offsetOf(events.next(subscriber).frame()));

    Topic.Subscribed again = subscribe(t, subscriber, "second", 10);
    assertEquals(List.of(), again.replay(), "no replay of what this subscriber already had");
    assertEquals(1, stats(t).subscribers());

    publish(t, publisher, "p2", payload(2));
    publish(t, publisher, "p3", payload(3));
    assertEquals(2, offsetOf(events.next(subscriber).frame()));
    assertEquals(3, offsetOf(events.next(subscriber).frame()), "only one copy of event 2");
    // and only one copy of event 3: next come our own publish's ack and its event, alone
    assertTrue(events.allRead(), "nothing after event 3 in its batch");
    publish(t, subscriber, "own", payload(4));
    expectAckAndOwnEvent(t, subscriber, "own", 4);
  }

  /** A client that saw a gap (its queue dropped events) asks again since its last offset, on the same connection. */
  @Test
  void subscribingAgainWithSinceOffsetReplaysWhatIsRetainedAfterItAndStaysOneSubscription() {
    Fixture t = topic(3);
    publishAndAwait(t, 3);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "first");
    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, "p4", payload(4));
    assertEquals(4, offsetOf(events.next(subscriber).frame()));

    t.ref().tell(new Topic.Subscribe(t.name(), "since-2", subscriber.getRef(), null, 0, 2L, t.epoch()));
    Topic.Subscribed since2 = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(Boolean.TRUE, since2.recovered(), "events 3 and 4 are retained");
    assertEquals(List.of(3L, 4L), since2.replay().stream().map(TopicTest::offsetOf).toList());
    assertTrue(since2.replay().stream().allMatch(frame -> frameJson(frame).path("replay").asBoolean()), "flagged as replays");

    t.ref().tell(new Topic.Subscribe(t.name(), "since-0", subscriber.getRef(), null, 0, 0L, t.epoch()));
    Topic.Subscribed since0 = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(Boolean.FALSE, since0.recovered(), "event 1 was evicted (3 retained)");
    assertEquals(List.of(2L, 3L, 4L), since0.replay().stream().map(TopicTest::offsetOf).toList());

    assertEquals(1, stats(t).subscribers());
    publish(t, publisher, "p5", payload(5));
    assertEquals(5, offsetOf(events.next(subscriber).frame()), "still subscribed, live");
    assertTrue(events.allRead(), "one copy of event 5");
    subscriber.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void unsubscribeEndsTheSubscription() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "s");
    assertEquals(1, stats(t).subscribers());

    t.ref().tell(new Topic.Unsubscribe(t.name(), "u1", subscriber.getRef()));
    subscriber.expectMessage(new Topic.Unsubscribed("u1", t.name()));
    assertEquals(0, stats(t).subscribers());

    // no more events: if still subscribed, the event would arrive before the answer to u2
    // (a topic fans out what is pending before any membership request)
    publish(t, subscriber, "own", payload(1));
    subscriber.expectMessage(new Topic.Published("own", t.name(), 1));

    t.ref().tell(new Topic.Unsubscribe(t.name(), "u2", subscriber.getRef()));
    subscriber.expectMessage(new Topic.NotSubscribed("u2", t.name()));
  }

  @Test
  void unsubscribeWithoutSubscriptionIsNotSubscribed() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> stranger = probe();
    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", stranger.getRef()));
    stranger.expectMessage(new Topic.NotSubscribed("u", t.name()));
  }

  @Test
  void subscribeAgainAfterUnsubscribeGetsReplayAndEventsAgain() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "s1");
    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", subscriber.getRef()));
    subscriber.expectMessage(new Topic.Unsubscribed("u", t.name()));
    publishAndAwait(t, 2);
    assertEquals(range(1, 2), replayOffsets(subscribe(t, subscriber, "s2", 5)));
    publish(t, probe(), "p", payload(3));
    assertEquals(3, offsetOf(events.next(subscriber).frame()));
  }

  @Test
  void aSubscriberThatStopsLeavesTheTopic() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> behind = probe();
    ActorRef<Topic.Reply> connection = testKit.spawn(forwardTo(behind.getRef()));
    TestProbe<Topic.Reply> other = probe();
    t.ref().tell(new Topic.Subscribe(t.name(), "s", connection, null, 0, null, null));
    assertInstanceOf(Topic.Subscribed.class, behind.receiveMessage());
    subscribe(t, other, "o", 0);
    assertEquals(2, stats(t).subscribers());

    testKit.stop(connection);
    TestProbe<Topic.Stats> statsProbe = testKit.createTestProbe(Topic.Stats.class);
    statsProbe.awaitAssert(() -> {
      t.ref().tell(new Topic.GetStats(statsProbe.getRef()));
      assertEquals(1, statsProbe.receiveMessage().subscribers());
      return null;
    });

    // the topic keeps working for the others
    publish(t, probe(), "p", payload(1));
    assertEquals(1, offsetOf(events.next(other).frame()));
  }

  @Test
  void aStoppedProbeSubscriberLeavesTheTopic() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "s");
    subscriber.stop();
    TestProbe<Topic.Stats> statsProbe = testKit.createTestProbe(Topic.Stats.class);
    statsProbe.awaitAssert(() -> {
      t.ref().tell(new Topic.GetStats(statsProbe.getRef()));
      assertEquals(0, statsProbe.receiveMessage().subscribers());
      return null;
    });
  }

  @Test
  void aLeavingConnectionsEventsAfterTheNewestItReceivedAreCountedAsDroppedAndItLeavesTheTopic() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String name = "topic-test-" + NAMES.incrementAndGet();
    Fixture t = new Fixture(name, "e", testKit.spawn(Topic.create(
        name, "e", 100, HistoryMemory.unlimited(), Settings.FanOutPacing.OFF, FanOutBatch.UNBOUNDED_QUEUES,
        new ServerMetrics(registry))));
    publishAndAwait(t, 2);
    TestProbe<Topic.Reply> leaving = probe();
    assertEquals(2, subscribe(t, leaving, "s", 2).replayed(), "offsets 1 and 2 come as its replay");
    TestProbe<Topic.Reply> staying = subscribedProbe(t, "stays");
    publishAndAwait(t, 5);
    for (long offset = 3; offset <= 7; offset++) assertEquals(offset, offsetOf(events.next(leaving).frame()));

    t.ref().tell(new Topic.Leave(name, leaving.getRef(), 4));
    assertEquals(new Topic.Stats(name, 7, 1, 3), stats(t), "5, 6 and 7 were sent after the newest it received");
    assertEquals(3.0, registry.get("pubsub.events.dropped").tag("reason", "closing").counter().count());
    publishAndAwait(t, 1);
    leaving.expectNoMessage(Duration.ofMillis(100));
    for (long offset = 3; offset <= 8; offset++) assertEquals(offset, offsetOf(events.next(staying).frame()));
  }

  @Test
  void aConnectionThatLeavesHavingReceivedNoEventLosesOnlyThoseAfterItsReplayAndALeaveForANonMemberChangesNothing() {
    Fixture t = topic(100);
    publishAndAwait(t, 3);
    TestProbe<Topic.Reply> leaving = probe();
    subscribe(t, leaving, "s", 3);
    publishAndAwait(t, 2);
    t.ref().tell(new Topic.Leave(t.name(), leaving.getRef(), 0));
    assertEquals(new Topic.Stats(t.name(), 5, 0, 2), stats(t), "its replay (1-3) reached it; 4 and 5 are lost");

    t.ref().tell(new Topic.Leave(t.name(), probe().getRef(), 0));
    t.ref().tell(new Topic.Leave(t.name(), leaving.getRef(), 0));
    assertEquals(new Topic.Stats(t.name(), 5, 0, 2), stats(t));
  }

  /** The events sent before an unsubscribe are lost with a connection that ends before it reads the answer. */
  @Test
  void aConnectionThatLeavesWithItsUnsubscribeUnansweredLosesTheEventsSentBeforeItUnlessItReadTheAnswer() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> leaving = subscribedProbe(t, "s");
    publishAndAwait(t, 4);
    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", leaving.getRef()));
    publishAndAwait(t, 1);
    t.ref().tell(new Topic.Leave(t.name(), leaving.getRef(), 1));
    assertEquals(new Topic.Stats(t.name(), 5, 0, 3), stats(t), "2, 3 and 4 were sent before the unsubscribe; 5 after it");

    TestProbe<Topic.Reply> stays = subscribedProbe(t, "s2");
    publishAndAwait(t, 2);
    unsubscribeReadingUpToTheAnswer(t, stays, "u2"); // it reads its events first
    t.ref().tell(new Topic.UnsubscribesAnswered(t.name(), stays.getRef()));
    subscribe(t, stays, "s3", 0);
    t.ref().tell(new Topic.Leave(t.name(), stays.getRef(), 0));
    assertEquals(new Topic.Stats(t.name(), 7, 0, 3), stats(t), "it read the answer, so it had 6 and 7");
  }

  @Test
  void aConnectionThatReceivedEverythingLeavesWithNothingDropped() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> leaving = subscribedProbe(t, "s");
    publishAndAwait(t, 4);
    t.ref().tell(new Topic.Leave(t.name(), leaving.getRef(), 4));
    assertEquals(new Topic.Stats(t.name(), 4, 0, 0), stats(t));
  }

  /**
   * A connection's Leave goes through the manager, so the topic's watch of its actor can fire
   * first: the events it was sent after the newest it received are lost all the same, those of a
   * subscription and those sent before an unsubscribe it did not read the answer to.
   */
  @Test
  void aConnectionWhoseEndTheTopicSeesBeforeItsLeaveLosesTheEventsSentAfterTheNewestItReceived() {
    Fixture t = topic(100);
    publishAndAwait(t, 2);
    TestProbe<Topic.Reply> fresh = probe();
    assertEquals(range(1, 2), replayOffsets(subscribe(t, fresh, "fresh", 2)));
    TestProbe<Topic.Reply> again = subscribedProbe(t, "again");
    publishAndAwait(t, 2);
    unsubscribeReadingUpToTheAnswer(t, again, "u"); // it reads 3 and 4 first
    subscribe(t, again, "again", 0);
    publishAndAwait(t, 2);

    fresh.stop();
    again.stop();
    awaitSubscribers(t, 0);
    t.ref().tell(new Topic.Leave(t.name(), fresh.getRef(), 0));
    t.ref().tell(new Topic.Leave(t.name(), again.getRef(), 3));
    assertEquals(new Topic.Stats(t.name(), 6, 0, 4 + 3), stats(t),
        "3 to 6 sent after its replay; 4 before the unsubscribe it did not read the answer to, 5 and 6 after its new subscribe");
  }

  /** A connection that read its unsubscribe's answer says so through the manager too: that settles the events before it, not those after. */
  @Test
  void aConnectionWhoseEndTheTopicSeesBeforeItsUnsubscribesAnsweredAndItsLeaveLosesTheEventsOfItsNewSubscription() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> again = subscribedProbe(t, "again");
    publishAndAwait(t, 2);
    unsubscribeReadingUpToTheAnswer(t, again, "u"); // it reads 1 and 2 first
    subscribe(t, again, "again", 0);
    publishAndAwait(t, 2);

    again.stop();
    awaitSubscribers(t, 0);
    t.ref().tell(new Topic.UnsubscribesAnswered(t.name(), again.getRef()));
    t.ref().tell(new Topic.Leave(t.name(), again.getRef(), 2));
    assertEquals(new Topic.Stats(t.name(), 4, 0, 2), stats(t), "3 and 4, sent after its new subscribe");
  }

  /**
   * A live subscriber that subscribes again since an offset gets a new replay, but the events
   * fanned out to it before are still on their way: lost with its connection unless received.
   */
  @Test
  void aConnectionThatSubscribedAgainSinceAnOffsetLosesTheEventsSentBeforeItsNewReplayThatItDidNotReceive() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> whole = subscribedProbe(t, "whole");
    TestProbe<Topic.Reply> paged = subscribedProbe(t, "paged");
    TestProbe<Topic.Reply> read = subscribedProbe(t, "read");
    publishLarge(t, 20);
    assertNull(subscribeAgainSince(t, whole, 18).replayContinuesAt(), "19 and 20 fit in the answer");
    assertEquals(t.ref(), subscribeAgainSince(t, paged, 0).replayContinuesAt());
    subscribeAgainSince(t, read, 18);
    publishLarge(t, 2);

    t.ref().tell(new Topic.Leave(t.name(), whole.getRef(), 5));
    t.ref().tell(new Topic.Leave(t.name(), paged.getRef(), 5));
    t.ref().tell(new Topic.Leave(t.name(), read.getRef(), 22));
    assertEquals(new Topic.Stats(t.name(), 22, 0, 17 + 17), stats(t),
        "6 to 22 for each of the two that received up to 5: fanned out, or (21, 22) not paged out; none for the one that read all");
  }

  /** Subscribes {@code subscriber}, live and sent events, again since {@code since}; its events before the answer are skipped. */
  private static Topic.Subscribed subscribeAgainSince(Fixture t, TestProbe<Topic.Reply> subscriber, long since) {
    t.ref().tell(new Topic.Subscribe(t.name(), "again", subscriber.getRef(), null, 0, since, null));
    while (true) {
      if (subscriber.receiveMessage() instanceof Topic.Subscribed subscribed) return subscribed;
    }
  }

  private static void awaitSubscribers(Fixture t, int subscribers) {
    TestProbe<Topic.Stats> statsProbe = testKit.createTestProbe(Topic.Stats.class);
    statsProbe.awaitAssert(() -> {
      t.ref().tell(new Topic.GetStats(statsProbe.getRef()));
      assertEquals(subscribers, statsProbe.receiveMessage().subscribers());
      return null;
    });
  }

  // ---------------------------------------------------------------- stats and delete

  @Test
  void statsCountMessagesSubscribersAndRecordedDrops() {
    Fixture t = topic(2);
    assertEquals(new Topic.Stats(t.name(), 0, 0, 0), stats(t));
    subscribe(t, probe(), "a", 0);
    subscribe(t, probe(), "b", 0);
    publishAndAwait(t, 5);
    t.ref().tell(new Topic.RecordDropped(3));
    t.ref().tell(new Topic.RecordDropped(4));
    assertEquals(new Topic.Stats(t.name(), 5, 2, 7), stats(t), "messages count all published, not only retained ones");
  }

  /** PROTOCOL: client_id is informational, shown in stats: per topic, the subscriptions each client_id holds. */
  @Test
  void describeCountsSubscriptionsByTheClientIdTheyGaveAndForgetsThoseThatLeft() {
    Fixture t = topic(3);
    TestProbe<Topic.Reply> asker = probe();
    t.ref().tell(new Topic.Describe(t.name(), asker.getRef()));
    assertEquals(new Topic.Described(t.name(), t.epoch(), 0, 0, 0, 0, null, Map.of()), asker.receiveMessage());

    publishAndAwait(t, 5);
    TestProbe<Topic.Reply> web1 = probe();
    TestProbe<Topic.Reply> web1Again = probe();
    TestProbe<Topic.Reply> anonymous = probe();
    TestProbe<Topic.Reply> renamed = probe();
    subscribeAs(t, web1, "web-1");
    subscribeAs(t, web1Again, "web-1");
    subscribeAs(t, anonymous, null);
    subscribeAs(t, renamed, "first");
    subscribeAs(t, renamed, "second");
    subscribeAs(t, renamed, null);
    t.ref().tell(new Topic.Describe(t.name(), asker.getRef()));
    assertEquals(new Topic.Described(t.name(), t.epoch(), 5, 4, 0, 3, 3L, Map.of("web-1", 2, "second", 1)),
        asker.receiveMessage(), "a repeat subscribe without client_id keeps the one it gave; the last one given counts");

    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", web1.getRef()));
    web1.expectMessageClass(Topic.Unsubscribed.class);
    renamed.stop();
    asker.awaitAssert(() -> {
      t.ref().tell(new Topic.Describe(t.name(), asker.getRef()));
      Topic.Described described = asker.expectMessageClass(Topic.Described.class);
      assertEquals(2, described.subscribers());
      assertEquals(Map.of("web-1", 1), described.clientIds());
      return null;
    });
  }

  private static void subscribeAs(Fixture t, TestProbe<Topic.Reply> subscriber, String clientId) {
    t.ref().tell(new Topic.Subscribe(t.name(), "s", subscriber.getRef(), clientId, 0, null, null));
    subscriber.expectMessageClass(Topic.Subscribed.class);
  }

  @Test
  void recordDroppedViaTheEventSourceReachesItsTopic() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> subscriber = subscribedProbe(t, "s");
    publishAndAwait(t, 1);
    EventReader.Delivered event = events.next(subscriber);
    event.from().tell(new Topic.RecordDropped(1));
    TestProbe<Topic.Stats> statsProbe = testKit.createTestProbe(Topic.Stats.class);
    event.from().tell(new Topic.GetStats(statsProbe.getRef()));
    assertEquals(1, statsProbe.receiveMessage().dropped());
  }

  @Test
  void deleteTellsSubscribersAndStopsTheTopic() {
    Fixture t = topic(100);
    TestProbe<Topic.Reply> a = subscribedProbe(t, "a");
    TestProbe<Topic.Reply> b = subscribedProbe(t, "b");
    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, "before", payload(1));
    TestProbe<TopicManager.DeleteResult> deleter = testKit.createTestProbe(TopicManager.DeleteResult.class);
    t.ref().tell(new Topic.Delete(deleter.getRef()));

    publisher.expectMessage(new Topic.Published("before", t.name(), 1));
    deleter.expectMessage(new TopicManager.TopicDeleted(t.name()));
    for (TestProbe<Topic.Reply> s : List.of(a, b)) {
      assertEquals(1, offsetOf(events.next(s).frame()), "what came before is delivered");
      s.expectMessage(new Topic.TopicDeleted(t.name()));
    }
    a.expectTerminated(t.ref(), Duration.ofSeconds(3));
  }

  // ---------------------------------------------------------------- paged replay

  /** About 10 KB of JSON: six such events fill a replay page. */
  private static final ObjectNode TEN_KILOBYTES = JsonNodeFactory.instance.objectNode().put("x", "x".repeat(10_000));

  private static void publishLarge(Fixture t, int count) {
    TestProbe<Topic.Reply> publisher = probe();
    for (int i = 0; i < count; i++) publish(t, publisher, "large" + i, TEN_KILOBYTES);
    for (int i = 0; i < count; i++) publisher.expectMessageClass(Topic.Published.class);
  }

  /** What a subscriber's pages brought: the frames in order, the events skipped, and the last page. */
  private record Pages(List<ByteString> frames, long skipped, int pages, Topic.ReplayPage last) {}

  /** Asks for pages one after another until the last; each says which of its frames are live events, and the newest one's offset. */
  private static Pages readPages(Fixture t, TestProbe<Topic.Reply> subscriber) {
    List<ByteString> frames = new ArrayList<>();
    long skipped = 0;
    int pages = 0;
    Topic.ReplayPage page;
    do {
      t.ref().tell(new Topic.ContinueReplay(subscriber.getRef()));
      page = subscriber.expectMessageClass(Topic.ReplayPage.class);
      assertEquals(t.name(), page.topic());
      assertEquals(t.ref(), page.from());
      assertTrue(page.frames().size() == 1 || bytes(page.frames()) <= Topic.REPLAY_PAGE_BYTES,
          "a page holds at most its bytes, or one frame: " + bytes(page.frames()));
      if (!page.frames().isEmpty()) {
        assertEquals(offsetOf(page.frames().get(page.frames().size() - 1)), page.lastOffset());
        long live = page.frames().stream().filter(frame -> !frameJson(frame).path("replay").asBoolean(false)).count();
        assertEquals(live, page.live(), "live events in the page");
      }
      frames.addAll(page.frames());
      skipped += page.skipped();
      pages++;
    } while (!page.done());
    return new Pages(frames, skipped, pages, page);
  }

  /** Asks for pages until one holds live events (published since the subscribe), or is the last. */
  private static Topic.ReplayPage pageWithLiveEvents(Fixture t, TestProbe<Topic.Reply> subscriber) {
    Topic.ReplayPage page;
    do {
      t.ref().tell(new Topic.ContinueReplay(subscriber.getRef()));
      page = subscriber.expectMessageClass(Topic.ReplayPage.class);
    } while (page.live() == 0 && !page.done());
    return page;
  }

  private static long bytes(List<ByteString> frames) {
    return frames.stream().mapToLong(ByteString::size).sum();
  }

  @Test
  void aReplayLargerThanAPageComesInPagesThenTheEventsPublishedMeanwhileThenLiveEvents() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> subscriber = probe();
    Topic.Subscribed subscribed = subscribe(t, subscriber, "big", 20);
    assertEquals(20, subscribed.replayed(), "the ack announces the whole replay");
    assertTrue(subscribed.replay().size() < 20 && !subscribed.replay().isEmpty(), subscribed.replay().size() + " in the answer");
    assertTrue(bytes(subscribed.replay()) <= Topic.REPLAY_PAGE_BYTES);
    assertEquals(t.ref(), subscribed.replayContinuesAt());
    assertEquals(1, stats(t).subscribers(), "a replaying subscriber is a subscriber");

    publishLarge(t, 2);
    subscriber.expectNoMessage(Duration.ofMillis(100));
    Pages pages = readPages(t, subscriber);
    assertTrue(pages.pages() >= 2, pages.pages() + " pages");
    assertEquals(0, pages.skipped());
    List<ByteString> all = new ArrayList<>(subscribed.replay());
    all.addAll(pages.frames());
    List<Long> offsets = new ArrayList<>();
    for (ByteString frame : all) {
      JsonNode json = frameJson(frame);
      offsets.add(json.get("offset").asLong());
      assertEquals(json.get("offset").asLong() <= 20, json.path("replay").asBoolean(false),
          "the 20 asked for are replays, the 2 published since are live: " + json.get("offset"));
    }
    assertEquals(range(1, 22), offsets, "every event once, in order");

    TestProbe<Topic.Reply> publisher = probe();
    publish(t, publisher, "after", payload(23));
    assertEquals(23, offsetOf(events.next(subscriber).frame()), "live events follow the last page");
    assertTrue(events.allRead());
  }

  @Test
  void aReplayThatFitsInAPageComesWholeInTheAnswer() {
    Fixture t = topic(100);
    publishLarge(t, 3);
    Topic.Subscribed subscribed = subscribe(t, probe(), "small", 3);
    assertEquals(3, subscribed.replayed());
    assertEquals(range(1, 3), replayOffsets(subscribed));
    assertNull(subscribed.replayContinuesAt());
  }

  @Test
  void eventsGivenUpBeforeAPagedReplayReachedThemAreSkippedAndCountedAsDropped() {
    Fixture t = topic(10);
    publishLarge(t, 10);
    TestProbe<Topic.Reply> subscriber = probe();
    Topic.Subscribed subscribed = subscribe(t, subscriber, "slow", 10);
    long firstNotSent = replayOffsets(subscribed).get(subscribed.replay().size() - 1) + 1;
    publishLarge(t, 15);
    // The ring of 10 now holds offsets 16 to 25.
    Pages pages = readPages(t, subscriber);
    assertEquals(16 - firstNotSent, pages.skipped());
    assertEquals(16, offsetOf(pages.frames().get(0)));
    assertEquals(25, offsetOf(pages.frames().get(pages.frames().size() - 1)));
    assertEquals(10, pages.frames().size());
    assertEquals(16 - firstNotSent, stats(t).dropped());
  }

  /** Counted as the topic sends the page that skips them, in /stats and /metrics alike: a page lost on the way loses none of them. */
  @Test
  void eventsGivenUpBeforeAPagedReplayReachedThemAreMeteredAsTheStatsCountThem() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String name = "topic-test-" + NAMES.incrementAndGet();
    Fixture t = new Fixture(name, "e", testKit.spawn(Topic.create(
        name, "e", 10, HistoryMemory.unlimited(), Settings.FanOutPacing.OFF, FanOutBatch.UNBOUNDED_QUEUES,
        new ServerMetrics(registry))));
    publishLarge(t, 10);
    TestProbe<Topic.Reply> subscriber = probe();
    subscribe(t, subscriber, "slow", 10);
    publishLarge(t, 15);
    t.ref().tell(new Topic.ContinueReplay(subscriber.getRef()));
    Topic.ReplayPage page = subscriber.expectMessageClass(Topic.ReplayPage.class);
    assertTrue(page.skipped() > 0, page::toString);

    assertEquals(page.skipped(), stats(t).dropped());
    assertEquals((double) page.skipped(), registry.get("pubsub.events.dropped").tag("reason", "replay_evicted").counter().count());
  }

  @Test
  void unsubscribingEndsAPagedReplayAndALaterAskGetsAnEmptyLastPage() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> subscriber = probe();
    assertEquals(t.ref(), subscribe(t, subscriber, "big", 20).replayContinuesAt());
    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", subscriber.getRef()));
    subscriber.expectMessage(new Topic.Unsubscribed("u", t.name()));
    assertEquals(0, stats(t).subscribers());
    t.ref().tell(new Topic.ContinueReplay(subscriber.getRef()));
    subscriber.expectMessage(new Topic.ReplayPage(t.name(), t.ref(), List.of(), 0, 0, 0, true));
    publishLarge(t, 1);
    subscriber.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aSubscriptionEndingInTheMiddleOfItsReplayDropsTheEventsPublishedSinceItBegan() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> leaving = probe();
    subscribe(t, leaving, "leaving", 20);
    TestProbe<Topic.Reply> aborting = probe();
    ActorRef<Topic.Reply> abortingRef = testKit.spawn(forwardTo(aborting.getRef()));
    t.ref().tell(new Topic.Subscribe(t.name(), "aborting", abortingRef, null, 20, null, null));
    assertEquals(t.ref(), aborting.expectMessageClass(Topic.Subscribed.class).replayContinuesAt());
    publishLarge(t, 3);

    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", leaving.getRef()));
    leaving.expectMessage(new Topic.Unsubscribed("u", t.name()));
    assertEquals(3, stats(t).dropped(), "3 published while it was subscribed, never sent");
    testKit.stop(abortingRef);
    TestProbe<Topic.Stats> statsProbe = testKit.createTestProbe(Topic.Stats.class);
    statsProbe.awaitAssert(() -> {
      t.ref().tell(new Topic.GetStats(statsProbe.getRef()));
      Topic.Stats stats = statsProbe.receiveMessage();
      assertEquals(0, stats.subscribers());
      assertEquals(6, stats.dropped(), "the stopped subscriber's 3 are dropped too");
      return null;
    });
  }

  @Test
  void subscribingAgainDuringAPagedReplayStartsNoSecondReplay() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> subscriber = probe();
    int first = subscribe(t, subscriber, "big", 20).replay().size();
    Topic.Subscribed again = subscribe(t, subscriber, "again", 20);
    assertEquals(List.of(), again.replay());
    assertNull(again.replayContinuesAt());
    assertEquals(20 - first, readPages(t, subscriber).frames().size(), "the first replay goes on where it was");
    assertEquals(1, stats(t).subscribers());
  }

  /**
   * The live events of a replay's last page reach a connection that has stopped, or wait unwritten
   * in its queue: the first are counted by the topic as the connection leaves, the second by the
   * connection, which tells the topic it received them.
   */
  @Test
  void aConnectionThatLeavesBeforeItReceivedItsReplaysLastPageLosesTheLiveEventsInItAndOneThatReceivedItDoesNot() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> lost = probe();
    TestProbe<Topic.Reply> received = probe();
    subscribe(t, lost, "lost", 20);
    subscribe(t, received, "received", 20);
    publishLarge(t, 2);
    Topic.ReplayPage last = readPages(t, lost).last();
    assertEquals(2, last.live(), "21 and 22, published since the subscribe, end its last page as live events");
    assertEquals(22, last.lastOffset());
    assertEquals(22, readPages(t, received).last().lastOffset());
    publishAndAwait(t, 1);

    t.ref().tell(new Topic.Leave(t.name(), lost.getRef(), 0));
    assertEquals(new Topic.Stats(t.name(), 23, 1, 3), stats(t), "21 and 22 of its last page, and 23");
    t.ref().tell(new Topic.Leave(t.name(), received.getRef(), 22));
    assertEquals(new Topic.Stats(t.name(), 23, 0, 4), stats(t), "only 23: its connection counts what it did not write of the page");
  }

  @Test
  void aConnectionThatLeavesInTheMiddleOfItsReplayLosesTheLiveEventsOfThePageOnItsWayAndThoseNotPagedOut() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> lost = probe();
    TestProbe<Topic.Reply> received = probe();
    subscribe(t, lost, "lost", 20);
    subscribe(t, received, "received", 20);
    publishLarge(t, 10);
    Topic.ReplayPage lostPage = pageWithLiveEvents(t, lost);
    Topic.ReplayPage receivedPage = pageWithLiveEvents(t, received);
    assertTrue(lostPage.live() > 0 && !lostPage.done(), lostPage::toString);
    assertEquals(20 + lostPage.live(), lostPage.lastOffset());

    t.ref().tell(new Topic.Leave(t.name(), lost.getRef(), 0));
    assertEquals(10, stats(t).dropped(), "the 10 published since it subscribed, in the page on its way or not paged out");
    t.ref().tell(new Topic.Leave(t.name(), received.getRef(), receivedPage.lastOffset()));
    assertEquals(new Topic.Stats(t.name(), 30, 0, 10 + 30 - receivedPage.lastOffset()), stats(t), "those not paged out");
  }

  /** As above, with the Leave behind the topic's watch firing: the live events of a page on its way count all the same. */
  @Test
  void aConnectionWhoseEndTheTopicSeesBeforeItsLeaveLosesTheLiveEventsOfItsReplaysLastPageOrOfAPageOnItsWay() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> lastPage = probe();
    TestProbe<Topic.Reply> midway = probe();
    subscribe(t, lastPage, "last", 20);
    subscribe(t, midway, "midway", 20);
    publishLarge(t, 10);
    Topic.ReplayPage last = readPages(t, lastPage).last();
    Topic.ReplayPage page = pageWithLiveEvents(t, midway);
    assertTrue(last.live() > 0 && last.done(), last::toString);
    assertTrue(page.live() > 0 && !page.done(), page::toString);

    lastPage.stop();
    midway.stop();
    awaitSubscribers(t, 0);
    t.ref().tell(new Topic.Leave(t.name(), lastPage.getRef(), 0));
    t.ref().tell(new Topic.Leave(t.name(), midway.getRef(), 0));
    assertEquals(new Topic.Stats(t.name(), 30, 0, last.live() + 10), stats(t),
        "the live events of the last page; the 10 published since it subscribed, in the page on its way or not paged out");
  }

  @Test
  void aConnectionThatLeavesBeforeItReceivedAPageAfterEventsGivenUpLosesThatPagesLiveEventsCountingNoneTwice() {
    Fixture t = topic(10);
    publishLarge(t, 10);
    TestProbe<Topic.Reply> lost = probe();
    assertEquals(range(1, 6), replayOffsets(subscribe(t, lost, "lost", 10)));
    publishLarge(t, 15);
    // The ring of 10 now holds offsets 16 to 25: 7 to 15 are given up before the page reaches them.
    Topic.ReplayPage page = pageWithLiveEvents(t, lost);
    assertEquals(9, page.skipped());
    assertEquals(21, page.lastOffset());
    assertEquals(6, page.live());

    t.ref().tell(new Topic.Leave(t.name(), lost.getRef(), 0));
    assertEquals(new Topic.Stats(t.name(), 25, 0, 25 - 6), stats(t), "every event but the 6 it received, each once");
  }

  @Test
  void aConnectionThatUnsubscribedInTheMiddleOfItsReplayLosesThePagesLiveEventsUnlessItReadTheAnswer() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> leaving = probe();
    TestProbe<Topic.Reply> answered = probe();
    subscribe(t, leaving, "leaving", 20);
    subscribe(t, answered, "answered", 20);
    publishLarge(t, 10);
    Topic.ReplayPage page = pageWithLiveEvents(t, leaving);
    assertEquals(page, pageWithLiveEvents(t, answered));
    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", leaving.getRef()));
    leaving.expectMessage(new Topic.Unsubscribed("u", t.name()));
    t.ref().tell(new Topic.Unsubscribe(t.name(), "u", answered.getRef()));
    answered.expectMessage(new Topic.Unsubscribed("u", t.name()));
    assertEquals(2 * (30 - page.lastOffset()), stats(t).dropped(), "neither was sent the events not paged out");

    t.ref().tell(new Topic.UnsubscribesAnswered(t.name(), answered.getRef()));
    t.ref().tell(new Topic.Leave(t.name(), answered.getRef(), page.lastOffset()));
    t.ref().tell(new Topic.Leave(t.name(), leaving.getRef(), 0));
    assertEquals(2 * (30 - page.lastOffset()) + page.live(), stats(t).dropped(), "the live events of the page it never received");
  }

  @Test
  void deletingATopicTellsItsReplayingSubscribersToo() {
    Fixture t = topic(100);
    publishLarge(t, 20);
    TestProbe<Topic.Reply> subscriber = probe();
    subscribe(t, subscriber, "big", 20);
    t.ref().tell(new Topic.Delete(testKit.createTestProbe(TopicManager.DeleteResult.class).getRef()));
    subscriber.expectMessage(new Topic.TopicDeleted(t.name()));
    subscriber.expectTerminated(t.ref(), Duration.ofSeconds(3));
  }

  // ---------------------------------------------------------------- memory budget

  @Test
  void overTheMemoryBudgetATopicOverItsShareGivesUpItsOldestEventsAndTheOthersKeepTheirs() {
    HistoryMemory memory = new HistoryMemory(8_000);
    Fixture small = topic(100, memory);
    Fixture large = topic(100, memory);
    publishAndAwait(small, 5);
    TestProbe<Topic.Reply> publisher = probe();
    ObjectNode kilobyte = JsonNodeFactory.instance.objectNode().put("x", "x".repeat(1000));
    for (int i = 0; i < 20; i++) publish(large, publisher, "p" + i, kilobyte);
    for (int i = 0; i < 20; i++) publisher.expectMessageClass(Topic.Published.class);

    List<Long> kept = replayOffsets(subscribe(large, probe(), "all", 100));
    assertTrue(!kept.isEmpty() && kept.size() < 20, "some but not all of the large events are kept: " + kept);
    assertEquals(range(21 - kept.size(), 20), kept, "the newest are kept, without a gap");
    assertEquals(20 - kept.size(), memory.evictedEvents());
    assertEquals(range(1, 5), replayOffsets(subscribe(small, probe(), "all", 100)), "the small topic keeps all");
    assertTrue(memory.retainedBytes() <= memory.budgetBytes(), memory.retainedBytes() + " bytes retained");

    Topic.Subscribed since = subscribeSince(large, probe(), 10, large.epoch());
    assertEquals(Boolean.FALSE, since.recovered(), "events after offset 10 were given up");
    assertEquals(kept, replayOffsets(since));
  }

  @Test
  void aDeletedTopicHandsBackItsHistorysMemory() {
    HistoryMemory memory = new HistoryMemory(1_000_000);
    Fixture t = topic(100, memory);
    publishAndAwait(t, 3);
    assertEquals(1, memory.topics());
    assertTrue(memory.retainedBytes() > 3 * Topic.ENTRY_OVERHEAD_BYTES, memory.retainedBytes() + " bytes retained");
    TestProbe<Topic.Reply> watcher = probe();
    t.ref().tell(new Topic.Delete(testKit.createTestProbe(TopicManager.DeleteResult.class).getRef()));
    watcher.expectTerminated(t.ref(), Duration.ofSeconds(3));
    assertEquals(0, memory.topics());
    assertEquals(0, memory.retainedBytes());
  }
}
