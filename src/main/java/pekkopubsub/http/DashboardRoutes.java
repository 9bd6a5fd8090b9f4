package pekkopubsub.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Properties;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /dashboard}: a read-only live page that polls {@code /stats} and {@code /metrics} and
 * draws them with uPlot, every file served from the jar (the page's own under
 * {@code pekkopubsub/dashboard/}, uPlot from its webjar under {@code /dashboard/uplot/}).
 */
public final class DashboardRoutes extends AllDirectives {
  private static final String RESOURCES = "pekkopubsub/dashboard";
  private static final String WEBJAR_PROPERTIES = "META-INF/maven/org.webjars.npm/uplot/pom.properties";

  // 'self' only: the page must not load anything from another host. Styles set by script (uPlot
  // positions its legend and cursor that way) are not covered by style-src, so none is relaxed.
  private static final List<HttpHeader> HEADERS = List.of(
      RawHeader.create("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Cache-Control", "no-cache"));

  private final String uplot = "META-INF/resources/webjars/uplot/" + webjarVersion() + "/dist";

  /** GET only; paths are matched before the method, so other paths still end in 404, not 405. */
  public Route routes() {
    return pathPrefix("dashboard", () -> get(() -> respondWithHeaders(HEADERS, () -> concat(
        pathEndOrSingleSlash(() -> getFromResource(RESOURCES + "/index.html", ContentTypes.TEXT_HTML_UTF8)),
        pathPrefix("uplot", () -> getFromResourceDirectory(uplot)),
        getFromResourceDirectory(RESOURCES)))));
  }

  // The webjar's directory carries its version; reading it from the webjar keeps the pom the only place it is set.
  private static String webjarVersion() {
    try (InputStream in = DashboardRoutes.class.getClassLoader().getResourceAsStream(WEBJAR_PROPERTIES)) {
      if (in == null) throw new IllegalStateException("uPlot webjar not on the classpath: " + WEBJAR_PROPERTIES);
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
