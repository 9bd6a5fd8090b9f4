package pekkopubsub.topic;

import static net.logstash.logback.argument.StructuredArguments.kv;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.DeadLetterSuppression;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.util.ByteString;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.PerMessageDeflate;
import pekkopubsub.connection.WebSocketFrames;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.Outbound;
import pekkopubsub.protocol.RawJson;
import pekkopubsub.protocol.Timestamps;

/**
 * One topic: the single writer of its offset counter, subscriber set and replay buffer.
 *
 * <p>A publish is encoded once, as a ready WebSocket frame. Publishes handled in one mailbox turn
 * are fanned out together: the same {@link Events} instance, holding their frames in offset order,
 * is told to every subscriber, so under load a subscriber gets one message (and one socket write)
 * per batch instead of one per publish. Subscribers are watched, so a connection that ends for
 * any reason leaves the set at once. The protocol holds only records, ActorRefs and immutable bytes, so a
 * Topic can later live on another cluster node.
 *
 * <p>Supervision: {@link #create} wraps the behaviour in {@code SupervisorStrategy.resume()}. An
 * unexpected exception loses only the message that caused it; a restart would instead reset the
 * offsets and replay buffer and silently detach every subscriber. Input is validated at the edge
 * (the codec), so no client frame reaches a Topic in a form that can throw.
 */
public final class Topic extends AbstractBehavior<Topic.Command> {

  public sealed interface Command {}

  /**
   * A client's request for one topic, sent by name to the {@link TopicManager}, which routes it, or
   * straight to the topic. One that reaches a topic after it stopped is sent again by its connection
   * (which watches the topic), so it is no dead letter worth logging.
   */
  public sealed interface Request extends Command, TopicManager.Command, DeadLetterSuppression {
    String topic();

    /** The client's request_id, which an answer echoes; none for what a connection or an operator sends unasked. */
    default String requestId() {
      return null;
    }

    ActorRef<Reply> replyTo();
  }

  /** Registers {@code replyTo} as a subscriber and takes its replay in the same step, so nothing falls between. */
  public record Subscribe(
      String topic, String requestId, ActorRef<Reply> replyTo, String clientId, int lastN, Long sinceOffset, String epoch,
      boolean compressed)
      implements Request {
    /** A subscriber that takes its events uncompressed. */
    public Subscribe(String topic, String requestId, ActorRef<Reply> replyTo, String clientId, int lastN, Long sinceOffset, String epoch) {
      this(topic, requestId, replyTo, clientId, lastN, sinceOffset, epoch, false);
    }
  }

  public record Unsubscribe(String topic, String requestId, ActorRef<Reply> replyTo) implements Request {}

  /**
   * Sent by a connection as it ends, for each topic it was subscribed to: the offset of the newest
   * event it received from this topic (0: none), in events or among a replay page's live events.
   * Events sent after it are dropped, and counted: they reached a connection that had already gone.
   */
  public record Leave(String topic, ActorRef<Reply> replyTo, long receivedUpTo) implements Request {}

  /**
   * Sent by a connection once every unsubscribe it sent this topic is answered: the events sent to
   * it before them have reached it, and a {@link Leave} no longer needs to count them.
   */
  public record UnsubscribesAnswered(String topic, ActorRef<Reply> replyTo) implements Request {}

  /** {@code messageId}: a UUID, kept as the client spelled it; null means the topic assigns one. */
  public record Publish(String topic, String requestId, ActorRef<Reply> replyTo, String messageId, RawJson payload)
      implements Request {}

  /** Events of this topic that a subscriber's outbound queue discarded. */
  public record RecordDropped(long count) implements Command, DeadLetterSuppression {}

  /** A topic deleted while the manager gathers stats simply gives none: not worth a dead-letter line. */
  public record GetStats(ActorRef<Stats> replyTo) implements Command, DeadLetterSuppression {}

  /** Asks for one topic's figures and who is subscribed (by client_id), for an operator; routed by name like a client's request. */
  public record Describe(String topic, ActorRef<Reply> replyTo) implements Request {}

  /**
   * Asks for retained events without subscribing (GET /topics/{name}/messages): those after
   * {@code sinceOffset}, oldest first, with {@code epoch} as a subscribe's since_offset takes it;
   * without it, the newest. At most {@code limit} of them and {@link #REPLAY_PAGE_BYTES} (at least
   * one event). Answered with {@link History}.
   */
  public record ReadHistory(String topic, int limit, Long sinceOffset, String epoch, ActorRef<Reply> replyTo)
      implements Request {}

  /**
   * Retained events' JSON, oldest first, as subscribers got them live. {@code newestOffset} and
   * {@code recovered} as in {@link Subscribed}; {@code more}: newer retained events did not fit,
   * and a read after the last one gets them.
   */
  public record History(String topic, String epoch, long newestOffset, List<ByteString> events, Boolean recovered,
      boolean more) implements Reply {}

  /**
   * One topic's figures: {@code retained} events from {@code oldestRetained} (null when none) up to
   * {@code messages}, the newest offset; {@code clientIds} counts subscriptions per client_id given.
   */
  public record Described(String topic, String epoch, long messages, int subscribers, long dropped, int retained,
      Long oldestRetained, Map<String, Integer> clientIds) implements Reply {}

  public record Stats(String topic, long messages, int subscribers, long dropped) {}

  /**
   * Sent by the TopicManager only: tell the subscribers, answer {@code replyTo}, then stop and free
   * the buffer. Answered here, not by the manager, so that a client who deletes, creates again and
   * subscribes cannot get the old topic's topic_deleted after its new subscription's ack.
   */
  record Delete(ActorRef<TopicManager.DeleteResult> replyTo) implements Command {}

  /** Sent by the TopicManager while the topics together hold more than the history budget: give up what is over this topic's share. */
  enum TrimHistory implements Command, DeadLetterSuppression { INSTANCE }

  private record SubscriberTerminated(ActorRef<Reply> subscriber) implements Command {}

  /**
   * Told to itself after the first publish of a batch: it arrives behind the publishes already
   * queued, or, when the pacer says so, after a wait.
   */
  private enum FanOut implements Command, DeadLetterSuppression { INSTANCE }

  /**
   * What a Topic (or the TopicManager on its behalf) sends to a connection. A connection that has
   * just closed misses some of these by design, so they are not logged as dead letters.
   */
  public sealed interface Reply extends DeadLetterSuppression {}

  /** The one reply to a {@link Request}, from the topic or (for a missing topic) the TopicManager. */
  public sealed interface Answer extends Reply {
    String requestId();

    String topic();
  }

  /**
   * {@code replay} holds ready frames of the first of the {@code replayed} events, oldest first:
   * all of them, unless {@code replayContinuesAt} is not null; then the rest come in
   * {@link ReplayPage}s, one for each {@link ContinueReplay} sent there. {@code recovered} is null
   * unless since_offset was asked. {@code newestOffset} is the topic's newest offset as it took the
   * subscribe (0 before its first publish): the replayed events are the {@code replayed} ending
   * there, and live events come after it, so a client that loses its connection before it has read
   * an event still knows where to resume.
   */
  public record Subscribed(String requestId, String topic, String epoch, long newestOffset, int replayed,
      List<ByteString> replay, ActorRef<Command> replayContinuesAt, Boolean recovered) implements Answer {
    /** A replay that fits in the answer. */
    public Subscribed(String requestId, String topic, String epoch, long newestOffset, List<ByteString> replay,
        Boolean recovered) {
      this(requestId, topic, epoch, newestOffset, replay.size(), replay, null, recovered);
    }
  }

  /**
   * Asks for the next page of a replay that did not fit in its {@link Subscribed}; answered with a
   * {@link ReplayPage}. A subscriber asks once it has written the previous page, so a replay holds
   * about a page of its subscriber's memory however many events it spans.
   */
  public record ContinueReplay(ActorRef<Reply> replyTo) implements Command, DeadLetterSuppression {}

  /**
   * The next frames of a replay, oldest first, and after the replayed events those published since
   * the subscribe, as live events: the last {@code live} of the frames, the newest at
   * {@code lastOffset}. Live events are owed to the subscriber, so a connection that cannot write
   * them counts them as dropped. {@code skipped} counts the events the topic gave up (for its
   * history's bounds) before the subscriber read up to them: they are dropped. Once {@code done},
   * live events follow and no more pages.
   */
  public record ReplayPage(String topic, ActorRef<Command> from, List<ByteString> frames, int live, long lastOffset,
      long skipped, boolean done) implements Reply {}

  public record Unsubscribed(String requestId, String topic) implements Answer {}

  public record NotSubscribed(String requestId, String topic) implements Answer {}

  public record Published(String requestId, String topic, long offset) implements Answer {}

  public record TopicNotFound(String requestId, String topic) implements Answer {}

  /**
   * Consecutive published events of {@code topic} as ready WebSocket frames, oldest first, the
   * newest at {@code lastOffset}; {@code from} takes the drop count of any that are discarded.
   * {@code compressedFrames}, when the topic has subscribers that agreed to permessage-deflate,
   * holds the same events for them (compressed where that made them smaller), else it is null.
   * {@code publishedAtNanos} (this JVM's nanoTime, of the oldest) feeds the publish-to-enqueue metric.
   */
  public record Events(String topic, ActorRef<Command> from, List<ByteString> frames, List<ByteString> compressedFrames,
      long lastOffset, long publishedAtNanos) implements Reply {}

  public record TopicDeleted(String topic) implements Reply {}

  public static Behavior<Command> create(String name, String epoch, int maxHistory, ServerMetrics metrics) {
    return create(name, epoch, maxHistory, HistoryMemory.unlimited(), Settings.FanOutPacing.OFF, FanOutBatch.UNBOUNDED_QUEUES, metrics);
  }

  public static Behavior<Command> create(String name, String epoch, int maxHistory, HistoryMemory memory,
      Settings.FanOutPacing pacing, FanOutBatch batch, ServerMetrics metrics) {
    return Behaviors.<Command>supervise(
            Behaviors.setup(context -> new Topic(context, name, epoch, maxHistory, memory, pacing, batch, metrics)))
        .onFailure(SupervisorStrategy.resume());
  }

  /**
   * The frame bytes a {@link Subscribed} or a {@link ReplayPage} carries, or one frame if larger.
   * Replays used to come whole: 200 connections subscribing with last_n 100 to ten topics of 60 KB
   * events, and reading slowly, held replays of events long evicted, until the heap ran out.
   */
  static final long REPLAY_PAGE_BYTES = 64 * 1024;

  /**
   * Entry of the replay buffer: the event's JSON (for the replay variant), its live frame, and the
   * compressed replay frame, made when a client that agreed to compression first replays the event.
   */
  private record Retained(ByteString json, ByteString frame, ByteString compressedReplay) {}

  /**
   * What a retained event holds besides its frame's bytes (the objects around them and the
   * encoder's slack): an estimate, so that many small events are not counted as free.
   */
  static final long ENTRY_OVERHEAD_BYTES = 200;

  /** The frame shares the JSON's bytes, so an entry weighs its frame, its compressed replay and the objects around them. */
  private static long weigh(Retained retained) {
    long compressed = retained.compressedReplay() == null ? 0 : retained.compressedReplay().length();
    return retained.frame().length() + compressed + ENTRY_OVERHEAD_BYTES;
  }

  private final String name;
  private final String epoch;
  private final ServerMetrics metrics;
  private final ReplayBuffer<Retained> history;
  private final HistoryMemory memory;
  /** Each live subscriber, with the offset after which it has been sent every event (replayed or live). */
  private final SubscriberSet<ActorRef<Reply>> subscribers = new SubscriberSet<>();
  /**
   * Subscribers whose replay continues in pages: the next offset to send, the last to send as a
   * replay (later ones, published since the subscribe, go as live events), what the subscriber
   * covers once it is live, and {@code liveAfter}: the offset after which the live events it was
   * sent may still be on their way, those of its last page (it asks for a page once it has written
   * the one before), or, until its first ask, those fanned out to it before it subscribed again
   * since an offset. They get no fan-out until their pages have caught up.
   */
  private record Replaying(long next, long lastReplayed, long coveredAfter, boolean compressed, long liveAfter) {
    Replaying from(long nextOffset, long pageLiveAfter) {
      return new Replaying(nextOffset, lastReplayed, coveredAfter, compressed, pageLiveAfter);
    }

    /** The newest live event it was sent, in its pages or before this replay began; lastReplayed when none. */
    long liveSentUpTo() {
      return Math.max(next - 1, lastReplayed);
    }
  }

  private final Map<ActorRef<Reply>, Replaying> replaying = new HashMap<>();

  /**
   * The live events a subscriber was sent, after {@code liveAfter} up to {@code sentUpTo}, before
   * its unsubscribe: lost if its connection ends before it reads the answer, and then counted by its
   * {@link Leave}; {@code earlier}, those of an earlier unsubscribe not known to be answered yet.
   */
  private record Departed(long liveAfter, long sentUpTo, Departed earlier) {}

  private final Map<ActorRef<Reply>, Departed> departed = new HashMap<>();
  /**
   * The same for subscribers whose connection the watch saw end before its {@link Leave} came (a
   * Leave through the manager can come after it): settled by the Leave only, not by an
   * {@link UnsubscribesAnswered}, which says nothing of the events after the answers.
   */
  private final Map<ActorRef<Reply>, Departed> ended = new HashMap<>();
  /** The client_id each subscription gave (informational: logs and {@link Describe}), for those that gave one. */
  private final Map<ActorRef<Reply>, String> clientIds = new HashMap<>();
  private long lastOffset;
  private long dropped;
  /** Published but not yet told to the subscribers; emptied at every membership change (one that leaves does not get them). */
  private final List<ByteString> pendingFrames = new ArrayList<>();
  private long pendingBytes;
  /** The newest pending event's offset: lastOffset is already the next one's when a byte bound sends a batch ahead of it. */
  private long pendingLastOffset;
  private final FanOutBatch batch;
  /** The same, for the subscribers in {@link #compressing}; empty while there are none. */
  private final List<ByteString> pendingCompressedFrames = new ArrayList<>();
  /** Subscribers that agreed to permessage-deflate: each event is compressed once, for all of them. */
  private final Set<ActorRef<Reply>> compressing = new HashSet<>();
  private long pendingSinceNanos;
  private boolean fanOutScheduled;
  private final FanOutPacer pacer;

  private Topic(ActorContext<Command> context, String name, String epoch, int maxHistory, HistoryMemory memory,
      Settings.FanOutPacing pacing, FanOutBatch batch, ServerMetrics metrics) {
    super(context);
    this.batch = batch;
    this.metrics = metrics;
    this.name = name;
    this.epoch = epoch;
    this.history = new ReplayBuffer<>(maxHistory, Topic::weigh);
    this.memory = memory;
    memory.topicStarted();
    this.pacer = new FanOutPacer(pacing, System.nanoTime());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessageEquals(FanOut.INSTANCE, this::onFanOut)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(ContinueReplay.class, this::onContinueReplay)
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(UnsubscribesAnswered.class, answered -> forgetDeparted(answered.replyTo()))
        .onMessage(SubscriberTerminated.class, this::onSubscriberTerminated)
        .onMessage(RecordDropped.class, this::onRecordDropped)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(Describe.class, this::onDescribe)
        .onMessage(ReadHistory.class, this::onReadHistory)
        .onMessage(Delete.class, this::onDelete)
        .onMessageEquals(TrimHistory.INSTANCE, this::onTrimHistory)
        .onSignal(PostStop.class, stop -> onPostStop())
        .build();
  }

  private Behavior<Command> onPublish(Publish publish) {
    long offset = ++lastOffset;
    String id = publish.messageId() != null ? publish.messageId() : UUID.randomUUID().toString();
    ByteString json = JsonCodec.encode(new Outbound.Event(
        name, new Outbound.Message(id, publish.payload()), offset, Timestamps.now()));
    ByteString frame = WebSocketFrames.text(json);
    memory.changed(history.append(offset, new Retained(json, frame, null)));
    trimForMemory();
    long now = System.nanoTime();
    boolean afterQuietGap = pacer.quietBefore(now);
    pacer.published(now);
    if (subscribers.size() > 0) {
      addToFanOut(offset, frame, compressing.isEmpty() ? null : PerMessageDeflate.forAgreedClient(json, frame), now, afterQuietGap);
    }
    publish.replyTo().tell(new Published(publish.requestId(), name, offset));
    metrics.published();
    return this;
  }

  private void addToFanOut(long offset, ByteString frame, ByteString compressedFrame, long now, boolean afterQuietGap) {
    // A batch never holds more bytes than a subscriber's queue: the pending ones go first.
    if (!pendingFrames.isEmpty() && pendingBytes + frame.size() > batch.maxBytes()) fanOutPending();
    boolean alone = pendingFrames.isEmpty();
    if (alone) pendingSinceNanos = now;
    pendingFrames.add(frame);
    pendingLastOffset = offset;
    pendingBytes += frame.size();
    if (compressedFrame != null) pendingCompressedFrames.add(compressedFrame);
    if (pendingFrames.size() >= batch.maxEvents()) {
      fanOutPending();
    } else if (alone && afterQuietGap && pacer.waitNanos(subscribers.size(), now) <= 0) {
      // A lone publish goes out before its ack, without a turn through the mailbox; under load the
      // publishes of one mailbox turn still travel together.
      fanOutPending();
    } else if (!fanOutScheduled) {
      fanOutScheduled = true;
      long wait = pacer.waitNanos(subscribers.size(), now);
      ActorRef<Command> self = getContext().getSelf();
      if (wait > 0) {
        // Pekko's scheduler rounds every delay up to its tick (50 ms here); this waits the microseconds asked.
        CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS, Runnable::run)
            .execute(() -> self.tell(FanOut.INSTANCE));
      } else {
        self.tell(FanOut.INSTANCE);
      }
    }
  }

  /** Gives up the oldest events while this topic holds more than its share of an exceeded budget. */
  private void trimForMemory() {
    int trimmed = 0;
    while (memory.overShare(history.weight())) {
      memory.gaveUp(history.evictOldest());
      trimmed++;
    }
    if (trimmed > 0) warnTrimmed(trimmed);
  }

  private Behavior<Command> onTrimHistory() {
    trimForMemory();
    return this;
  }

  private void warnTrimmed(int trimmed) {
    if (!memory.warningDue(System.nanoTime())) return;
    getContext().getLog().warn(
        "replay buffers over their memory budget: topics over their share give up their oldest events {} {} {} {} {}",
        kv("topic", name), kv("trimmed", trimmed), kv("retained_events", history.size()),
        kv("retained_bytes", memory.retainedBytes()), kv("budget_bytes", memory.budgetBytes()));
  }

  private Behavior<Command> onFanOut() {
    fanOutScheduled = false;
    fanOutPending();
    return this;
  }

  /** Tells the pending events to the subscribers present when they were published. */
  private void fanOutPending() {
    if (pendingFrames.isEmpty()) return;
    pacer.fannedOut(System.nanoTime());
    // Membership is constant within a batch (it changes only after a fan-out), so both lists hold the same events.
    List<ByteString> compressedFrames = pendingCompressedFrames.isEmpty() ? null : List.copyOf(pendingCompressedFrames);
    Events events = new Events(
        name, getContext().getSelf(), List.copyOf(pendingFrames), compressedFrames, pendingLastOffset, pendingSinceNanos);
    pendingFrames.clear();
    pendingBytes = 0;
    pendingCompressedFrames.clear();
    for (int i = 0; i < subscribers.size(); i++) {
      subscribers.get(i).tell(events);
    }
  }

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    fanOutPending();
    ActorRef<Reply> subscriber = subscribe.replyTo();
    boolean sameEpoch = subscribe.epoch() == null || subscribe.epoch().equals(epoch);
    Long alreadyCoveredAfter = coveredAfter(subscriber);
    boolean alreadySubscribed = alreadyCoveredAfter != null;
    if (alreadySubscribed && (subscribe.sinceOffset() == null || replaying.containsKey(subscriber))) {
      // A second replay of the newest events would repeat what this connection has had; one
      // already under way reaches everything after where it began.
      Boolean recovered = subscribe.sinceOffset() == null ? null
          : sameEpoch && subscribe.sinceOffset() >= alreadyCoveredAfter && subscribe.sinceOffset() <= lastOffset
              && history.retainsEverythingAfter(subscribe.sinceOffset());
      rememberClientId(subscriber, subscribe.clientId());
      subscriber.tell(new Subscribed(subscribe.requestId(), name, epoch, lastOffset, List.of(), recovered));
      return this;
    }
    // A live subscriber asking again since an offset has seen a gap (its queue dropped events, say):
    // it gets the replay it asks for, and stays subscribed throughout. The events fanned out to it
    // before may still be on their way, so its live point stays where it was.
    long liveAfter = alreadySubscribed ? subscribers.liveAfter(subscriber) : lastOffset;
    if (alreadySubscribed) subscribers.remove(subscriber);
    ReplayStart start = replayStart(subscribe.sinceOffset(), sameEpoch, subscribe.lastN());
    long first = start.first();
    Boolean recovered = start.recovered();
    int replayed = (int) (lastOffset - first + 1);
    Page page = page(first, lastOffset, subscribe.compressed());
    ActorRef<Command> continuesAt = null;
    if (page.next() > lastOffset) {
      subscribers.add(subscriber, first - 1, liveAfter);
    } else {
      replaying.put(subscriber, new Replaying(page.next(), lastOffset, first - 1, subscribe.compressed(), liveAfter));
      continuesAt = getContext().getSelf();
    }
    if (!alreadySubscribed) {
      if (subscribe.compressed()) compressing.add(subscriber);
      getContext().watchWith(subscriber, new SubscriberTerminated(subscriber));
      metrics.subscriptionsChanged(1);
    }
    rememberClientId(subscriber, subscribe.clientId());
    subscriber.tell(new Subscribed(
        subscribe.requestId(), name, epoch, lastOffset, replayed, page.frames(), continuesAt, recovered));
    getContext().getLog().debug("subscriber joined {} {} {} {}", kv("topic", name),
        kv("subscriber", subscriber.path().name()), kv("client_id", clientIds.get(subscriber)), kv("replayed", replayed));
    return this;
  }

  /** A subscribe without client_id keeps the one an earlier subscribe of the same subscription gave. */
  private void rememberClientId(ActorRef<Reply> subscriber, String clientId) {
    if (clientId != null) clientIds.put(subscriber, clientId);
  }

  private Behavior<Command> onContinueReplay(ContinueReplay ask) {
    ActorRef<Reply> subscriber = ask.replyTo();
    Replaying replay = replaying.get(subscriber);
    if (replay == null) {
      // It unsubscribed after it asked: its replay has ended.
      subscriber.tell(new ReplayPage(name, getContext().getSelf(), List.of(), 0, 0, 0, true));
      return this;
    }
    long skipped = Math.max(0, history.oldestOffset() - replay.next());
    // Counted as the page leaves, in the stats and the meter alike: a page lost on the way loses none of them.
    dropped += skipped;
    metrics.dropped(ServerMetrics.DropReason.REPLAY_EVICTED, skipped);
    long from = replay.next() + skipped;
    Page page = page(from, replay.lastReplayed(), replay.compressed());
    // This ask shows the earlier pages were written: of the live events sent, only this page's may
    // yet be lost with the connection (the skipped ones are counted already).
    long liveAfter = Math.max(replay.lastReplayed(), from - 1);
    long pageLastOffset = page.next() - 1;
    int live = (int) Math.max(0, pageLastOffset - liveAfter);
    boolean done = page.next() > lastOffset;
    if (done) {
      // The page reaches the newest event: pending ones go to the live subscribers first, not twice to this one.
      fanOutPending();
      replaying.remove(subscriber);
      subscribers.add(subscriber, replay.coveredAfter(), liveAfter);
    } else {
      replaying.put(subscriber, replay.from(page.next(), liveAfter));
    }
    subscriber.tell(new ReplayPage(name, getContext().getSelf(), page.frames(), live, pageLastOffset, skipped, done));
    return this;
  }

  /** Frames of consecutive retained events and the offset after the last of them. */
  private record Page(List<ByteString> frames, long next) {}

  /**
   * The frames from offset {@code from} (retained) on, as replays up to {@code lastReplayed} and as
   * live events after it, up to {@link #REPLAY_PAGE_BYTES} (at least one frame), for a subscriber
   * that agreed to compression or not.
   */
  private Page page(long from, long lastReplayed, boolean compressed) {
    List<ByteString> frames = new ArrayList<>();
    long bytes = 0;
    long offset = from;
    for (; offset <= lastOffset; offset++) {
      Retained retained = history.at(offset);
      ByteString frame = offset > lastReplayed ? retained.frame()
          : compressed ? compressedReplay(offset, retained) : plainReplay(retained);
      if (!frames.isEmpty() && bytes + frame.size() > REPLAY_PAGE_BYTES) break;
      frames.add(frame);
      bytes += frame.size();
    }
    if (compressed) trimForMemory();
    return new Page(frames, offset);
  }

  /** The offset after which {@code subscriber} has had (or, replaying, will have had) every event; null if it is none. */
  private Long coveredAfter(ActorRef<Reply> subscriber) {
    Long live = subscribers.coveredAfter(subscriber);
    if (live != null) return live;
    Replaying replay = replaying.get(subscriber);
    return replay == null ? null : replay.coveredAfter();
  }

  private static ByteString plainReplay(Retained retained) {
    return WebSocketFrames.text(JsonCodec.asReplay(retained.json()));
  }

  /**
   * Compressed once per retained event and kept with it, however many clients replay it: a
   * reconnect storm of 100 clients replaying 100 events of 60 KB compressed 600 MB, and each
   * client's queue held its own copies, until the heap ran out.
   */
  private ByteString compressedReplay(long offset, Retained retained) {
    if (retained.compressedReplay() != null) return retained.compressedReplay();
    ByteString frame = plainReplay(retained);
    ByteString compressed = PerMessageDeflate.forAgreedClient(WebSocketFrames.payloadOf(frame), frame);
    // Small events are not compressed: their replay frame is a few bytes around the retained JSON.
    if (compressed != frame) memory.changed(history.replace(offset, new Retained(retained.json(), retained.frame(), compressed)));
    return compressed;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe unsubscribe) {
    fanOutPending();
    ActorRef<Reply> subscriber = unsubscribe.replyTo();
    if (coveredAfter(subscriber) != null) {
      Departed sent = onItsWay(subscriber, departed.get(subscriber));
      if (sent != null) departed.put(subscriber, sent);
      else if (!departed.containsKey(subscriber)) getContext().unwatch(subscriber);
      removeSubscriber(subscriber);
      subscriber.tell(new Unsubscribed(unsubscribe.requestId(), name));
    } else {
      subscriber.tell(new NotSubscribed(unsubscribe.requestId(), name));
    }
    return this;
  }

  /** The live events sent to {@code subscriber} that may not have reached it yet, after {@code earlier}; null when none. */
  private Departed onItsWay(ActorRef<Reply> subscriber, Departed earlier) {
    Replaying replay = replaying.get(subscriber);
    Long liveAfter = replay != null ? Long.valueOf(replay.liveAfter()) : subscribers.liveAfter(subscriber);
    long sentUpTo = replay != null ? replay.liveSentUpTo() : lastOffset;
    return liveAfter == null || sentUpTo <= liveAfter ? null : new Departed(liveAfter, sentUpTo, earlier);
  }

  /**
   * A connection sends its Leave as it stops, but through the manager when it knows no route to
   * this topic, so the watch can fire first: what it may not have received waits for the Leave,
   * which says what it did.
   */
  private Behavior<Command> onSubscriberTerminated(SubscriberTerminated terminated) {
    ActorRef<Reply> subscriber = terminated.subscriber();
    Departed sent = onItsWay(subscriber, null);
    if (sent != null) ended.put(subscriber, sent);
    return removeSubscriber(subscriber);
  }

  /** What was sent to a subscriber after the newest event it received was lost with its connection: counted as dropped. */
  private Behavior<Command> onLeave(Leave leave) {
    ActorRef<Reply> subscriber = leave.replyTo();
    getContext().unwatch(subscriber);
    dropLost(departed.remove(subscriber), leave.receivedUpTo());
    dropLost(ended.remove(subscriber), leave.receivedUpTo());
    // What it was sent as a subscriber still, fanned out or in a last page; removing it counts those not paged out yet.
    dropLost(onItsWay(subscriber, null), leave.receivedUpTo());
    return removeSubscriber(subscriber);
  }

  private void dropLost(Departed left, long receivedUpTo) {
    for (; left != null; left = left.earlier()) dropForClosing(left.sentUpTo() - Math.max(receivedUpTo, left.liveAfter()));
  }

  private Topic forgetDeparted(ActorRef<Reply> subscriber) {
    if (departed.remove(subscriber) != null && coveredAfter(subscriber) == null) getContext().unwatch(subscriber);
    return this;
  }

  private Behavior<Command> removeSubscriber(ActorRef<Reply> subscriber) {
    Replaying replay = replaying.remove(subscriber);
    if (replay != null) dropOwed(replay);
    if (replay != null || subscribers.remove(subscriber)) {
      metrics.subscriptionsChanged(-1);
      getContext().getLog().debug("subscriber left {} {} {}", kv("topic", name),
          kv("subscriber", subscriber.path().name()), kv("client_id", clientIds.get(subscriber)));
    }
    clientIds.remove(subscriber);
    // Out of the set before the pending events go: a subscriber that left would not read them. An
    // unsubscribe fans out first, so the events published before it still reach it.
    fanOutPending();
    compressing.remove(subscriber);
    return this;
  }

  /**
   * A subscription ends in the middle of its replay: the events published since it began, which
   * it was present for and has not been sent, are dropped, as its queued events would be.
   */
  private void dropOwed(Replaying replay) {
    dropForClosing(lastOffset - replay.liveSentUpTo());
  }

  /** Events a subscription was owed when it ended, never sent or lost on the way: dropped, for the topic's stats and the meters. */
  private void dropForClosing(long events) {
    if (events <= 0) return;
    dropped += events;
    metrics.dropped(ServerMetrics.DropReason.CLOSING, events);
  }

  private Behavior<Command> onRecordDropped(RecordDropped drop) {
    dropped += drop.count();
    return this;
  }

  private Behavior<Command> onDescribe(Describe describe) {
    SortedMap<String, Integer> byClientId = new TreeMap<>();
    clientIds.values().forEach(id -> byClientId.merge(id, 1, Integer::sum));
    describe.replyTo().tell(new Described(name, epoch, lastOffset, subscriptionCount(), dropped,
        history.size(), history.size() == 0 ? null : history.oldestOffset(), Collections.unmodifiableSortedMap(byClientId)));
    return this;
  }

  /** Where a replay, or a history read, begins; {@code recovered} is null without a since_offset. */
  private record ReplayStart(long first, Boolean recovered) {}

  /**
   * The first event after {@code sinceOffset} when it is given, else the oldest of the newest
   * {@code newest}: one rule for a subscribe's replay and a history read, which README says agree.
   */
  private ReplayStart replayStart(Long sinceOffset, boolean sameEpoch, int newest) {
    if (sinceOffset == null) return new ReplayStart(history.firstOfNewest(newest), null);
    // In this epoch an offset beyond the newest has nothing after it to replay (and recovered says
    // false); in another one, offsets are not comparable, and the client gets what is retained.
    return new ReplayStart(sameEpoch ? history.firstAfter(sinceOffset) : history.oldestOffset(),
        sameEpoch && history.retainsEverythingAfter(sinceOffset));
  }

  private Behavior<Command> onReadHistory(ReadHistory read) {
    boolean sameEpoch = read.epoch() == null || read.epoch().equals(epoch);
    ReplayStart start = replayStart(read.sinceOffset(), sameEpoch, read.limit());
    List<ByteString> events = new ArrayList<>();
    long bytes = 0;
    long offset = start.first();
    for (; offset <= lastOffset && events.size() < read.limit(); offset++) {
      ByteString json = history.at(offset).json();
      if (!events.isEmpty() && bytes + json.size() > REPLAY_PAGE_BYTES) break;
      events.add(json);
      bytes += json.size();
    }
    read.replyTo().tell(new History(name, epoch, lastOffset, List.copyOf(events), start.recovered(), offset <= lastOffset));
    return this;
  }

  private Behavior<Command> onGetStats(GetStats get) {
    get.replyTo().tell(new Stats(name, lastOffset, subscriptionCount(), dropped));
    return this;
  }

  /** The live subscribers and those still in their paged replay. */
  private int subscriptionCount() {
    return subscribers.size() + replaying.size();
  }

  private Behavior<Command> onDelete(Delete delete) {
    fanOutPending();
    TopicDeleted deleted = new TopicDeleted(name);
    for (int i = 0; i < subscribers.size(); i++) subscribers.get(i).tell(deleted);
    replaying.forEach((subscriber, replay) -> {
      subscriber.tell(deleted);
      dropOwed(replay);
    });
    metrics.subscriptionsChanged(-subscriptionCount());
    delete.replyTo().tell(new TopicManager.TopicDeleted(name));
    return Behaviors.stopped();
  }

  private Behavior<Command> onPostStop() {
    memory.topicStopped(history.weight());
    return this;
  }
}
