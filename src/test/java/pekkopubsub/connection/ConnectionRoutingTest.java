package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import pekkopubsub.config.Settings;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.RequestDecoder;
import pekkopubsub.topic.Topic;
import pekkopubsub.topic.TopicManager;

/** One connection stage with probes for the manager and a topic: where its requests go, hop by hop. */
class ConnectionRoutingTest {
  private static ActorTestKit testKit;
  private TestProbe<TopicManager.Command> manager;
  private TestProbe<Topic.Command> topic;
  private BoundedSourceQueue<WebSocketFrameDecoder.Event> client;
  private final LinkedBlockingQueue<ByteString> written = new LinkedBlockingQueue<>();
  private final StringBuilder seen = new StringBuilder();

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void openConnection() {
    open(Settings.from(Settings.withDefaults(ConfigFactory.empty())));
  }

  private void open(Settings settings) {
    open(settings, Sink.foreach(written::add));
  }

  private void open(Settings settings, Sink<ByteString, ?> socket) {
    manager = testKit.createTestProbe(TopicManager.Command.class);
    topic = testKit.createTestProbe(Topic.Command.class);
    Connection connection = new Connection("test", manager.getRef(),
        testKit.createTestProbe(ConnectionRegistry.Command.class).getRef(), settings, RequestDecoder.withDefaults(),
        new ServerMetrics(new SimpleMeterRegistry()), HeapPressure.OFF, 0, new NegotiatedExtensions());
    client = Source.<WebSocketFrameDecoder.Event>queue(16)
        .via(connection)
        .to(socket)
        .run(Materializer.createMaterializer(testKit.system()));
  }

  @AfterEach
  void closeConnection() {
    if (client != null) client.complete();
  }

  @Test
  void aLocatedTopicGetsPublishesStraightAndTheOnesItNeverAnsweredGoAgainThroughTheManager() {
    publish("p1");
    Topic.Publish p1 = manager.expectMessageClass(Topic.Publish.class);
    TopicManager.Locate locate = manager.expectMessageClass(TopicManager.Locate.class);
    assertEquals("orders", locate.name());
    locate.replyTo().tell(new TopicManager.Located("orders", topic.getRef()));
    p1.replyTo().tell(new Topic.Published("p1", "orders", 1));
    awaitWritten("\"request_id\":\"p1\"");

    publish("p2");
    publish("p3");
    assertEquals("p2", topic.expectMessageClass(Topic.Publish.class).requestId());
    Topic.Publish p3 = topic.expectMessageClass(Topic.Publish.class);
    assertEquals("p3", p3.requestId());
    manager.expectNoMessage(Duration.ofMillis(100));
    p3.replyTo().tell(new Topic.Published("p2", "orders", 2));

    // The topic stops (deleted) with p3 unanswered: p3 goes to the manager, and so does what follows.
    topic.stop();
    assertEquals("p3", manager.expectMessageClass(Topic.Publish.class).requestId());
    publish("p4");
    assertEquals("p4", manager.expectMessageClass(Topic.Publish.class).requestId());
    TopicManager.Locate again = manager.expectMessageClass(TopicManager.Locate.class);
    again.replyTo().tell(new TopicManager.NotLocated("orders"));
    p3.replyTo().tell(new Topic.TopicNotFound("p3", "orders"));
    awaitWritten("\"request_id\":\"p3\"");
    assertTrue(seen.indexOf("TOPIC_NOT_FOUND") > 0, seen::toString);
  }

  @Test
  void whileAnAnswerThroughTheManagerIsPendingRequestsKeepGoingThroughIt() {
    publish("p1");
    Topic.Publish p1 = manager.expectMessageClass(Topic.Publish.class);
    TopicManager.Locate locate = manager.expectMessageClass(TopicManager.Locate.class);
    locate.replyTo().tell(new TopicManager.Located("orders", topic.getRef()));
    publish("p2");
    assertEquals("p2", manager.expectMessageClass(Topic.Publish.class).requestId(), "p1 is not answered yet");
    topic.expectNoMessage(Duration.ofMillis(100));

    p1.replyTo().tell(new Topic.Published("p1", "orders", 1));
    p1.replyTo().tell(new Topic.Published("p2", "orders", 2));
    awaitWritten("\"request_id\":\"p2\"");
    publish("p3");
    assertEquals("p3", topic.expectMessageClass(Topic.Publish.class).requestId());
  }

  @Test
  void aReplayInPagesIsAskedForPageByPageOnceWrittenUntilTheLast() {
    Topic.Subscribe subscribe = subscribe("s1");
    subscribe.replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, 4,
        List.of(WebSocketFrames.text("{\"replayed\":1}")), topic.getRef(), null));
    awaitWritten("\"replayed\":4");
    awaitWritten("{\"replayed\":1}");
    Topic.ContinueReplay ask = topic.expectMessageClass(Topic.ContinueReplay.class);
    assertEquals(subscribe.replyTo(), ask.replyTo());
    topic.expectNoMessage(Duration.ofMillis(100));

    ask.replyTo().tell(new Topic.ReplayPage("orders", topic.getRef(),
        List.of(WebSocketFrames.text("{\"replayed\":2}"), WebSocketFrames.text("{\"replayed\":3}")), 0, 3, 0, false));
    awaitWritten("{\"replayed\":3}");
    topic.expectMessageClass(Topic.ContinueReplay.class);
    ask.replyTo().tell(new Topic.ReplayPage("orders", topic.getRef(), List.of(WebSocketFrames.text("{\"live\":4}")), 1, 4, 0, true));
    awaitWritten("{\"live\":4}");
    topic.expectNoMessage(Duration.ofMillis(100));
    assertTrue(seen.indexOf("{\"replayed\":1}") < seen.indexOf("{\"replayed\":2}"), seen::toString);
  }

  /**
   * The live events of a replay page are owed like any event: left unwritten when the connection
   * ends, they are counted as dropped against their topic, whose Leave learns they were received.
   */
  @Test
  void aReplayPagesLiveEventsLeftUnwrittenWhenTheConnectionEndsAreCountedAsDroppedAndTheLeaveNamesTheNewest() {
    client.complete();
    // A socket that takes one write (the ack) and then nothing.
    open(Settings.from(Settings.withDefaults(ConfigFactory.empty())),
        Sink.<ByteString>queue().withAttributes(Attributes.inputBuffer(1, 1)));
    Topic.Subscribe subscribe = subscribe("s1");
    subscribe.replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, 5, List.of(), topic.getRef(), null));
    Topic.ContinueReplay ask = topic.expectMessageClass(Topic.ContinueReplay.class);
    ask.replyTo().tell(new Topic.ReplayPage("orders", topic.getRef(), List.of(WebSocketFrames.text("{\"replayed\":3}"),
        WebSocketFrames.text("{\"live\":4}"), WebSocketFrames.text("{\"live\":5}")), 2, 5, 0, true));

    client.complete();
    client = null;
    assertEquals(new Topic.RecordDropped(2), topic.expectMessageClass(Topic.RecordDropped.class), "4 and 5, not the replayed 3");
    assertEquals(new Topic.Leave("orders", subscribe.replyTo(), 5), manager.expectMessageClass(Topic.Leave.class));
  }

  @Test
  void aReplayPagesLiveEventsWrittenAreReceivedAndNotDropped() {
    Topic.Subscribe subscribe = subscribe("s1");
    subscribe.replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, 5, List.of(), topic.getRef(), null));
    Topic.ContinueReplay ask = topic.expectMessageClass(Topic.ContinueReplay.class);
    ask.replyTo().tell(new Topic.ReplayPage("orders", topic.getRef(), List.of(WebSocketFrames.text("{\"replayed\":3}"),
        WebSocketFrames.text("{\"live\":4}"), WebSocketFrames.text("{\"live\":5}")), 2, 5, 0, true));
    awaitWritten("{\"live\":5}");

    client.complete();
    client = null;
    assertEquals(new Topic.Leave("orders", subscribe.replyTo(), 5), manager.expectMessageClass(Topic.Leave.class));
    topic.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aDeletedTopicsReplayIsAskedForNoMore() {
    Topic.Subscribe subscribe = subscribe("s1");
    subscribe.replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, 4, List.of(), topic.getRef(), null));
    topic.expectMessageClass(Topic.ContinueReplay.class);
    subscribe.replyTo().tell(new Topic.TopicDeleted("orders"));
    awaitWritten("topic_deleted");
    topic.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void replayedEventsGivenUpBeforeTheyWereReadCloseADisconnectPolicyConnectionAsASlowConsumer() {
    client.complete();
    open(Settings.from(Settings.withDefaults(ConfigFactory.parseString("pubsub.connection.overflow-policy = disconnect"))));
    Topic.Subscribe subscribe = subscribe("s1");
    subscribe.replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, 9, List.of(), topic.getRef(), null));
    Topic.ContinueReplay ask = topic.expectMessageClass(Topic.ContinueReplay.class);
    ask.replyTo().tell(new Topic.ReplayPage("orders", topic.getRef(), List.of(), 0, 0, 5, false));
    awaitWritten("SLOW_CONSUMER");
    assertTrue(seen.indexOf("gave up 5 events of the replay") > 0, seen::toString);
    topic.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aClosingConnectionTellsEachTopicItJoinedTheNewestEventItReceivedFromIt() {
    Topic.Subscribe orders = subscribe("orders", "s1");
    subscribe("prices", "s2");
    Topic.Subscribe audit = subscribe("audit", "s3");
    orders.replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, List.of(), null));
    audit.replyTo().tell(new Topic.Subscribed("s3", "audit", "e", 0, List.of(), null));
    orders.replyTo().tell(new Topic.Events("orders", topic.getRef(),
        List.of(WebSocketFrames.text("{\"offset\":6}"), WebSocketFrames.text("{\"offset\":7}")), null, 7, System.nanoTime()));
    audit.replyTo().tell(new Topic.Events("audit", topic.getRef(), List.of(WebSocketFrames.text("{\"offset\":3}")), null, 3, System.nanoTime()));
    awaitWritten("{\"offset\":7}");
    awaitWritten("{\"offset\":3}");
    client.offer(new WebSocketFrameDecoder.Event.Text(
        "{\"type\":\"unsubscribe\",\"topic\":\"audit\",\"request_id\":\"u3\"}"));
    manager.expectMessageClass(Topic.Unsubscribe.class).replyTo().tell(new Topic.Unsubscribed("u3", "audit"));
    awaitWritten("\"request_id\":\"u3\"");
    assertEquals(new Topic.UnsubscribesAnswered("audit", orders.replyTo()), manager.receiveMessage());

    client.complete();
    client = null;
    Set<Topic.Leave> leaves = new HashSet<>(manager.receiveSeveralMessages(2).stream()
        .map(message -> assertInstanceOf(Topic.Leave.class, message)).toList());
    assertEquals(Set.of(new Topic.Leave("orders", orders.replyTo(), 7), new Topic.Leave("prices", orders.replyTo(), 0)), leaves,
        "the subscription still unanswered too; not the topic it left");
    manager.expectNoMessage(Duration.ofMillis(100));
  }

  /** Requests act in the order they were sent: an unsubscribe not answered yet already frees its place. */
  @Test
  void aSubscribeRightAfterAnUnsubscribeAtTheLimitTakesThePlaceItFrees() {
    client.complete();
    open(Settings.from(Settings.withDefaults(ConfigFactory.parseString("pubsub.limits.max-subscriptions-per-connection = 2"))));
    Topic.Subscribe orders = subscribe("orders", "s1");
    orders.replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, List.of(), null));
    subscribe("prices", "s2").replyTo().tell(new Topic.Subscribed("s2", "prices", "e", 0, List.of(), null));
    awaitWritten("\"request_id\":\"s2\"");

    client.offer(new WebSocketFrameDecoder.Event.Text("{\"type\":\"unsubscribe\",\"topic\":\"orders\",\"request_id\":\"u1\"}"));
    manager.expectMessageClass(Topic.Unsubscribe.class);
    assertEquals("audit", subscribe("audit", "s3").topic(), "the unsubscribe is not answered yet");
    client.offer(new WebSocketFrameDecoder.Event.Text("{\"type\":\"subscribe\",\"topic\":\"news\",\"request_id\":\"s4\"}"));
    awaitWritten("\"request_id\":\"s4\"");
    assertTrue(seen.indexOf("maximum of 2 subscriptions") > 0, seen::toString);
  }

  @Test
  void aRepeatSubscribeStillUnansweredTakesNoSecondPlaceUnderTheLimit() {
    client.complete();
    open(Settings.from(Settings.withDefaults(ConfigFactory.parseString("pubsub.limits.max-subscriptions-per-connection = 2"))));
    subscribe("orders", "s1").replyTo().tell(new Topic.Subscribed("s1", "orders", "e", 0, List.of(), null));
    awaitWritten("\"request_id\":\"s1\"");
    subscribe("orders", "s2");
    assertEquals("prices", subscribe("prices", "s3").topic(), "orders holds one place, subscribed twice or not");
    assertTrue(seen.indexOf("maximum of 2 subscriptions") < 0, seen::toString);
  }

  private Topic.Subscribe subscribe(String requestId) {
    return subscribe("orders", requestId);
  }

  private Topic.Subscribe subscribe(String topicName, String requestId) {
    client.offer(new WebSocketFrameDecoder.Event.Text(
        "{\"type\":\"subscribe\",\"topic\":\"" + topicName + "\",\"request_id\":\"" + requestId + "\"}"));
    return manager.expectMessageClass(Topic.Subscribe.class);
  }

  private void publish(String requestId) {
    client.offer(new WebSocketFrameDecoder.Event.Text(
        "{\"type\":\"publish\",\"topic\":\"orders\",\"request_id\":\"" + requestId + "\",\"message\":{\"payload\":1}}"));
  }

  private void awaitWritten(String text) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (seen.indexOf(text) < 0) {
      try {
        ByteString bytes = written.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (bytes == null) throw new AssertionError("never written: " + text + " in " + seen);
        seen.append(bytes.decodeString(StandardCharsets.UTF_8));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
