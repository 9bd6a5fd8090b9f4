package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pekkopubsub.client.AdminClient;
import pekkopubsub.http.DocsRoutes;

/**
 * GET /docs and /openapi.yaml on the real server, and the OpenAPI document against the real
 * routes: every documented operation answers (no 404/405), and every route that answers is documented.
 */
class OpenApiE2ETest {
  private static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
  // Paths a REST route is likely to be added at; any of them that answers must be in the document.
  private static final List<String> PROBED_PATHS = List.of("/", "/topics", "/topics/probe", "/topics/probe/stats",
      "/topics/probe/messages", "/health", "/stats", "/metrics", "/dashboard", "/docs", "/openapi.yaml",
      "/openapi.json", "/ws", "/version", "/ready", "/live", "/info", "/config", "/connections", "/admin");

  private static TestServer server;
  private static JsonNode openApi;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start();
    try (InputStream in = OpenApiE2ETest.class.getClassLoader().getResourceAsStream(DocsRoutes.OPENAPI_RESOURCE)) {
      openApi = new YAMLMapper().readTree(in);
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void everyDocumentedOperationExists() {
    assertTrue(openApi.path("openapi").asText().startsWith("3."), "an OpenAPI 3 document");
    int operations = 0;
    for (Iterator<Map.Entry<String, JsonNode>> paths = openApi.path("paths").fields(); paths.hasNext(); ) {
      Map.Entry<String, JsonNode> path = paths.next();
      for (Iterator<String> methods = path.getValue().fieldNames(); methods.hasNext(); ) {
        String method = methods.next().toUpperCase(Locale.ROOT);
        if (!METHODS.contains(method)) continue;
        // A fresh topic for {name}, so that DELETE /topics/{name} meets one that exists.
        String concrete = path.getKey().replace("{name}", server.createTopic("openapi"));
        AdminClient.Answer answer = probe(method, concrete);
        assertFalse(answer.status() == 404 || answer.status() == 405,
            () -> method + " " + path.getKey() + " is documented but answers " + answer);
        operations++;
      }
    }
    assertTrue(operations >= 7, "the document lists the REST API: " + operations + " operations");
  }

  @Test
  void everyRouteThatAnswersIsDocumented() {
    Set<String> paths = new LinkedHashSet<>(PROBED_PATHS);
    openApi.path("paths").fieldNames().forEachRemaining(p -> paths.add(p.replace("{name}", "probe")));
    List<String> undocumented = new ArrayList<>();
    for (String path : paths) {
      for (String method : METHODS) {
        AdminClient.Answer answer = probe(method, path);
        boolean noRoute = answer.status() == 405
            || (answer.status() == 404 && !"TOPIC_NOT_FOUND".equals(answer.body().path("error").path("code").asText()));
        if (!noRoute && !documented(method, path)) undocumented.add(method + " " + path + " -> " + answer.status());
      }
    }
    assertEquals(List.of(), undocumented, "routes missing from " + DocsRoutes.OPENAPI_RESOURCE);
  }

  @Test
  void docsServesSwaggerUiFromTheJarPointedAtTheDocument() throws Exception {
    HttpResponse<String> page = get("/docs");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"), page.headers()::toString);
    assertTrue(page.body().contains("/openapi.yaml"), page.body());
    assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(page.body()).find(), "nothing from another host");

    for (String asset : List.of("/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css")) {
      HttpResponse<String> file = get(asset);
      assertEquals(200, file.statusCode(), asset);
      assertTrue(file.body().length() > 10_000, asset + " is Swagger UI's file");
      assertTrue(page.body().contains(asset), "the page loads " + asset);
    }

    Matcher loaded = Pattern.compile("(src|href)=\"(/docs/[^\"]+)\"").matcher(page.body());
    while (loaded.find()) assertEquals(200, get(loaded.group(2)).statusCode(), loaded.group(2));
    // The webjar's stock page and its initializer show the petstore's document, loaded from petstore.swagger.io.
    for (String stock : List.of("/docs/index.html", "/docs/swagger-initializer.js", "/docs/%69ndex.html")) {
      assertEquals(404, get(stock).statusCode(), stock);
    }

    HttpResponse<String> document = get("/openapi.yaml");
    assertEquals(200, document.statusCode());
    assertTrue(document.headers().firstValue("content-type").orElse("").startsWith("application/yaml"));
    assertEquals(openApi, new YAMLMapper().readTree(document.body()), "the served document is the resource");
  }

  @Test
  void theAsyncApiDocumentDescribesEveryMessageTypeOfTheContract() throws IOException {
    JsonNode asyncApi = new YAMLMapper().readTree(Path.of("docs", "asyncapi.yaml").toFile());
    assertTrue(asyncApi.path("asyncapi").asText().startsWith("3."), "an AsyncAPI 3 document");
    String text = asyncApi.toString();
    for (String type : List.of("subscribe", "unsubscribe", "publish", "ping", "ack", "event", "error", "pong", "info")) {
      assertTrue(text.contains("\"const\":\"" + type + "\""), "message type " + type);
    }
    for (String code : List.of("BAD_REQUEST", "PAYLOAD_TOO_LARGE", "TOPIC_NOT_FOUND", "NOT_SUBSCRIBED",
        "RATE_LIMITED", "SLOW_CONSUMER", "UNAUTHORIZED", "INTERNAL")) {
      assertTrue(text.contains(code), "error code " + code);
    }
  }

  private static boolean documented(String method, String path) {
    if (path.startsWith("/docs/")) return true; // Swagger UI's own files, part of GET /docs
    for (Iterator<Map.Entry<String, JsonNode>> paths = openApi.path("paths").fields(); paths.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = paths.next();
      String regex = Pattern.quote(entry.getKey()).replace("{name}", "\\E[^/]+\\Q");
      if (path.matches(regex) && entry.getValue().has(method.toLowerCase(Locale.ROOT))) return true;
    }
    return false;
  }

  private static AdminClient.Answer probe(String method, String path) {
    String body = List.of("POST", "PUT", "PATCH").contains(method)
        ? "{\"name\":\"" + TestServer.uniqueTopicName("probe") + "\"}" : null;
    return server.admin().send(method, path, body);
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(server.httpBase() + path)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
