package pekkopubsub.http;

import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.impl.engine.server.UpgradeToOtherProtocolResponseHeader;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.Connection;
import pekkopubsub.connection.ConnectionRegistry;
import pekkopubsub.connection.WebSocketFrameDecoder;
import pekkopubsub.connection.WebSocketFrames;
import pekkopubsub.protocol.ErrorCode;
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

  public WebSocketRoute(
      ActorRef<TopicManager.Command> topics, ActorRef<ConnectionRegistry.Command> registry, Settings settings) {
    this.topics = topics;
    this.registry = registry;
    this.settings = settings;
  }

  /** The 101 answer that switches this HTTP connection to a new pub/sub connection, or a JSON error. */
  public HttpResponse handshake(HttpRequest request) {
    if (!headerHasToken(request, "upgrade", "websocket") || !headerHasToken(request, "connection", "upgrade")) {
      return JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST,
          "expected a WebSocket upgrade request (Upgrade: websocket, Connection: Upgrade)");
    }
    if (!"13".equals(header(request, "sec-websocket-version").orElse(""))) {
      return JsonErrors.response(StatusCodes.UPGRADE_REQUIRED, ErrorCode.BAD_REQUEST,
              "only WebSocket version 13 is supported")
          .addHeader(RawHeader.create("Sec-WebSocket-Version", "13"));
    }
    Optional<String> key = header(request, "sec-websocket-key").map(String::trim);
    if (key.isEmpty() || !isValidKey(key.get())) {
      return JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST,
          "Sec-WebSocket-Key must be the base64 encoding of 16 bytes");
    }
    String id = String.format("%08x", ThreadLocalRandom.current().nextInt());
    Flow<ByteString, ByteString, Object> connection = Flow.of(ByteString.class)
        .via(new WebSocketFrameDecoder(settings.maxFrameSize()))
        .via(new Connection(id, topics, registry, settings))
        .mapMaterializedValue(notUsed -> (Object) notUsed);
    return HttpResponse.create()
        .withStatus(StatusCodes.SWITCHING_PROTOCOLS)
        .addHeader(UPGRADE)
        .addHeader(CONNECTION_UPGRADE)
        .addHeader(RawHeader.create("Sec-WebSocket-Accept", WebSocketFrames.acceptKey(key.get())))
        .addHeader(new UpgradeToOtherProtocolResponseHeader(connection.asScala()));
  }

  private static boolean isValidKey(String key) {
    try {
      return java.util.Base64.getDecoder().decode(key).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static Optional<String> header(HttpRequest request, String lowerCaseName) {
    return request.getHeader(lowerCaseName).map(HttpHeader::value);
  }

  private static boolean headerHasToken(HttpRequest request, String lowerCaseName, String token) {
    for (HttpHeader h : request.getHeaders()) {
      if (!h.lowercaseName().equals(lowerCaseName)) continue;
      for (String part : h.value().split(",")) {
        if (part.trim().toLowerCase(Locale.ROOT).equals(token)) return true;
      }
    }
    return false;
  }
}
