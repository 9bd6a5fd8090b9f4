package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.RawJson;

/**
 * The Topic protocol can cross to another node, as the cluster step needs: every message of it
 * goes through Pekko's serializer and comes back equal, and the manager and its topics work when
 * every message they send or get is such a copy ({@code serialize-messages}).
 */
class TopicProtocolSerializationTest {

  /** The protocol's roots: each sealed hierarchy, and the replies that stand alone. */
  private static final List<Class<?>> ROOTS = List.of(
      Topic.Command.class, Topic.Reply.class, Topic.Stats.class, TopicManager.Command.class,
      TopicManager.CreateResult.class, TopicManager.DeleteResult.class, TopicManager.LocateResult.class,
      TopicManager.TopicStatsCollected.class);

  private static ActorTestKit testKit;
  private static Serialization serialization;

  @BeforeAll
  static void startTestKit() {
    StringBuilder bindings = new StringBuilder();
    for (Class<?> root : ROOTS) bindings.append('"').append(root.getName()).append("\" = jackson-cbor\n");
    testKit = ActorTestKit.create(ConfigFactory.parseString("""
        pekko.actor.serialize-messages = on
        pekko.actor.serialization-bindings { %s }
        pekko.serialization.jackson.jackson-modules += "pekkopubsub.topic.WireBytesModule"
        """.formatted(bindings)).withFallback(ConfigFactory.load()).resolve());
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  // ---------------------------------------------------------------- every message, one at a time

  @Test
  void everyMessageOfTheProtocolComesBackFromTheSerializerEqual() throws Exception {
    ActorRef<Object> ref = testKit.<Object>createTestProbe().getRef();
    Set<Class<?>> messages = new LinkedHashSet<>();
    for (Class<?> root : ROOTS) concreteTypes(root, messages);
    assertTrue(messages.size() >= 30, "the hierarchies were walked: " + messages);
    for (Class<?> type : messages) {
      Object message = type.isEnum() ? type.getEnumConstants()[0] : sample(type, ref);
      Serializer serializer = serialization.findSerializerFor(message);
      assertEquals("JacksonCborSerializer", serializer.getClass().getSimpleName(), type + " is bound to the cluster's serializer");
      byte[] bytes = serialization.serialize(message).get();
      Object back = serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
      if (!type.isEnum()) assertNotSame(message, back);
      assertEquals(message, back, type + " comes back equal");
    }
  }

  private static void concreteTypes(Class<?> type, Set<Class<?>> into) {
    if (type.isSealed()) {
      for (Class<?> permitted : type.getPermittedSubclasses()) concreteTypes(permitted, into);
    } else {
      assertTrue(type.isRecord() || type.isEnum(), type + " is a record or an enum");
      into.add(type);
    }
  }

  /** An instance of {@code record} with a sample value in each component. */
  private static Object sample(Class<?> record, ActorRef<Object> ref) throws Exception {
    RecordComponent[] components = record.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      values[i] = sampleOf(components[i].getGenericType(), record, ref);
    }
    Constructor<?> canonical = record.getDeclaredConstructor(types);
    canonical.setAccessible(true);
    return canonical.newInstance(values);
  }

  private static Object sampleOf(Type type, Class<?> in, ActorRef<Object> ref) {
    Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    Type element = type instanceof ParameterizedType p ? p.getActualTypeArguments()[0] : null;
    if (raw == String.class) return "orders";
    if (raw == long.class || raw == Long.class) return 42L;
    if (raw == int.class || raw == Integer.class) return 7;
    if (raw == boolean.class || raw == Boolean.class) return Boolean.TRUE;
    if (raw == ActorRef.class) return ref;
    if (raw == RawJson.class) return RawJson.of("{\"price\":[1.5,\"é\",null]}");
    if (raw == ByteString.class) return ByteString.fromArray(new byte[] {(byte) 0x81, 2, '{', '}'});
    if (raw == Topic.Stats.class) return new Topic.Stats("orders", 42, 3, 1);
    if (raw == List.class) return List.of(sampleOf(element, in, ref), sampleOf(element, in, ref));
    if (raw == Map.class && element == String.class) return Map.of("client-a", 2, "client-b", 1);
    return fail("no sample for a " + type + " in " + in.getName()
        + ": give it one here if it can cross to another node, or make the message out of things that can");
  }

  // ---------------------------------------------------------------- the actors on copies

  @Test
  void theTestKitHandsOnCopies() {
    TestProbe<Topic.Reply> probe = testKit.createTestProbe();
    Topic.TopicDeleted sent = new Topic.TopicDeleted("orders");
    probe.getRef().tell(sent);
    Topic.Reply received = probe.receiveMessage();
    assertEquals(sent, received);
    assertNotSame(sent, received, "what the actors below get went through the serializer");
  }

  @Test
  void topicsAnswerAndFanOutWhenEveryMessageIsACopy() {
    ActorRef<TopicManager.Command> manager = manager();
    String epoch = create(manager, "orders");

    TestProbe<Topic.Reply> publisher = testKit.createTestProbe();
    for (int i = 1; i <= 3; i++) {
      manager.tell(new Topic.Publish("orders", "p" + i, publisher.getRef(), null, RawJson.of("{\"n\":" + i + "}")));
      assertEquals(i, publisher.expectMessageClass(Topic.Published.class).offset());
    }

    TestProbe<Topic.Reply> subscriber = testKit.createTestProbe();
    manager.tell(new Topic.Subscribe("orders", "s", subscriber.getRef(), "client-a", 2, null, null));
    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(epoch, subscribed.epoch());
    assertEquals(List.of(2L, 3L), offsets(subscribed.replay()), "the newest two, replayed");

    manager.tell(new Topic.Publish("orders", "p4", publisher.getRef(), null, RawJson.of("{\"n\":4}")));
    publisher.expectMessageClass(Topic.Published.class);
    Topic.Events events = subscriber.expectMessageClass(Topic.Events.class);
    assertEquals(List.of(4L), offsets(events.frames()));
    assertEquals(4, TopicTest.frameJson(events.frames().get(0)).path("message").path("payload").path("n").asInt());

    TestProbe<TopicManager.LocateResult> located = testKit.createTestProbe();
    manager.tell(new TopicManager.Locate("orders", located.getRef()));
    ActorRef<Topic.Command> topic = located.expectMessageClass(TopicManager.Located.class).topic();
    assertEquals(events.from(), topic, "events name the topic that sent them");

    TestProbe<Topic.Reply> describer = testKit.createTestProbe();
    topic.tell(new Topic.Describe("orders", describer.getRef()));
    Topic.Described described = describer.expectMessageClass(Topic.Described.class);
    assertEquals(4, described.messages());
    assertEquals(Map.of("client-a", 1), described.clientIds());

    topic.tell(new Topic.Unsubscribe("orders", "u", subscriber.getRef()));
    assertEquals("u", subscriber.expectMessageClass(Topic.Unsubscribed.class).requestId());

    TestProbe<TopicManager.TopicStatsCollected> stats = testKit.createTestProbe();
    manager.tell(new TopicManager.GetTopicStats(stats.getRef()));
    assertEquals(List.of(new Topic.Stats("orders", 4, 0, 0)), stats.receiveMessage().topics());

    TestProbe<TopicManager.DeleteResult> deleted = testKit.createTestProbe();
    manager.tell(new TopicManager.DeleteTopic("orders", deleted.getRef()));
    deleted.expectMessage(new TopicManager.TopicDeleted("orders"));
    manager.tell(new Topic.Publish("orders", "late", publisher.getRef(), null, RawJson.of("1")));
    publisher.expectMessage(new Topic.TopicNotFound("late", "orders"));
  }

  @Test
  void aPagedReplayAndALostConnectionAreCountedWhenEveryMessageIsACopy() {
    ActorRef<TopicManager.Command> manager = manager();
    String epoch = create(manager, "prices");
    TestProbe<Topic.Reply> publisher = testKit.createTestProbe();
    String large = "{\"x\":\"" + "x".repeat(10_000) + "\"}";
    for (int i = 0; i < 20; i++) manager.tell(new Topic.Publish("prices", "p" + i, publisher.getRef(), null, RawJson.of(large)));
    for (int i = 0; i < 20; i++) publisher.expectMessageClass(Topic.Published.class);

    TestProbe<Topic.Reply> subscriber = testKit.createTestProbe();
    manager.tell(new Topic.Subscribe("prices", "s", subscriber.getRef(), null, 0, 0L, epoch));
    Topic.Subscribed subscribed = subscriber.expectMessageClass(Topic.Subscribed.class);
    assertEquals(Boolean.TRUE, subscribed.recovered());
    assertEquals(20, subscribed.replayed());
    List<ByteString> frames = new ArrayList<>(subscribed.replay());
    Topic.ReplayPage page;
    do {
      subscribed.replayContinuesAt().tell(new Topic.ContinueReplay(subscriber.getRef()));
      page = subscriber.expectMessageClass(Topic.ReplayPage.class);
      frames.addAll(page.frames());
    } while (!page.done());
    assertEquals(TopicTest.range(1, 20), offsets(frames), "every page, in order, once");

    manager.tell(new Topic.Publish("prices", "p20", publisher.getRef(), null, RawJson.of("21")));
    publisher.expectMessageClass(Topic.Published.class);
    assertEquals(List.of(21L), offsets(subscriber.expectMessageClass(Topic.Events.class).frames()));
    manager.tell(new Topic.Leave("prices", subscriber.getRef(), 20));

    TestProbe<TopicManager.TopicStatsCollected> stats = testKit.createTestProbe();
    manager.tell(new TopicManager.GetTopicStats(stats.getRef()));
    Topic.Stats after = stats.receiveMessage().topics().get(0);
    assertEquals(0, after.subscribers());
    assertEquals(1, after.dropped(), "event 21, sent but not received when the connection ended");
  }

  private static ActorRef<TopicManager.Command> manager() {
    return testKit.spawn(TopicManager.create(100, Duration.ofSeconds(3), 10, new ServerMetrics(new SimpleMeterRegistry())));
  }

  /** Creates topic {@code name} through {@code manager}; its epoch. */
  private static String create(ActorRef<TopicManager.Command> manager, String name) {
    TestProbe<TopicManager.CreateResult> created = testKit.createTestProbe();
    manager.tell(new TopicManager.CreateTopic(name, created.getRef()));
    return created.expectMessageClass(TopicManager.TopicCreated.class).epoch();
  }

  private static List<Long> offsets(List<ByteString> frames) {
    List<Long> offsets = new ArrayList<>();
    for (ByteString frame : frames) {
      JsonNode json = TopicTest.frameJson(frame);
      offsets.add(json.get("offset").asLong());
    }
    return offsets;
  }
}
