package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.PubSubClient;

/** The REST API over a real socket with {@link AdminClient}: statuses, JSON bodies and JSON errors as a client sees them. */
class RestE2ETest {
  private static TestServer server;
  private static AdminClient admin;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    admin = server.admin();
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void topicLifecycleOverHttp() {
    String name = TestServer.uniqueTopicName("rest");

    AdminClient.Answer created = admin.createTopic(name);
    assertEquals(201, created.status(), created::toString);
    assertJson(created);
    assertEquals("created", created.body().path("status").asText());
    assertEquals(name, created.body().path("topic").asText());

    assertJsonError(admin.createTopic(name), 409);

    try (PubSubClient a = server.connect(); PubSubClient b = server.connect()) {
      ack(a.subscribe(name), name);
      ack(b.subscribe(name), name);
      ack(a.publish(name, Wire.payload(1)), name);

      AdminClient.Answer listed = admin.listTopics();
      assertEquals(200, listed.status());
      assertJson(listed);
      JsonNode entry = null;
      for (JsonNode t : listed.body().path("topics")) if (name.equals(t.path("name").asText())) entry = t;
      assertTrue(entry != null, "listed: " + listed);
      assertEquals(2, entry.path("subscribers").asInt(-1), listed::toString);

      AdminClient.Answer stats = admin.stats();
      assertEquals(200, stats.status());
      assertJson(stats);
      JsonNode topic = stats.body().path("topics").path(name);
      assertEquals(1, topic.path("messages").asLong(-1), stats::toString);
      assertEquals(2, topic.path("subscribers").asInt(-1), stats::toString);
      assertEquals(0, topic.path("dropped").asLong(-1), stats::toString);

      ack(a.subscribe(name, null, null, null, "web-1"), name);
      AdminClient.Answer described = admin.describeTopic(name);
      assertEquals(200, described.status(), described::toString);
      assertJson(described);
      assertEquals(2, described.body().path("subscribers").asInt(-1), described::toString);
      assertEquals(1, described.body().path("messages").asLong(-1), described::toString);
      assertEquals(1, described.body().path("retained").asInt(-1), described::toString);
      assertEquals(1, described.body().path("oldest_retained_offset").asLong(-1), described::toString);
      assertEquals(1, described.body().path("client_ids").path("web-1").asInt(-1),
          "the client_id a's repeat subscribe gave: " + described);
      assertEquals(1, described.body().path("client_ids").size(), "b gave none: " + described);

      AdminClient.Answer health = admin.health();
      assertEquals(200, health.status());
      assertJson(health);
      assertEquals("ok", health.body().path("status").asText());
      assertTrue(health.body().path("uptime_sec").isIntegralNumber(), health::toString);
      assertTrue(health.body().path("topics").asInt(-1) >= 1, health::toString);
      assertTrue(health.body().path("subscribers").asInt(-1) >= 2, health::toString);
    }

    AdminClient.Answer deleted = admin.deleteTopic(name);
    assertEquals(200, deleted.status(), deleted::toString);
    assertJson(deleted);
    assertEquals("deleted", deleted.body().path("status").asText());
    assertEquals(name, deleted.body().path("topic").asText());
    AdminClient.Answer missing = admin.deleteTopic(name);
    assertJsonError(missing, 404);
    assertEquals("TOPIC_NOT_FOUND", missing.body().path("error").path("code").asText());
  }

  @ParameterizedTest
  @ValueSource(strings = {"...", ".hidden", "trailing.", "a..b", "-", "_", "Az09._-"})
  void topicsWithDotsAndDashesCanBeCreatedAndDeletedOverHttp(String name) {
    assertEquals(201, admin.createTopic(name).status());
    AdminClient.Answer deleted = admin.deleteTopic(name);
    assertEquals(200, deleted.status(), deleted::toString);
    assertEquals(name, deleted.body().path("topic").asText());
    assertEquals(404, admin.deleteTopic(name).status());
  }

  /** "." and ".." fit the contract's pattern, but URLs cannot address them, so they are refused up front. */
  @ParameterizedTest
  @ValueSource(strings = {".", ".."})
  void topicsNamedDotOrDotDotAreRefusedBecauseNoUrlCouldDeleteThem(String name) {
    AdminClient.Answer created = admin.createTopic(name);
    assertJsonError(created, 400);
    assertTrue(created.body().path("error").path("message").asText().contains("reserved"), created::toString);
  }

  /** A backend publishes with one HTTP request; WebSocket subscribers cannot tell it from a publish on /ws. */
  @Test
  void aMessagePublishedOverHttpReachesWebSocketSubscribersAsAnEvent() {
    String name = server.createTopic("rest-publish");
    try (PubSubClient subscriber = server.connect(); PubSubClient publisher = server.connect()) {
      ack(subscriber.subscribe(name), name);
      ack(publisher.publish(name, Wire.payload(1)), name);

      String id = "0b5e2f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b";
      AdminClient.Answer published = admin.send("POST", "/topics/" + name + "/messages",
          "{\"id\":\"" + id + "\",\"payload\":{\"item\":\"caf\u00e9\",\"n\":[1, 2.5, null]}}");
      assertEquals(200, published.status(), published::toString);
      assertJson(published);
      assertEquals("published", published.body().path("status").asText(), published::toString);
      assertEquals(name, published.body().path("topic").asText(), published::toString);
      assertEquals(2, published.body().path("offset").asLong(-1), published::toString);

      List<JsonNode> events = Wire.events(subscriber, name, 2);
      assertEquals(List.of(1L, 2L), Wire.offsets(events));
      JsonNode message = events.get(1).path("message");
      assertEquals(id, message.path("id").asText(), events::toString);
      assertEquals("{\"item\":\"caf\u00e9\",\"n\":[1,2.5,null]}", message.path("payload").toString(), events::toString);

      AdminClient.Answer withoutId = admin.send("POST", "/topics/" + name + "/messages", "{\"payload\":\"x\"}");
      assertEquals(3, withoutId.body().path("offset").asLong(-1), withoutId::toString);
      String assigned = Wire.events(subscriber, name, 1).get(0).path("message").path("id").asText();
      assertTrue(assigned.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), assigned);

      assertJsonError(admin.send("POST", "/topics/" + name + "/messages", "{\"id\":\"x\",\"payload\":1}"), 400);
      assertJsonError(admin.send("POST", "/topics/" + TestServer.uniqueTopicName("missing") + "/messages", "{\"payload\":1}"), 404);
      AdminClient.Answer tooLarge = admin.send("POST", "/topics/" + name + "/messages",
          "{\"payload\":\"" + "x".repeat(100 * 1024) + "\"}");
      assertJsonError(tooLarge, 413);
      assertEquals(3, admin.describeTopic(name).body().path("messages").asLong(-1), "refused bodies published nothing");
    }
  }

  /** A consumer without a WebSocket polls: it reads on after the last event it got until more is false. */
  @Test
  void aPollingConsumerReadsWhatSubscribersGotPageByPage() {
    String name = server.createTopic("rest-history");
    try (PubSubClient subscriber = server.connect(); PubSubClient publisher = server.connect()) {
      ack(subscriber.subscribe(name), name);
      for (int n = 1; n <= 7; n++) ack(publisher.publish(name, Wire.payload(n)), name);
      List<JsonNode> live = Wire.events(subscriber, name, 7);

      List<JsonNode> polled = new ArrayList<>();
      long after = 0;
      String epoch = null;
      boolean more = true;
      int reads = 0;
      while (more) {
        AdminClient.Answer page = admin.send("GET", "/topics/" + name + "/messages?limit=3&since_offset=" + after
            + (epoch == null ? "" : "&epoch=" + epoch), null);
        assertEquals(200, page.status(), page::toString);
        assertJson(page);
        assertTrue(page.body().path("recovered").asBoolean(false), page::toString);
        assertEquals(7, page.body().path("newest_offset").asLong(-1), page::toString);
        page.body().path("events").forEach(polled::add);
        after = polled.get(polled.size() - 1).path("offset").asLong();
        epoch = page.body().path("epoch").asText();
        more = page.body().path("more").asBoolean();
        reads++;
      }
      assertEquals(3, reads, "pages of 3, 3 and 1");
      assertEquals(live, polled, "the events as subscribers got them");
    }
  }

  @Test
  void badBodiesAreJsonErrors() {
    assertJsonError(admin.send("POST", "/topics", "{\"name\":\"has space\"}"), 400);
    assertJsonError(admin.send("POST", "/topics", "{\"name\":"), 400);
    assertJsonError(admin.send("POST", "/topics", "{\"name\":5}"), 400);
    assertJsonError(admin.send("POST", "/topics", "[]"), 400);
    assertJsonError(admin.send("POST", "/topics", "{}"), 400);
    HttpRequest textPlain = HttpRequest.newBuilder(server.httpBase().resolve("/topics"))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"plain\"}"))
        .build();
    assertJsonError(admin.send(textPlain), 400);
  }

  @Test
  void bodyOverTheHttpLimitIsAJsonClientError() {
    // pekko.http.server.parsing.max-content-length = 64k
    String huge = "{\"name\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}";
    AdminClient.Answer answer = admin.send("POST", "/topics", huge);
    assertJsonError(answer, 413);
    assertEquals("PAYLOAD_TOO_LARGE", answer.body().path("error").path("code").asText(), answer::toString);
  }

  /** Read whole before its answer, a body is bounded at 64 KiB: with or without a key, a client can make the server hold no more. */
  @Test
  void aBodyOver64KiBIsRefusedWhicheverRouteItIsFor() {
    String body = "{\"name\":\"" + "x".repeat(100 * 1024) + "\"}";
    for (String[] request : new String[][] {{"POST", "/topics"}, {"GET", "/health"}}) {
      AdminClient.Answer answer = admin.send(request[0], request[1], body);
      assertJsonError(answer, 413);
      assertEquals("PAYLOAD_TOO_LARGE", answer.body().path("error").path("code").asText(), answer::toString);
    }
  }

  /** The server answers at the headers and closes; a client still uploading must read the answer, not a reset. */
  @Test
  void aClientStillSendingAnOversizedBodyReadsThe413() throws Exception {
    try (Socket socket = new Socket(server.httpBase().getHost(), server.httpBase().getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /topics HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: 2097152\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[64 * 1024];
      out.write(chunk);
      Thread.sleep(300); // the server has answered and closed by now; this client has not read yet
      for (int i = 0; i < 4; i++) out.write(chunk);
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(response.startsWith("HTTP/1.1 413"), response);
      assertTrue(response.contains("PAYLOAD_TOO_LARGE"), response);
    }
  }

  @Test
  void unknownPathsAndWrongMethodsAreJsonErrors() {
    for (String path : List.of("/nope", "/", "/topics/a/b", "/metrics-not-here")) {
      assertJsonError(admin.send("GET", path, null), 404);
    }
    assertJsonError(admin.send("PUT", "/topics", "{\"name\":\"x\"}"), 405);
    assertJsonError(admin.send("DELETE", "/health", null), 405);
    assertJsonError(admin.send("POST", "/stats", "{}"), 405);
  }

  /** What {@code curl -I} and HEAD health probes see: GET's status and head, the length of its body, and no body. */
  @Test
  void headOfHealthAnswers200WithTheLengthOfTheBodyItLeavesOut() throws Exception {
    String response = server.exchange("HEAD /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

    assertTrue(response.startsWith("HTTP/1.1 200 "), response);
    assertTrue(response.contains("\r\nContent-Type: application/json\r\n"), response);
    Matcher length = Pattern.compile("\r\nContent-Length: (\\d+)\r\n").matcher(response);
    assertTrue(length.find(), response);
    assertTrue(Integer.parseInt(length.group(1)) > 0, response);
    assertEquals("", Wire.bodyOf(response), response);
  }

  /** HAProxy's default health check; HTTP/1.1 requires Host (RFC 9112 3.2), HTTP/1.0 does not. */
  @Test
  void anHttp10RequestWithoutHostIsAnswered() throws Exception {
    String response = server.exchange("GET /health HTTP/1.0\r\n\r\n");

    assertEquals("ok", Wire.bodyJson(response, 200).path("status").asText(), response);

    String withoutHost = server.exchange("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
    assertEquals("BAD_REQUEST", Wire.bodyJson(withoutHost, 400).path("error").path("code").asText(), withoutHost);
  }

  @Test
  void plainGetOfTheWebSocketPathIsAJson400() {
    assertJsonError(admin.send("GET", "/ws", null), 400);
  }

  /** GET /health racing DELETE /topics/{name} over the wire: the health check must still answer 200 promptly. */
  @Test
  void healthRacingATopicDeletionStillAnswers200() throws Exception {
    for (int round = 0; round < 50; round++) {
      String name = server.createTopic("race");
      java.util.concurrent.CompletableFuture<AdminClient.Answer> health =
          java.util.concurrent.CompletableFuture.supplyAsync(admin::health);
      java.util.concurrent.CompletableFuture<AdminClient.Answer> delete =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> admin.deleteTopic(name));
      long start = System.nanoTime();
      AdminClient.Answer answer = health.get(20, java.util.concurrent.TimeUnit.SECONDS);
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(200, answer.status(), "round " + round + ", after " + millis + " ms: " + answer);
      assertTrue(millis < 2000, "round " + round + ": /health took " + millis + " ms");
      assertEquals(200, delete.get(20, java.util.concurrent.TimeUnit.SECONDS).status());
    }
  }

  private static void assertJson(AdminClient.Answer answer) {
    assertTrue(answer.contentType().startsWith("application/json"), "content type of " + answer);
  }

  private static void assertJsonError(AdminClient.Answer answer, int status) {
    assertEquals(status, answer.status(), answer::toString);
    assertJson(answer);
    JsonNode error = answer.body().path("error");
    assertTrue(error.path("code").isTextual() && !error.path("code").asText().isEmpty(), answer::toString);
    assertTrue(error.path("message").isTextual() && !error.path("message").asText().isEmpty(), answer::toString);
  }

  /**
   * A client that gives up in the middle of its body is not the server's fault: one that resets its
   * connection was logged at ERROR and counted as INTERNAL; one that half-closes is answered 400.
   */
  @Test
  void aBodyAbortedByTheClientIsNoServerError() throws Exception {
    String internal = "pubsub_errors_total{code=\"INTERNAL\"}";
    double before = server.metric(internal);
    String start = "POST /topics HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na";
    for (int i = 0; i < 3; i++) {
      try (Socket socket = new Socket(server.httpBase().getHost(), server.httpBase().getPort())) {
        socket.getOutputStream().write(start.getBytes(StandardCharsets.US_ASCII));
        // Long enough for the route to be reading the body when the reset arrives.
        LocalServer.sleep(200);
        socket.setSoLinger(true, 0);
      }
    }
    try (Socket socket = new Socket(server.httpBase().getHost(), server.httpBase().getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(start.getBytes(StandardCharsets.US_ASCII));
      socket.shutdownOutput();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals("BAD_REQUEST", Wire.bodyJson(answer, 400).path("error").path("code").asText(), answer);
    }
    assertEquals(before, server.metric(internal), "internal errors counted");
  }
}
