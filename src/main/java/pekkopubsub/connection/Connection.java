package pekkopubsub.connection;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.DeadLetterSuppression;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.InHandler;
import org.apache.pekko.stream.stage.OutHandler;
import org.apache.pekko.stream.stage.TimerGraphStageLogicWithLogging;
import org.apache.pekko.util.ByteString;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.WebSocketFrameDecoder.Event;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.ErrorCode;
import pekkopubsub.protocol.Inbound;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.Outbound;
import pekkopubsub.protocol.Request;
import pekkopubsub.protocol.RequestDecoder;
import pekkopubsub.protocol.Timestamps;
import pekkopubsub.topic.Topic;
import pekkopubsub.topic.TopicManager;
import scala.Tuple2;
import scala.runtime.BoxedUnit;

/**
 * One WebSocket connection's protocol engine: decoded client frames in, WebSocket frames out.
 *
 * <p>Requests go to the {@link TopicManager} with this stage's actor as the reply address, or,
 * once the connection has published to a topic and located it, straight to the topic
 * ({@link TopicRoutes}); answers, events and infos come back to that actor and wait in one
 * {@link OutboundQueue}, in arrival order. Only events can be dropped there. The request side is
 * backpressured: while {@code max-in-flight} answers are pending or unwritten, the stage stops
 * reading the socket, so a client that floods requests without reading is slowed by TCP and loses
 * no answer.
 */
public final class Connection extends GraphStage<FlowShape<Event, ByteString>> {

  /** What the rest of the server tells a connection besides {@link Topic.Reply}. */
  public sealed interface Command {}

  /** Server shutdown: send {@code info shutting_down}, flush, close with 1001. */
  public enum ShutDown implements Command, DeadLetterSuppression { INSTANCE }

  private static final int MAX_WRITE_BATCH_BYTES = 32 * 1024;
  /**
   * One periodic timer serves the heartbeat and the idle check: every timer of an idle connection
   * is a wake-up of the server, and a second one doubled what thousands of idle connections cost.
   */
  private static final String TICK = "tick";
  private static final String REPORT_DROPS = "report-drops";
  private static final String CLOSE_TIMEOUT = "close-timeout";
  private static final String DRAIN_DEADLINE = "drain-deadline";
  private static final java.time.Duration DROP_REPORT_DELAY = java.time.Duration.ofMillis(100);
  /** The idle check's finest period, however short the idle timeout. */
  private static final java.time.Duration MIN_IDLE_CHECK_PERIOD = java.time.Duration.ofMillis(50);

  /**
   * How many ticks make one heartbeat interval: one, unless the idle timeout needs checking more
   * often than a heartbeat (at least 4 times per timeout, at most every 50 ms), then enough that
   * a tick is that short and the heartbeat still comes exactly once per interval.
   */
  static long ticksPerHeartbeat(Settings settings) {
    java.time.Duration idle = settings.limits().idleTimeout();
    if (idle.isZero()) return 1;
    // run once per connection: Duration.dividedBy goes through BigDecimal
    java.time.Duration check = java.time.Duration.ofNanos(idle.toNanos() / 4);
    if (check.compareTo(MIN_IDLE_CHECK_PERIOD) < 0) check = MIN_IDLE_CHECK_PERIOD;
    long heartbeat = settings.heartbeatInterval().toNanos();
    return Math.max(1, (heartbeat + check.toNanos() - 1) / check.toNanos());
  }

  /**
   * A connection's first tick comes after {@code delay}, with {@code ticksCounted} of the interval's
   * ticks taken as already past, so that its first heartbeat comes at a point between half an
   * interval and a whole one. Connections opened together (a reconnect storm, a load test) would
   * otherwise send their heartbeats together, every interval, for as long as they live.
   */
  record FirstTick(java.time.Duration delay, long ticksCounted) {}

  /** The first tick for {@code ticksPerHeartbeat} ticks an interval, the point drawn from {@code uniform} (0 to 1). */
  static FirstTick firstTick(java.time.Duration heartbeatInterval, long ticksPerHeartbeat, double uniform) {
    long interval = heartbeatInterval.toNanos();
    long tick = interval / ticksPerHeartbeat;
    long half = interval / 2;
    long firstHeartbeat = Math.max(1, half + (long) (uniform * (interval - half)));
    // The ticks after the first that the heartbeat waits for; the first then comes within one tick.
    long ticksAfterFirst = Math.min(ticksPerHeartbeat - 1, (firstHeartbeat - 1) / tick);
    return new FirstTick(java.time.Duration.ofNanos(firstHeartbeat - ticksAfterFirst * tick), ticksPerHeartbeat - 1 - ticksAfterFirst);
  }

  private final Inlet<Event> in = Inlet.create("Connection.in");
  private final Outlet<ByteString> out = Outlet.create("Connection.out");
  private final FlowShape<Event, ByteString> shape = FlowShape.of(in, out);
  private final String id;
  private final ActorRef<TopicManager.Command> topics;
  private final ActorRef<ConnectionRegistry.Command> registry;
  private final Settings settings;
  private final RequestDecoder decoder;
  private final ServerMetrics metrics;
  private final HeapPressure heapPressure;
  private final long admissionTicket;
  private final NegotiatedExtensions extensions;

  /**
   * {@code admissionTicket} is the registry's {@link ConnectionRegistry.Admitted} ticket (0: none);
   * {@code extensions}, what the handshake agreed (with permessage-deflate, events come compressed).
   */
  public Connection(
      String id,
      ActorRef<TopicManager.Command> topics,
      ActorRef<ConnectionRegistry.Command> registry,
      Settings settings,
      RequestDecoder decoder,
      ServerMetrics metrics,
      HeapPressure heapPressure,
      long admissionTicket,
      NegotiatedExtensions extensions) {
    this.extensions = extensions;
    this.decoder = decoder;
    this.metrics = metrics;
    this.heapPressure = heapPressure;
    this.id = id;
    this.topics = topics;
    this.registry = registry;
    this.settings = settings;
    this.admissionTicket = admissionTicket;
  }

  @Override
  public FlowShape<Event, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private final class Logic extends TimerGraphStageLogicWithLogging implements InHandler, OutHandler {
    private final OutboundQueue<ActorRef<Topic.Command>> queue =
        new OutboundQueue<>(settings.outboundQueueSize(), settings.outboundQueueBytes(), settings.overflowPolicy(), heapPressure);
    private ActorRef<Topic.Reply> self;
    private ActorRef<Command> selfAsConnection;
    private ActorRef<TopicManager.LocateResult> selfAsLocator;
    private org.apache.pekko.stream.stage.GraphStageLogic.StageActor stageActor;
    private final TopicRoutes<ActorRef<Topic.Command>, Topic.Request> routes = new TopicRoutes<>();
    private final ReplayContinuations<ActorRef<Topic.Command>> replays = new ReplayContinuations<>();
    private int awaitingAnswers;
    private boolean wroteSinceHeartbeat;
    private boolean readSinceHeartbeat;
    /**
     * Events handed to the socket by the last heartbeat: a socket that keeps taking events has a
     * peer that reads them, though its pong may wait behind seconds of them. A vanished peer's
     * socket takes them only until its buffers are full; the heartbeat's own frames do not count.
     */
    private long eventsTakenAtHeartbeat;
    /** WebSocket pings sent since this connection last sent anything. */
    private int unansweredPings;
    /** Ticks per heartbeat interval; ticks since the last heartbeat check. */
    private final long heartbeatTicks = ticksPerHeartbeat(settings);
    private long ticksSinceHeartbeat;
    /** The close frame to write once the queue is flushed; null while the connection is open. */
    private ByteString closeFrame;
    private boolean closeWritten;
    private boolean peerClosed;
    /** The close timeout came while answers owed to a peer that closed were still awaited: its close is echoed without them. */
    private boolean owedAnswersGivenUp;
    private boolean slowConsumer;
    private boolean opened;
    private final RateLimiter publishLimiter = new RateLimiter(
        settings.limits().publishRate(), settings.limits().publishBurst(), System::nanoTime);
    /** Topics acked as subscribed, and subscribes sent but not answered yet (by topic), for the per-connection limit. */
    private final Set<String> subscribed = new HashSet<>();
    private final Map<String, Integer> pendingSubscribes = new HashMap<>();
    /** Unsubscribes sent but not answered yet, by topic: until answered, what the topic sent before them may be lost. */
    private final Map<String, Integer> pendingUnsubscribes = new HashMap<>();
    /** By topic, the offset of the newest event received from it; null until the first event (idle connections are many). */
    private Map<String, long[]> receivedUpTo;
    private long lastInboundNanos = System.nanoTime();
    // What the meters have been told so far: the queue keeps totals, the meters get the differences.
    private long framesOutMetered;
    private long eventsOutMetered;
    private long dropsMetered;
    private long shedMetered;
    private long queuedMetered;
    private long eventsOffered;

    Logic() {
      super(shape);
      setHandlers(in, out, this);
    }

    /**
     * The connection opens on the first demand for its output, not at materialization: behind the
     * {@code FrontDoor} these stages are materialized with every TCP connection, and only an
     * accepted upgrade ever pulls them.
     */
    private void open() {
      opened = true;
      stageActor = getStageActor(this::receive);
      self = Adapter.toTyped(stageActor.ref());
      selfAsConnection = Adapter.toTyped(stageActor.ref());
      selfAsLocator = Adapter.toTyped(stageActor.ref());
      long ticket = admissionTicket != 0 ? admissionTicket : extensions.admissionTicket();
      registry.tell(new ConnectionRegistry.Register(selfAsConnection, ticket));
      metrics.connectionOpened();
      java.time.Duration tick = settings.heartbeatInterval().dividedBy(heartbeatTicks);
      FirstTick first = firstTick(settings.heartbeatInterval(), heartbeatTicks, java.util.concurrent.ThreadLocalRandom.current().nextDouble());
      ticksSinceHeartbeat = first.ticksCounted();
      scheduleWithFixedDelay(TICK, first.delay(), tick);
      log().debug("connection {} opened", id);
      pull(in);
    }

    @Override
    public void postStop() {
      if (!opened) return;
      // An abrupt end (reset, failure) leaves events queued, some in replay pages: they are counted
      // as dropped, never lost silently.
      queue.closeForEvents();
      queue.discardAnswers();
      meterQueue(closingReason());
      metrics.connectionClosed();
      reportDrops();
      leaveTopics();
      registry.tell(new ConnectionRegistry.Unregister(selfAsConnection));
      log().debug("connection {} closed ({} events dropped)", id, queue.droppedTotal());
    }

    // ---- client frames ----

    @Override
    public void onPush() {
      Event event = grab(in);
      metrics.framesIn(1);
      readSinceHeartbeat = true;
      // Pongs answer the server's pings: they show the peer is there, not that it uses the connection.
      if (!(event instanceof Event.Pong)) lastInboundNanos = System.nanoTime();
      if (closeFrame != null && isData(event)) {
        // The server is closing: an answer could not follow its close frame, so the request is not
        // acted on either (RFC 6455 lets an endpoint that sent Close discard data); the peer's
        // close frame is still read.
        pullIfRoom();
        return;
      }
      if (event instanceof Event.Text text) {
        onRequest(decoder.decode(text.text()));
      } else if (event instanceof Event.TooLarge tooLarge) {
        answerError(decoder.echoable(tooLarge.requestId()), ErrorCode.PAYLOAD_TOO_LARGE, "message of " + tooLarge.bytes()
            + " bytes is larger than the limit of " + settings.maxFrameSize() + " bytes");
      } else if (event instanceof Event.Binary binary) {
        answerError(decoder.echoable(binary.requestId()), ErrorCode.BAD_REQUEST, "binary frames are not supported: send JSON in text frames");
      } else if (event instanceof Event.InvalidUtf8 invalid) {
        answerError(decoder.echoable(invalid.requestId()), ErrorCode.BAD_REQUEST, "text frame is not valid UTF-8");
      } else if (event instanceof Event.Ping ping) {
        if (maySend()) queue.offerAnswer(WebSocketFrames.pong(ping.payload()));
      } else if (event instanceof Event.Close close) {
        peerClosed = true;
        closeAfterAnswers(close.code() == WebSocketFrames.NO_STATUS
            ? WebSocketFrames.closeWithoutCode() : WebSocketFrames.close(close.code(), ""));
      } else if (event instanceof Event.ProtocolError error) {
        log().debug("connection {}: protocol error {}", id, error.reason());
        metrics.protocolError(error.closeCode());
        closeNow(WebSocketFrames.close(error.closeCode(), error.reason()));
      }
      // Event.Pong needs nothing: RFC 6455 pongs may come unasked.
      flush();
      pullIfRoom();
    }

    private static boolean isData(Event event) {
      return event instanceof Event.Text || event instanceof Event.Binary || event instanceof Event.TooLarge
          || event instanceof Event.InvalidUtf8;
    }

    @Override
    public void onUpstreamFinish() {
      // A close frame still to be written (the echo of the client's) completes the stage when written.
      if (closeFrame == null || closeWritten) completeStage();
    }

    @Override
    public void onUpstreamFailure(Throwable cause) {
      log().debug("connection {} failed: {}", id, cause.toString());
      completeStage();
    }

    private void onRequest(Inbound inbound) {
      if (inbound instanceof Inbound.Rejected rejected) {
        answerError(rejected.requestId(), rejected.code(), rejected.message());
      } else if (inbound instanceof Request.Ping ping) {
        answer(new Outbound.Pong(ping.requestId(), Timestamps.now()));
      } else if (inbound instanceof Request.Publish p) {
        long retryAfterMs = publishLimiter.tryAcquire();
        if (retryAfterMs > 0) {
          metrics.error(ErrorCode.RATE_LIMITED);
          answer(new Outbound.Error(p.requestId(), new Outbound.ErrorBody(ErrorCode.RATE_LIMITED.name(),
              "more than " + rateText() + " publishes per second on this connection; retry after " + retryAfterMs + " ms",
              retryAfterMs), Timestamps.now()));
        } else {
          ask(new Topic.Publish(p.topic(), p.requestId(), self, p.messageId(), p.payload()));
          if (routes.shouldLocate(p.topic())) topics.tell(new TopicManager.Locate(p.topic(), selfAsLocator));
        }
      } else if (inbound instanceof Request.Subscribe s) {
        int max = settings.limits().maxSubscriptionsPerConnection();
        boolean known = subscribed.contains(s.topic()) || pendingSubscribes.containsKey(s.topic());
        if (max > 0 && !known && subscriptionCount() >= max) {
          answerError(s.requestId(), ErrorCode.BAD_REQUEST, "this connection already has the maximum of " + max
              + " subscriptions: unsubscribe from a topic first");
          return;
        }
        pendingSubscribes.merge(s.topic(), 1, Integer::sum);
        ask(new Topic.Subscribe(s.topic(), s.requestId(), self, s.clientId(), s.lastN(), s.sinceOffset(), s.epoch(),
            extensions.deflate() != null));
      } else if (inbound instanceof Request.Unsubscribe u) {
        // Leaves the count at once: a subscribe sent right after it must find its place free, as it
        // would have had the client waited for the answer. A subscribe still in flight keeps it.
        if (!pendingSubscribes.containsKey(u.topic())) subscribed.remove(u.topic());
        pendingUnsubscribes.merge(u.topic(), 1, Integer::sum);
        ask(new Topic.Unsubscribe(u.topic(), u.requestId(), self));
      }
    }

    private String rateText() {
      double rate = settings.limits().publishRate();
      return rate == Math.rint(rate) ? String.valueOf((long) rate) : String.valueOf(rate);
    }

    /** Topics subscribed or being subscribed to: a repeat subscribe still unanswered is the same subscription. */
    private int subscriptionCount() {
      int count = subscribed.size();
      for (String topic : pendingSubscribes.keySet()) {
        if (!subscribed.contains(topic)) count++;
      }
      return count;
    }

    private void subscribeAnswered(String topic) {
      answerCame(pendingSubscribes, topic);
    }

    /** One answer fewer awaited from {@code topic} of those counted in {@code pending}; true when it was the last. */
    private static boolean answerCame(Map<String, Integer> pending, String topic) {
      Integer awaited = pending.get(topic);
      if (awaited == null) return false;
      if (awaited > 1) pending.put(topic, awaited - 1);
      else pending.remove(topic);
      return awaited == 1;
    }

    /** Once the last unsubscribe sent to {@code topic} is answered, the topic need no longer keep what it sent before them. */
    private void unsubscribeAnswered(String topic) {
      if (!answerCame(pendingUnsubscribes, topic)) return;
      forgetReceived(topic);
      Topic.UnsubscribesAnswered answered = new Topic.UnsubscribesAnswered(topic, self);
      ActorRef<Topic.Command> direct = routes.targetUnanswered(topic);
      if (direct != null) direct.tell(answered);
      else topics.tell(answered);
    }

    private void ask(Topic.Request request) {
      awaitingAnswers++;
      send(request);
    }

    private void send(Topic.Request request) {
      ActorRef<Topic.Command> topic = routes.target(request.topic(), request);
      if (topic != null) topic.tell(request);
      else topics.tell(request);
    }

    private void pullIfRoom() {
      if (!hasBeenPulled(in) && !isClosed(in) && !peerClosed
          && awaitingAnswers + queue.answerCount() < settings.maxInFlight()) {
        pull(in);
      }
    }

    // ---- messages to the stage actor ----

    private BoxedUnit receive(Tuple2<org.apache.pekko.actor.ActorRef, Object> envelope) {
      Object message = envelope._2();
      if (message instanceof Topic.Events events) {
        onEvents(events);
      } else if (message instanceof Topic.Reply reply) {
        if (reply instanceof Topic.Answer answer) routes.answered(answer.topic());
        onReply(reply);
      } else if (message instanceof TopicManager.Located located) {
        if (routes.located(located.name(), located.topic())) {
          stageActor.watch(Adapter.toClassic(located.topic()));
        }
      } else if (message instanceof TopicManager.NotLocated notLocated) {
        routes.notLocated(notLocated.name());
      } else if (message instanceof org.apache.pekko.actor.Terminated terminated) {
        // A deleted topic: what it did not answer goes again through the manager, which knows
        // what became of the name.
        routes.stopped(Adapter.toTyped(terminated.actor())).forEach(this::send);
      } else if (message == ShutDown.INSTANCE) {
        onShutDown();
      } else {
        log().warning("connection {}: unexpected message {}", id, message.getClass().getName());
      }
      return BoxedUnit.UNIT;
    }

    private void onEvents(Topic.Events events) {
      received(events.topic(), events.lastOffset());
      List<ByteString> frames = events.compressedFrames() != null && extensions.deflate() != null
          ? events.compressedFrames() : events.frames();
      // Indexed: an iterator per connection per batch was 4 % of the objects allocated at 1,000 subscribers.
      boolean refused = false;
      boolean droppedOldest = false;
      for (int i = 0; i < frames.size(); i++) {
        OutboundQueue.Offer offer = queue.offerEvent(frames.get(i), events.from());
        refused |= offer == OutboundQueue.Offer.REFUSED;
        droppedOldest |= offer == OutboundQueue.Offer.DROPPED_OLDEST || offer == OutboundQueue.Offer.SHED_OLDEST;
      }
      // The meters and the drop report follow once per batch, whatever number of its events was dropped.
      if (droppedOldest) meterQueue(ServerMetrics.DropReason.QUEUE_FULL);
      if (refused) {
        if (closeFrame == null) {
          onSlowConsumer("outbound queue overflowed (" + settings.outboundQueueSize() + " events or "
              + settings.outboundQueueBytes() + " bytes)");
        }
        meterQueue(closingReason());
      }
      if (refused || droppedOldest) scheduleDropReport();
      // Sampled, and the queue gauge follows per write batch: per-event updates of shared meters
      // from every connection cost more than the delivery itself (measured with scripts/peers).
      long before = eventsOffered;
      eventsOffered += frames.size();
      if (before / ServerMetrics.LATENCY_SAMPLE_EVERY != eventsOffered / ServerMetrics.LATENCY_SAMPLE_EVERY) {
        metrics.publishToEnqueue(events.publishedAtNanos());
      }
      flush();
    }

    private void onReply(Topic.Reply reply) {
      String ts = Timestamps.now();
      if (reply instanceof Topic.Published p) {
        answered(Outbound.Ack.published(p.requestId(), p.topic(), p.offset(), ts));
      } else if (reply instanceof Topic.Subscribed s) {
        subscribeAnswered(s.topic());
        subscribed.add(s.topic());
        answered(Outbound.Ack.subscribed(
            s.requestId(), s.topic(), s.newestOffset(), s.epoch(), s.replayed(), s.recovered(), ts));
        // Compressed by the topic for a connection that agreed to it, once per event for all of them.
        offerReplayed(s.replay());
        if (s.replayContinuesAt() != null) replays.continues(s.topic(), s.replayContinuesAt());
      } else if (reply instanceof Topic.ReplayPage page) {
        replays.pageCame(page.topic(), page.from(), page.done());
        offerPage(page);
        if (page.skipped() > 0) onReplayEvicted(page.skipped());
      } else if (reply instanceof Topic.Unsubscribed u) {
        subscribed.remove(u.topic());
        replays.ended(u.topic());
        unsubscribeAnswered(u.topic());
        answered(Outbound.Ack.unsubscribed(u.requestId(), u.topic(), ts));
      } else if (reply instanceof Topic.NotSubscribed n) {
        unsubscribeAnswered(n.topic());
        answered(error(n.requestId(), ErrorCode.NOT_SUBSCRIBED, "not subscribed to topic '" + n.topic() + "'"));
      } else if (reply instanceof Topic.TopicNotFound n) {
        // Publishes and unsubscribes get this answer too; at worst a pending subscribe is forgotten a little early.
        subscribeAnswered(n.topic());
        unsubscribeAnswered(n.topic());
        answered(error(n.requestId(), ErrorCode.TOPIC_NOT_FOUND, "topic '" + n.topic() + "' does not exist"));
      } else if (reply instanceof Topic.TopicDeleted d) {
        subscribed.remove(d.topic());
        forgetReceived(d.topic());
        replays.ended(d.topic());
        answer(new Outbound.Info(d.topic(), "topic_deleted", ts));
      }
      flush();
      pullIfRoom();
    }

    private void received(String topic, long offset) {
      if (receivedUpTo == null) receivedUpTo = new HashMap<>(4);
      long[] newest = receivedUpTo.get(topic);
      if (newest == null) receivedUpTo.put(topic, new long[] {offset});
      else newest[0] = offset;
    }

    private void forgetReceived(String topic) {
      if (receivedUpTo != null) receivedUpTo.remove(topic);
    }

    /**
     * Events a topic tells this connection after it stopped are lost on the way, with no queue to
     * count them: each topic it was subscribed to, or whose unsubscribe is unanswered, learns the
     * newest event it received, and counts the ones after it as dropped.
     */
    private void leaveTopics() {
      Set<String> topicsJoined = new HashSet<>(subscribed);
      topicsJoined.addAll(pendingSubscribes.keySet());
      topicsJoined.addAll(pendingUnsubscribes.keySet());
      for (String topic : topicsJoined) {
        long[] newest = receivedUpTo == null ? null : receivedUpTo.get(topic);
        send(new Topic.Leave(topic, self, newest == null ? 0 : newest[0]));
      }
    }

    private void offerReplayed(List<ByteString> frames) {
      // As for every answer: nothing follows a close frame.
      if (maySend()) frames.forEach(queue::offerReplayed);
    }

    /**
     * The live events of a page are received as a batch of events is: its topic's {@link Topic.Leave}
     * counts only what came after them, and the queue counts them if they are never written.
     */
    private void offerPage(Topic.ReplayPage page) {
      List<ByteString> frames = page.frames();
      int replayed = frames.size() - page.live();
      offerReplayed(frames.subList(0, replayed));
      if (page.live() == 0) return;
      received(page.topic(), page.lastOffset());
      boolean refused = false;
      for (int i = replayed; i < frames.size(); i++) {
        // Offered after a close frame too: a closed queue counts what it refuses.
        refused |= queue.offerLiveInReplay(frames.get(i), page.from()) == OutboundQueue.Offer.REFUSED;
      }
      if (refused) {
        meterQueue(closingReason());
        scheduleDropReport();
      }
    }

    private void answered(Object wireRecord) {
      awaitingAnswers--;
      answer(wireRecord);
    }

    /** Answers go out until the close frame does: those a peer that closed is owed come before the echo of its close. */
    private void answer(Object wireRecord) {
      if (!closeWritten) queue.offerAnswer(WebSocketFrames.text(JsonCodec.encode(wireRecord)));
    }

    /** Nothing may follow a close frame (RFC 6455 5.5.1), not even a pong, and a peer that closed is sent no more of a replay. */
    private boolean maySend() {
      return !peerClosed && !closeWritten;
    }

    /**
     * Whether the echo of a peer's close waits for answers to requests it sent before closing: they
     * were acted on (a publish was published), so their answers follow, within the close timeout.
     */
    private boolean owesAnswers() {
      return peerClosed && awaitingAnswers > 0 && !owedAnswersGivenUp;
    }

    private void answerError(String requestId, ErrorCode code, String message) {
      answer(error(requestId, code, message));
    }

    private Outbound.Error error(String requestId, ErrorCode code, String message) {
      metrics.error(code);
      return new Outbound.Error(requestId, new Outbound.ErrorBody(code, message), Timestamps.now());
    }

    // ---- closing ----

    /**
     * The peer closed: the events queued for it, replays included, are dropped (counted), but what
     * it asked before its close is answered before the echo (RFC 6455 5.5.1: "as soon as
     * practical"; a client that sent a publish and then its close was never told the publish's
     * offset, though it was published).
     */
    private void closeAfterAnswers(ByteString frame) {
      queue.discardReplayed();
      closeDroppingEvents(frame);
    }

    /** The peer broke the protocol: the connection fails (RFC 6455 7.1.7), so what is queued is dropped (counted). */
    private void closeNow(ByteString frame) {
      queue.discardAnswers();
      closeDroppingEvents(frame);
    }

    /** A peer that closed or failed reads no more events: those queued and any offered later are dropped (counted). */
    private void closeDroppingEvents(ByteString frame) {
      queue.closeForEvents();
      meterQueue(closingReason());
      scheduleDropReport();
      if (closeFrame == null) beginClose(frame);
    }

    /** The server decides to close with {@code frame}, which follows what is queued; the close timeout runs from now. */
    private void beginClose(ByteString frame) {
      closeFrame = frame;
      startCloseTimeout();
    }

    /**
     * Bounds a close from the moment it is decided: a peer that reads nothing never takes the close
     * frame, and would hold its connection, and the server's shutdown, forever.
     */
    private void startCloseTimeout() {
      if (!isTimerActive(CLOSE_TIMEOUT)) scheduleOnce(CLOSE_TIMEOUT, settings.closeTimeout());
    }

    /** Events of a replay were given up before this connection read up to them: with {@code disconnect}, fatal (the topic counted them). */
    private void onReplayEvicted(long events) {
      if (settings.overflowPolicy() == Settings.OverflowPolicy.DISCONNECT && closeFrame == null) {
        onSlowConsumer("the topic gave up " + events + " events of the replay before they were read");
      }
    }

    private void onSlowConsumer(String why) {
      slowConsumer = true;
      answerError(null, ErrorCode.SLOW_CONSUMER, why + "; closing the connection");
      beginClose(WebSocketFrames.close(WebSocketFrames.POLICY_VIOLATION, "slow consumer"));
      log().info("connection {}: slow consumer, closing ({} events dropped)", id, queue.droppedTotal());
    }

    private void onShutDown() {
      if (closeFrame != null) return;
      answer(new Outbound.Info(null, "shutting_down", Timestamps.now()));
      // What was queued before the signal is flushed; later events are counted as dropped, so the drain ends.
      queue.refuseNewEvents();
      closeFrame = WebSocketFrames.close(WebSocketFrames.GOING_AWAY, "server shutting down");
      scheduleOnce(DRAIN_DEADLINE, settings.drainDeadline());
      flush();
    }

    // ---- writing ----

    @Override
    public void onPull() {
      if (!opened) open();
      flush();
    }

    @Override
    public void onDownstreamFinish(Throwable cause) {
      completeStage();
    }

    private void flush() {
      write();
      askForReplayPage();
    }

    private void write() {
      if (!isAvailable(out)) return;
      if (!queue.isEmpty()) {
        push(out, queue.pollBatch(MAX_WRITE_BATCH_BYTES));
        meterWrites();
        wroteSinceHeartbeat = true;
        pullIfRoom();
      } else if (closeFrame != null && !closeWritten && !owesAnswers()) {
        push(out, closeFrame);
        closeWritten = true;
        metrics.framesOut(1);
        queue.closeForEvents();
        if (peerClosed || isClosed(in)) {
          completeStage();
        } else {
          startCloseTimeout();
        }
      }
    }

    /** A replay's next page is asked for once everything answered before it is written, so a replay holds about a page of memory. */
    private void askForReplayPage() {
      if (closeFrame != null || queue.answerCount() > 0) return;
      ActorRef<Topic.Command> topic = replays.askNext();
      if (topic != null) topic.tell(new Topic.ContinueReplay(self));
    }

    // ---- timers ----

    @Override
    public void onTimer(Object key) {
      if (TICK.equals(key)) {
        if (++ticksSinceHeartbeat >= heartbeatTicks) onHeartbeat();
        if (!settings.limits().idleTimeout().isZero()) onIdleCheck();
      } else if (REPORT_DROPS.equals(key)) {
        reportDrops();
      } else if (CLOSE_TIMEOUT.equals(key)) {
        if (slowConsumer) {
          failStage(new SlowConsumerException(id));
        } else if (!closeWritten) {
          if (owesAnswers()) {
            owedAnswersGivenUp = true;
            flush();
          }
          if (!closeWritten) failStage(new CloseNotTakenException(id));
        } else {
          completeStage();
        }
      } else if (DRAIN_DEADLINE.equals(key) && !closeWritten) {
        log().debug("connection {}: drain deadline passed with {} frames unwritten", id, queue.eventCount());
        queue.closeForEvents();
        queue.discardAnswers();
        meterQueue(closingReason());
        reportDrops();
        flush();
        if (!closeWritten) completeStage();
      }
    }

    private void onHeartbeat() {
      ticksSinceHeartbeat = 0;
      // Decided before checkResponsive queues its WebSocket ping: that ping comes with the heartbeat, not instead of it.
      boolean idle = !wroteSinceHeartbeat && queue.isEmpty();
      if (closeFrame == null && checkResponsive()) {
        if (idle) answer(new Outbound.Info(null, "ping", Timestamps.now()));
        flush();
      }
      wroteSinceHeartbeat = false;
      readSinceHeartbeat = false;
      eventsTakenAtHeartbeat = queue.eventsTaken();
    }

    /**
     * Pings a connection that sent nothing for a heartbeat interval, and closes it when it stayed
     * silent through {@code max-unanswered-pings} of them, and took no event either; returns whether
     * it is still open.
     */
    private boolean checkResponsive() {
      int maxUnanswered = settings.maxUnansweredPings();
      if (maxUnanswered == 0) return true;
      if (readSinceHeartbeat || queue.eventsTaken() > eventsTakenAtHeartbeat) {
        unansweredPings = 0;
        return true;
      }
      if (unansweredPings >= maxUnanswered) {
        log().debug("connection {}: no answer to {} pings, closing as unresponsive", id, unansweredPings);
        metrics.unresponsiveClosed();
        failStage(new UnresponsiveException(id, unansweredPings));
        return false;
      }
      unansweredPings++;
      queue.offerAnswer(WebSocketFrames.ping(ByteString.emptyByteString()));
      return true;
    }

    /** Subscribers may stay silent for hours (heartbeats watch them); only a connection with nothing to receive idles out. */
    private void onIdleCheck() {
      long idleNanos = System.nanoTime() - lastInboundNanos;
      if (closeFrame != null || !subscribed.isEmpty() || !pendingSubscribes.isEmpty() || awaitingAnswers > 0
          || idleNanos < settings.limits().idleTimeout().toNanos()) {
        return;
      }
      log().debug("connection {}: idle for {} ms, closing", id, idleNanos / 1_000_000);
      beginClose(WebSocketFrames.close(WebSocketFrames.GOING_AWAY, "idle timeout"));
      cancelTimer(TICK);
      flush();
    }

    private ServerMetrics.DropReason closingReason() {
      return slowConsumer ? ServerMetrics.DropReason.SLOW_CONSUMER : ServerMetrics.DropReason.CLOSING;
    }

    /** Drops since the last call go to {@code reason}, or to memory pressure; the queue-depth gauge follows this queue. */
    private void meterQueue(ServerMetrics.DropReason reason) {
      long drops = queue.droppedTotal();
      long shed = queue.shedTotal();
      metrics.dropped(ServerMetrics.DropReason.MEMORY_PRESSURE, shed - shedMetered);
      metrics.dropped(reason, drops - dropsMetered - (shed - shedMetered));
      dropsMetered = drops;
      shedMetered = shed;
      meterQueueDepth();
    }

    private void meterWrites() {
      long frames = queue.framesTaken();
      long events = queue.eventsTaken();
      metrics.framesOut(frames - framesOutMetered);
      metrics.delivered(events - eventsOutMetered);
      framesOutMetered = frames;
      eventsOutMetered = events;
      meterQueueDepth();
    }

    private void meterQueueDepth() {
      long queued = queue.eventCount();
      metrics.queuedEventsChanged(queued - queuedMetered);
      queuedMetered = queued;
    }

    private void scheduleDropReport() {
      if (!isTimerActive(REPORT_DROPS)) scheduleOnce(REPORT_DROPS, DROP_REPORT_DELAY);
    }

    private void reportDrops() {
      Map<ActorRef<Topic.Command>, Long> drops = queue.takeUnreportedDrops();
      drops.forEach((topic, count) -> topic.tell(new Topic.RecordDropped(count)));
    }
  }

  /** Ends a connection that answered none of its pings: it cannot read a close frame either. */
  static final class UnresponsiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UnresponsiveException(String connectionId, int pings) {
      super("connection " + connectionId + " answered none of " + pings + " pings", null, false, false);
    }
  }

  /** Aborts the TCP connection of a peer that did not take the close frame in time: it reads nothing. */
  static final class CloseNotTakenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CloseNotTakenException(String connectionId) {
      super("connection " + connectionId + " did not take its close frame in time", null, false, false);
    }
  }

  /** Aborts the TCP connection of a consumer that did not read its close frame in time. */
  static final class SlowConsumerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SlowConsumerException(String connectionId) {
      super("connection " + connectionId + " closed as a slow consumer", null, false, false);
    }
  }
}
