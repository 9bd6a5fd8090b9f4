package pekkopubsub.topic;

import static net.logstash.logback.argument.StructuredArguments.kv;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.DeadLetterSuppression;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import pekkopubsub.config.Settings;
import pekkopubsub.metrics.ServerMetrics;

/**
 * Creates, deletes and finds topics: one {@link Topic} child per topic, and the router of client
 * requests addressed to a topic by name (a connection that publishes to a topic {@link Locate}s it
 * and then sends straight to it).
 */
public final class TopicManager extends AbstractBehavior<TopicManager.Command> {

  public sealed interface Command permits CreateTopic, DeleteTopic, GetTopicStats, Locate, Topic.Request, TopicStopped, CheckHistoryMemory {}

  /**
   * How often the manager checks the topics' history against its budget. A topic trims itself when
   * it appends; this reaches the topics that no longer do.
   */
  public static final Duration HISTORY_CHECK_INTERVAL = Duration.ofMillis(200);

  public record CreateTopic(String name, ActorRef<CreateResult> replyTo) implements Command {}

  public sealed interface CreateResult {}

  public record TopicCreated(String name, String epoch) implements CreateResult {}

  public record TopicExists(String name) implements CreateResult {}

  /** The server already has {@code max-topics} topics. */
  public record TopicLimitReached(String name, int maxTopics) implements CreateResult {}

  public record DeleteTopic(String name, ActorRef<DeleteResult> replyTo) implements Command {}

  public sealed interface DeleteResult {}

  public record TopicDeleted(String name) implements DeleteResult {}

  public record TopicMissing(String name) implements DeleteResult {}

  /** Statistics of every topic, sorted by name; topics that do not answer in time are left out. */
  public record GetTopicStats(ActorRef<TopicStatsCollected> replyTo) implements Command {}

  public record TopicStatsCollected(List<Topic.Stats> topics) {
    public int subscriberCount() {
      return topics.stream().mapToInt(Topic.Stats::subscribers).sum();
    }
  }

  /**
   * Asks for the address of a topic's actor, so that a connection can send it requests without
   * this hop. The address stays valid until the actor stops (watch it).
   */
  public record Locate(String name, ActorRef<LocateResult> replyTo) implements Command {}

  /** Like a {@link Topic.Reply}, it may reach a connection that has just closed: no dead letter worth logging. */
  public sealed interface LocateResult extends DeadLetterSuppression {}

  public record Located(String name, ActorRef<Topic.Command> topic) implements LocateResult {}

  public record NotLocated(String name) implements LocateResult {}

  private record TopicStopped(String name, ActorRef<Topic.Command> topic) implements Command {}

  private enum CheckHistoryMemory implements Command { INSTANCE }

  /** {@code maxTopics} 0 means unlimited; topics fan out without pacing. */
  public static Behavior<Command> create(int maxHistory, Duration statsTimeout, int maxTopics, ServerMetrics metrics) {
    return create(maxHistory, HistoryMemory.unlimited(), statsTimeout, maxTopics, Settings.FanOutPacing.OFF,
        FanOutBatch.UNBOUNDED_QUEUES, metrics);
  }

  /** {@code maxTopics} 0 means unlimited; the topics' replay buffers share {@code memory}'s budget. */
  public static Behavior<Command> create(int maxHistory, HistoryMemory memory, Duration statsTimeout, int maxTopics,
      Settings.FanOutPacing pacing, FanOutBatch batch, ServerMetrics metrics) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      if (memory.budgetBytes() > 0) timers.startTimerWithFixedDelay(CheckHistoryMemory.INSTANCE, HISTORY_CHECK_INTERVAL);
      return new TopicManager(context, maxHistory, memory, statsTimeout, maxTopics, pacing, batch, metrics);
    }));
  }

  private final int maxHistory;
  private final HistoryMemory memory;
  private final int maxTopics;
  private final Settings.FanOutPacing pacing;
  private final FanOutBatch batch;
  private final ServerMetrics metrics;
  private final Duration statsTimeout;
  private final Map<String, ActorRef<Topic.Command>> topics = new HashMap<>();
  private long incarnation;

  private TopicManager(
      ActorContext<Command> context, int maxHistory, HistoryMemory memory, Duration statsTimeout, int maxTopics,
      Settings.FanOutPacing pacing, FanOutBatch batch, ServerMetrics metrics) {
    super(context);
    this.pacing = pacing;
    this.batch = batch;
    this.maxHistory = maxHistory;
    this.memory = memory;
    this.maxTopics = maxTopics;
    this.metrics = metrics;
    this.statsTimeout = statsTimeout;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Topic.Publish.class, this::route)
        .onMessage(Topic.Subscribe.class, this::route)
        .onMessage(Topic.Unsubscribe.class, this::route)
        .onMessage(Topic.Leave.class, this::route)
        .onMessage(Topic.UnsubscribesAnswered.class, this::route)
        .onMessage(Topic.Describe.class, this::route)
        .onMessage(Topic.ReadHistory.class, this::route)
        .onMessage(Locate.class, this::onLocate)
        .onMessage(CreateTopic.class, this::onCreate)
        .onMessage(DeleteTopic.class, this::onDelete)
        .onMessage(GetTopicStats.class, this::onGetStats)
        .onMessage(TopicStopped.class, this::onTopicStopped)
        .onMessageEquals(CheckHistoryMemory.INSTANCE, this::onCheckHistoryMemory)
        .build();
  }

  private Behavior<Command> route(Topic.Request request) {
    ActorRef<Topic.Command> topic = topics.get(request.topic());
    if (topic != null) {
      topic.tell(request);
    } else if (!(request instanceof Topic.Leave || request instanceof Topic.UnsubscribesAnswered)) {
      request.replyTo().tell(new Topic.TopicNotFound(request.requestId(), request.topic()));
    }
    return this;
  }

  private Behavior<Command> onLocate(Locate locate) {
    ActorRef<Topic.Command> topic = topics.get(locate.name());
    locate.replyTo().tell(topic != null ? new Located(locate.name(), topic) : new NotLocated(locate.name()));
    return this;
  }

  private Behavior<Command> onCreate(CreateTopic create) {
    if (topics.containsKey(create.name())) {
      create.replyTo().tell(new TopicExists(create.name()));
      return this;
    }
    if (maxTopics > 0 && topics.size() >= maxTopics) {
      create.replyTo().tell(new TopicLimitReached(create.name(), maxTopics));
      return this;
    }
    String epoch = newEpoch();
    // A deleted topic's actor may still be stopping: the incarnation keeps the new child's name unique.
    ActorRef<Topic.Command> topic = getContext().spawn(
        Topic.create(create.name(), epoch, maxHistory, memory, pacing, batch, metrics), "topic-" + create.name() + "-" + (++incarnation));
    getContext().watchWith(topic, new TopicStopped(create.name(), topic));
    topics.put(create.name(), topic);
    metrics.topicsChanged(1);
    // Key-value arguments: "topic=orders" in text logs, a "topic" field in JSON logs.
    getContext().getLog().info("topic created {} {}", kv("topic", create.name()), kv("epoch", epoch));
    create.replyTo().tell(new TopicCreated(create.name(), epoch));
    return this;
  }

  private Behavior<Command> onDelete(DeleteTopic delete) {
    // Removed from the map before it stops, so requests from now on get TOPIC_NOT_FOUND, while those
    // already routed sit ahead of Delete in the topic's mailbox and are answered.
    ActorRef<Topic.Command> topic = topics.remove(delete.name());
    if (topic != null) metrics.topicsChanged(-1);
    if (topic == null) {
      delete.replyTo().tell(new TopicMissing(delete.name()));
      return this;
    }
    topic.tell(new Topic.Delete(delete.replyTo()));
    getContext().getLog().info("topic deleted {}", kv("topic", delete.name()));
    return this;
  }

  private Behavior<Command> onGetStats(GetTopicStats get) {
    getContext().spawnAnonymous(TopicStatsQuery.create(Map.copyOf(topics), get.replyTo(), statsTimeout));
    return this;
  }

  private Behavior<Command> onTopicStopped(TopicStopped stopped) {
    if (topics.remove(stopped.name(), stopped.topic())) metrics.topicsChanged(-1);
    return this;
  }

  private Behavior<Command> onCheckHistoryMemory() {
    if (memory.overBudget()) topics.values().forEach(topic -> topic.tell(Topic.TrimHistory.INSTANCE));
    return this;
  }

  private static String newEpoch() {
    return String.format("%016x", ThreadLocalRandom.current().nextLong());
  }
}
