package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpProtocols;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import pekkopubsub.connection.HeapPressure;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.ConnectionRegistry;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.RawJson;
import pekkopubsub.topic.Topic;
import pekkopubsub.topic.TopicManager;

/**
 * The REST rows of the contract and the {@code /ws} handshake, run in memory against the real
 * {@link Routes} with a real {@link TopicManager} and {@link ConnectionRegistry} (no port).
 */
class RoutesTest {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);
  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final AtomicInteger TOPIC_COUNTER = new AtomicInteger();

  private static ActorTestKit testKit;
  private static Settings settings;

  private ActorRef<TopicManager.Command> topicManager;
  private Routes routes;
  private ServerMetrics metrics;

  /** One response, fully read. */
  private record Reply(HttpResponse response, String body) {
    int status() {
      return response.status().intValue();
    }

    JsonNode json() {
      try {
        return JsonCodec.parse(body);
      } catch (Exception e) {
        throw new AssertionError("body is not JSON: " + body, e);
      }
    }

    ContentType contentType() {
      return response.entity().getContentType();
    }

    Optional<String> header(String name) {
      return response.getHeader(name).map(HttpHeader::value);
    }
  }

  @BeforeAll
  static void startSystem() {
    Config config = Settings.withDefaults(ConfigFactory.empty());
    settings = Settings.from(config);
    testKit = ActorTestKit.create("routes-test", config);
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  /** A fresh topic manager per test, so that counts in /health and /topics are exact. */
  @BeforeEach
  void freshRoutes() {
    metrics = ServerMetrics.prometheus();
    topicManager = testKit.spawn(TopicManager.create(settings.maxHistoryPerTopic(), ASK_TIMEOUT, 0, metrics));
    ActorRef<ConnectionRegistry.Command> registry = testKit.spawn(ConnectionRegistry.create(0, ASK_TIMEOUT));
    routes = new Routes(testKit.system(), topicManager,
        new WebSocketRoute(topicManager, registry, settings, testKit.system().scheduler(), metrics, HeapPressure.OFF, () -> false),
        ASK_TIMEOUT, ApiKeys.none(), metrics, settings.limits());
  }

  // ---------------------------------------------------------------- POST /topics

  @Test
  void createTopicAnswers201WithStatusAndTopic() {
    String name = freshTopic();
    Reply reply = run(postJson("/topics", "{\"name\":\"" + name + "\"}"));

    assertEquals(201, reply.status());
    assertJson(reply);
    assertEquals("created", reply.json().path("status").asText());
    assertEquals(name, reply.json().path("topic").asText());
  }

  @Test
  void createTopicAcceptsEveryAllowedCharacterAndTheMaximumLength() {
    assertEquals(201, run(postJson("/topics", "{\"name\":\"Az09._-\"}")).status());
    String longest = "x".repeat(256);
    Reply reply = run(postJson("/topics", "{\"name\":\"" + longest + "\"}"));
    assertEquals(201, reply.status());
    assertEquals(longest, reply.json().path("topic").asText());
  }

  @Test
  void createExistingTopicAnswers409() {
    String name = freshTopic();
    assertEquals(201, run(postJson("/topics", "{\"name\":\"" + name + "\"}")).status());

    Reply reply = run(postJson("/topics", "{\"name\":\"" + name + "\"}"));

    assertEquals(409, reply.status());
    assertJsonError(reply);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "has space", "slash/inside", "ümlaut", "semi;colon", "star*"})
  void createTopicWithBadNameAnswers400(String badName) {
    Reply reply = run(postJson("/topics", JsonCodec.mapper().createObjectNode().put("name", badName).toString()));

    assertEquals(400, reply.status());
    assertJsonError(reply, "BAD_REQUEST");
  }

  @Test
  void createTopicWithNameLongerThan256Answers400() {
    Reply reply = run(postJson("/topics", "{\"name\":\"" + "x".repeat(257) + "\"}"));

    assertEquals(400, reply.status());
    assertJsonError(reply, "BAD_REQUEST");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"name\":", "not json", "{\"name\":\"a\"} trailing", ""})
  void createTopicWithMalformedJsonAnswers400(String body) {
    Reply reply = run(postJson("/topics", body));

    assertEquals(400, reply.status());
    assertJsonError(reply, "BAD_REQUEST");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"name\":5}", "[]", "{}", "{\"name\":null}", "{\"name\":[\"a\"]}", "\"orders\"", "42"})
  void createTopicWithWrongShapeAnswers400(String body) {
    Reply reply = run(postJson("/topics", body));

    assertEquals(400, reply.status());
    assertJsonError(reply, "BAD_REQUEST");
  }

  /** reference.conf's limits.json bound every JSON document the server parses: REST bodies as frames. */
  @Test
  void createTopicWithABodyOverTheJsonLimitsAnswers400AndCreatesNothing() {
    int depth = settings.limits().maxJsonNestingDepth();
    int digits = settings.limits().maxJsonNumberLength();
    String name = freshTopic();
    // The body's object is one level of nesting, each array one more.
    List<String> overLimits = List.of("[".repeat(depth) + "]".repeat(depth), "1".repeat(digits + 1));
    for (String value : overLimits) {
      Reply reply = run(postJson("/topics", "{\"name\":\"" + name + "\",\"x\":" + value + "}"));
      assertEquals(400, reply.status(), reply.body());
      assertJsonError(reply, "BAD_REQUEST");
      assertTrue(reply.json().path("error").path("message").asText().contains("exceeds a JSON limit"), reply.body());
    }

    String withinLimits = "[".repeat(depth - 1) + "1".repeat(digits) + "]".repeat(depth - 1);
    Reply created = run(postJson("/topics", "{\"name\":\"" + name + "\",\"x\":" + withinLimits + "}"));
    assertEquals(201, created.status(), "the name was not taken, and a body within the limits is read: " + created.body());
  }

  @Test
  void createTopicWithNonJsonContentTypeAnswers400AndCreatesNothing() {
    String name = freshTopic();
    HttpRequest request = HttpRequest.POST("/topics").withEntity(ContentTypes.TEXT_PLAIN_UTF8, "{\"name\":\"" + name + "\"}");

    Reply reply = run(request);

    assertEquals(400, reply.status());
    assertJsonError(reply, "BAD_REQUEST");
    assertTrue(reply.json().path("error").path("message").asText().contains("application/json"), reply.body());
    assertEquals(201, run(postJson("/topics", "{\"name\":\"" + name + "\"}")).status(), "the name was not taken");
  }

  /** The body is not decoded; RFC 9110 15.5.16. Encoded bytes were read as if they were plain JSON. */
  @ParameterizedTest
  @ValueSource(strings = {"gzip", "deflate", "br", "identity, gzip"})
  void createTopicWithAnEncodedBodyAnswers400AndCreatesNothing(String encoding) {
    String name = freshTopic();
    String body = "{\"name\":\"" + name + "\"}";

    Reply reply = run(postJson("/topics", body).addHeader(RawHeader.create("Content-Encoding", encoding)));

    assertEquals(400, reply.status(), reply.body());
    assertJsonError(reply, "BAD_REQUEST");
    assertEquals(Optional.of("identity"), reply.header("Accept-Encoding"));
    assertEquals(201, run(postJson("/topics", body).addHeader(RawHeader.create("Content-Encoding", "identity"))).status(),
        "the name was not taken, and an identity body is read");
  }

  // ---------------------------------------------------------------- POST /topics/{name}/messages

  @Test
  void publishOverRestAnswersTheOffsetAndFansOutToSubscribers() throws Exception {
    String name = createTopic();
    TestProbe<Topic.Reply> subscriber = testKit.createTestProbe(Topic.Reply.class);
    topicManager.tell(new Topic.Subscribe(name, "s", subscriber.getRef(), null, 0, null, null));
    subscriber.expectMessageClass(Topic.Subscribed.class);

    Reply first = run(postJson("/topics/" + name + "/messages", "{\"payload\":{\"item\":\"mouse\"}}"));
    assertEquals(200, first.status(), first.body());
    assertJson(first);
    assertEquals(JsonCodec.parse("{\"status\":\"published\",\"topic\":\"" + name + "\",\"offset\":1}"), first.json());
    assertEquals(1, subscriber.expectMessageClass(Topic.Events.class).lastOffset());

    Reply second = run(postJson("/topics/" + name + "/messages",
        "{\"id\":\"5b0e2f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b\",\"payload\":\"second\"}"));
    assertEquals(2, second.json().path("offset").asLong(), second.body());
    assertEquals(2, subscriber.expectMessageClass(Topic.Events.class).lastOffset());
    assertEquals(2, run(HttpRequest.GET("/topics/" + name)).json().path("messages").asLong());
  }

  @Test
  void publishToAMissingTopicAnswers404() {
    Reply reply = run(postJson("/topics/" + freshTopic() + "/messages", "{\"payload\":1}"));
    assertEquals(404, reply.status(), reply.body());
    assertJsonError(reply, "TOPIC_NOT_FOUND");
  }

  /** Checked as a WebSocket publish's message is; nothing is published. */
  @ParameterizedTest
  @ValueSource(strings = {"{}", "[]", "{\"payload\":1,\"id\":\"not-a-uuid\"}", "{\"payload\":1,\"id\":5}",
      "{\"message\":{\"payload\":1}}", "not json", ""})
  void publishWithABadBodyAnswers400AndPublishesNothing(String body) {
    String name = createTopic();
    Reply reply = run(postJson("/topics/" + name + "/messages", body));
    assertEquals(400, reply.status(), reply.body());
    assertJsonError(reply, "BAD_REQUEST");
    assertEquals(0, run(HttpRequest.GET("/topics/" + name)).json().path("messages").asLong(-1));
  }

  @Test
  void publishToAnInvalidTopicNameAnswers400AndSaysWhy() {
    Reply reply = run(postJson("/topics/bad%20name/messages", "{\"payload\":1}"));
    assertEquals(400, reply.status(), reply.body());
    assertJsonError(reply, "BAD_REQUEST");
    assertTrue(reply.json().path("error").path("message").asText().contains("invalid topic name 'bad name'"), reply.body());
  }

  @Test
  void publishWithAnEncodedBodyOrAsPutIsRefused() {
    String name = createTopic();
    Reply encoded = run(postJson("/topics/" + name + "/messages", "{\"payload\":1}")
        .addHeader(RawHeader.create("Content-Encoding", "gzip")));
    assertEquals(400, encoded.status(), encoded.body());
    assertEquals(Optional.of("identity"), encoded.header("Accept-Encoding"));
    Reply put = run(HttpRequest.PUT("/topics/" + name + "/messages"));
    assertEquals(405, put.status(), put.body());
    assertEquals(Optional.of("POST, GET, HEAD"), put.header("Allow"));
    assertEquals(0, run(HttpRequest.GET("/topics/" + name)).json().path("messages").asLong(-1));
  }

  // ---------------------------------------------------------------- GET /topics/{name}/messages

  @Test
  void historyIsTheRetainedEventsAsJsonWithTheTopicsNewestOffset() throws Exception {
    String name = createTopic();
    for (int i = 1; i <= 3; i++) {
      assertEquals(200, run(postJson("/topics/" + name + "/messages", "{\"payload\":{\"n\":" + i + "}}")).status());
    }
    String epoch = run(HttpRequest.GET("/topics/" + name)).json().path("epoch").asText();

    Reply newest = run(HttpRequest.GET("/topics/" + name + "/messages?limit=2"));
    assertEquals(200, newest.status(), newest.body());
    assertJson(newest);
    JsonNode body = newest.json();
    assertEquals(name, body.path("topic").asText(), newest.body());
    assertEquals(epoch, body.path("epoch").asText(), newest.body());
    assertEquals(3, body.path("newest_offset").asLong(-1), newest.body());
    assertFalse(body.path("more").asBoolean(true), newest.body());
    assertFalse(body.has("recovered"), newest.body());
    assertEquals(2, body.path("events").size(), newest.body());
    JsonNode second = body.path("events").get(0);
    assertEquals("event", second.path("type").asText(), newest.body());
    assertEquals(2, second.path("offset").asLong(), newest.body());
    assertEquals(JsonCodec.parse("{\"n\":2}"), second.path("message").path("payload"), newest.body());

    JsonNode after1 = run(HttpRequest.GET("/topics/" + name + "/messages?since_offset=1&epoch=" + epoch + "&limit=1")).json();
    assertTrue(after1.path("recovered").asBoolean(false), after1::toString);
    assertTrue(after1.path("more").asBoolean(false), after1::toString);
    assertEquals(2, after1.path("events").get(0).path("offset").asLong(), after1::toString);
    JsonNode none = run(HttpRequest.GET("/topics/" + name + "/messages?since_offset=3")).json();
    assertEquals(0, none.path("events").size(), none::toString);
    assertTrue(none.path("events").isArray(), none::toString);
  }

  @Test
  void historyOfAMissingTopicIs404AndABadQuery400() {
    Reply missing = run(HttpRequest.GET("/topics/" + freshTopic() + "/messages"));
    assertEquals(404, missing.status(), missing.body());
    assertJsonError(missing, "TOPIC_NOT_FOUND");
    String name = createTopic();
    for (String query : List.of("limit=0", "since_offset=-1", "epoch=e", "last_n=5")) {
      Reply bad = run(HttpRequest.GET("/topics/" + name + "/messages?" + query));
      assertEquals(400, bad.status(), query + ": " + bad.body());
      assertJsonError(bad, "BAD_REQUEST");
    }
  }

  // ---------------------------------------------------------------- DELETE /topics/{name}

  @Test
  void deleteExistingTopicAnswers200AndRemovesIt() {
    String name = createTopic();

    Reply reply = run(HttpRequest.DELETE("/topics/" + name));

    assertEquals(200, reply.status());
    assertJson(reply);
    assertEquals("deleted", reply.json().path("status").asText());
    assertEquals(name, reply.json().path("topic").asText());
    assertTrue(topicNames().isEmpty(), "the topic is gone from GET /topics");
    // and the name is free again
    assertEquals(201, run(postJson("/topics", "{\"name\":\"" + name + "\"}")).status());
  }

  // ---------------------------------------------------------------- GET /topics/{name}

  @Test
  void getTopicDescribesItAndAnswers404WhenItIsMissing() {
    String name = createTopic();

    Reply reply = run(HttpRequest.GET("/topics/" + name));

    assertEquals(200, reply.status(), reply.body());
    assertJson(reply);
    JsonNode topic = reply.json();
    assertEquals(name, topic.path("name").asText());
    assertFalse(topic.path("epoch").asText().isEmpty(), reply.body());
    assertEquals(0, topic.path("messages").asLong());
    assertEquals(0, topic.path("subscribers").asInt());
    assertEquals(0, topic.path("retained").asInt());
    assertTrue(topic.path("oldest_retained_offset").isMissingNode(), "nothing retained: " + reply.body());
    assertTrue(topic.path("client_ids").isObject() && topic.path("client_ids").isEmpty(), reply.body());

    Reply missing = run(HttpRequest.GET("/topics/" + freshTopic()));
    assertEquals(404, missing.status());
    assertJsonError(missing, "TOPIC_NOT_FOUND");
  }

  @Test
  void deleteWithATrailingSlashDeletesAsPostAndGetTakeOne() {
    String name = createTopic();

    Reply reply = run(HttpRequest.DELETE("/topics/" + name + "/"));

    assertEquals(200, reply.status(), reply.body());
    assertEquals(name, reply.json().path("topic").asText());
    assertTrue(topicNames().isEmpty(), "the topic is gone from GET /topics");
    assertEquals(404, run(HttpRequest.DELETE("/topics/" + name + "//")).status(), "one slash, not any path under the name");
  }

  @ParameterizedTest
  @ValueSource(strings = {"...", "-", "_", "a.b", "A-Z_0.9", ".a", "a.."})
  void topicsNamedWithDotsAndDashesCanBeCreatedAndDeleted(String name) {
    assertEquals(201, run(postJson("/topics", "{\"name\":\"" + name + "\"}")).status());
    assertTrue(topicNames().contains(name), "listed: " + topicNames());

    Reply reply = run(HttpRequest.DELETE("/topics/" + name));

    assertEquals(200, reply.status(), reply.body());
    assertEquals(name, reply.json().path("topic").asText());
    assertFalse(topicNames().contains(name));
  }

  @Test
  void deleteMissingTopicAnswers404TopicNotFound() {
    Reply reply = run(HttpRequest.DELETE("/topics/" + freshTopic()));

    assertEquals(404, reply.status());
    assertJsonError(reply, "TOPIC_NOT_FOUND");
  }

  @Test
  void deleteTwiceAnswers404TheSecondTime() {
    String name = createTopic();
    assertEquals(200, run(HttpRequest.DELETE("/topics/" + name)).status());

    Reply reply = run(HttpRequest.DELETE("/topics/" + name));

    assertEquals(404, reply.status());
    assertJsonError(reply, "TOPIC_NOT_FOUND");
  }

  // ---------------------------------------------------------------- GET /topics

  @Test
  void listTopicsIsEmptyWithoutTopics() {
    Reply reply = run(HttpRequest.GET("/topics"));

    assertEquals(200, reply.status());
    assertJson(reply);
    assertTrue(reply.json().path("topics").isArray());
    assertEquals(0, reply.json().path("topics").size());
  }

  @Test
  void listTopicsShowsEachTopicWithItsSubscribers() {
    String quiet = createTopic();
    String busy = createTopic();
    subscribe(busy);
    subscribe(busy);
    subscribe(busy);

    Reply reply = run(HttpRequest.GET("/topics"));

    assertEquals(200, reply.status());
    assertJson(reply);
    JsonNode topics = reply.json().path("topics");
    assertEquals(2, topics.size(), reply.body());
    assertEquals(0, entryOf(topics, quiet).path("subscribers").asInt(-1));
    assertEquals(3, entryOf(topics, busy).path("subscribers").asInt(-1));
    assertTrue(entryOf(topics, busy).path("subscribers").isInt());
  }

  // ---------------------------------------------------------------- GET /health

  @Test
  void metricsArePrometheusTextWithThePubSubAndJvmFamilies() {
    assertEquals(201, run(postJson("/topics", "{\"name\":\"metered\"}")).status());
    Reply reply = run(HttpRequest.GET("/metrics"));
    assertEquals(200, reply.status());
    assertEquals("text/plain; version=0.0.4; charset=UTF-8", reply.contentType().toString());
    assertTrue(reply.body().contains("\npubsub_topics 1.0\n"), reply.body());
    for (String family : List.of("pubsub_messages_published_total", "pubsub_events_delivered_total",
        "pubsub_events_dropped_total{reason=\"queue_full\"}", "pubsub_errors_total{code=\"RATE_LIMITED\"}",
        "pubsub_connections", "pubsub_subscriptions", "pubsub_outbound_queue_events",
        "pubsub_publish_to_enqueue_seconds", "pubsub_websocket_frames_total{direction=\"in\"}",
        "jvm_memory_used_bytes", "process_cpu_usage")) {
      assertTrue(reply.body().contains(family), family + " in /metrics");
    }
  }

  /** An alert on error answers sees REST's too, not only WebSocket error frames. */
  @Test
  void restErrorAnswersCountInTheErrorsMetricByTheirCode() {
    assertEquals(404, run(HttpRequest.DELETE("/topics/" + freshTopic())).status());
    assertEquals(400, run(postJson("/topics", "{\"name\":\"bad name\"}")).status());
    assertEquals(405, run(HttpRequest.POST("/health")).status());
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("pubsub_errors_total{code=\"TOPIC_NOT_FOUND\"} 1.0"), scrape);
    assertTrue(scrape.contains("pubsub_errors_total{code=\"BAD_REQUEST\"} 2.0"), scrape);
  }

  @Test
  void healthAnswersOkWithUptimeTopicsAndSubscribers() {
    String a = createTopic();
    createTopic();
    subscribe(a);
    subscribe(a);

    Reply reply = run(HttpRequest.GET("/health"));

    assertEquals(200, reply.status());
    assertJson(reply);
    JsonNode body = reply.json();
    assertEquals("ok", body.path("status").asText());
    assertTrue(body.path("uptime_sec").isIntegralNumber(), reply.body());
    assertTrue(body.path("uptime_sec").asLong() >= 0, reply.body());
    assertEquals(2, body.path("topics").asInt(-1), reply.body());
    assertEquals(2, body.path("subscribers").asInt(-1), reply.body());
  }

  @Test
  void healthOfAnEmptyServerCountsZero() {
    JsonNode body = run(HttpRequest.GET("/health")).json();

    assertEquals("ok", body.path("status").asText());
    assertEquals(0, body.path("topics").asInt(-1));
    assertEquals(0, body.path("subscribers").asInt(-1));
  }

  // ---------------------------------------------------------------- GET /stats

  @Test
  void statsShowMessagesSubscribersAndDroppedPerTopic() {
    String busy = createTopic();
    String quiet = createTopic();
    subscribe(busy);
    publish(busy);
    publish(busy);
    publish(busy);

    Reply reply = run(HttpRequest.GET("/stats"));

    assertEquals(200, reply.status());
    assertJson(reply);
    JsonNode topics = reply.json().path("topics");
    assertTrue(topics.isObject(), reply.body());
    assertEquals(2, topics.size(), reply.body());
    JsonNode busyStats = topics.path(busy);
    assertEquals(3, busyStats.path("messages").asLong(-1), reply.body());
    assertEquals(1, busyStats.path("subscribers").asInt(-1), reply.body());
    assertEquals(0, busyStats.path("dropped").asLong(-1), reply.body());
    JsonNode quietStats = topics.path(quiet);
    assertEquals(0, quietStats.path("messages").asLong(-1), reply.body());
    assertEquals(0, quietStats.path("subscribers").asInt(-1), reply.body());
    assertEquals(0, quietStats.path("dropped").asLong(-1), reply.body());
  }

  @Test
  void statsOfAnEmptyServerHaveNoTopics() {
    Reply reply = run(HttpRequest.GET("/stats"));

    assertEquals(200, reply.status());
    assertTrue(reply.json().path("topics").isObject());
    assertEquals(0, reply.json().path("topics").size());
  }

  /**
   * GET /health, /stats and /topics racing a DELETE of a topic still answer promptly with 200.
   * Each round starts the read and the delete together; a read that falls into the race window
   * asks a topic that has already stopped.
   */
  @Test
  void readsRacingATopicDeletionStillAnswer200() throws Exception {
    for (int round = 0; round < 200; round++) {
      String name = createTopic();
      String path = List.of("/health", "/stats", "/topics").get(round % 3);
      CompletableFuture<Reply> read = runAsync(HttpRequest.GET(path));
      CompletableFuture<Reply> delete = runAsync(HttpRequest.DELETE("/topics/" + name));
      long start = System.nanoTime();
      Reply reply = read.get(20, TimeUnit.SECONDS);
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(200, reply.status(), "round " + round + ": GET " + path + " racing DELETE answered after "
          + millis + " ms: " + reply.body());
      assertTrue(millis < 2000, "round " + round + ": GET " + path + " racing DELETE took " + millis + " ms");
      assertEquals(200, delete.get(20, TimeUnit.SECONDS).status());
    }
  }

  // ---------------------------------------------------------------- 404 / 405 as JSON

  @ParameterizedTest
  @ValueSource(strings = {"/nope", "/", "/topics/a/b", "/health/extra", "/wss"})
  void unknownPathAnswers404Json(String path) {
    Reply reply = run(HttpRequest.GET(path));

    assertEquals(404, reply.status());
    assertJsonError(reply);
  }

  /** RFC 9110 15.5.6: a 405 says in Allow which methods the path takes, HEAD wherever GET. */
  @Test
  void wrongMethodAnswers405JsonWithTheAllowedMethods() {
    List<Map.Entry<HttpRequest, String>> requests = List.of(
        Map.entry(HttpRequest.PUT("/topics").withEntity(ContentTypes.APPLICATION_JSON, "{\"name\":\"x\"}"), "POST, GET, HEAD"),
        Map.entry(HttpRequest.DELETE("/topics"), "POST, GET, HEAD"),
        Map.entry(HttpRequest.POST("/health"), "GET, HEAD"),
        Map.entry(HttpRequest.DELETE("/stats"), "GET, HEAD"),
        Map.entry(HttpRequest.create("/topics/x").withMethod(HttpMethods.PATCH), "DELETE, GET, HEAD"),
        Map.entry(HttpRequest.POST("/ws"), "GET, HEAD"));
    for (Map.Entry<HttpRequest, String> request : requests) {
      Reply reply = run(request.getKey());
      String what = request.getKey().method().value() + " " + request.getKey().getUri().path();
      assertEquals(405, reply.status(), what + ": " + reply.body());
      assertJsonError(reply, "BAD_REQUEST");
      assertEquals(Optional.of(request.getValue()), reply.header("Allow"), what);
      assertTrue(reply.json().path("error").path("message").asText().endsWith("supported methods: " + request.getValue()),
          what + ": the message names what Allow names: " + reply.body());
    }
  }

  /** RFC 9110 9.1; health probes send HEAD. The server leaves the body out (RestE2ETest). */
  @ParameterizedTest
  @ValueSource(strings = {"/health", "/topics", "/stats", "/metrics", "/docs", "/openapi.yaml", "/dashboard"})
  void headIsAnsweredAsGetWouldBe(String path) {
    Reply get = run(HttpRequest.GET(path));
    Reply head = run(HttpRequest.HEAD(path));

    assertEquals(200, head.status(), "HEAD " + path + ": " + head.body());
    assertEquals(get.contentType(), head.contentType(), "HEAD " + path);
  }

  // ---------------------------------------------------------------- GET /ws handshake

  @Test
  void webSocketWithoutUpgradeHeadersAnswers400Json() {
    Reply reply = run(HttpRequest.GET("/ws"));

    assertEquals(400, reply.status());
    assertJsonError(reply, "BAD_REQUEST");
  }

  @Test
  void webSocketWithUnsupportedVersionAnswers426WithSupportedVersion() {
    HttpRequest request = HttpRequest.GET("/ws").addHeaders(List.of(
        RawHeader.create("Upgrade", "websocket"),
        RawHeader.create("Connection", "Upgrade"),
        RawHeader.create("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        RawHeader.create("Sec-WebSocket-Version", "12")));

    Reply reply = run(request);

    assertEquals(426, reply.status());
    assertJsonError(reply);
    assertEquals(Optional.of("13"), reply.header("Sec-WebSocket-Version"));
    assertEquals(Optional.of("websocket"), reply.header("Upgrade"));
  }

  /** RFC 6455 4.1; a 101 would be followed at once by the end of the connection, or (HEAD) cannot switch at all. */
  @Test
  void webSocketUpgradeOverHttp10OrWithABodyOrTwoKeysOrAsHeadAnswers400Json() {
    List<HttpHeader> upgrade = List.of(
        RawHeader.create("Upgrade", "websocket"),
        RawHeader.create("Connection", "Upgrade"),
        RawHeader.create("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        RawHeader.create("Sec-WebSocket-Version", "13"));
    Map<String, HttpRequest> requests = Map.of(
        "two keys", HttpRequest.GET("/ws").addHeaders(upgrade).addHeader(RawHeader.create("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")),
        "HTTP/1.0", HttpRequest.GET("/ws").withProtocol(HttpProtocols.HTTP_1_0).addHeaders(upgrade),
        "a body", HttpRequest.GET("/ws").addHeaders(upgrade).withEntity(ContentTypes.APPLICATION_JSON, "{}"),
        "HEAD", HttpRequest.HEAD("/ws").addHeaders(upgrade));
    requests.forEach((what, request) -> {
      Reply reply = run(request);
      assertEquals(400, reply.status(), what + ": " + reply.body());
      assertJsonError(reply, "BAD_REQUEST");
    });
  }

  @Test
  void webSocketWithoutKeyAnswers400Json() {
    HttpRequest request = HttpRequest.GET("/ws").addHeaders(List.of(
        RawHeader.create("Upgrade", "websocket"),
        RawHeader.create("Connection", "Upgrade"),
        RawHeader.create("Sec-WebSocket-Version", "13")));

    Reply reply = run(request);

    assertEquals(400, reply.status());
    assertJsonError(reply, "BAD_REQUEST");
  }

  @Test
  void validUpgradeAnswers101WithAcceptKeyPerRfc6455() throws Exception {
    byte[] nonce = new byte[16];
    new java.util.Random(42).nextBytes(nonce);
    String key = Base64.getEncoder().encodeToString(nonce);
    HttpRequest request = HttpRequest.GET("/ws").addHeaders(List.of(
        RawHeader.create("Host", "localhost"),
        RawHeader.create("Upgrade", "websocket"),
        RawHeader.create("Connection", "keep-alive, Upgrade"),
        RawHeader.create("Sec-WebSocket-Key", key),
        RawHeader.create("Sec-WebSocket-Version", "13")));

    HttpResponse response = Source.single(request).via(routes.routes().flow(testKit.system()))
        .runWith(Sink.head(), testKit.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertEquals(101, response.status().intValue());
    String expected = Base64.getEncoder().encodeToString(
        MessageDigest.getInstance("SHA-1").digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
    assertEquals(Optional.of(expected), response.getHeader("sec-websocket-accept").map(HttpHeader::value));
    assertEquals("websocket", response.getHeader("upgrade").map(HttpHeader::value).orElse("").toLowerCase());
    assertTrue(response.getHeader("connection").map(HttpHeader::value).orElse("").toLowerCase().contains("upgrade"));
  }

  @Test
  void acceptKeyOfTheRfcExample() throws Exception {
    HttpRequest request = HttpRequest.GET("/ws").addHeaders(List.of(
        RawHeader.create("Upgrade", "websocket"),
        RawHeader.create("Connection", "Upgrade"),
        RawHeader.create("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        RawHeader.create("Sec-WebSocket-Version", "13")));

    HttpResponse response = Source.single(request).via(routes.routes().flow(testKit.system()))
        .runWith(Sink.head(), testKit.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertEquals(101, response.status().intValue());
    // RFC 6455 section 1.3
    assertEquals(Optional.of("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        response.getHeader("sec-websocket-accept").map(HttpHeader::value));
  }

  // ---------------------------------------------------------------- helpers

  private static String freshTopic() {
    return "routes-topic-" + TOPIC_COUNTER.incrementAndGet();
  }

  private String createTopic() {
    String name = freshTopic();
    Reply reply = run(postJson("/topics", "{\"name\":\"" + name + "\"}"));
    assertEquals(201, reply.status(), reply.body());
    return name;
  }

  /** A subscription made directly at the topic manager, with a probe standing in for a connection. */
  private void subscribe(String topic) {
    TestProbe<Topic.Reply> probe = testKit.createTestProbe(Topic.Reply.class);
    topicManager.tell(new Topic.Subscribe(topic, "r", probe.getRef(), null, 0, null, null));
    probe.expectMessageClass(Topic.Subscribed.class);
  }

  private void publish(String topic) {
    TestProbe<Topic.Reply> probe = testKit.createTestProbe(Topic.Reply.class);
    topicManager.tell(new Topic.Publish(topic, "p", probe.getRef(), null, RawJson.of("{}")));
    probe.expectMessageClass(Topic.Published.class);
  }

  private List<String> topicNames() {
    List<String> names = new ArrayList<>();
    run(HttpRequest.GET("/topics")).json().path("topics").forEach(t -> names.add(t.path("name").asText()));
    return names;
  }

  private static JsonNode entryOf(JsonNode topics, String name) {
    for (JsonNode t : topics) {
      if (name.equals(t.path("name").asText())) return t;
    }
    throw new AssertionError("no topic " + name + " in " + topics);
  }

  private static HttpRequest postJson(String path, String body) {
    return HttpRequest.POST(path).withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  /** Actors too busy to answer within the ask timeout: an overload the client may retry, not an internal error. */
  @Test
  void aTopicManagerThatDoesNotAnswerInTimeIs503WithRetryAfter() {
    TestProbe<TopicManager.Command> silent = testKit.createTestProbe();
    ActorRef<ConnectionRegistry.Command> registry = testKit.spawn(ConnectionRegistry.create(0, ASK_TIMEOUT));
    Duration askTimeout = Duration.ofMillis(200);
    routes = new Routes(testKit.system(), silent.getRef(),
        new WebSocketRoute(silent.getRef(), registry, settings, testKit.system().scheduler(), metrics, HeapPressure.OFF, () -> false),
        askTimeout, ApiKeys.none(), metrics, settings.limits());
    for (HttpRequest request : List.of(HttpRequest.GET("/stats"), HttpRequest.GET("/topics/orders"), postJson("/topics", "{\"name\":\"orders\"}"))) {
      Reply reply = run(request);
      assertEquals(503, reply.status(), reply.body());
      assertJsonError(reply, "INTERNAL");
      assertEquals("1", reply.response().getHeader("Retry-After").map(h -> h.value()).orElse(null), reply.body());
    }
  }

  private Reply run(HttpRequest request) {
    try {
      return runAsync(request).get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("request failed: " + request, e);
    }
  }

  private CompletableFuture<Reply> runAsync(HttpRequest request) {
    return Source.single(request).via(routes.routes().flow(testKit.system()))
        .runWith(Sink.head(), testKit.system())
        .thenCompose(response -> response.entity().toStrict(5000, testKit.system())
            .thenApply(strict -> new Reply(response, strict.getData().utf8String())))
        .toCompletableFuture();
  }

  private static void assertJson(Reply reply) {
    assertEquals(ContentTypes.APPLICATION_JSON, reply.contentType(), "content type of " + reply.body());
  }

  /** {@code {"error":{"code","message"}}} as application/json, never text/plain or HTML. */
  private static JsonNode assertJsonError(Reply reply) {
    assertJson(reply);
    JsonNode error = reply.json().path("error");
    assertTrue(error.isObject(), "error object in " + reply.body());
    assertTrue(error.path("code").isTextual(), "error.code in " + reply.body());
    assertFalse(error.path("code").asText().isEmpty(), "error.code in " + reply.body());
    assertTrue(error.path("message").isTextual(), "error.message in " + reply.body());
    assertFalse(error.path("message").asText().isEmpty(), "error.message in " + reply.body());
    assertTrue(List.of("BAD_REQUEST", "PAYLOAD_TOO_LARGE", "TOPIC_NOT_FOUND", "NOT_SUBSCRIBED", "RATE_LIMITED",
        "SLOW_CONSUMER", "UNAUTHORIZED", "INTERNAL").contains(error.path("code").asText()),
        "a contract error code in " + reply.body());
    return error;
  }

  private static void assertJsonError(Reply reply, String code) {
    assertEquals(code, assertJsonError(reply).path("code").asText(), reply.body());
  }
}
