package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.assertUsable;
import static pekkopubsub.e2e.Wire.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.PubSubClient;

/** Auth, the publish rate limit and the resource limits, as a client over the wire sees them. */
class LimitsE2ETest {

  @Test
  void withApiKeysConfiguredOnlyAKeyOpensTheWebSocketAndTheRestApi() {
    try (TestServer server = TestServer.start(Map.of("auth.api-keys", "alpha,beta"))) {
      URI ws = server.webSocketUri();
      CompletableFuture<PubSubClient> refused = CompletableFuture.supplyAsync(() ->
          PubSubClient.connect(ws, Duration.ofSeconds(5)));
      assertThrows(Exception.class, refused::join, "no key, no upgrade");
      assertThrows(Exception.class, () -> PubSubClient.connect(ws, Duration.ofSeconds(5), Map.of("X-API-Key", "gamma")));

      AdminClient anonymous = server.admin();
      AdminClient.Answer denied = anonymous.createTopic(TestServer.uniqueTopicName("auth"));
      assertEquals(401, denied.status(), denied::toString);
      assertEquals("UNAUTHORIZED", denied.body().path("error").path("code").asText(), denied::toString);
      assertEquals(200, anonymous.health().status(), "/health stays open");

      AdminClient admin = new AdminClient(server.httpBase(), Map.of("X-API-Key", "beta"));
      String topic = TestServer.uniqueTopicName("auth");
      assertEquals(201, admin.createTopic(topic).status());
      try (PubSubClient byHeader = PubSubClient.connect(ws, Duration.ofSeconds(5), Map.of("X-API-Key", "alpha"));
           PubSubClient byQuery = PubSubClient.connect(URI.create(ws + "?api_key=beta"), Duration.ofSeconds(5))) {
        ack(byHeader.subscribe(topic), topic);
        ack(byQuery.publish(topic, Wire.payload(1)), topic);
        assertEquals("event", Wire.next(byHeader).path("type").asText());
      }
    }
  }

  /**
   * A browser passes a key with {@code + / =} in it percent-encoded. Such WebSockets used to be
   * upgraded by Pekko HTTP, and each held one of the HTTP connections' places: past the limit,
   * further WebSockets and the REST API were refused.
   */
  @Test
  void webSocketsWithAPercentEncodedKeyHoldNoPlaceOfTheHttpConnections() {
    try (TestServer server = TestServer.start(Map.of("auth.api-keys", "s3cr+t/=", "limits.max-http-connections", "2"))) {
      // One place is the test server's own kept-alive REST client's.
      URI ws = URI.create(server.webSocketUri() + "?api_key=s3cr%2Bt%2F%3D");
      List<PubSubClient> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) clients.add(PubSubClient.connect(ws, Duration.ofSeconds(5)));
        AdminClient admin = new AdminClient(server.httpBase(), Map.of("X-API-Key", "s3cr+t/="));
        String topic = TestServer.uniqueTopicName("encoded-key");
        assertEquals(201, admin.createTopic(topic).status(), "the REST API's other place is free");
        for (PubSubClient client : clients) ack(client.subscribe(topic), topic);
      } finally {
        clients.forEach(PubSubClient::close);
      }
    }
  }

  @Test
  void publishesOverTheRateAreRefusedWithRetryAfterAndNotPublished() {
    try (TestServer server = TestServer.start(Map.of("limits.publish-rate", "5", "limits.publish-burst", "3"))) {
      String topic = server.createTopic("rate");
      PubSubClient publisher = server.connect();
      List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
      for (int i = 0; i < 10; i++) answers.add(publisher.publish(topic, Wire.payload(i)));

      int acked = 0;
      int limited = 0;
      for (CompletableFuture<JsonNode> answer : answers) {
        JsonNode frame = await(answer);
        if ("ack".equals(frame.path("type").asText())) {
          acked++;
        } else {
          Wire.error(frame, "RATE_LIMITED");
          assertTrue(frame.path("error").path("retry_after_ms").asLong(0) >= 1, frame::toString);
          limited++;
        }
      }
      assertTrue(acked >= 3 && acked < 10 && limited > 0, "acked " + acked + ", limited " + limited);
      assertEquals(acked, server.topicStats(topic).path("messages").asInt(-1), "a refused publish is not published");
      assertUsable(publisher);
      // Another connection has a bucket of its own.
      ack(server.connect().publish(topic, Wire.payload(99)), topic);
    }
  }

  @Test
  void subscriptionsPerConnectionAreLimitedWithAClearError() {
    try (TestServer server = TestServer.start(Map.of("limits.max-subscriptions-per-connection", "2"))) {
      String a = server.createTopic("subs");
      String b = server.createTopic("subs");
      String c = server.createTopic("subs");
      PubSubClient client = server.connect();
      ack(client.subscribe(a), a);
      ack(client.subscribe(b), b);
      ack(client.subscribe(a), a);

      JsonNode refused = Wire.error(await(client.subscribe(c)), "BAD_REQUEST");
      assertTrue(refused.path("error").path("message").asText().contains("maximum of 2 subscriptions"), refused::toString);
      assertEquals(0, server.topicStats(c).path("subscribers").asInt(-1));

      ack(client.unsubscribe(a), a);
      ack(client.subscribe(c), c);
      // After a delete the subscription is gone, and so is its place.
      assertEquals(200, server.admin().deleteTopic(b).status());
      assertEquals("topic_deleted", Wire.next(client).path("msg").asText());
      ack(client.subscribe(a), a);
    }
  }

  @Test
  void connectionsPastTheLimitAreRefusedWith503AndThePlaceComesBackOnClose() {
    try (TestServer server = TestServer.start(Map.of("limits.max-connections", "2"))) {
      PubSubClient first = server.connect();
      PubSubClient second = server.connect();
      assertUsable(first);
      assertUsable(second);
      assertThrows(Exception.class, () -> PubSubClient.connect(server.webSocketUri(), Duration.ofSeconds(5)));
      String refused = rawUpgrade(server.httpBase());
      assertTrue(refused.startsWith("HTTP/1.1 503"), refused);
      assertTrue(refused.contains("limit of 2 connections"), refused);

      first.close();
      await(first.closed(), Wire.WAIT);
      // The registry hears of the close a moment after the client does.
      Wire.eventually(Wire.WAIT, () -> tryConnect(server), c -> c != null, "a place frees up");
      assertUsable(second);
    }
  }

  /**
   * Clients that reset right after their upgrade request, before or after the registry granted
   * them a place: every place is free again at once, not when its reservation expires (here after
   * 90 s, three ask timeouts).
   */
  @Test
  void upgradesAbortedBeforeTheirConnectionOpensGiveTheirPlacesBackAtOnce() throws IOException {
    try (TestServer server = TestServer.start(Map.of("limits.max-connections", "3", "ask-timeout", "30s"))) {
      for (int i = 0; i < 60; i++) {
        try (java.net.Socket socket = new java.net.Socket(server.httpBase().getHost(), server.httpBase().getPort())) {
          socket.setSoLinger(true, 0);
          socket.getOutputStream().write(UPGRADE.getBytes(StandardCharsets.US_ASCII));
          if (i % 2 == 1) LocalServer.sleep(1);
        }
      }
      List<PubSubClient> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) clients.add(Wire.eventually(Wire.WAIT, () -> tryConnect(server), c -> c != null, "place " + i));
      } finally {
        clients.forEach(PubSubClient::close);
      }
    }
  }

  /** Each place passes from the upgrade's reservation to its connection in one step: concurrent upgrades never overshoot. */
  @Test
  void concurrentUpgradesOpenNoMoreConnectionsThanTheLimit() throws Exception {
    try (TestServer server = TestServer.start(Map.of("limits.max-connections", "20"))) {
      for (int round = 0; round < 3; round++) {
        List<CompletableFuture<PubSubClient>> attempts = new ArrayList<>();
        for (int i = 0; i < 60; i++) attempts.add(CompletableFuture.supplyAsync(() -> tryConnect(server)));
        List<PubSubClient> opened = attempts.stream().map(CompletableFuture::join).filter(c -> c != null).toList();
        try {
          assertEquals(20, opened.size(), "round " + round);
          assertEquals(20, server.metric("pubsub_connections"), "round " + round);
        } finally {
          opened.forEach(PubSubClient::close);
        }
        Wire.eventually(Wire.WAIT, () -> server.metric("pubsub_connections"), n -> n == 0, "all closed");
      }
    }
  }

  private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
      + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  /** RFC 6455 5.5.1: after its close frame an endpoint sends nothing more, not even a pong. */
  @Test
  void aPingThatArrivesAfterTheServersCloseFrameIsNotAnswered() {
    // A heartbeat slower than the idle timeout: this client answers no ping, and would be cut off without a close frame.
    try (TestServer server = TestServer.start(Map.of("limits.idle-timeout", "400ms", "connection.heartbeat-interval", "5s"));
        RawWebSocket ws = RawWebSocket.connect(server.httpBase())) {
      RawWebSocket.Frame frame;
      do {
        frame = ws.readAny();
      } while (frame != null && frame.opcode() != RawWebSocket.CLOSE);
      assertNotNull(frame, "the idle connection is closed with a close frame");
      ws.send(RawWebSocket.PING, "after-close".getBytes(StandardCharsets.US_ASCII));
      ws.send(RawWebSocket.CLOSE, new byte[] {0x03, (byte) 0xE9});
      List<Integer> after = new ArrayList<>();
      for (RawWebSocket.Frame next; (next = ws.readAny()) != null; ) after.add(next.opcode());
      assertEquals(List.of(), after, "opcodes of the frames that followed the server's close frame");
    }
  }

  /** RFC 6455 lets the server discard data after its close frame: a request it could not answer is not acted on. */
  @Test
  void aPublishThatArrivesAfterTheServersCloseFrameIsNotPublished() {
    try (TestServer server = TestServer.start(Map.of("limits.idle-timeout", "400ms", "connection.heartbeat-interval", "5s"));
        RawWebSocket ws = RawWebSocket.connect(server.httpBase())) {
      String topic = server.createTopic("after-close");
      RawWebSocket.Frame frame;
      do {
        frame = ws.readAny();
      } while (frame != null && frame.opcode() != RawWebSocket.CLOSE);
      assertNotNull(frame, "the idle connection is closed with a close frame");
      ws.sendText("{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"payload\":1},\"request_id\":\"late\"}");
      ws.send(RawWebSocket.CLOSE, new byte[] {0x03, (byte) 0xE8});
      List<Integer> after = new ArrayList<>();
      for (RawWebSocket.Frame next; (next = ws.readAny()) != null; ) after.add(next.opcode());
      assertEquals(List.of(), after, "no ack follows the server's close frame");
      JsonNode ack = ack(server.connect().publish(topic, Wire.payload(2)), topic);
      assertEquals(1, ack.path("offset").asLong(), "the publish after the close frame was not published: " + ack);
    }
  }

  @Test
  void aConnectionThatSendsNothingAndSubscribesToNothingIsClosedWith1001AfterTheIdleTimeout() {
    try (TestServer server = TestServer.start(Map.of("limits.idle-timeout", "400ms", "connection.heartbeat-interval", "100ms"))) {
      String topic = server.createTopic("idle");
      PubSubClient idle = server.connect();
      PubSubClient subscriber = server.connect();
      ack(subscriber.subscribe(topic), topic);

      PubSubClient.CloseStatus status = await(idle.closed(), Duration.ofSeconds(10));
      assertEquals(1001, status.code(), status::toString);
      assertEquals("idle timeout", status.reason());

      LocalServer.sleep(800);
      assertFalse(subscriber.closed().isDone(), "a silent subscriber is not idle");
      ack(server.connect().publish(topic, Wire.payload(1)), topic);
      JsonNode frame;
      do {
        frame = Wire.next(subscriber);
      } while (!"event".equals(frame.path("type").asText()));
    }
  }

  @Test
  void oversizedIdsAndJsonOverTheReadLimitsGetBadRequestAndTheConnectionStays() {
    try (TestServer server = TestServer.start()) {
      String topic = server.createTopic("json-limits");
      PubSubClient client = server.connect();
      String longClientId = "c".repeat(129);
      client.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topic + "\",\"client_id\":\"" + longClientId
          + "\",\"request_id\":\"r1\"}");
      JsonNode tooLong = Wire.error(Wire.next(client), "BAD_REQUEST");
      assertEquals("r1", tooLong.path("request_id").asText());
      assertTrue(tooLong.path("error").path("message").asText().contains("client_id"), tooLong::toString);

      String deep = "[".repeat(200) + "]".repeat(200);
      client.sendText("{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"payload\":" + deep + "}}");
      JsonNode nested = Wire.error(Wire.next(client), "BAD_REQUEST");
      assertTrue(nested.path("error").path("message").asText().contains("JSON limit"), nested::toString);

      client.sendText("{\"type\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"payload\":" + "9".repeat(1000) + "}}");
      Wire.error(Wire.next(client), "BAD_REQUEST");

      assertUsable(client);
      assertEquals(0, server.topicStats(topic).path("messages").asInt(-1), "nothing was published");
    }
  }

  /** java.net.http will not send Upgrade headers by hand, so the refused handshake is read off a socket. */
  @Test
  void httpConnectionsPastTheirLimitGet503AndAreClosedWhileWebSocketsAndHealthProbesStillPass() throws IOException {
    try (TestServer server = TestServer.start(Map.of("limits.max-http-connections", "3"))) {
      // The test's own REST client keeps its connection open, and it counts.
      int held = (int) server.metric("pubsub_http_connections");
      List<java.net.Socket> kept = new ArrayList<>();
      int refusals = 0;
      try {
        for (int i = held; i < 3; i++) kept.add(keptAliveAfterHealth(server));
        String refused = server.exchange(STATS);
        refusals++;
        assertTrue(refused.contains("Retry-After: 1\r\n"), refused);
        JsonNode error = Wire.bodyJson(refused, 503).path("error");
        assertEquals("INTERNAL", error.path("code").asText(), refused);
        assertTrue(error.path("message").asText().contains("limit of 3 HTTP connections"), refused);

        // An orchestrator's probe is answered all the same, on a connection closed after the answer.
        String probe = server.exchange(HEALTH);
        assertEquals("ok", Wire.bodyJson(probe, 200).path("status").asText(), probe);
        // Only the probe: an HTTP/1.0 client asking to keep the connection alive got every later
        // request on it served without a place.
        String keepAliveProbe = server.exchange("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
            + "GET /stats HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assertEquals("ok", Wire.bodyJson(keepAliveProbe, 200).path("status").asText(), keepAliveProbe);
        assertEquals(1, keepAliveProbe.split("HTTP/1\\.[01] ", -1).length - 1, keepAliveProbe);

        try (PubSubClient webSocket = server.connect()) {
          assertUsable(webSocket);
        }

        kept.remove(0).close();
        String served = null;
        long deadline = System.nanoTime() + Wire.WAIT.toNanos();
        while (served == null && System.nanoTime() < deadline) {
          // The server hears of the close a moment after the client made it.
          String answer = server.exchange(STATS_AND_CLOSE);
          if (answer.startsWith("HTTP/1.1 503 ")) refusals++; else served = answer;
        }
        assertTrue(served != null && served.startsWith("HTTP/1.1 200 "), "the closed connection's place comes back: " + served);
      } finally {
        for (java.net.Socket socket : kept) socket.close();
      }
      int seen = refusals;
      Wire.eventually(Wire.WAIT, () -> metricOrNaN(server, "pubsub_http_connections_refused_total"), v -> v == seen,
          "every refusal is counted, once");
      assertEquals(seen, server.metric("pubsub_errors_total{code=\"INTERNAL\"}"), "and as an error answer, by its code");
    }
  }

  @Test
  void httpConnectionsThatVanishMidRequestGiveTheirPlacesBack() throws IOException {
    try (TestServer server = TestServer.start(Map.of("limits.max-http-connections", "4"))) {
      int held = (int) server.metric("pubsub_http_connections");
      for (int i = 0; i < 300; i++) {
        try (java.net.Socket socket = new java.net.Socket(server.httpBase().getHost(), server.httpBase().getPort())) {
          socket.setSoLinger(true, 0);
          socket.getOutputStream().write(HEALTH.getBytes(StandardCharsets.US_ASCII));
        }
      }
      Wire.eventually(Wire.WAIT, () -> metricOrNaN(server, "pubsub_http_connections"), v -> v == held,
          "the reset connections are no longer counted");
      List<java.net.Socket> kept = new ArrayList<>();
      try {
        for (int i = held; i < 4; i++) kept.add(keptAliveAfterHealth(server));
      } finally {
        for (java.net.Socket socket : kept) socket.close();
      }
    }
  }

  private static final String HEALTH = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
  private static final String STATS = "GET /stats HTTP/1.1\r\nHost: localhost\r\n\r\n";
  private static final String STATS_AND_CLOSE = "GET /stats HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

  /** A connection that was answered 200 to {@code GET /health} and is kept open. */
  private static java.net.Socket keptAliveAfterHealth(TestServer server) throws IOException {
    java.net.Socket socket = new java.net.Socket(server.httpBase().getHost(), server.httpBase().getPort());
    socket.setSoTimeout(10_000);
    socket.getOutputStream().write(HEALTH.getBytes(StandardCharsets.US_ASCII));
    java.io.InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new AssertionError("closed before the answer's head: " + head);
      head.append((char) b);
    }
    assertTrue(head.toString().startsWith("HTTP/1.1 200 "), head::toString);
    Matcher length = CONTENT_LENGTH.matcher(head);
    assertTrue(length.find(), head::toString);
    in.readNBytes(Integer.parseInt(length.group(1)));
    return socket;
  }

  private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)content-length: (\\d+)");

  /** NaN while the server refuses the REST client's request (it may be at its limit). */
  private static double metricOrNaN(TestServer server, String name) {
    try {
      return server.metric(name);
    } catch (IllegalStateException refused) {
      return Double.NaN;
    }
  }

  private static String rawUpgrade(URI base) {
    try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          + "Connection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static PubSubClient tryConnect(TestServer server) {
    try {
      PubSubClient client = server.connect();
      assertUsable(client);
      return client;
    } catch (RuntimeException | AssertionError e) {
      return null;
    }
  }
}
