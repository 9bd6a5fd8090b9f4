package pekkopubsub.http;

import java.util.List;
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

  // 'self' only: the page must not load anything from another host. Styles set by script (uPlot
  // positions its legend and cursor that way) are not covered by style-src, so none is relaxed.
  private static final List<HttpHeader> HEADERS = List.of(
      RawHeader.create("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Cache-Control", "no-cache"));

  private final String uplot = Webjars.root("org.webjars.npm", "uplot") + "/dist";

  /** GET only; paths are matched before the method, so other paths still end in 404, not 405. */
  public Route routes() {
    return pathPrefix("dashboard", () -> get(() -> respondWithHeaders(HEADERS, () -> concat(
        pathEndOrSingleSlash(() -> getFromResource(RESOURCES + "/index.html", ContentTypes.TEXT_HTML_UTF8)),
        pathPrefix("uplot", () -> getFromResourceDirectory(uplot)),
        getFromResourceDirectory(RESOURCES)))));
  }
}
