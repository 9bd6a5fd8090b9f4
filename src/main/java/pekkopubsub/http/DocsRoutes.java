package pekkopubsub.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;
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
  private static final String WEBJAR_PROPERTIES = "META-INF/maven/org.webjars/swagger-ui/pom.properties";
  private static final ContentType YAML =
      MediaTypes.customWithFixedCharset("application", "yaml", HttpCharsets.UTF_8, Map.of(), true, "yaml")
          .toContentType();

  private final String swaggerUi = "META-INF/resources/webjars/swagger-ui/" + webjarVersion();

  /** GET only; paths are matched before the method, so other paths still end in 404, not 405. */
  public Route routes() {
    return concat(
        path("openapi.yaml", () -> get(() -> getFromResource(OPENAPI_RESOURCE, YAML))),
        pathPrefix("docs", () -> get(() -> concat(
            pathEndOrSingleSlash(() -> getFromResource(INDEX_RESOURCE, ContentTypes.TEXT_HTML_UTF8)),
            getFromResourceDirectory(swaggerUi)))));
  }

  // The webjar's directory carries its version; reading it from the webjar keeps the pom the only place it is set.
  private static String webjarVersion() {
    try (InputStream in = DocsRoutes.class.getClassLoader().getResourceAsStream(WEBJAR_PROPERTIES)) {
      if (in == null) throw new IllegalStateException("Swagger UI webjar not on the classpath: " + WEBJAR_PROPERTIES);
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
