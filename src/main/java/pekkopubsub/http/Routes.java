package pekkopubsub.http;

import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.util.ByteString;
import pekkopubsub.config.Settings;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.protocol.ErrorCode;
import pekkopubsub.protocol.Inbound;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.Request;
import pekkopubsub.protocol.RequestDecoder;
import pekkopubsub.protocol.Rest;
import pekkopubsub.topic.Topic;
import pekkopubsub.topic.TopicManager;
import pekkopubsub.topic.TopicName;

/** The whole HTTP surface: the REST API, {@code /ws}, and JSON errors for everything that fails. */
public final class Routes extends AllDirectives {
  /** Paths that take the key from {@code ?api_key=} as well: browsers open them, and cannot send a header then. */
  private static final Set<String> OPENED_BY_BROWSERS = Set.of("/ws", "/docs", "/docs/");
  /**
   * Every 401 names how to authenticate (RFC 9110 15.5.2); no registered scheme fits a bare key in a
   * header of its own, so the challenge's scheme is our own name for it and its header says where.
   */
  private static final WWWAuthenticate API_KEY_CHALLENGE =
      WWWAuthenticate.create(HttpChallenge.create("ApiKey", "pekko-pubsub", Map.of("header", "X-API-Key")));

  /** Marks a HEAD routed as GET: the one GET whose answer a HEAD cannot have is a WebSocket's 101. */
  private static final AttributeKey<Boolean> ASKED_AS_HEAD = AttributeKey.create("pubsub-asked-as-head", Boolean.class);

  private final ActorSystem<?> system;
  private final ActorRef<TopicManager.Command> topics;
  private final WebSocketRoute webSocket;
  private final Duration askTimeout;
  private final Supplier<Boolean> shuttingDown;
  private final ApiKeys apiKeys;
  private final ServerMetrics metrics;
  private final DocsRoutes docs = new DocsRoutes();
  private final DashboardRoutes dashboard = new DashboardRoutes();
  private final Unmarshaller<HttpEntity, JsonNode> jsonBody;
  /** How long a request body may take to arrive; null: no bound (see readWhole). */
  private final Duration bodyTimeout;

  public Routes(
      ActorSystem<?> system,
      ActorRef<TopicManager.Command> topics,
      WebSocketRoute webSocket,
      Duration askTimeout,
      ApiKeys apiKeys,
      ServerMetrics metrics,
      Settings.Limits limits) {
    this.apiKeys = apiKeys;
    this.metrics = metrics;
    this.system = system;
    this.topics = topics;
    this.webSocket = webSocket;
    this.askTimeout = askTimeout;
    this.jsonBody = jsonBody(JsonCodec.newMapper(limits));
    this.bodyTimeout = FrontDoor.finite(ServerSettings.create(system.classicSystem()).getTimeouts().requestTimeout()).orElse(null);
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    this.shuttingDown = () -> shutdown.getShutdownReason().isPresent();
  }

  public Route routes() {
    // The dashboard's files stay open: its page holds no data, and tells a browser without a key
    // what to open; its own fetches of /stats and /metrics carry the key.
    Route answers = handleRejections(JsonErrors.rejectionHandler(), () -> headAsGet(() -> concat(docs.assets(), dashboard.routes(), authorized(() -> concat(
            docs.pages(),
            pathPrefix("topics", () -> concat(
                pathEndOrSingleSlash(() -> concat(
                    post(this::createTopic),
                    get(this::listTopics))),
                // A trailing slash is taken as POST /topics/ and GET /topics/ take it.
                pathPrefix(PathMatchers.segment(), name -> concat(
                    pathEndOrSingleSlash(() -> concat(
                        delete(() -> deleteTopic(name)),
                        get(() -> describeTopic(name)))),
                    path("messages", () -> concat(
                        post(() -> unencodedBody(() -> publish(name))),
                        get(() -> parameterMap(query -> readHistory(name, query))))))))),
            path("health", () -> get(this::health)),
            path("stats", () -> get(this::stats)),
            path("metrics", () -> get(this::metrics)),
            path("ws", () -> get(this::webSocket)))))));
    return mapResponse(this::countedIfError, () -> handleExceptions(JsonErrors.exceptionHandler(), () -> readWhole(answers)));
  }

  /**
   * Every request is read whole before it is answered, within the request timeout (RFC 9110
   * 15.5.9: 408 and the connection closed, the rest of the body would be read as the next request)
   * and {@code max-content-length} (413): Pekko HTTP starts its timeout only once a request has
   * arrived whole, so a client that sent half a body held its connection, unanswered, until the
   * idle timeout (two minutes). A route that answered before its body had arrived (a GET with a
   * body sent in pieces, chunked or in two reads) got a WARN line from Pekko HTTP for each such
   * request and its connection closed, where the same request read in one piece was answered and
   * kept. With the timeout infinite, a body is read only by the route that needs it, as Pekko does.
   */
  private Route readWhole(Route answers) {
    if (bodyTimeout == null) return answers;
    return extractRequestEntity(entity -> entity.isStrict() ? answers : toStrictEntity(bodyTimeout, () -> answers));
  }

  /** An error answer counts in pubsub_errors_total by its contract code, as a WebSocket error frame does. */
  private HttpResponse countedIfError(HttpResponse response) {
    response.getAttribute(JsonErrors.ERROR_CODE).ifPresent(metrics::error);
    return response;
  }

  /**
   * A HEAD is routed as the GET it asks about (RFC 9110 9.3.2: servers must support it wherever GET
   * is, and health probes send it); Pekko HTTP's server writes the answer's head, Content-Length
   * included, and never its body. Here rather than with Pekko's transparent-head-requests setting so
   * that every way a request reaches these routes gets it, the in-memory route tests included.
   */
  private Route headAsGet(Supplier<Route> inner) {
    return extractMethod(method -> method.equals(HttpMethods.HEAD)
        ? mapRequest(request -> request.withMethod(HttpMethods.GET).addAttribute(ASKED_AS_HEAD, Boolean.TRUE), inner)
        : inner.get());
  }

  /**
   * With API keys configured, everything but {@code /health} needs a valid {@code X-API-Key}
   * ({@code ?api_key=} too on {@code /ws} and the {@code /docs} page, which browsers open without
   * headers); a request without one is answered 401 here, before any route (or topic) sees it.
   */
  private Route authorized(Supplier<Route> inner) {
    if (!apiKeys.enabled()) return inner.get();
    return extractRequest(request -> {
      String path = request.getUri().path();
      if (path.equals("/health")) return inner.get();
      String presented = request.getHeader("x-api-key").map(h -> h.value())
          .orElseGet(() -> OPENED_BY_BROWSERS.contains(path) ? request.getUri().query().get("api_key").orElse(null) : null);
      if (apiKeys.accepts(presented)) return inner.get();
      return complete(JsonErrors.response(StatusCodes.UNAUTHORIZED, ErrorCode.UNAUTHORIZED,
          presented == null ? "an API key is required (header X-API-Key)" : "the API key is not valid")
          .addHeader(API_KEY_CHALLENGE));
    });
  }

  private Route createTopic() {
    return unencodedBody(this::createTopicFromBody);
  }

  private Route unencodedBody(Supplier<Route> inner) {
    return optionalHeaderValueByName("Content-Encoding", encoding -> encoding.filter(Routes::isEncoded)
        .map(this::unsupportedEncoding)
        .orElseGet(inner));
  }

  private static boolean isEncoded(String contentEncoding) {
    for (String coding : contentEncoding.split(",")) {
      if (!coding.isBlank() && !coding.strip().equalsIgnoreCase("identity")) return true;
    }
    return false;
  }

  /**
   * A body is taken as sent, never decoded: a topic's body is a few bytes that gain nothing from
   * compression, and not decoding leaves no way to make the server inflate a small body into a large
   * one. RFC 9110 (15.5.16) would answer 415; the wire contract has 400 for every bad body, as
   * for a body that is not application/json. Accept-Encoding says what would do.
   */
  private Route unsupportedEncoding(String contentEncoding) {
    return complete(JsonErrors.response(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST,
            "Content-Encoding '" + contentEncoding + "' is not supported: send the body unencoded")
        .addHeader(RawHeader.create("Accept-Encoding", "identity")));
  }

  private Route createTopicFromBody() {
    return entity(jsonBody, body -> {
      JsonNode name = body.get("name");
      if (!body.isObject() || name == null || !name.isTextual()) {
        return error(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST, "body must be {\"name\": \"<topic>\"}");
      }
      if (!TopicName.isValid(name.textValue())) {
        return error(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST, TopicName.problem(name.textValue()));
      }
      return onSuccess(this.<TopicManager.CreateResult>ask(replyTo -> new TopicManager.CreateTopic(name.textValue(), replyTo)), result ->
          result instanceof TopicManager.TopicCreated created
              ? json(StatusCodes.CREATED, new Rest.TopicStatus("created", created.name()))
              // 507: the server's capacity, not the request, is the problem; it passes once a topic is deleted.
              : result instanceof TopicManager.TopicLimitReached full
              ? error(StatusCodes.INSUFFICIENT_STORAGE, ErrorCode.INTERNAL,
                  "the server's limit of " + full.maxTopics() + " topics is reached: delete a topic first")
              : error(StatusCodes.CONFLICT, ErrorCode.BAD_REQUEST, "topic '" + name.textValue() + "' already exists"));
    });
  }

  /**
   * POST /topics/{name}/messages: a backend publishes without holding a WebSocket open (a webhook,
   * a cron job, curl). The body is a WebSocket publish's message and is checked as one; the answer
   * carries the offset the message was given, as a publish ack does.
   */
  private Route publish(String name) {
    return entity(jsonBody, body -> {
      Inbound decoded = RequestDecoder.restPublish(name, body);
      if (decoded instanceof Inbound.Rejected rejected) return error(StatusCodes.BAD_REQUEST, rejected.code(), rejected.message());
      Request.Publish publish = (Request.Publish) decoded;
      return onSuccess(this.<Topic.Reply>ask(replyTo -> new Topic.Publish(name, null, replyTo, publish.messageId(), publish.payload())),
          reply -> reply instanceof Topic.Published published
              ? json(StatusCodes.OK, new Rest.Published("published", name, published.offset()))
              : topicNotFound(name));
    });
  }

  /**
   * GET /topics/{name}/messages: retained events without subscribing, for a page's first load or a
   * consumer that polls. The events are the bytes the topic retains, joined into the answer without
   * a copy; a read answers at most a replay page of them, and {@code more} says to read on.
   */
  private Route readHistory(String name, Map<String, String> parameters) {
    HistoryQuery query;
    try {
      query = HistoryQuery.parse(parameters);
    } catch (IllegalArgumentException e) {
      return error(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST, e.getMessage());
    }
    return onSuccess(this.<Topic.Reply>ask(replyTo -> new Topic.ReadHistory(name, query.limit(), query.sinceOffset(), query.epoch(), replyTo)),
        reply -> reply instanceof Topic.History history
            ? complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, historyJson(history))))
            : topicNotFound(name));
  }

  private static final ByteString EVENTS_OPEN = ByteString.fromString(",\"events\":[");
  private static final ByteString COMMA = ByteString.fromString(",");
  private static final ByteString EVENTS_CLOSE = ByteString.fromString("]}");

  /** The head's fields as Jackson writes them, then the events array of retained bytes. */
  private static ByteString historyJson(Topic.History history) {
    ByteString head = JsonCodec.encode(new Rest.HistoryHead(
        history.topic(), history.epoch(), history.newestOffset(), history.recovered(), history.more()));
    ByteString json = head.take(head.size() - 1).concat(EVENTS_OPEN);
    for (int i = 0; i < history.events().size(); i++) {
      if (i > 0) json = json.concat(COMMA);
      json = json.concat(history.events().get(i));
    }
    return json.concat(EVENTS_CLOSE);
  }

  /**
   * Request bodies as Pekko's Jackson unmarshaller reads them (application/json only, its message for
   * bad JSON), but within the configured JSON limits, as frames are: a body over one is a bad body,
   * and the answer says which limit.
   */
  private static Unmarshaller<HttpEntity, JsonNode> jsonBody(ObjectMapper mapper) {
    ObjectReader reader = mapper.readerFor(JsonNode.class);
    return Unmarshaller.forMediaType(MediaTypes.APPLICATION_JSON, Unmarshaller.entityToString()).thenApply(text -> {
      try {
        return reader.readValue(text);
      } catch (StreamConstraintsException e) {
        throw new IllegalArgumentException("body exceeds a JSON limit: " + e.getOriginalMessage(), e);
      } catch (IOException e) {
        throw new Jackson.JacksonUnmarshallingException(JsonNode.class, e);
      }
    });
  }

  private Route deleteTopic(String name) {
    return onSuccess(this.<TopicManager.DeleteResult>ask(replyTo -> new TopicManager.DeleteTopic(name, replyTo)), result ->
        result instanceof TopicManager.TopicDeleted
            ? json(StatusCodes.OK, new Rest.TopicStatus("deleted", name))
            : topicNotFound(name));
  }

  private Route describeTopic(String name) {
    return onSuccess(this.<Topic.Reply>ask(replyTo -> new Topic.Describe(name, replyTo)), reply ->
        reply instanceof Topic.Described d
            ? json(StatusCodes.OK, new Rest.TopicDetails(d.topic(), d.epoch(), d.messages(), d.subscribers(), d.dropped(),
                d.retained(), d.oldestRetained(), d.clientIds()))
            : topicNotFound(name));
  }

  private Route listTopics() {
    return onSuccess(topicStats(), collected -> json(StatusCodes.OK, new Rest.TopicList(
        collected.topics().stream().map(t -> new Rest.TopicEntry(t.topic(), t.subscribers())).toList())));
  }

  private Route health() {
    return onSuccess(topicStats(), collected -> {
      boolean down = shuttingDown.get();
      Rest.Health health = new Rest.Health(down ? "shutting_down" : "ok", system.uptime(),
          collected.topics().size(), collected.subscriberCount());
      return json(down ? StatusCodes.SERVICE_UNAVAILABLE : StatusCodes.OK, health);
    });
  }

  private Route stats() {
    return onSuccess(topicStats(), collected -> {
      Map<String, Rest.TopicStats> byName = new LinkedHashMap<>();
      for (Topic.Stats t : collected.topics()) {
        byName.put(t.topic(), new Rest.TopicStats(t.messages(), t.subscribers(), t.dropped()));
      }
      return json(StatusCodes.OK, new Rest.Stats(byName));
    });
  }

  /** The text exposition format's own media type, which Prometheus 3 checks before it parses. */
  static final ContentType PROMETHEUS_TEXT = ContentTypes.parse("text/plain; version=0.0.4; charset=UTF-8");

  private Route metrics() {
    return complete(HttpResponse.create().withEntity(PROMETHEUS_TEXT, metrics.scrape().getBytes(StandardCharsets.UTF_8)));
  }

  private Route webSocket() {
    if (shuttingDown.get()) {
      return error(StatusCodes.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL, "server is shutting down");
    }
    return extractRequest(request -> request.getAttribute(ASKED_AS_HEAD).isPresent()
        ? error(StatusCodes.BAD_REQUEST, ErrorCode.BAD_REQUEST, "a WebSocket upgrade needs GET: a HEAD cannot switch protocols")
        : completeWithFuture(webSocket.upgrade(request)));
  }

  private CompletionStage<TopicManager.TopicStatsCollected> topicStats() {
    return ask(TopicManager.GetTopicStats::new);
  }

  private <T> CompletionStage<T> ask(Function<ActorRef<T>, TopicManager.Command> message) {
    return AskPattern.ask(topics, message::apply, askTimeout, system.scheduler());
  }

  private Route json(StatusCode status, Object body) {
    return complete(status, body, Jackson.marshaller(JsonCodec.mapper()));
  }

  private Route topicNotFound(String name) {
    return error(StatusCodes.NOT_FOUND, ErrorCode.TOPIC_NOT_FOUND, "topic '" + name + "' does not exist");
  }

  private Route error(StatusCode status, ErrorCode code, String message) {
    return complete(JsonErrors.response(status, code, message));
  }

}
