package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static pekkopubsub.e2e.CallerDirectory.stderr;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;

/**
 * scripts/run started from another directory, as README's Configuration has it: the server reads
 * that directory's ./application.conf, and a relative CONFIG_FILE is that directory's. After
 * packaging, so the script finds the jar fresh; a `mvn` first on PATH that only fails keeps a
 * stale jar from being built a second time here.
 */
class ScriptsRunIT {
  private static final List<String> SETTINGS = PackagedServer.SERVER_SETTINGS;

  private Process process;

  @AfterEach
  void cleanUp() throws InterruptedException {
    PackagedServer.stop(process);
  }

  @Test
  void theCallersApplicationConfIsTheServersAndSigtermEndsIt() throws Exception {
    Path dir = workDir("conf-here");
    int port = LocalServer.freePort();
    // Only the file names this port: the server answering there read it.
    Files.writeString(dir.resolve("application.conf"), "pubsub.http { host = \"127.0.0.1\", port = " + port + " }\n");
    process = run(dir, null).start();
    AdminClient admin = new AdminClient(URI.create("http://127.0.0.1:" + port));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (TestServer.healthOrNull(admin) == null) {
      if (!process.isAlive()) fail("scripts/run exited with " + process.exitValue() + ": " + stderr(dir));
      if (System.nanoTime() > deadline) fail("no server on port " + port + " (from ./application.conf) within 30 s");
      LocalServer.sleep(50);
    }
    PackagedServer.signal(process, "TERM");
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the server ended after SIGTERM");
    assertEquals(0, process.exitValue(), "exit code after SIGTERM");
  }

  @Test
  void aRelativeConfigFileIsTheCallersDirectorys() throws Exception {
    Path dir = workDir("relative-config-file");
    Files.createDirectories(dir.resolve("conf"));
    // A file that does not parse stops the server at once, naming it: no port, no wait.
    Files.writeString(dir.resolve("conf/my.conf"), "pubsub {\n  http.port = 8001\n");
    process = run(dir, "conf/my.conf").start();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the server refused to start");
    String stderr = stderr(dir);
    assertEquals(1, process.exitValue(), stderr);
    assertTrue(stderr.startsWith("pubsub: invalid configuration: conf/my.conf: "), stderr);
    assertFalse(stderr.contains("not a file"), stderr);
  }

  private static Path workDir(String name) throws Exception {
    return CallerDirectory.create("scripts-run-it", name, "ScriptsRunIT");
  }

  private static ProcessBuilder run(Path dir, String configFile) {
    ProcessBuilder builder = CallerDirectory.script(dir, "scripts/run", List.of(), SETTINGS);
    if (configFile != null) builder.environment().put("CONFIG_FILE", configFile);
    return builder;
  }
}
