package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.await;
import static pekkopubsub.e2e.Wire.events;
import static pekkopubsub.e2e.Wire.offsets;
import static pekkopubsub.e2e.Wire.range;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pekkopubsub.client.PubSubClient;

/** Replay on subscribe: last_n, since_offset with and without the right epoch, eviction, and the seam to live events. */
class ReplayE2ETest {
  private static final Map<String, Integer> PUBLISHED = new ConcurrentHashMap<>();
  private static TestServer server;

  /** Every event must arrive here, so no queue may drop one. */
  @BeforeAll
  static void start() {
    server = TestServer.startWithoutDrops();
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void lastNReplaysTheNewestThenGoesLiveWithoutGap() {
    String topic = server.createTopic("last-n");
    try (PubSubClient publisher = server.connect(); PubSubClient subscriber = server.connect()) {
      publish(publisher, topic, 10);

      JsonNode subscribed = ack(subscriber.subscribeLast(topic, 3), topic);
      assertEquals(3, subscribed.path("replayed").asInt(-1), subscribed::toString);
      assertEquals(10, subscribed.path("newest_offset").asLong(-1), "the newest offset, where live events begin: " + subscribed);
      assertFalse(subscribed.has("offset"), "offset tells a publish ack: " + subscribed);
      List<JsonNode> replayed = events(subscriber, topic, 3);
      assertEquals(List.of(8L, 9L, 10L), offsets(replayed));
      replayed.forEach(e -> assertTrue(e.path("replay").asBoolean(false), () -> "replay flag on " + e));
      assertEquals(List.of(8, 9, 10), replayed.stream().map(e -> e.path("message").path("payload").path("n").asInt()).toList());

      publish(publisher, topic, 2);
      List<JsonNode> live = events(subscriber, topic, 2);
      assertEquals(List.of(11L, 12L), offsets(live));
      live.forEach(e -> assertFalse(e.path("replay").asBoolean(false), () -> "no replay flag on " + e));
    }
  }

  @Test
  void lastNBeyondWhatIsRetainedReplaysEverythingAndZeroReplaysNothing() {
    String topic = server.createTopic("last-n-all");
    try (PubSubClient publisher = server.connect(); PubSubClient all = server.connect();
         PubSubClient none = server.connect()) {
      publish(publisher, topic, 5);

      assertEquals(5, ack(all.subscribeLast(topic, 1000), topic).path("replayed").asInt(-1));
      assertEquals(range(1, 5), offsets(events(all, topic, 5)));

      JsonNode zero = ack(none.subscribeLast(topic, 0), topic);
      assertEquals(0, zero.path("replayed").asInt(0));
      assertEquals(5, zero.path("newest_offset").asLong(-1), zero::toString);
      publish(publisher, topic, 1);
      assertEquals(List.of(6L), offsets(events(none, topic, 1)));
      assertEquals(List.of(6L), offsets(events(all, topic, 1)));
    }
  }

  @Test
  void sinceOffsetWithTheTopicsEpochRecovers() {
    String topic = server.createTopic("since");
    try (PubSubClient publisher = server.connect(); PubSubClient first = server.connect();
         PubSubClient again = server.connect(); PubSubClient noEpoch = server.connect()) {
      String epoch = ack(first.subscribe(topic), topic).path("epoch").asText();
      publish(publisher, topic, 10);
      assertEquals(range(1, 10), offsets(events(first, topic, 10)));

      JsonNode recovered = ack(again.subscribeSince(topic, 6, epoch), topic);
      assertTrue(recovered.path("recovered").asBoolean(false), recovered::toString);
      assertEquals(epoch, recovered.path("epoch").asText());
      assertEquals(4, recovered.path("replayed").asInt(-1), recovered::toString);
      List<JsonNode> replayed = events(again, topic, 4);
      assertEquals(range(7, 10), offsets(replayed));
      replayed.forEach(e -> assertTrue(e.path("replay").asBoolean(false), () -> "replay flag on " + e));

      JsonNode assumed = ack(noEpoch.subscribeSince(topic, 8, null), topic);
      assertTrue(assumed.path("recovered").asBoolean(false), "without epoch the current one is assumed: " + assumed);
      assertEquals(range(9, 10), offsets(events(noEpoch, topic, 2)));

      publish(publisher, topic, 1);
      assertEquals(List.of(11L), offsets(events(again, topic, 1)));
      assertEquals(List.of(11L), offsets(events(noEpoch, topic, 1)));
    }
  }

  @Test
  void sinceTheNewestOffsetRecoversWithNothingToReplay() {
    String topic = server.createTopic("since-newest");
    try (PubSubClient publisher = server.connect(); PubSubClient subscriber = server.connect()) {
      publish(publisher, topic, 3);
      JsonNode ack = ack(subscriber.subscribeSince(topic, 3, null), topic);
      assertTrue(ack.path("recovered").asBoolean(false), ack::toString);
      assertEquals(0, ack.path("replayed").asInt(0), ack::toString);
      publish(publisher, topic, 1);
      assertEquals(List.of(4L), offsets(events(subscriber, topic, 1)));
    }
  }

  @Test
  void sinceOffsetWithAnotherEpochIsNotRecoveredAndReplaysFromTheOldest() {
    String topic = server.createTopic("wrong-epoch");
    try (PubSubClient publisher = server.connect(); PubSubClient subscriber = server.connect()) {
      publish(publisher, topic, 10);

      JsonNode ack = ack(subscriber.subscribeSince(topic, 6, "not-the-epoch-of-this-topic"), topic);
      assertFalse(ack.path("recovered").asBoolean(true), ack::toString);
      assertTrue(ack.path("recovered").isBoolean(), ack::toString);
      assertEquals(10, ack.path("replayed").asInt(-1), ack::toString);
      assertEquals(range(1, 10), offsets(events(subscriber, topic, 10)));
      publish(publisher, topic, 1);
      assertEquals(List.of(11L), offsets(events(subscriber, topic, 1)));
    }
  }

  @Test
  void sinceAnEvictedOffsetIsNotRecovered() {
    try (TestServer small = TestServer.start(Map.of("topic.max-history", "5"))) {
      String topic = small.createTopic("evicted");
      PubSubClient publisher = small.connect();
      PubSubClient evicted = small.connect();
      PubSubClient retained = small.connect();
      PubSubClient lastN = small.connect();
      String epoch = ack(publisher.subscribe(topic), topic).path("epoch").asText();
      publish(publisher, topic, 10);

      JsonNode lost = ack(evicted.subscribeSince(topic, 3, epoch), topic);
      assertFalse(lost.path("recovered").asBoolean(true), lost::toString);
      assertTrue(lost.path("recovered").isBoolean(), lost::toString);
      assertEquals(range(6, 10), offsets(events(evicted, topic, lost.path("replayed").asInt(-1))),
          "the events still retained after since_offset");

      JsonNode kept = ack(retained.subscribeSince(topic, 5, epoch), topic);
      assertTrue(kept.path("recovered").asBoolean(false), "everything after 5 is retained: " + kept);
      assertEquals(range(6, 10), offsets(events(retained, topic, 5)));

      assertEquals(5, ack(lastN.subscribeLast(topic, 100), topic).path("replayed").asInt(-1));
      assertEquals(range(6, 10), offsets(events(lastN, topic, 5)));
    }
  }

  /**
   * Large events on one topic, small ones on another, more than the replay buffers' memory budget
   * together: the large topic keeps only its newest events, the small one keeps all, and /metrics
   * shows what was given up.
   */
  @Test
  void overTheHistoryMemoryBudgetTheTopicOfLargeEventsKeepsOnlyItsNewest() {
    try (TestServer small = TestServer.start(Map.of("topic.history-memory", "64 KiB"))) {
      String light = small.createTopic("light");
      String heavy = small.createTopic("heavy");
      PubSubClient publisher = small.connect();
      for (int i = 1; i <= 5; i++) ack(publisher.publish(light, Wire.payload(i)), light);
      for (int i = 1; i <= 30; i++) {
        ack(publisher.publish(heavy, Wire.payload(i).put("x", "x".repeat(8_000))), heavy);
      }

      PubSubClient heavyReader = small.connect();
      int kept = ack(heavyReader.subscribeLast(heavy, 100), heavy).path("replayed").asInt(-1);
      assertTrue(kept > 0 && kept < 30, "some but not all of 30 events of 8 KB fit in 64 KiB: " + kept);
      assertEquals(range(31 - kept, 30), offsets(events(heavyReader, heavy, kept)), "the newest, without a gap");
      PubSubClient lightReader = small.connect();
      assertEquals(5, ack(lightReader.subscribeLast(light, 100), light).path("replayed").asInt(-1));
      assertEquals(range(1, 5), offsets(events(lightReader, light, 5)));

      System.gc(); // the server's meters must not rest on objects only a weak reference holds
      assertEquals(65_536.0, small.metric("pubsub_history_budget_bytes"), 0.0);
      assertEquals(30.0 - kept, small.metric("pubsub_history_evicted_total"), 0.0);
      double retained = small.metric("pubsub_history_retained_bytes");
      assertTrue(retained <= 65_536.0, retained + " bytes retained");
    }
  }

  /**
   * Subscribes with replay while another client publishes without pause: the replay and the live
   * events meet with no gap and no duplicate.
   */
  @Test
  void replayThenLiveHasNoGapAndNoDuplicateWhilePublishingContinues() throws Exception {
    String topic = server.createTopic("seam");
    try (PubSubClient publisher = server.connect(); PubSubClient lastN = server.connect();
         PubSubClient since = server.connect()) {
      AtomicLong lastAcked = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      CompletableFuture<Void> publishing = CompletableFuture.runAsync(() -> {
        List<CompletableFuture<JsonNode>> window = new ArrayList<>();
        for (int i = 1; !stop.get(); i++) {
          window.add(publisher.publish(topic, Wire.payload(i)));
          if (window.size() == 8) {
            for (CompletableFuture<JsonNode> f : window) {
              lastAcked.accumulateAndGet(await(f).path("offset").asLong(), Math::max);
            }
            window.clear();
          }
        }
        for (CompletableFuture<JsonNode> f : window) {
          lastAcked.accumulateAndGet(await(f).path("offset").asLong(), Math::max);
        }
      });
      Wire.eventually(Wire.WAIT, lastAcked::get, n -> n >= 200, "the publisher got going");

      JsonNode lastAck = ack(lastN.subscribeLast(topic, 50), topic);
      long sinceOffset = Math.max(0, lastAcked.get() - 5);
      JsonNode sinceAck = ack(since.subscribeSince(topic, sinceOffset, null), topic);
      long afterSubscribes = lastAcked.get();
      Wire.eventually(Wire.WAIT, lastAcked::get, n -> n >= afterSubscribes + 300, "live events after the subscribes");
      stop.set(true);
      publishing.get(30, TimeUnit.SECONDS);
      long total = lastAcked.get();

      assertEquals(50, lastAck.path("replayed").asInt(-1), lastAck::toString);
      List<JsonNode> a = readUntilOffset(lastN, topic, total);
      assertContiguousTo(a, total);
      assertReplayFlags(a, 50);

      List<JsonNode> b = readUntilOffset(since, topic, total);
      assertContiguousTo(b, total);
      assertReplayFlags(b, sinceAck.path("replayed").asInt(-1));
      long first = b.get(0).path("offset").asLong();
      if (sinceAck.path("recovered").asBoolean(false)) {
        assertEquals(sinceOffset + 1, first, "recovered: the replay starts right after since_offset");
      } else {
        assertTrue(first > sinceOffset + 1, "not recovered only when events were evicted: " + sinceAck);
      }
    }
  }

  /**
   * A replay of many large events comes in pages; with a publisher going on meanwhile, it meets the
   * live events with no gap and no duplicate, the replayed ones flagged and the others not.
   */
  @Test
  void aReplayOfManyLargeEventsArrivesWholeThenLiveWhilePublishingContinues() throws Exception {
    String topic = server.createTopic("large-replay");
    try (PubSubClient publisher = server.connect(); PubSubClient subscriber = server.connect()) {
      for (int i = 1; i <= 60; i++) ack(publisher.publish(topic, Wire.payload(i).put("x", "x".repeat(8_000))), topic);
      CompletableFuture<Void> publishing = CompletableFuture.runAsync(() -> {
        for (int i = 61; i <= 160; i++) ack(publisher.publish(topic, Wire.payload(i).put("x", "x".repeat(8_000))), topic);
      });
      JsonNode subscribed = ack(subscriber.subscribeLast(topic, 50), topic);
      publishing.get(30, TimeUnit.SECONDS);

      assertEquals(50, subscribed.path("replayed").asInt(-1), subscribed::toString);
      List<JsonNode> received = readUntilOffset(subscriber, topic, 160);
      assertContiguousTo(received, 160);
      assertReplayFlags(received, 50);
    }
  }

  /**
   * A subscriber that reads nothing while its replay's events are evicted under it: when it reads
   * again it gets what is still retained, in order, and every event it missed is counted as
   * dropped, in /stats and in /metrics. A replay waits for its reader, page by page, instead of
   * holding its whole span (here 6 MB of a 24 MB stream) in the server's memory.
   */
  @Test
  void aReplayReadTooSlowlyLosesTheEventsEvictedMeanwhileAndCountsThem() throws Exception {
    try (TestServer small = TestServer.start(Map.of())) {
      String topic = small.createTopic("slow-replay");
      PubSubClient publisher = small.connect();
      PubSubClient subscriber = small.connect();
      String sixtyKilobytes = "x".repeat(60_000);
      for (int i = 1; i <= 100; i++) ack(publisher.publish(topic, Wire.payload(i).put("x", sixtyKilobytes)), topic);
      subscriber.pauseReading();
      CompletableFuture<JsonNode> subscribed = subscriber.subscribeLast(topic, 100);
      // Its ack is unread, so the topic's count says when the subscribe has landed before offset 101.
      Wire.eventually(Wire.WAIT, () -> small.topicStats(topic), s -> s.path("subscribers").asInt() == 1, "the subscribe landed");
      for (int i = 101; i <= 400; i++) ack(publisher.publish(topic, Wire.payload(i).put("x", sixtyKilobytes)), topic);
      subscriber.resumeReading();

      assertEquals(100, ack(subscribed, topic).path("replayed").asInt(-1));
      List<JsonNode> received = readUntilOffset(subscriber, topic, 400);
      List<Long> offsets = offsets(received);
      assertEquals(1L, offsets.get(0), "the replay starts where it was asked to");
      for (int i = 1; i < offsets.size(); i++) {
        assertTrue(offsets.get(i) > offsets.get(i - 1), "in order, no duplicate: " + offsets);
      }
      for (JsonNode e : received) {
        assertEquals(e.path("offset").asLong() <= 100, e.path("replay").asBoolean(false), () -> "replay flag of " + e.path("offset"));
      }
      long missed = 400 - offsets.size();
      assertTrue(missed > 0, "24 MB do not fit in the sockets' buffers, so the history moved past the reader");
      assertTrue(offsets.containsAll(range(301, 400)), "what is still retained arrives");
      Wire.assertDroppedSettlesAt(small, topic, missed);
      assertEquals((double) missed, small.metric("pubsub_events_dropped_total{reason=\"replay_evicted\"}"), 0.0);
      assertEquals((double) offsets.size(), small.metric("pubsub_events_delivered_total"), 0.0,
          "replayed events, and live ones sent in the replay's pages, count as delivered");
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Publishes {@code count} events whose payload {@code n} is the offset they must get. */
  private static void publish(PubSubClient publisher, String topic, int count) {
    for (int i = 0; i < count; i++) {
      int expected = PUBLISHED.merge(topic, 1, Integer::sum);
      long offset = ack(publisher.publish(topic, Wire.payload(expected)), topic).path("offset").asLong();
      assertEquals(expected, offset, "offsets count 1, 2, 3... per topic");
    }
  }

  private static List<JsonNode> readUntilOffset(PubSubClient client, String topic, long last) {
    List<JsonNode> out = new ArrayList<>();
    while (true) {
      JsonNode frame = Wire.next(client);
      assertNotNull(frame);
      assertEquals("event", frame.path("type").asText(), frame::toString);
      assertEquals(topic, frame.path("topic").asText());
      out.add(frame);
      long offset = frame.path("offset").asLong();
      if (offset >= last) return out;
      assertTrue(out.size() <= last, "more events than were published");
    }
  }

  private static void assertContiguousTo(List<JsonNode> events, long last) {
    List<Long> offsets = offsets(events);
    long first = offsets.get(0);
    assertEquals(range(first, last), offsets, "no gap, no duplicate, in order");
  }

  private static void assertReplayFlags(List<JsonNode> events, int replayed) {
    for (int i = 0; i < events.size(); i++) {
      JsonNode e = events.get(i);
      assertEquals(i < replayed, e.path("replay").asBoolean(false), () -> "replay flag of " + e);
    }
  }
}
