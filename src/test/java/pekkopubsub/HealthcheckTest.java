package pekkopubsub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.e2e.TestServer;
import pekkopubsub.http.TestCertificates;

/**
 * scripts/healthcheck, the image's HEALTHCHECK, run as Docker runs it (bash, the container's
 * environment, curl) against a real server: healthy is exit 0, unhealthy exit 1 with the reason
 * on stderr, which {@code docker inspect} shows.
 */
class HealthcheckTest {

  @TempDir
  Path dir;

  record Ran(int exit, String out, String err) {}

  @Test
  void aPlainServerIsHealthyAndOneThatIsNotThereIsNot() throws Exception {
    try (TestServer server = TestServer.start()) {
      Ran ran = check(Map.of("PORT", port(server)));
      assertEquals(0, ran.exit(), ran::toString);
      assertTrue(ran.out().contains("\"status\":\"ok\""), ran::toString);
    }
    Ran down = check(Map.of("PORT", Integer.toString(LocalServer.freePort())));
    assertEquals(1, down.exit(), down::toString);
  }

  @Test
  void aTlsServerIsAskedOverHttps() throws Exception {
    TestCertificates certs = TestCertificates.create(dir.resolve("server"), "EC");
    try (TestServer server = TestServer.start(Map.of(), certs)) {
      Ran ran = check(Map.of("PORT", port(server), "TLS_CERTIFICATE", certs.certificate().toString()));
      assertEquals(0, ran.exit(), ran::toString);
      assertTrue(ran.out().contains("\"status\":\"ok\""), ran::toString);
    }
  }

  @Test
  void underMutualTlsTheCheckPresentsHealthcheckCertAndSaysWhenItHasNone() throws Exception {
    SelfSignedCertificate client = SelfSignedCertificate.create(dir.resolve("client"), "EC", 2);
    SelfSignedCertificate stranger = SelfSignedCertificate.create(dir.resolve("stranger"), "EC", 2);
    TestCertificates certs = TestCertificates.create(dir.resolve("server"), "EC").presenting(client);
    try (TestServer server = TestServer.start(Map.of("http.tls.client-ca", client.certificate().toString()), certs)) {
      Map<String, String> container = Map.of("PORT", port(server), "TLS_CERTIFICATE", certs.certificate().toString(),
          "TLS_CLIENT_CA", client.certificate().toString());

      Ran without = check(container);
      assertEquals(1, without.exit(), without::toString);
      assertTrue(without.err().contains("TLS_CLIENT_CA is set") && without.err().contains("HEALTHCHECK_CERT and HEALTHCHECK_KEY"),
          without::toString);

      Ran signed = check(with(container, client));
      assertEquals(0, signed.exit(), signed::toString);
      assertTrue(signed.out().contains("\"status\":\"ok\""), signed::toString);

      Ran refused = check(with(container, stranger));
      assertEquals(1, refused.exit(), refused::toString);
      assertTrue(refused.err().contains("the server did not take HEALTHCHECK_CERT"), refused::toString);

      Map<String, String> unreadable = new HashMap<>(with(container, client));
      unreadable.put("HEALTHCHECK_KEY", dir.resolve("missing.pem").toString());
      Ran missing = check(unreadable);
      assertEquals(1, missing.exit(), missing::toString);
      assertTrue(missing.err().contains("cannot read " + dir.resolve("missing.pem")), missing::toString);
    }
  }

  private static String port(TestServer server) {
    return Integer.toString(server.httpBase().getPort());
  }

  private static Map<String, String> with(Map<String, String> container, SelfSignedCertificate identity) {
    Map<String, String> env = new HashMap<>(container);
    env.put("HEALTHCHECK_CERT", identity.certificate().toString());
    env.put("HEALTHCHECK_KEY", identity.privateKey().toString());
    return env;
  }

  /** The check with {@code env} as the container's settings, none inherited from this JVM's environment. */
  private Ran check(Map<String, String> env) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(List.of("bash", "scripts/healthcheck"));
    Map<String, String> environment = builder.environment();
    environment.keySet().removeIf(name -> name.equals("PORT") || name.startsWith("TLS_") || name.startsWith("HEALTHCHECK_"));
    environment.putAll(env);
    File out = Files.createTempFile(dir, "check", ".out").toFile();
    File err = Files.createTempFile(dir, "check", ".err").toFile();
    Process p = builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(out).redirectError(err).start();
    // Docker gives the check 3 s (--timeout in the Dockerfile); more here for a loaded machine.
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the health check did not finish in 20 s");
    }
    return new Ran(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
        Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }
}
