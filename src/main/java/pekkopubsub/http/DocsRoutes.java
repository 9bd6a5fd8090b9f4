package pekkopubsub.http;

import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /docs}: Swagger UI, served from its webjar, showing the hand-written {@code /openapi.yaml}. */
public final class DocsRoutes extends AllDirectives {
  /** Where the OpenAPI document of the REST API lives on the classpath. */
  public static final String OPENAPI_RESOURCE = "pekkopubsub/openapi.yaml";
  private static final String INDEX_RESOURCE = "pekkopubsub/docs.html";
  private static final ContentType YAML =
      MediaTypes.customWithFixedCharset("application", "yaml", HttpCharsets.UTF_8, Map.of(), true, "yaml")
          .toContentType();

  /**
   * The webjar's files that /docs loads, and the source maps a browser's tools ask for. Not the whole
   * directory: its stock index.html runs swagger-initializer.js, which loads the petstore's document
   * from petstore.swagger.io.
   */
  private static final Set<String> ASSETS = Set.of("swagger-ui-bundle.js", "swagger-ui-bundle.js.map", "swagger-ui.css",
      "swagger-ui.css.map", "favicon-32x32.png", "favicon-16x16.png");

  private final String swaggerUi = Webjars.root("org.webjars", "swagger-ui");

  /**
   * The page ({@code /docs}) and the document it shows ({@code /openapi.yaml}): behind the API key
   * when one is configured, as the contract lists {@code GET /docs} among the REST calls. GET
   * only; paths are matched before the method, so other paths still end in 404, not 405.
   */
  public Route pages() {
    return concat(
        path("openapi.yaml", () -> get(() -> getFromResource(OPENAPI_RESOURCE, YAML))),
        pathPrefix("docs", () -> pathEndOrSingleSlash(() -> get(() -> getFromResource(INDEX_RESOURCE, ContentTypes.TEXT_HTML_UTF8)))));
  }

  /** Swagger UI's own scripts and styles under {@code /docs/}: open, the same public files for everyone. */
  public Route assets() {
    // The directory itself (/docs, /docs/) is rejected here and left to pages(); any other file is not found.
    return pathPrefix("docs", () -> path(PathMatchers.segment(), file -> ASSETS.contains(file)
        ? get(() -> getFromResource(swaggerUi + "/" + file)) : reject()));
  }
}
