package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import pekkopubsub.connection.HeapPressure;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.LocalServer;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.ConnectionRegistry;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.topic.TopicManager;

/** API-key auth, max-topics and max-connections at the HTTP edge, in memory against the real {@link Routes}. */
class AuthAndLimitsRoutesTest {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);
  private static final ServerMetrics METRICS = new ServerMetrics(new SimpleMeterRegistry());
  private static final List<String> KEYS = List.of("key-one", "key-two");
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private static ActorTestKit testKit;
  private static Settings settings;

  private record Reply(int status, String body, HttpResponse response) {
    JsonNode json() {
      try {
        return JsonCodec.parse(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }
  }

  @BeforeAll
  static void startSystem() {
    Config config = Settings.withDefaults(ConfigFactory.empty());
    settings = Settings.from(config);
    testKit = ActorTestKit.create("auth-limits-test", config);
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  private static Routes routes(List<String> keys, int maxTopics, int maxConnections, Duration reservationTimeout) {
    return routes(keys, maxTopics, maxConnections, reservationTimeout, () -> false);
  }

  private static Routes routes(
      List<String> keys, int maxTopics, int maxConnections, Duration reservationTimeout, BooleanSupplier shuttingDown) {
    ActorRef<TopicManager.Command> topics = testKit.spawn(TopicManager.create(100, ASK_TIMEOUT, maxTopics, METRICS));
    ActorRef<ConnectionRegistry.Command> registry =
        testKit.spawn(ConnectionRegistry.create(maxConnections, reservationTimeout));
    return new Routes(testKit.system(), topics,
        new WebSocketRoute(topics, registry, settings, testKit.system().scheduler(), METRICS, HeapPressure.OFF, shuttingDown),
        ASK_TIMEOUT, new ApiKeys(keys), METRICS, settings.limits());
  }

  /** /health says 503 from a shutdown's first moment; the registry hears of it only when the drain starts. */
  @Test
  void anUpgradeIsRefusedFromTheMomentAShutdownBeginsBeforeTheRegistryHearsOfIt() {
    AtomicBoolean shuttingDown = new AtomicBoolean();
    Routes routes = routes(List.of(), 0, 0, Duration.ofSeconds(10), shuttingDown::get);
    assertEquals(101, run(routes, upgrade("/ws")).status());

    shuttingDown.set(true);
    Reply refused = run(routes, upgrade("/ws"));
    assertEquals(503, refused.status(), refused.body());
    assertTrue(refused.body().contains("server is shutting down"), refused.body());
  }

  private static Routes withKeys() {
    return routes(KEYS, 0, 0, Duration.ofSeconds(10));
  }

  // ---------------------------------------------------------------- auth

  @ParameterizedTest
  @ValueSource(strings = {"GET /topics", "GET /stats", "GET /metrics", "POST /topics", "POST /topics/x/messages", "GET /topics/x/messages", "DELETE /topics/x", "GET /ws",
      "GET /docs", "GET /docs/", "GET /openapi.yaml", "GET /nope"})
  void everyCallButHealthNeedsAKey(String call) {
    Routes routes = withKeys();
    Reply missing = run(routes, request(call));
    assertUnauthorized(missing);
    Reply wrong = run(routes, request(call).addHeader(RawHeader.create("X-API-Key", "key-three")));
    assertUnauthorized(wrong);
  }

  @Test
  void healthStaysOpen() {
    Reply reply = run(withKeys(), HttpRequest.GET("/health"));
    assertEquals(200, reply.status(), reply.body());
  }

  @Test
  void anyConfiguredKeyIsAccepted() {
    Routes routes = withKeys();
    for (String key : KEYS) {
      Reply reply = run(routes, HttpRequest.GET("/topics").addHeader(RawHeader.create("X-API-Key", key)));
      assertEquals(200, reply.status(), reply.body());
    }
  }

  @Test
  void aRefusedCallNeverReachesATopic() {
    Routes routes = withKeys();
    String name = "auth-" + COUNTER.incrementAndGet();
    assertUnauthorized(run(routes, createTopic(name)));
    assertEquals(0, topicsWithKey(routes).size(), "nothing was created");

    assertEquals(201, run(routes, createTopic(name).addHeader(RawHeader.create("X-API-Key", "key-one"))).status());
    assertUnauthorized(run(routes, HttpRequest.DELETE("/topics/" + name)
        .addHeader(RawHeader.create("X-API-Key", "key-on"))));
    assertEquals(1, topicsWithKey(routes).size(), "nothing was deleted");
  }

  @Test
  void theWebSocketUpgradeTakesTheKeyFromTheHeaderOrTheQuery() {
    Routes routes = withKeys();
    assertEquals(101, run(routes, upgrade("/ws").addHeader(RawHeader.create("X-API-Key", "key-two"))).status());
    assertEquals(101, run(routes, upgrade("/ws?api_key=key-one")).status());
    assertUnauthorized(run(routes, upgrade("/ws?api_key=nope")));
    assertUnauthorized(run(routes, upgrade("/ws")));
  }

  @Test
  void theDocsPageTakesTheKeyFromTheHeaderOrTheQuery() {
    Routes routes = withKeys();
    Reply withHeader = run(routes, HttpRequest.GET("/docs").addHeader(RawHeader.create("X-API-Key", "key-one")));
    assertEquals(200, withHeader.status(), withHeader.body());
    assertTrue(withHeader.body().contains("swagger-ui"), withHeader.body());
    assertEquals(200, run(routes, HttpRequest.GET("/docs/?api_key=key-two")).status());
    assertUnauthorized(run(routes, HttpRequest.GET("/docs?api_key=nope")));
    Reply document = run(routes, HttpRequest.GET("/openapi.yaml").addHeader(RawHeader.create("X-API-Key", "key-two")));
    assertEquals(200, document.status(), document.body());
    assertTrue(document.body().contains("\nopenapi: 3"), document.body());
  }

  /** Swagger UI's scripts and the dashboard's files hold no data; the dashboard itself says when it needs a key. */
  @Test
  void pageAssetsAndTheDashboardStayOpen() {
    Routes routes = withKeys();
    Reply swaggerScript = run(routes, HttpRequest.GET("/docs/swagger-ui-bundle.js"));
    assertEquals(200, swaggerScript.status());
    assertEquals(200, run(routes, HttpRequest.GET("/dashboard")).status());
    assertEquals(200, run(routes, HttpRequest.GET("/dashboard/app.js")).status());
  }

  @Test
  void theQueryParameterIsOnlyForPagesThatBrowsersOpen() {
    assertUnauthorized(run(withKeys(), HttpRequest.GET("/topics?api_key=key-one")));
    assertUnauthorized(run(withKeys(), HttpRequest.GET("/stats?api_key=key-one")));
    assertUnauthorized(run(withKeys(), HttpRequest.GET("/openapi.yaml?api_key=key-one")));
  }

  @Test
  void withoutKeysEverythingIsOpen() {
    assertEquals(200, run(routes(List.of(), 0, 0, Duration.ofSeconds(10)), HttpRequest.GET("/topics")).status());
  }

  // ---------------------------------------------------------------- limits

  @Test
  void creatingATopicPastMaxTopicsAnswers507UntilOneIsDeleted() {
    Routes routes = routes(List.of(), 2, 0, Duration.ofSeconds(10));
    String a = "cap-" + COUNTER.incrementAndGet();
    assertEquals(201, run(routes, createTopic(a)).status());
    assertEquals(201, run(routes, createTopic("cap-" + COUNTER.incrementAndGet())).status());

    Reply full = run(routes, createTopic("cap-" + COUNTER.incrementAndGet()));
    assertEquals(507, full.status(), full.body());
    assertEquals("INTERNAL", full.json().path("error").path("code").asText(), full.body());
    assertTrue(full.json().path("error").path("message").asText().contains("limit of 2 topics"), full.body());
    assertEquals(409, run(routes, createTopic(a)).status(), "an existing name is still a conflict, not a capacity problem");

    assertEquals(200, run(routes, HttpRequest.DELETE("/topics/" + a)).status());
    assertEquals(201, run(routes, createTopic("cap-" + COUNTER.incrementAndGet())).status());
  }

  @Test
  void upgradesPastMaxConnectionsAnswer503AndAnExpiredReservationFreesItsPlace() {
    // No stream runs in memory, so an admitted upgrade holds its reservation until it expires.
    Routes routes = routes(List.of(), 1, 1, Duration.ofMillis(500));
    assertEquals(101, run(routes, upgrade("/ws")).status());

    Reply refused = run(routes, upgrade("/ws"));
    assertEquals(503, refused.status(), refused.body());
    assertTrue(refused.json().path("error").path("message").asText().contains("limit of 1 connections"), refused.body());

    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    int status;
    do {
      LocalServer.sleep(50);
      status = run(routes, upgrade("/ws")).status();
    } while (status != 101 && System.nanoTime() < deadline);
    assertEquals(101, status, "the place came back");
  }

  // ---------------------------------------------------------------- helpers

  private static void assertUnauthorized(Reply reply) {
    assertEquals(401, reply.status(), reply.body());
    assertEquals(ContentTypes.APPLICATION_JSON, reply.response().entity().getContentType());
    assertEquals("UNAUTHORIZED", reply.json().path("error").path("code").asText(), reply.body());
    // RFC 9110 15.5.2: every 401 says how to authenticate.
    assertEquals("ApiKey realm=\"pekko-pubsub\",header=X-API-Key",
        reply.response().getHeader("WWW-Authenticate").map(HttpHeader::value).orElse("none"), reply.body());
    assertFalse(reply.body().contains("key-one") || reply.body().contains("key-two"), "no key in " + reply.body());
  }

  private List<String> topicsWithKey(Routes routes) {
    Reply reply = run(routes, HttpRequest.GET("/topics").addHeader(RawHeader.create("X-API-Key", "key-one")));
    assertEquals(200, reply.status(), reply.body());
    List<String> names = new ArrayList<>();
    reply.json().path("topics").forEach(t -> names.add(t.path("name").asText()));
    return names;
  }

  private static HttpRequest request(String call) {
    String[] parts = call.split(" ");
    return switch (parts[0]) {
      case "POST" -> parts[1].equals("/topics") ? createTopic("auth-" + COUNTER.incrementAndGet())
          : HttpRequest.POST(parts[1]).withEntity(ContentTypes.APPLICATION_JSON, "{\"payload\":1}");
      case "DELETE" -> HttpRequest.DELETE(parts[1]);
      default -> parts[1].equals("/ws") ? upgrade("/ws") : HttpRequest.GET(parts[1]);
    };
  }

  private static HttpRequest createTopic(String name) {
    return HttpRequest.POST("/topics").withEntity(ContentTypes.APPLICATION_JSON, "{\"name\":\"" + name + "\"}");
  }

  private static HttpRequest upgrade(String uri) {
    return HttpRequest.GET(uri).addHeaders(List.<HttpHeader>of(
        RawHeader.create("Upgrade", "websocket"),
        RawHeader.create("Connection", "Upgrade"),
        RawHeader.create("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        RawHeader.create("Sec-WebSocket-Version", "13")));
  }

  private static Reply run(Routes routes, HttpRequest request) {
    try {
      HttpResponse response = Source.single(request).via(routes.routes().flow(testKit.system()))
          .runWith(Sink.head(), testKit.system())
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
      String body = response.status().intValue() == 101 ? ""
          : response.entity().toStrict(5000, testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS)
              .getData().utf8String();
      return new Reply(response.status().intValue(), body, response);
    } catch (Exception e) {
      throw new AssertionError("request failed: " + request, e);
    }
  }
}
