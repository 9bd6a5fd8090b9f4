package pekkopubsub.http;

import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /docs}: Swagger UI, served from its webjar, showing the hand-written {@code /openapi.yaml}. */
public final class DocsRoutes extends AllDirectives {
  /** Where the OpenAPI document of the REST API lives on the classpath. */
  public static final String OPENAPI_RESOURCE = "pekkopubsub/openapi.yaml";
  private static final String INDEX_RESOURCE = "pekkopubsub/docs.html";
  private static final ContentType YAML =
      MediaTypes.customWithFixedCharset("application", "yaml", HttpCharsets.UTF_8, Map.of(), true, "yaml")
          .toContentType();

  private final String swaggerUi = Webjars.root("org.webjars", "swagger-ui");

  /** GET only; paths are matched before the method, so other paths still end in 404, not 405. */
  public Route routes() {
    return concat(
        path("openapi.yaml", () -> get(() -> getFromResource(OPENAPI_RESOURCE, YAML))),
        pathPrefix("docs", () -> get(() -> concat(
            pathEndOrSingleSlash(() -> getFromResource(INDEX_RESOURCE, ContentTypes.TEXT_HTML_UTF8)),
            getFromResourceDirectory(swaggerUi)))));
  }
}
