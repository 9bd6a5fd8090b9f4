package pekkopubsub.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import pekkopubsub.protocol.JsonCodec;

/** A client of the REST API: topics, health and stats. */
public final class AdminClient {

  /** One REST answer: its status and its body parsed as JSON (a text node when it was not JSON). */
  public record Answer(int status, JsonNode body, String contentType) {}

  private final URI base;
  private final Map<String, String> headers;
  private final HttpClient http;

  public AdminClient(URI base) {
    this(base, Map.of());
  }

  /** A client that adds {@code headers} (e.g. {@code X-API-Key}) to every request made by method and path. */
  public AdminClient(URI base, Map<String, String> headers) {
    this(base, headers, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
  }

  /** With a client of the caller's, e.g. one that trusts a certificate outside the default trust store. */
  public AdminClient(URI base, Map<String, String> headers, HttpClient http) {
    this.base = base;
    this.headers = Map.copyOf(headers);
    this.http = http;
  }

  public Answer createTopic(String name) {
    return send("POST", "/topics", JsonCodec.mapper().createObjectNode().put("name", name).toString());
  }

  public Answer deleteTopic(String name) {
    return send("DELETE", "/topics/" + URLEncoder.encode(name, StandardCharsets.UTF_8), null);
  }

  /** One topic's figures, replay window and subscriptions per client_id. */
  public Answer describeTopic(String name) {
    return send("GET", "/topics/" + URLEncoder.encode(name, StandardCharsets.UTF_8), null);
  }

  public Answer listTopics() {
    return send("GET", "/topics", null);
  }

  public Answer health() {
    return send("GET", "/health", null);
  }

  public Answer stats() {
    return send("GET", "/stats", null);
  }

  /** Any request; a non-null {@code jsonBody} is sent as {@code application/json}. */
  public Answer send(String method, String path, String jsonBody) {
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
    headers.forEach(request::header);
    if (jsonBody != null) {
      request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(jsonBody));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return send(request.build());
  }

  public Answer send(HttpRequest request) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), parse(response.body()),
          response.headers().firstValue("content-type").orElse(""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static JsonNode parse(String body) {
    try {
      return JsonCodec.parse(body);
    } catch (JsonProcessingException e) {
      return JsonCodec.mapper().getNodeFactory().textNode(body);
    }
  }
}
