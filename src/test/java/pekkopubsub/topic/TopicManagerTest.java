package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import pekkopubsub.config.Settings;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.RawJson;

class TopicManagerTest {

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

  /** A fresh manager per test: no test sees another's topics. */
  private static ActorRef<TopicManager.Command> manager(int maxHistory) {
    return testKit.spawn(TopicManager.create(maxHistory, Duration.ofSeconds(3), 0, new ServerMetrics(new SimpleMeterRegistry())));
  }

  private static ActorRef<TopicManager.Command> manager() {
    return manager(100);
  }

  private static TestProbe<Topic.Reply> probe() {
    return testKit.createTestProbe(Topic.Reply.class);
  }

  private static String create(ActorRef<TopicManager.Command> manager, String name) {
    TestProbe<TopicManager.CreateResult> replies = testKit.createTestProbe(TopicManager.CreateResult.class);
    manager.tell(new TopicManager.CreateTopic(name, replies.getRef()));
    TopicManager.TopicCreated created = replies.expectMessageClass(TopicManager.TopicCreated.class);
    assertEquals(name, created.name());
    assertNotNull(created.epoch());
    assertFalse(created.epoch().isEmpty());
    return created.epoch();
  }

  private static TopicManager.DeleteResult delete(ActorRef<TopicManager.Command> manager, String name) {
    TestProbe<TopicManager.DeleteResult> replies = testKit.createTestProbe(TopicManager.DeleteResult.class);
    manager.tell(new TopicManager.DeleteTopic(name, replies.getRef()));
    return replies.receiveMessage();
  }

  private static Topic.Publish publish(String topic, String requestId, TestProbe<Topic.Reply> replyTo) {
    return new Topic.Publish(topic, requestId, replyTo.getRef(), null, RawJson.of(JsonNodeFactory.instance.objectNode().put("k", requestId)));
  }

  private static Topic.Subscribe subscribe(String topic, String requestId, TestProbe<Topic.Reply> replyTo) {
    return new Topic.Subscribe(topic, requestId, replyTo.getRef(), "client-1", 0, null, null);
  }

  private static TopicManager.TopicStatsCollected stats(ActorRef<TopicManager.Command> manager) {
    TestProbe<TopicManager.TopicStatsCollected> replies = testKit.createTestProbe(TopicManager.TopicStatsCollected.class);
    manager.tell(new TopicManager.GetTopicStats(replies.getRef()));
    return replies.receiveMessage();
  }

  /** The JSON inside one unmasked server text frame. */
  private static JsonNode frameJson(ByteString frame) {
    byte[] b = frame.toArray();
    assertEquals(0x81, b[0] & 0xFF);
    int len7 = b[1] & 0x7F;
    int header = len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
    try {
      return JsonCodec.parse(new String(b, header, b.length - header, StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ---------------------------------------------------------------- create / delete

  @Test
  void createAnswersTopicCreatedWithAnEpoch() {
    ActorRef<TopicManager.Command> manager = manager();
    String epoch = create(manager, "orders");
    TestProbe<Topic.Reply> subscriber = probe();
    manager.tell(subscribe("orders", "s1", subscriber));
    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(new Topic.Subscribed("s1", "orders", epoch, 0, List.of(), null), subscribed);
  }

  @Test
  void aLocatedTopicAnswersRequestsSentStraightToIt() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "orders");
    TestProbe<TopicManager.LocateResult> locator = testKit.createTestProbe(TopicManager.LocateResult.class);
    manager.tell(new TopicManager.Locate("orders", locator.getRef()));
    TopicManager.Located located = locator.expectMessageClass(TopicManager.Located.class);
    assertEquals("orders", located.name());

    TestProbe<Topic.Reply> publisher = probe();
    manager.tell(publish("orders", "p1", publisher));
    publisher.expectMessage(new Topic.Published("p1", "orders", 1));
    located.topic().tell(publish("orders", "p2", publisher));
    publisher.expectMessage(new Topic.Published("p2", "orders", 2));
  }

  @Test
  void aMissingOrDeletedTopicIsNotLocated() {
    ActorRef<TopicManager.Command> manager = manager();
    TestProbe<TopicManager.LocateResult> locator = testKit.createTestProbe(TopicManager.LocateResult.class);
    manager.tell(new TopicManager.Locate("orders", locator.getRef()));
    locator.expectMessage(new TopicManager.NotLocated("orders"));

    create(manager, "orders");
    manager.tell(new TopicManager.Locate("orders", locator.getRef()));
    ActorRef<Topic.Command> topic = locator.expectMessageClass(TopicManager.Located.class).topic();
    delete(manager, "orders");
    manager.tell(new TopicManager.Locate("orders", locator.getRef()));
    locator.expectMessage(new TopicManager.NotLocated("orders"));
    TestProbe<Topic.Reply> watcher = probe();
    watcher.expectTerminated(topic, Duration.ofSeconds(3));
  }

  @Test
  void topicsHaveDistinctEpochs() {
    ActorRef<TopicManager.Command> manager = manager();
    assertNotEquals(create(manager, "a"), create(manager, "b"));
  }

  @Test
  void createOfAnExistingTopicAnswersTopicExistsAndKeepsIt() {
    ActorRef<TopicManager.Command> manager = manager();
    String epoch = create(manager, "orders");
    TestProbe<Topic.Reply> publisher = probe();
    manager.tell(publish("orders", "p1", publisher));
    publisher.expectMessage(new Topic.Published("p1", "orders", 1));

    TestProbe<TopicManager.CreateResult> replies = testKit.createTestProbe(TopicManager.CreateResult.class);
    manager.tell(new TopicManager.CreateTopic("orders", replies.getRef()));
    replies.expectMessage(new TopicManager.TopicExists("orders"));

    manager.tell(publish("orders", "p2", publisher));
    publisher.expectMessage(new Topic.Published("p2", "orders", 2));
    manager.tell(subscribe("orders", "s", publisher));
    assertEquals(epoch, publisher.expectMessageClass(Topic.Subscribed.class).epoch(), "the epoch is unchanged");
  }

  @Test
  void namesAreCaseSensitive() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "Orders");
    create(manager, "orders");
    assertEquals(List.of("Orders", "orders"), stats(manager).topics().stream().map(Topic.Stats::topic).toList());
  }

  @Test
  void longestValidNameWorks() {
    ActorRef<TopicManager.Command> manager = manager();
    String name = "n.-_".repeat(64);
    assertEquals(256, name.length());
    create(manager, name);
    TestProbe<Topic.Reply> publisher = probe();
    manager.tell(publish(name, "p", publisher));
    publisher.expectMessage(new Topic.Published("p", name, 1));
  }

  @Test
  void deleteOfAMissingTopicAnswersTopicMissing() {
    ActorRef<TopicManager.Command> manager = manager();
    assertEquals(new TopicManager.TopicMissing("nothing"), delete(manager, "nothing"));
    create(manager, "once");
    assertEquals(new TopicManager.TopicDeleted("once"), delete(manager, "once"));
    assertEquals(new TopicManager.TopicMissing("once"), delete(manager, "once"));
  }

  @Test
  void deleteTellsSubscribersStopsTheTopicAndLaterRequestsFindNoTopic() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "orders");
    TestProbe<Topic.Reply> a = probe();
    TestProbe<Topic.Reply> b = probe();
    manager.tell(subscribe("orders", "sa", a));
    manager.tell(subscribe("orders", "sb", b));
    a.expectMessageClass(Topic.Subscribed.class);
    b.expectMessageClass(Topic.Subscribed.class);
    TestProbe<Topic.Reply> publisher = probe();
    manager.tell(publish("orders", "p1", publisher));
    publisher.expectMessage(new Topic.Published("p1", "orders", 1));
    ActorRef<Topic.Command> topicRef = events.next(a).from();
    events.next(b);

    assertEquals(new TopicManager.TopicDeleted("orders"), delete(manager, "orders"));
    a.expectMessage(new Topic.TopicDeleted("orders"));
    b.expectMessage(new Topic.TopicDeleted("orders"));
    a.expectTerminated(topicRef, Duration.ofSeconds(3));

    manager.tell(publish("orders", "p2", publisher));
    publisher.expectMessage(new Topic.TopicNotFound("p2", "orders"));
    manager.tell(subscribe("orders", "s2", a));
    a.expectMessage(new Topic.TopicNotFound("s2", "orders"));
    manager.tell(new Topic.Unsubscribe("orders", "u2", a.getRef()));
    a.expectMessage(new Topic.TopicNotFound("u2", "orders"));
    assertEquals(List.of(), stats(manager).topics());
  }

  @Test
  void requestsRoutedBeforeADeleteAreStillAnswered() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "orders");
    TestProbe<Topic.Reply> subscriber = probe();
    manager.tell(subscribe("orders", "s", subscriber));
    subscriber.expectMessageClass(Topic.Subscribed.class);
    TestProbe<Topic.Reply> publisher = probe();
    TestProbe<TopicManager.DeleteResult> deleteReplies = testKit.createTestProbe(TopicManager.DeleteResult.class);
    // one burst: publish, delete, publish
    manager.tell(publish("orders", "before", publisher));
    manager.tell(new TopicManager.DeleteTopic("orders", deleteReplies.getRef()));
    manager.tell(publish("orders", "after", publisher));

    deleteReplies.expectMessage(new TopicManager.TopicDeleted("orders"));
    List<Topic.Reply> publisherReplies = publisher.receiveSeveralMessages(2);
    assertTrue(publisherReplies.contains(new Topic.Published("before", "orders", 1)), publisherReplies.toString());
    assertTrue(publisherReplies.contains(new Topic.TopicNotFound("after", "orders")), publisherReplies.toString());
    assertEquals(1, frameJson(events.next(subscriber).frame()).get("offset").asLong());
    subscriber.expectMessage(new Topic.TopicDeleted("orders"));
  }

  @Test
  void aRecreatedTopicHasANewEpochAndStartsAtOffsetOne() {
    ActorRef<TopicManager.Command> manager = manager();
    String firstEpoch = create(manager, "orders");
    TestProbe<Topic.Reply> oldSubscriber = probe();
    manager.tell(subscribe("orders", "s", oldSubscriber));
    oldSubscriber.expectMessageClass(Topic.Subscribed.class);
    TestProbe<Topic.Reply> publisher = probe();
    for (int i = 1; i <= 3; i++) {
      manager.tell(publish("orders", "p" + i, publisher));
      publisher.expectMessage(new Topic.Published("p" + i, "orders", i));
    }
    ActorRef<Topic.Command> oldRef = null;
    for (int i = 1; i <= 3; i++) oldRef = events.next(oldSubscriber).from();

    // delete and create again at once, while the old topic may still be stopping
    assertEquals(new TopicManager.TopicDeleted("orders"), delete(manager, "orders"));
    String secondEpoch = create(manager, "orders");
    assertNotEquals(firstEpoch, secondEpoch);
    oldSubscriber.expectMessage(new Topic.TopicDeleted("orders"));
    oldSubscriber.expectTerminated(oldRef, Duration.ofSeconds(3));

    TestProbe<Topic.Reply> newSubscriber = probe();
    manager.tell(new Topic.Subscribe("orders", "s2", newSubscriber.getRef(), null, 100, null, null));
    Topic.Subscribed subscribed = newSubscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(secondEpoch, subscribed.epoch());
    assertEquals(List.of(), subscribed.replay(), "nothing of the old topic is replayed");

    // the old topic's end does not take the new one with it
    for (int i = 1; i <= 20; i++) {
      manager.tell(publish("orders", "q" + i, publisher));
      publisher.expectMessage(new Topic.Published("q" + i, "orders", i));
      assertEquals(i, frameJson(events.next(newSubscriber).frame()).get("offset").asLong());
    }
    // the old subscription ended with the old topic: the old subscriber's next message is its own ack
    manager.tell(publish("orders", "own", oldSubscriber));
    oldSubscriber.expectMessage(new Topic.Published("own", "orders", 21));

    // a since_offset from the old epoch is not recovered
    TestProbe<Topic.Reply> recovering = probe();
    manager.tell(new Topic.Subscribe("orders", "r", recovering.getRef(), null, 0, 3L, firstEpoch));
    Topic.Subscribed recovered = recovering.expectMessageClass(Topic.Subscribed.class);
    assertEquals(Boolean.FALSE, recovered.recovered());
    assertEquals(21, recovered.replay().size(), "the replay starts from the oldest retained event");
    assertEquals(1, frameJson(recovered.replay().get(0)).get("offset").asLong());
  }

  // ---------------------------------------------------------------- routing

  @Test
  void requestsForUnknownTopicsAnswerTopicNotFoundWithTheRequestId() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "exists");
    TestProbe<Topic.Reply> client = probe();
    manager.tell(publish("missing", "r-pub", client));
    client.expectMessage(new Topic.TopicNotFound("r-pub", "missing"));
    manager.tell(subscribe("missing", "r-sub", client));
    client.expectMessage(new Topic.TopicNotFound("r-sub", "missing"));
    manager.tell(new Topic.Unsubscribe("missing", "r-unsub", client.getRef()));
    client.expectMessage(new Topic.TopicNotFound("r-unsub", "missing"));
    manager.tell(publish("missing", null, client));
    client.expectMessage(new Topic.TopicNotFound(null, "missing"));
  }

  @Test
  void requestsAreRoutedToTheirTopicByName() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "a");
    create(manager, "b");
    TestProbe<Topic.Reply> onA = probe();
    TestProbe<Topic.Reply> onB = probe();
    manager.tell(subscribe("a", "sa", onA));
    manager.tell(subscribe("b", "sb", onB));
    onA.expectMessageClass(Topic.Subscribed.class);
    onB.expectMessageClass(Topic.Subscribed.class);

    TestProbe<Topic.Reply> publisher = probe();
    manager.tell(publish("a", "pa1", publisher));
    manager.tell(publish("a", "pa2", publisher));
    manager.tell(publish("b", "pb1", publisher));
    // Two topics answer independently: only the order within one topic is defined.
    java.util.List<Topic.Reply> acks = publisher.receiveSeveralMessages(3);
    java.util.List<Topic.Reply> onlyA = acks.stream().filter(r -> ((Topic.Published) r).topic().equals("a")).toList();
    assertEquals(java.util.List.of(new Topic.Published("pa1", "a", 1), new Topic.Published("pa2", "a", 2)), onlyA);
    assertTrue(acks.contains(new Topic.Published("pb1", "b", 1)), acks::toString);

    JsonNode a1 = frameJson(events.next(onA).frame());
    JsonNode a2 = frameJson(events.next(onA).frame());
    JsonNode b1 = frameJson(events.next(onB).frame());
    assertEquals("a", a1.get("topic").asText());
    assertEquals(List.of(1L, 2L), List.of(a1.get("offset").asLong(), a2.get("offset").asLong()));
    assertEquals("b", b1.get("topic").asText());
    assertEquals(1, b1.get("offset").asLong());
    assertEquals("pb1", b1.get("message").get("payload").get("k").asText());
    // no cross-talk: each subscriber's next message is its own ack
    manager.tell(publish("b", "own", onA));
    onA.expectMessage(new Topic.Published("own", "b", 2));

    manager.tell(new Topic.Unsubscribe("b", "u", onA.getRef()));
    onA.expectMessage(new Topic.NotSubscribed("u", "b"));
    manager.tell(new Topic.Unsubscribe("a", "u", onA.getRef()));
    onA.expectMessage(new Topic.Unsubscribed("u", "a"));
  }

  /**
   * A client that deletes a topic, creates it again and subscribes on a connection that was
   * subscribed must not get the old topic's topic_deleted after its new subscription: the delete
   * is answered only once every subscriber has been told. One probe stands for the subscriber and
   * the REST caller, so that its mailbox shows the order.
   */
  @Test
  void aDeleteIsAnsweredAfterTheSubscribersHaveBeenTold() {
    ActorRef<TopicManager.Command> manager = manager();
    for (int round = 0; round < 20; round++) {
      String name = "again-" + round;
      create(manager, name);
      TestProbe<Object> both = testKit.createTestProbe(Object.class);
      ActorRef<Topic.Reply> subscriber = both.getRef().unsafeUpcast();
      manager.tell(new Topic.Subscribe(name, "s", subscriber, "client-1", 0, null, null));
      both.expectMessageClass(Topic.Subscribed.class);
      manager.tell(new TopicManager.DeleteTopic(name, both.getRef().unsafeUpcast()));
      assertEquals(new Topic.TopicDeleted(name), both.receiveMessage(), "round " + round);
      assertEquals(new TopicManager.TopicDeleted(name), both.receiveMessage(), "round " + round);
    }
  }

  @Test
  void publishWithAClientMessageIdKeepsIt() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "t");
    TestProbe<Topic.Reply> subscriber = probe();
    manager.tell(subscribe("t", "s", subscriber));
    subscriber.expectMessageClass(Topic.Subscribed.class);
    String id = UUID.randomUUID().toString().toUpperCase();
    manager.tell(new Topic.Publish("t", "p", probe().getRef(), id, RawJson.of("7")));
    JsonNode event = frameJson(events.next(subscriber).frame());
    assertEquals(id, event.get("message").get("id").asText());
    assertEquals(7, event.get("message").get("payload").asInt());
  }

  @Test
  void maxHistoryIsAppliedToEveryTopic() {
    ActorRef<TopicManager.Command> manager = manager(3);
    create(manager, "t");
    TestProbe<Topic.Reply> publisher = probe();
    for (int i = 1; i <= 10; i++) manager.tell(publish("t", "p" + i, publisher));
    publisher.receiveSeveralMessages(10);
    TestProbe<Topic.Reply> subscriber = probe();
    manager.tell(new Topic.Subscribe("t", "s", subscriber.getRef(), null, 1000, null, null));
    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(List.of(8L, 9L, 10L),
        subscribed.replay().stream().map(f -> frameJson(f).get("offset").asLong()).toList());
  }

  // ---------------------------------------------------------------- stats

  @Test
  void statsOfNoTopicsIsAnEmptyList() {
    TopicManager.TopicStatsCollected collected = stats(manager());
    assertEquals(List.of(), collected.topics());
    assertEquals(0, collected.subscriberCount());
  }

  @Test
  void statsAreSortedByNameWithMessagesSubscribersAndDropped() {
    ActorRef<TopicManager.Command> manager = manager(2);
    for (String name : List.of("charlie", "alpha", "bravo", "Zulu")) create(manager, name);

    TestProbe<Topic.Reply> s1 = probe();
    TestProbe<Topic.Reply> s2 = probe();
    for (TestProbe<Topic.Reply> s : List.of(s1, s2)) {
      manager.tell(subscribe("bravo", "s", s));
      s.expectMessageClass(Topic.Subscribed.class);
    }
    manager.tell(subscribe("charlie", "s", s1));
    s1.expectMessageClass(Topic.Subscribed.class);

    TestProbe<Topic.Reply> publisher = probe();
    for (int i = 0; i < 5; i++) manager.tell(publish("bravo", "b", publisher));
    for (int i = 0; i < 3; i++) manager.tell(publish("alpha", "a", publisher));
    publisher.receiveSeveralMessages(8);

    // a connection reports drops to the topic the event came from
    ActorRef<Topic.Command> bravo = events.next(s2).from();
    bravo.tell(new Topic.RecordDropped(4));

    List<Topic.Stats> expected = List.of(
        new Topic.Stats("Zulu", 0, 0, 0),
        new Topic.Stats("alpha", 3, 0, 0),
        new Topic.Stats("bravo", 5, 2, 4),
        new Topic.Stats("charlie", 0, 1, 0));
    TestProbe<TopicManager.TopicStatsCollected> replies = testKit.createTestProbe(TopicManager.TopicStatsCollected.class);
    replies.awaitAssert(() -> {
      manager.tell(new TopicManager.GetTopicStats(replies.getRef()));
      TopicManager.TopicStatsCollected collected = replies.receiveMessage();
      assertEquals(expected, collected.topics());
      assertEquals(3, collected.subscriberCount());
      return null;
    });
  }

  @Test
  void statsFollowUnsubscribesAndDeletes() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "x");
    create(manager, "y");
    TestProbe<Topic.Reply> s = probe();
    manager.tell(subscribe("x", "s", s));
    s.expectMessageClass(Topic.Subscribed.class);
    assertEquals(List.of(new Topic.Stats("x", 0, 1, 0), new Topic.Stats("y", 0, 0, 0)), stats(manager).topics());

    manager.tell(new Topic.Unsubscribe("x", "u", s.getRef()));
    s.expectMessage(new Topic.Unsubscribed("u", "x"));
    assertEquals(List.of(new Topic.Stats("x", 0, 0, 0), new Topic.Stats("y", 0, 0, 0)), stats(manager).topics());

    delete(manager, "x");
    assertEquals(List.of(new Topic.Stats("y", 0, 0, 0)), stats(manager).topics());
    delete(manager, "y");
    assertEquals(List.of(), stats(manager).topics());
  }

  @Test
  void aStoppedSubscriberIsNoLongerCounted() {
    ActorRef<TopicManager.Command> manager = manager();
    create(manager, "t");
    TestProbe<Topic.Reply> s = probe();
    manager.tell(subscribe("t", "s", s));
    s.expectMessageClass(Topic.Subscribed.class);
    assertEquals(1, stats(manager).subscriberCount());
    s.stop();
    TestProbe<TopicManager.TopicStatsCollected> replies = testKit.createTestProbe(TopicManager.TopicStatsCollected.class);
    replies.awaitAssert(() -> {
      manager.tell(new TopicManager.GetTopicStats(replies.getRef()));
      assertEquals(0, replies.receiveMessage().subscriberCount());
      return null;
    });
  }
  /**
   * Topics filled one after another, each while the total was within the budget or its share was
   * larger, and then left alone, give up their excess too: the manager tells every topic to trim
   * when the budget is exceeded, not only the topic that appends.
   */
  @Test
  void topicsThatNoLongerPublishGiveUpWhatIsOverTheirShareOfAnExceededBudget() {
    HistoryMemory memory = new HistoryMemory(10_000);
    ActorRef<TopicManager.Command> manager = testKit.spawn(TopicManager.create(
        100, memory, Duration.ofSeconds(3), 0, Settings.FanOutPacing.OFF, FanOutBatch.UNBOUNDED_QUEUES,
        new ServerMetrics(new SimpleMeterRegistry())));
    create(manager, "first");
    TestProbe<Topic.Reply> publisher = probe();
    publishKilobytes(manager, publisher, "first", 8);
    int firstKept = replayed(manager, "first");
    create(manager, "second");
    create(manager, "third");
    publishKilobytes(manager, publisher, "second", 8);

    probe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(memory.retainedBytes() <= memory.budgetBytes(), memory.retainedBytes() + " bytes retained");
      return null;
    });
    int firstKeeps = replayed(manager, "first");
    assertTrue(firstKeeps > 0 && firstKeeps < firstKept, "the first topic kept " + firstKept + " events alone, then " + firstKeeps);
    assertTrue(memory.evictedEvents() > 0);
  }

  private static void publishKilobytes(ActorRef<TopicManager.Command> manager, TestProbe<Topic.Reply> publisher, String topic, int count) {
    String kilobyte = "{\"x\":\"" + "x".repeat(1000) + "\"}";
    for (int i = 1; i <= count; i++) {
      manager.tell(new Topic.Publish(topic, topic + i, publisher.getRef(), null, RawJson.of(kilobyte)));
      publisher.expectMessageClass(Topic.Published.class);
    }
  }

  private static int replayed(ActorRef<TopicManager.Command> manager, String topic) {
    TestProbe<Topic.Reply> subscriber = probe();
    manager.tell(new Topic.Subscribe(topic, "all", subscriber.getRef(), "c", 100, null, null));
    return subscriber.expectMessageClass(Topic.Subscribed.class).replay().size();
  }
}
