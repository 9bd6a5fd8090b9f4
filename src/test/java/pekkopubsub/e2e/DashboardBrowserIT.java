package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * GET /dashboard in a real headless chromium: {@code scripts/browser-setup} installs Debian's
 * chromium and playwright-core when they are missing, then {@code browser-test/dashboard.mjs}
 * loads the page against this server (with an API key, which the page must forward), publishes
 * over the CLI and checks that the page's figures, table, drill-down and charts move. No skip:
 * when the browser cannot be installed, this test fails.
 */
class DashboardBrowserIT {
  private static final String API_KEY = "dashboard-it-key";
  private static final Path OUT = Path.of("target", "browser-test");

  @Test
  void theDashboardShowsLiveFiguresInHeadlessChromium() throws Exception {
    Files.createDirectories(OUT);
    // First install, on a fresh CI machine: apt-get update and a ~120 MB download.
    run(List.of("scripts/browser-setup"), Map.of(), Duration.ofMinutes(20), OUT.resolve("browser-setup.log"));

    String jar = System.getProperty("server.jar");
    assertNotNull(jar, "system property server.jar (set by failsafe)");
    try (TestServer server = TestServer.start(Map.of("auth.api-keys", API_KEY))) {
      String base = server.httpBase().toString();
      HttpResponse<String> page = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(base + "/dashboard")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, page.statusCode(), "the page itself needs no key, like /docs");
      assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
      assertTrue(!Pattern.compile("(src|href)=\"(https?:)?//").matcher(page.body()).find(), "nothing from another host");

      Path screenshot = OUT.resolve("dashboard.png").toAbsolutePath();
      run(List.of("node", "browser-test/dashboard.mjs", base, "--api-key", API_KEY, "--screenshot", screenshot.toString()),
          // The CLI straight from the packaged jar: scripts/pubsub would rebuild it if a source looked newer.
          Map.of("PUBSUB_JAR", Path.of(jar).toAbsolutePath().toString()),
          Duration.ofMinutes(4), OUT.resolve("dashboard-test.log"));
      assertTrue(Files.size(screenshot) > 10_000, "a screenshot of the page: " + screenshot);
    }
  }

  /** Runs a command from the project's directory; fails with the end of its output unless it exits 0. */
  private static void run(List<String> command, Map<String, String> env, Duration timeout, Path log)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(env);
    Process process = builder.start();
    boolean finished = process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS);
    if (!finished) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    String tail = output.length() > 6000 ? "…" + output.substring(output.length() - 6000) : output;
    assertTrue(finished, () -> String.join(" ", command) + " did not finish within " + timeout + " (" + log + "):\n" + tail);
    assertEquals(0, process.exitValue(), () -> String.join(" ", command) + " failed (" + log + "):\n" + tail);
  }
}
