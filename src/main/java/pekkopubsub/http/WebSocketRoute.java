package pekkopubsub.http;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.impl.engine.server.UpgradeToOtherProtocolResponseHeader;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpProtocols;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.Connection;
import pekkopubsub.connection.ConnectionRegistry;
import pekkopubsub.connection.HeapPressure;
import pekkopubsub.connection.NegotiatedExtensions;
import pekkopubsub.connection.WebSocketFrameDecoder;
import pekkopubsub.connection.WebSocketFrames;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.ErrorCode;
import pekkopubsub.protocol.RequestDecoder;
import pekkopubsub.topic.TopicManager;

/**
 * The RFC 6455 opening handshake of {@code /ws}, answered by the server itself.
 *
 * <p>Pekko HTTP's message-level WebSocket API cannot close a connection with a chosen code (the
 * contract needs 1001 on shutdown and 1008 for slow consumers; akka-http#2458), so after the 101
 * response the connection's raw bytes go to our own frame codec and {@link Connection} stage. The
 * hand-over uses {@link UpgradeToOtherProtocolResponseHeader}, the hook Pekko HTTP's own WebSocket
 * and HTTP/2 upgrades use; the pinned pekko-http version keeps that internal API stable.
 */
public final class WebSocketRoute {
  private static final HttpHeader UPGRADE = HttpHeader.parse("Upgrade", "websocket");
  private static final HttpHeader CONNECTION_UPGRADE = HttpHeader.parse("Connection", "Upgrade");

  private final ActorRef<TopicManager.Command> topics;
  private final ActorRef<ConnectionRegistry.Command> registry;
  private final Settings settings;
  private final RequestDecoder decoder;
  private final ServerMetrics metrics;
  private final HeapPressure heapPressure;
  private final Scheduler scheduler;
  private final BooleanSupplier shuttingDown;

  /** {@code shuttingDown}: whether a shutdown has begun, as {@code /health} reports it. */
  public WebSocketRoute(
      ActorRef<TopicManager.Command> topics,
      ActorRef<ConnectionRegistry.Command> registry,
      Settings settings,
      Scheduler scheduler,
      ServerMetrics metrics,
      HeapPressure heapPressure,
      BooleanSupplier shuttingDown) {
    this.shuttingDown = shuttingDown;
    this.metrics = metrics;
    this.heapPressure = heapPressure;
    this.topics = topics;
    this.registry = registry;
    this.settings = settings;
    this.scheduler = scheduler;
    this.decoder = new RequestDecoder(settings.limits());
  }

  /**
   * The 101 answer that switches this HTTP connection to a new pub/sub connection, once the
   * registry has admitted it under {@code max-connections}; otherwise a JSON error (503 when full).
   */
  public CompletionStage<HttpResponse> upgrade(HttpRequest request) {
    HttpResponse invalid = validate(request);
    if (invalid != null) return CompletableFuture.completedFuture(invalid);
    String key = header(request, "sec-websocket-key").orElseThrow().trim();
    return admit().handleAsync((admission, failure) -> {
          if (admission instanceof ConnectionRegistry.Admitted admitted) return switchProtocols(key, admitted.ticket());
          String reason = admission instanceof ConnectionRegistry.Refused refused
              ? refused.reason() : "the server is too busy to accept a connection";
          return JsonErrors.response(StatusCodes.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL, reason)
              .addHeader(RawHeader.create("Retry-After", "1"));
        }, CompletingThread.INSTANCE);
  }

  /** The handshake's JSON error, or null when the request is a valid WebSocket upgrade. */
  private static HttpResponse validate(HttpRequest request) {
    // RFC 6455 4.1. A 101 to either would be followed at once by the end of the connection.
    if (!request.protocol().equals(HttpProtocols.HTTP_1_1)) {
      return JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST, "a WebSocket upgrade needs HTTP/1.1");
    }
    if (!request.entity().isKnownEmpty()) {
      return JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST, "a WebSocket upgrade request has no body");
    }
    if (!headerHasToken(request, "upgrade", "websocket") || !headerHasToken(request, "connection", "upgrade")) {
      return JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST,
          "expected a WebSocket upgrade request (Upgrade: websocket, Connection: Upgrade)");
    }
    if (!"13".equals(header(request, "sec-websocket-version").orElse(""))) {
      return JsonErrors.response(StatusCodes.UPGRADE_REQUIRED, ErrorCode.BAD_REQUEST,
              "only WebSocket version 13 is supported")
          // RFC 9110 15.5.22: a 426 names the protocol to upgrade to.
          .addHeader(RawHeader.create("Sec-WebSocket-Version", "13"))
          .addHeader(RawHeader.create("Upgrade", "websocket"));
    }
    Optional<String> key = header(request, "sec-websocket-key").map(String::trim);
    // RFC 6455 11.3.1: the key must not appear more than once.
    if (key.isEmpty() || !WebSocketHandshake.isValidKey(key.get()) || count(request, "sec-websocket-key") > 1) {
      return JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST,
          "Sec-WebSocket-Key must be the base64 encoding of 16 bytes");
    }
    return null;
  }

  private HttpResponse switchProtocols(String key, long ticket) {
    return HttpResponse.create()
        .withStatus(StatusCodes.SWITCHING_PROTOCOLS)
        .addHeader(UPGRADE)
        .addHeader(CONNECTION_UPGRADE)
        .addHeader(RawHeader.create("Sec-WebSocket-Accept", WebSocketFrames.acceptKey(key)))
        .addHeader(new UpgradeToOtherProtocolResponseHeader(
            connectionFlow(ticket, new NegotiatedExtensions()).mapMaterializedValue(notUsed -> (Object) notUsed).asScala()));
  }

  /**
   * A new pub/sub connection's stages, from raw client bytes to raw server bytes. {@code ticket} is
   * the registry's admission ticket (0: admitted otherwise, see {@link FrontDoor}); {@code extensions}
   * will hold what the handshake agreed (Pekko HTTP's upgrade agrees to none).
   */
  Flow<ByteString, ByteString, NotUsed> connectionFlow(long ticket, NegotiatedExtensions extensions) {
    String id = String.format("%08x", ThreadLocalRandom.current().nextInt());
    return Flow.of(ByteString.class)
        .via(new WebSocketFrameDecoder(settings.maxFrameSize(), extensions))
        .via(new Connection(id, topics, registry, settings, decoder, metrics, heapPressure, ticket, extensions));
  }

  /** Whether the fast path may agree to permessage-deflate. */
  boolean permessageDeflate() {
    return settings.permessageDeflate();
  }

  /** Asks the registry for room for one more connection, with the configured timeout. */
  CompletionStage<ConnectionRegistry.Admission> admit() {
    // The registry hears of the shutdown only when the drain phase starts; /health says 503 from its
    // very start, and an upgrade admitted in between would be opened only to be closed at once.
    if (shuttingDown.getAsBoolean()) {
      return CompletableFuture.completedFuture(new ConnectionRegistry.Refused("server is shutting down"));
    }
    return AskPattern.ask(registry, ConnectionRegistry.Admit::new, settings.askTimeout(), scheduler);
  }

  /** Gives back a reservation that {@link #admit()} made, for a connection that registered without it. */
  void withdraw(long ticket) {
    registry.tell(new ConnectionRegistry.Withdraw(ticket));
  }

  private static Optional<String> header(HttpRequest request, String lowerCaseName) {
    return request.getHeader(lowerCaseName).map(HttpHeader::value);
  }

  private static long count(HttpRequest request, String lowerCaseName) {
    return java.util.stream.StreamSupport.stream(request.getHeaders().spliterator(), false)
        .filter(h -> h.lowercaseName().equals(lowerCaseName)).count();
  }

  private static boolean headerHasToken(HttpRequest request, String lowerCaseName, String token) {
    for (HttpHeader h : request.getHeaders()) {
      if (h.lowercaseName().equals(lowerCaseName) && WebSocketHandshake.hasToken(h.value(), token)) return true;
    }
    return false;
  }
}
