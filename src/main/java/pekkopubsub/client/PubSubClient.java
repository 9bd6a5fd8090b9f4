package pekkopubsub.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import pekkopubsub.protocol.JsonCodec;

/**
 * A client of the wire contract over the JDK's WebSocket: requests with {@code request_id}
 * answered by futures, every other frame (events, infos, errors without a request) in arrival
 * order, and reading that can be paused so that the server sees a slow consumer.
 */
public final class PubSubClient implements AutoCloseable {

  /** How the server closed the connection; code -1 when the TCP connection broke without a close frame. */
  public record CloseStatus(int code, String reason) {}

  /**
   * Frames received and not yet taken with {@link #nextFrame} after which the client stops reading
   * its socket until some are taken, as a paused reader does: a consumer that falls behind backs up
   * into TCP and the server's bounded queue, which drops and counts, not into this heap. Answers
   * to requests arrive on the same socket, so they too wait until frames are taken.
   */
  public static final int MAX_BUFFERED_FRAMES = 4096;

  /**
   * One JDK HttpClient, with its selector thread and executor, for every connection of this JVM: one
   * per connection made a 300-client soak run 4,000-7,000 threads beside the server it tested.
   */
  private static final HttpClient SHARED_HTTP = HttpClient.newHttpClient();

  private final WebSocket webSocket;
  private final Listener listener;
  private final AtomicLong nextRequestId = new AtomicLong();
  private final Object sendLock = new Object();
  private CompletableFuture<WebSocket> lastSend;

  private PubSubClient(WebSocket webSocket, Listener listener) {
    this.webSocket = webSocket;
    this.listener = listener;
    this.lastSend = CompletableFuture.completedFuture(webSocket);
  }

  /** Connects to {@code ws://host:port/ws} (or the given WebSocket URI), waiting up to {@code timeout}. */
  public static PubSubClient connect(URI webSocketUri, Duration timeout) {
    return connect(webSocketUri, timeout, Map.of());
  }

  public static PubSubClient connect(URI webSocketUri, Duration timeout, Map<String, String> headers) {
    return connect(webSocketUri, timeout, headers, SHARED_HTTP);
  }

  /** Through {@code http}: for a {@code wss://} server whose certificate the JVM's default trust store does not know. */
  public static PubSubClient connect(URI webSocketUri, Duration timeout, Map<String, String> headers, HttpClient http) {
    Listener listener = new Listener();
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(timeout);
    headers.forEach(builder::header);
    WebSocket ws = builder.buildAsync(webSocketUri, listener).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
    return new PubSubClient(ws, listener);
  }

  /** The {@code /ws} URI of a server given by its HTTP base URI. */
  public static URI webSocketUri(URI httpBase) {
    String scheme = "https".equals(httpBase.getScheme()) ? "wss" : "ws";
    return URI.create(scheme + "://" + httpBase.getRawAuthority() + "/ws");
  }

  // ---- requests ----

  public CompletableFuture<JsonNode> subscribe(String topic) {
    return subscribe(topic, null, null, null, null);
  }

  public CompletableFuture<JsonNode> subscribeLast(String topic, int lastN) {
    return subscribe(topic, lastN, null, null, null);
  }

  public CompletableFuture<JsonNode> subscribeSince(String topic, long sinceOffset, String epoch) {
    return subscribe(topic, null, sinceOffset, epoch, null);
  }

  /** A subscribe with the options given; a null one is left out of the request. */
  public CompletableFuture<JsonNode> subscribe(String topic, Integer lastN, Long sinceOffset, String epoch, String clientId) {
    ObjectNode subscribe = request("subscribe").put("topic", topic);
    if (lastN != null) subscribe.put("last_n", lastN);
    if (sinceOffset != null) subscribe.put("since_offset", sinceOffset);
    if (epoch != null) subscribe.put("epoch", epoch);
    if (clientId != null) subscribe.put("client_id", clientId);
    return request(subscribe);
  }

  public CompletableFuture<JsonNode> unsubscribe(String topic) {
    return request(request("unsubscribe").put("topic", topic));
  }

  public CompletableFuture<JsonNode> publish(String topic, JsonNode payload) {
    ObjectNode publish = request("publish").put("topic", topic);
    publish.putObject("message").set("payload", payload);
    return request(publish);
  }

  public CompletableFuture<JsonNode> ping() {
    return request(request("ping"));
  }

  /** A fresh request object of {@code type}, to fill in and pass to {@link #request}. */
  public static ObjectNode request(String type) {
    return JsonCodec.mapper().createObjectNode().put("type", type);
  }

  /** Sends {@code request} with a new {@code request_id}; completes with the answer (ack, error or pong). */
  public CompletableFuture<JsonNode> request(ObjectNode request) {
    String id = "c" + nextRequestId.incrementAndGet();
    request.put("request_id", id);
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    listener.pending.put(id, answer);
    sendText(request.toString()).whenComplete((ws, failure) -> {
      if (failure != null) answer.completeExceptionally(failure);
    });
    return answer;
  }

  /** Sends one text frame as it is: for frames the contract calls bad input. */
  public CompletableFuture<WebSocket> sendText(String text) {
    synchronized (sendLock) {
      lastSend = lastSend.thenCompose(ws -> ws.sendText(text, true));
      return lastSend;
    }
  }

  public CompletableFuture<WebSocket> sendBinary(ByteBuffer data) {
    synchronized (sendLock) {
      lastSend = lastSend.thenCompose(ws -> ws.sendBinary(data, true));
      return lastSend;
    }
  }

  /** Sends one text message as several continuation frames. */
  public CompletableFuture<WebSocket> sendFragmented(String... parts) {
    synchronized (sendLock) {
      for (int i = 0; i < parts.length; i++) {
        String part = parts[i];
        boolean last = i == parts.length - 1;
        lastSend = lastSend.thenCompose(ws -> ws.sendText(part, last));
      }
      return lastSend;
    }
  }

  public CompletableFuture<WebSocket> sendPing(ByteBuffer payload) {
    synchronized (sendLock) {
      lastSend = lastSend.thenCompose(ws -> ws.sendPing(payload));
      return lastSend;
    }
  }

  // ---- frames the server sent on its own ----

  /** The next frame that answers no request of ours (event, info, error without request), or null after {@code timeout}. */
  public JsonNode nextFrame(Duration timeout) throws InterruptedException {
    JsonNode frame = listener.frames.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (frame != null) listener.releaseIfHeld(webSocket);
    return frame;
  }

  /** Frames received and not yet taken with {@link #nextFrame}. */
  public int bufferedFrames() {
    return listener.frames.size();
  }

  /** Pongs received in answer to RFC 6455 pings. */
  public long pongFramesReceived() {
    return listener.pongs.get();
  }

  /** Stops reading from the socket: the server's writes back up into TCP and then its queue. */
  public void pauseReading() {
    listener.paused.set(true);
  }

  public void resumeReading() {
    // A full buffer keeps holding reading back; the next nextFrame asks for more.
    if (listener.paused.compareAndSet(true, false) && !listener.heldBack.get()) webSocket.request(1);
  }

  public CompletableFuture<CloseStatus> closed() {
    return listener.closed;
  }

  /** Closes with 1000 and waits up to 5 s for the server's close. */
  @Override
  public void close() {
    if (!webSocket.isOutputClosed()) {
      webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> webSocket);
    }
    try {
      listener.closed.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      webSocket.abort();
    }
  }

  /** Drops the TCP connection without a close frame. */
  public void abort() {
    webSocket.abort();
  }

  private static final class Listener implements WebSocket.Listener {
    final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
    final AtomicBoolean paused = new AtomicBoolean();
    /** Set while reading waits because {@link #frames} holds {@link #MAX_BUFFERED_FRAMES}. */
    final AtomicBoolean heldBack = new AtomicBoolean();
    final AtomicLong pongs = new AtomicLong();
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        dispatch(text);
      }
      requestNext(ws);
      return null;
    }

    private void requestNext(WebSocket ws) {
      if (paused.get()) return;
      if (frames.size() >= MAX_BUFFERED_FRAMES) {
        heldBack.set(true);
        // The consumer may have taken a frame before it could see the flag; then the request is ours.
        if (frames.size() >= MAX_BUFFERED_FRAMES || !heldBack.compareAndSet(true, false)) return;
      }
      ws.request(1);
    }

    void releaseIfHeld(WebSocket ws) {
      if (heldBack.get() && frames.size() < MAX_BUFFERED_FRAMES && heldBack.compareAndSet(true, false) && !paused.get()) {
        ws.request(1);
      }
    }

    private void dispatch(String text) {
      JsonNode frame;
      try {
        frame = JsonCodec.parse(text);
      } catch (JsonProcessingException e) {
        frame = JsonCodec.mapper().createObjectNode().put("type", "unparseable").put("text", text);
      }
      JsonNode requestId = frame.get("request_id");
      CompletableFuture<JsonNode> waiting = requestId == null ? null : pending.remove(requestId.asText());
      if (waiting != null) waiting.complete(frame);
      else frames.add(frame);
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      frames.add(JsonCodec.mapper().createObjectNode().put("type", "binary").put("bytes", data.remaining()));
      requestNext(ws);
      return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
      pongs.incrementAndGet();
      requestNext(ws);
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
      requestNext(ws);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed.complete(new CloseStatus(statusCode, reason));
      failPending(new IllegalStateException("closed " + statusCode + " " + reason));
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.complete(new CloseStatus(-1, String.valueOf(error)));
      failPending(error);
    }

    private void failPending(Throwable cause) {
      pending.values().forEach(f -> f.completeExceptionally(cause));
      pending.clear();
    }
  }
}
