package pekkopubsub.topic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/** A short-lived actor that asks every topic for its statistics and answers once with all of them. */
final class TopicStatsQuery extends AbstractBehavior<TopicStatsQuery.Command> {

  sealed interface Command {}

  private record WrappedStats(Topic.Stats stats) implements Command {}

  private enum CollectionTimeout implements Command { INSTANCE }

  /** A topic deleted between the snapshot and its answer: it will never answer, so stop waiting for it. */
  private record TopicGone(String topic) implements Command {}

  static Behavior<Command> create(
      Map<String, ActorRef<Topic.Command>> topics,
      ActorRef<TopicManager.TopicStatsCollected> replyTo,
      Duration timeout) {
    return Behaviors.setup(context -> {
      if (topics.isEmpty()) {
        replyTo.tell(new TopicManager.TopicStatsCollected(List.of()));
        return Behaviors.stopped();
      }
      return Behaviors.withTimers(timers -> new TopicStatsQuery(context, timers, topics, replyTo, timeout));
    });
  }

  private final ActorRef<TopicManager.TopicStatsCollected> replyTo;
  private final List<Topic.Stats> collected = new ArrayList<>();
  private int expected;

  private TopicStatsQuery(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Map<String, ActorRef<Topic.Command>> topics,
      ActorRef<TopicManager.TopicStatsCollected> replyTo,
      Duration timeout) {
    super(context);
    this.replyTo = replyTo;
    this.expected = topics.size();
    timers.startSingleTimer(CollectionTimeout.INSTANCE, timeout);
    ActorRef<Topic.Stats> adapter = context.messageAdapter(Topic.Stats.class, WrappedStats::new);
    topics.forEach((name, topic) -> {
      context.watchWith(topic, new TopicGone(name));
      topic.tell(new Topic.GetStats(adapter));
    });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(WrappedStats.class, w -> onStats(w.stats()))
        .onMessage(TopicGone.class, gone -> onTopicGone(gone.topic()))
        .onMessageEquals(CollectionTimeout.INSTANCE, this::respondAndStop)
        .build();
  }

  private Behavior<Command> onStats(Topic.Stats stats) {
    collected.add(stats);
    return collected.size() >= expected ? respondAndStop() : this;
  }

  private Behavior<Command> onTopicGone(String topic) {
    boolean answered = collected.stream().anyMatch(stats -> stats.topic().equals(topic));
    if (!answered) expected--;
    return collected.size() >= expected ? respondAndStop() : this;
  }

  private Behavior<Command> respondAndStop() {
    collected.sort(Comparator.comparing(Topic.Stats::topic));
    replyTo.tell(new TopicManager.TopicStatsCollected(List.copyOf(collected)));
    return Behaviors.stopped();
  }
}
