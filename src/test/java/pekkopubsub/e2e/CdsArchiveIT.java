package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;

/**
 * scripts/cds-archive run as README says, from another directory: it makes target/pekko-pubsub.jsa
 * of the packaged jar, and scripts/run then starts the server with its classes from that archive,
 * until the jar is newer than the archive.
 */
class CdsArchiveIT {
  private static final List<String> SETTINGS = PackagedServer.SERVER_SETTINGS;

  private final Path archive = Path.of(PackagedServer.jar().toString().replaceFirst("\\.jar$", ".jsa"));
  private Process server;

  @AfterEach
  void cleanUp() throws Exception {
    PackagedServer.stop(server);
    Files.deleteIfExists(archive);
  }

  @Test
  void scriptsRunStartsFromTheArchiveMadeOfItsJarAndNotFromAnOlderOne() throws Exception {
    Files.deleteIfExists(archive);
    Path dir = CallerDirectory.create("cds-archive-it", "run", "CdsArchiveIT");
    Process made = CallerDirectory.script(dir, "scripts/cds-archive", List.of(), SETTINGS).start();
    if (!made.waitFor(240, TimeUnit.SECONDS)) {
      made.descendants().forEach(ProcessHandle::destroyForcibly);
      made.destroyForcibly();
      fail("scripts/cds-archive did not finish in 240 s: " + CallerDirectory.stderr(dir));
    }
    assertEquals(0, made.exitValue(), () -> stderrOf(dir));
    assertEquals(archive.toString(), Files.readString(dir.resolve("stdout.log")).strip(), "it prints the archive's path");
    assertTrue(Files.size(archive) > 1_000_000, "an archive of the server's classes: " + Files.size(archive) + " bytes");

    // -Xshare:on: a JVM that cannot map the archive refuses to start at all
    assertEquals("shared objects file (top)", guardianLoadedFrom(dir, "fresh", "-Xshare:on"));

    Files.setLastModifiedTime(archive, FileTime.fromMillis(Files.getLastModifiedTime(PackagedServer.jar()).toMillis() - 3_600_000));
    assertTrue(guardianLoadedFrom(dir, "stale", "").startsWith("file:"), "an archive older than the jar is left alone");
  }

  /** Starts scripts/run with {@code javaOptions}, asks /health, stops it with SIGTERM; where the server's Guardian class came from. */
  private String guardianLoadedFrom(Path dir, String name, String javaOptions) throws Exception {
    Path classes = dir.resolve(name + "-classes.log");
    Path endpoint = dir.resolve(name + ".endpoint");
    ProcessBuilder builder = CallerDirectory.script(dir, "scripts/run", List.of(), SETTINGS)
        .redirectOutput(dir.resolve(name + "-server.log").toFile()).redirectErrorStream(true);
    builder.environment().put("PORT", "0");
    builder.environment().put("HOST", "127.0.0.1");
    builder.environment().put("ENDPOINT_FILE", endpoint.toString());
    builder.environment().put("JAVA_OPTS", javaOptions + " -Xlog:class+load=info:file=" + classes);
    server = builder.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(endpoint) || !Files.readString(endpoint).startsWith("url=")) {
      if (!server.isAlive()) fail("scripts/run exited with " + server.exitValue() + ": " + Files.readString(dir.resolve(name + "-server.log")));
      if (System.nanoTime() > deadline) fail("the server did not bind within 60 s");
      LocalServer.sleep(50);
    }
    String url = Files.readString(endpoint).lines().findFirst().orElseThrow().substring("url=".length());
    HttpResponse<String> health = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(url + "/health")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode(), health.body());
    PackagedServer.signal(server, "TERM");
    assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the server ended after SIGTERM");
    assertEquals(0, server.exitValue(), "exit code after SIGTERM");
    String line = Files.readAllLines(classes).stream().filter(l -> l.contains(" pekkopubsub.Guardian source: "))
        .findFirst().orElseThrow(() -> new AssertionError("no pekkopubsub.Guardian in " + classes));
    return line.substring(line.indexOf(" source: ") + " source: ".length());
  }

  private static String stderrOf(Path dir) {
    try {
      return CallerDirectory.stderr(dir);
    } catch (Exception e) {
      return e.toString();
    }
  }
}
