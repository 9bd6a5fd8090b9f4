package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;
import pekkopubsub.http.TestCertificates;

/**
 * The image's run without Docker: the packaged jar started as its ENTRYPOINT starts it, in a
 * directory whose application.conf (the one an operator mounts over /app/application.conf) sets
 * the port and TLS, with ENDPOINT_FILE as the Dockerfile sets it and no PORT or TLS_* variable;
 * then scripts/healthcheck as HEALTHCHECK runs it, in that environment.
 */
class HealthcheckIT {
  private static final List<String> SETTINGS = Stream.concat(PackagedServer.SERVER_SETTINGS.stream(),
      Stream.of("HEALTHCHECK_CERT", "HEALTHCHECK_KEY")).toList();

  private Process server;

  @AfterEach
  void cleanUp() throws InterruptedException {
    PackagedServer.stop(server);
  }

  @Test
  void aPortAndTlsSetInTheMountedFileAreWhatTheCheckAsks() throws Exception {
    Path dir = PackagedServer.jar().getParent().resolve("healthcheck-it");
    TestCertificates certs = TestCertificates.create(Files.createDirectories(dir.resolve("certs")), "EC");
    int port = LocalServer.freePort();
    Files.writeString(dir.resolve("application.conf"), "pubsub.http {\n  port = " + port + "\n"
        + "  tls.certificate = \"" + dir.relativize(certs.certificate()) + "\"\n"
        + "  tls.private-key = \"" + dir.relativize(certs.privateKey()) + "\"\n}\n");
    Path endpoint = dir.resolve("tmp/pekko-pubsub.endpoint");
    // Left by the run before, as in a container restarted in place: it must not stand for this one.
    Files.createDirectories(endpoint.getParent());
    Files.writeString(endpoint, "url=http://127.0.0.1:1\nclient_certificate=none\n");

    ProcessBuilder builder = PackagedServer.command(PackagedServer.jar(), dir, SETTINGS)
        .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
    builder.environment().put("ENDPOINT_FILE", endpoint.toString());
    server = builder.start();

    String expected = "url=https://127.0.0.1:" + port + "\nclient_certificate=none\n";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(endpoint) || !Files.readString(endpoint).equals(expected)) {
      if (!server.isAlive()) fail("the server exited with " + server.exitValue() + ": " + Files.readString(dir.resolve("server.log")));
      if (System.nanoTime() > deadline) fail("no " + expected + " in " + endpoint + " within 30 s");
      LocalServer.sleep(50);
    }
    Ran healthy = check(dir, endpoint);
    assertEquals(0, healthy.exit(), healthy.toString());
    assertTrue(healthy.out().contains("\"status\":\"ok\""), healthy.toString());

    PackagedServer.signal(server, "TERM");
    assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the server ended after SIGTERM");
    assertEquals(0, server.exitValue(), "exit code after SIGTERM");
    assertFalse(Files.exists(endpoint), "the orderly stop removed " + endpoint);
    Ran stopped = check(dir, endpoint);
    assertEquals(1, stopped.exit(), stopped.toString());
  }

  record Ran(int exit, String out, String err) {}

  private static Ran check(Path dir, Path endpoint) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("bash", Path.of("scripts/healthcheck").toAbsolutePath().toString())
        .directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(dir.resolve("check.out").toFile())
        .redirectError(dir.resolve("check.err").toFile());
    builder.environment().keySet().removeIf(SETTINGS::contains);
    builder.environment().put("ENDPOINT_FILE", endpoint.toString());
    Process check = builder.start();
    if (!check.waitFor(20, TimeUnit.SECONDS)) {
      check.destroyForcibly();
      fail("the health check did not finish in 20 s");
    }
    return new Ran(check.exitValue(), Files.readString(dir.resolve("check.out")), Files.readString(dir.resolve("check.err")));
  }
}
