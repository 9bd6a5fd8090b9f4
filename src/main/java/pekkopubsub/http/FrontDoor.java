package pekkopubsub.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.dispatch.MonitorableThreadFactory;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.TLSProtocol;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.TLSPlacebo;
import org.apache.pekko.util.ByteString;
import pekkopubsub.connection.NegotiatedExtensions;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.ErrorCode;

/**
 * Binds the server's port (on a {@link SelectorLoop}) and runs every accepted connection as one
 * stream: its {@link Socket} and an {@link UpgradeGate}. A valid upgrade to {@code /ws} runs the
 * connection's own stages directly on the socket, fused with it; everything else (the REST API,
 * the docs, every handshake error) is served by Pekko HTTP and the routes, on a server flow made
 * only for such connections, behind Pekko HTTP's idle timeout, once {@link HttpConnections} has
 * admitted it.
 *
 * <p>Why the idle timeout is not on every connection: a WebSocket connection has its own
 * heartbeat and idle timeout ({@code Connection}), and the extra timer of each idle WebSocket
 * woke the server more often than all else while idle (see docs/performance-history.md).
 *
 * <p>Why not Pekko HTTP's upgrade for every WebSocket: it runs the upgraded flow behind an
 * asynchronous sub-stream boundary inside a full HTTP server graph, which costs two extra messages
 * per socket write and about 9 KB of heap per idle connection (see docs/performance-history.md).
 */
public final class FrontDoor {
  /** The name of the thread that accepts, reads and writes every connection. */
  public static final String LOOP_THREAD_NAME = "pubsub-selector";
  private final ActorSystem<?> system;
  private final String host;
  private final int port;
  private final WebSocketRoute webSocket;
  private final ActorRef<HttpConnections.Command> httpAdmissions;
  private final java.time.Duration askTimeout;
  private final ApiKeys apiKeys;
  /** Null when the port speaks plain HTTP. */
  private final TlsFiles tls;
  private final ServerMetrics metrics;
  private final ServerSettings serverSettings;
  private final Flow<HttpRequest, HttpResponse, NotUsed> routes;
  private final Materializer materializer;
  /** Ends the HTTP connections' request side at shutdown: answers in progress are still written. */
  private final SharedKillSwitch httpConnections = KillSwitches.shared("http-connections");
  private final BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> idleTimeout;
  /** The tickets of the HTTP connections' places, one per connection admitted or refused. */
  private final AtomicLong httpTickets = new AtomicLong();
  /** Pekko HTTP's request timeout, which also bounds how long a connection may take to send its request head. */
  private final java.time.Duration headTimeout;
  /** Pekko HTTP's server layers log here, and their answers to requests they cannot parse are counted. */
  private final ParsingErrorsLog parsingErrorsLog;

  /**
   * {@code httpAdmissions} admits each connection before Pekko HTTP serves it, answering within
   * {@code askTimeout}. With {@code tls} not null, every connection speaks TLS, and the gate and the
   * routes see its plaintext.
   */
  public FrontDoor(ActorSystem<?> system, String host, int port, Route routes, WebSocketRoute webSocket,
      ActorRef<HttpConnections.Command> httpAdmissions, java.time.Duration askTimeout, ApiKeys apiKeys, TlsFiles tls,
      ServerMetrics metrics) {
    this.system = system;
    this.httpAdmissions = httpAdmissions;
    this.askTimeout = askTimeout;
    this.metrics = metrics;
    this.tls = tls;
    this.host = host;
    this.port = port;
    this.webSocket = webSocket;
    this.apiKeys = apiKeys;
    this.serverSettings = ServerSettings.create(system.classicSystem());
    // The responses never end before Pekko HTTP ends the connection: when the routes' responses
    // ended (the requests had ended: a client's half-close after pipelined requests) while the last
    // answer waited for the socket's next pull, Pekko HTTP's controller stage asked its outlet to
    // complete twice, and Pekko's emit then never completes it (GraphStageLogic's EmittingCompletion
    // re-queues itself): the connection stayed open, its HTTP place held, until the idle timeout.
    // With this, the end of the requests alone ends the connection, after the last answer.
    // A connection that ends before its answers leaves no request timeout behind (UnansweredRequests).
    this.routes = BidiFlow.fromGraph(new UnansweredRequests())
        .join(answeringMarkedHeads(routes).flow(system).concat(Source.never()));
    this.materializer = Materializer.matFromSystem(system);
    this.idleTimeout = finite(serverSettings.getTimeouts().idleTimeout())
        .<BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed>>map(BidiFlow::bidirectionalIdleTimeout)
        .orElse(BidiFlow.identity());
    this.headTimeout = finite(serverSettings.getTimeouts().requestTimeout()).orElse(java.time.Duration.ZERO);
    this.parsingErrorsLog = new ParsingErrorsLog(system.classicSystem(), metrics::error);
  }

  /**
   * {@code routes}, but a request the gate marked ({@link HeaderLineEnds}: a header line Pekko HTTP
   * would misread) is answered 400, as the gate answers a first head with such a line, and its
   * connection closed: Pekko HTTP answers the requests before it first, in order.
   */
  private Route answeringMarkedHeads(Route routes) {
    return Directives.optionalHeaderValueByName(HeaderLineEnds.MARK, unreadable -> {
      if (unreadable.isEmpty()) return routes;
      metrics.error(ErrorCode.BAD_REQUEST);
      return Directives.complete(JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST, unreadable.get())
          .addHeader(Connection.create("close")));
    });
  }

  /** One of Pekko HTTP's timeouts as a Java duration; empty when it is configured "infinite". */
  static Optional<java.time.Duration> finite(scala.concurrent.duration.Duration timeout) {
    return timeout.isFinite() ? Optional.of(java.time.Duration.ofNanos(timeout.toNanos())) : Optional.empty();
  }

  /** The bound port: where it is, and how to release it. */
  public static final class Binding {
    private final SelectorLoop.Listener listener;

    private Binding(SelectorLoop.Listener listener) {
      this.listener = listener;
    }

    public InetSocketAddress localAddress() {
      return listener.localAddress();
    }

    /** Stops accepting and releases the port; connections already accepted go on. */
    public CompletionStage<Done> unbind() {
      return listener.unbind();
    }
  }

  /**
   * Starts accepting on a selector thread of its own, which stops when the actor system
   * terminates; completes when the port is bound, or fails when it cannot be.
   */
  public CompletionStage<Binding> bind() {
    SelectorLoop loop;
    try {
      loop = new SelectorLoop(LOOP_THREAD_NAME, fatalErrorHandler());
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    system.getWhenTerminated().thenRunAsync(loop::close, CompletingThread.INSTANCE);
    Executor dispatcher = system.executionContext();
    CompletionStage<SelectorLoop.Listener> listening = loop.listen(new InetSocketAddress(host, port),
        serverSettings.getBacklog(), serverSettings.getSocketOptions(), channel -> dispatcher.execute(() -> serve(channel, loop)));
    listening.whenComplete((listener, failure) -> { if (failure != null) loop.close(); });
    return listening.thenApply(Binding::new);
  }

  /**
   * The actor system's handler of errors a thread does not survive, which its dispatcher threads
   * have: the loop runs dispatcher tasks too, and such an error there must end the JVM (or the
   * system) as it would on any of them, not leave the server deaf.
   */
  private Thread.UncaughtExceptionHandler fatalErrorHandler() {
    return ((ExtendedActorSystem) system.classicSystem()).threadFactory() instanceof MonitorableThreadFactory factory
        ? factory.exceptionHandler() : null;
  }

  /** Lets the HTTP connections finish the requests they are answering, then close. */
  public CompletionStage<Done> closeHttpConnections() {
    httpConnections.shutdown();
    return CompletableFuture.completedFuture(Done.done());
  }

  /** Runs one accepted connection: its socket, the gate and what the gate leads to. */
  private void serve(SocketChannel channel, SelectorLoop loop) {
    InetSocketAddress remote;
    try {
      remote = (InetSocketAddress) channel.getRemoteAddress();
    } catch (IOException e) {
      loop.close(channel, true);
      return;
    }
    CompletableFuture<Done> released = new CompletableFuture<>();
    WritingEnds writingEnds = tls != null ? new WritingEnds() : null;
    Flow<ByteString, ByteString, NotUsed> socket = Flow.fromGraph(new Socket(channel, remote, loop, released, writingEnds));
    if (tls != null) {
      socket = socket.join(BidiFlow.fromGraph(new TlsStage(tls::newServerEngine, metrics::tlsFailed, writingEnds)).reversed());
    }
    socket.join(connectionFlow(remote, released)).run(materializer);
  }

  /**
   * The place an HTTP connection was admitted to goes back once its socket is {@code released}:
   * given back as the HTTP stream ended, it was free while the socket still wrote the last answer to
   * a slow or silent client, for as long as the drain deadline allowed.
   */
  private Flow<ByteString, ByteString, NotUsed> connectionFlow(InetSocketAddress remote, CompletionStage<Done> released) {
    NegotiatedExtensions extensions = new NegotiatedExtensions();
    return BidiFlow.fromGraph(new UpgradeGate(apiKeys, webSocket::admit, webSocket::withdraw, this::admitHttp,
            ticket -> released.thenRun(() -> httpAdmissions.tell(new HttpConnections.Closed(ticket))), () -> httpFlow(remote),
            headTimeout, webSocket.permessageDeflate(), extensions, metrics::error))
        .join(webSocket.connectionFlow(0, extensions));
  }

  private CompletionStage<HttpConnections.Admission> admitHttp(boolean healthProbe) {
    return HttpConnections.admit(httpAdmissions, httpTickets.incrementAndGet(), healthProbe, askTimeout, system.scheduler());
  }

  /** Pekko HTTP's server layer for one connection, its requests answered by the routes. */
  private Flow<ByteString, ByteString, NotUsed> httpFlow(InetSocketAddress remote) {
    BidiFlow<HttpResponse, ByteString, ByteString, HttpRequest, NotUsed> layer =
        Http.get(system).serverLayer(serverSettings, Optional.of(remote), parsingErrorsLog).atop(plainBytes());
    return idleTimeout.join(Flow.of(ByteString.class).via(httpConnections.flow())
        .mapConcat(FrontDoor::inParserSizedPieces).via(layer.reversed().join(routes)));
  }

  /**
   * Most bytes Pekko HTTP's request parser is given at once. It recurses once per request it finds
   * in one piece of input: 800 pipelined requests in one write (26 KB) overflowed the stack, and a
   * StackOverflowError stops the JVM. 2 KiB holds at most about a hundred of the smallest requests.
   */
  static final int PARSER_PIECE_BYTES = 2048;

  static List<ByteString> inParserSizedPieces(ByteString bytes) {
    if (bytes.size() <= PARSER_PIECE_BYTES) return List.of(bytes);
    List<ByteString> pieces = new ArrayList<>(bytes.size() / PARSER_PIECE_BYTES + 1);
    for (int from = 0; from < bytes.size(); from += PARSER_PIECE_BYTES) {
      pieces.add(bytes.slice(from, Math.min(bytes.size(), from + PARSER_PIECE_BYTES)));
    }
    return pieces;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static BidiFlow<TLSProtocol.SslTlsOutbound, ByteString, ByteString, TLSProtocol.SslTlsInbound, NotUsed> plainBytes() {
    // SessionBytes is an SslTlsInbound: Java's invariant generics need the widening spelled out.
    return (BidiFlow) TLSPlacebo.getInstance();
  }
}
