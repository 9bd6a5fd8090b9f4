package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import pekkopubsub.http.TestCertificates;

/** The packaged server jar (system property {@code server.jar}, set by failsafe) run as an operator runs it: {@code java -jar}. */
final class PackagedServer {
  private PackagedServer() {}

  /**
   * The variables that set the server's or its JVM's settings: a test that starts the server, or a
   * script that does, removes them from the environment it inherits and sets only its own.
   */
  static final List<String> SERVER_SETTINGS = List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "LOG_LEVEL", "LOG_FORMAT",
      "PORT", "HOST", "TLS_CERTIFICATE", "TLS_PRIVATE_KEY", "TLS_CLIENT_CA", "TLS_PROVIDER", "TLS_RELOAD_INTERVAL",
      "ENDPOINT_FILE", "JAVA_OPTS", "JAVA_TOOL_OPTIONS");

  static Path jar() {
    String jar = System.getProperty("server.jar");
    assertNotNull(jar, "system property server.jar (set by failsafe)");
    Path path = Path.of(jar).toAbsolutePath();
    assertTrue(path.toFile().isFile(), "runnable jar at " + path);
    return path;
  }

  /**
   * {@code java -jar jar} in {@code workDir} (a directory of the test's own, so that no operator
   * application.conf is read), reading nothing, without the settings in {@code unsetVariables}
   * that the test's environment may carry.
   */
  static ProcessBuilder command(Path jar, Path workDir, List<String> unsetVariables) {
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString())
        .directory(workDir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.environment().keySet().removeIf(unsetVariables::contains);
    return builder;
  }

  /**
   * {@code java -jar jar} in {@code workDir} serving TLS with {@code certs} on 127.0.0.1:{@code port},
   * with the JDK's TLS unless {@code provider} names another, its output in {@code log}.
   */
  static Process startTls(Path jar, Path workDir, TestCertificates certs, int port, String provider, Path log)
      throws IOException {
    ProcessBuilder builder = command(jar, workDir, List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "LOG_LEVEL", "LOG_FORMAT",
            "TLS_CLIENT_CA", "TLS_RELOAD_INTERVAL", "TLS_PROVIDER", "JAVA_TOOL_OPTIONS"))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.put("PORT", String.valueOf(port));
    env.put("HOST", "127.0.0.1");
    env.put("TLS_CERTIFICATE", certs.certificate().toString());
    env.put("TLS_PRIVATE_KEY", certs.privateKey().toString());
    if (provider != null) env.put("TLS_PROVIDER", provider);
    return builder.start();
  }

  /** Sends the signal ({@code TERM}, {@code INT}) as {@code kill} does. */
  static void signal(Process server, String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(server.pid())).inheritIO().start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
    assertEquals(0, kill.exitValue(), "kill -" + name);
  }

  /** Ends a server a test left running. */
  static void stop(Process server) throws InterruptedException {
    if (server != null && server.isAlive()) {
      server.destroyForcibly();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
