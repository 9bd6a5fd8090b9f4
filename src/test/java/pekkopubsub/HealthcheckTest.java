package pekkopubsub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.e2e.TestServer;
import pekkopubsub.http.TestCertificates;

/**
 * scripts/healthcheck, the image's HEALTHCHECK, run as Docker runs it (bash, the container's
 * environment, curl) against a real server whose port and TLS come from its configuration, as
 * from a mounted application.conf: the check's environment holds no PORT or TLS_* variable, only
 * ENDPOINT_FILE, as the image sets it. Healthy is exit 0, unhealthy exit 1 with the reason on
 * stderr, which {@code docker inspect} shows.
 */
class HealthcheckTest {

  @TempDir
  Path dir;

  record Ran(int exit, String out, String err) {}

  @Test
  void aPlainServerIsHealthyAndOnceStoppedItIsNot() throws Exception {
    Path endpoint = dir.resolve("run/endpoint");
    Map<String, String> container = Map.of("ENDPOINT_FILE", endpoint.toString());
    try (TestServer server = TestServer.start(Map.of("http.endpoint-file", endpoint.toString()))) {
      awaitFile(endpoint);
      assertEquals("url=http://127.0.0.1:" + server.httpBase().getPort() + "\nclient_certificate=none\n",
          Files.readString(endpoint), "the file the server wrote");
      Ran ran = check(container);
      assertEquals(0, ran.exit(), ran::toString);
      assertTrue(ran.out().contains("\"status\":\"ok\""), ran::toString);
    }
    assertFalse(Files.exists(endpoint), "an orderly stop removes the file");
    Ran stopped = check(container);
    assertEquals(1, stopped.exit(), stopped::toString);
    assertTrue(stopped.err().contains("no " + endpoint + " yet"), stopped::toString);
  }

  @Test
  void aTlsServerIsAskedOverHttps() throws Exception {
    Path endpoint = dir.resolve("endpoint");
    TestCertificates certs = TestCertificates.create(dir.resolve("server"), "EC");
    try (TestServer server = TestServer.start(Map.of("http.endpoint-file", endpoint.toString()), certs)) {
      awaitFile(endpoint);
      Ran ran = check(Map.of("ENDPOINT_FILE", endpoint.toString()));
      assertEquals(0, ran.exit(), ran::toString);
      assertTrue(ran.out().contains("\"status\":\"ok\""), ran::toString);
    }
  }

  @Test
  void underMutualTlsTheCheckPresentsHealthcheckCertAndSaysWhenItHasNone() throws Exception {
    Path endpoint = dir.resolve("endpoint");
    SelfSignedCertificate client = SelfSignedCertificate.create(dir.resolve("client"), "EC", 2);
    SelfSignedCertificate stranger = SelfSignedCertificate.create(dir.resolve("stranger"), "EC", 2);
    TestCertificates certs = TestCertificates.create(dir.resolve("server"), "EC").presenting(client);
    try (TestServer server = TestServer.start(Map.of("http.tls.client-ca", client.certificate().toString(),
        "http.endpoint-file", endpoint.toString()), certs)) {
      awaitFile(endpoint);
      Map<String, String> container = Map.of("ENDPOINT_FILE", endpoint.toString());

      Ran without = check(container);
      assertEquals(1, without.exit(), without::toString);
      assertTrue(without.err().contains("only clients with a certificate its CAs signed")
          && without.err().contains("HEALTHCHECK_CERT and HEALTHCHECK_KEY"), without::toString);

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

  /** Before the server is bound, or after a run that did not stop in order, the check does not pass. */
  @Test
  void withoutAFileOfAServerThatAnswersTheCheckSaysWhy() throws Exception {
    Ran unset = check(Map.of());
    assertEquals(1, unset.exit(), unset::toString);
    assertTrue(unset.err().contains("ENDPOINT_FILE is not set"), unset::toString);

    Path stale = dir.resolve("stale");
    String url = "http://127.0.0.1:" + LocalServer.freePort();
    Files.writeString(stale, "url=" + url + "\nclient_certificate=none\n");
    Ran gone = check(Map.of("ENDPOINT_FILE", stale.toString()));
    assertEquals(1, gone.exit(), gone::toString);
    assertTrue(gone.err().contains("no 200 from " + url + "/health"), gone::toString);

    Path empty = Files.writeString(dir.resolve("empty"), "");
    Ran nothing = check(Map.of("ENDPOINT_FILE", empty.toString()));
    assertEquals(1, nothing.exit(), nothing::toString);
    assertTrue(nothing.err().contains(empty + " names no http(s) url"), nothing::toString);
  }

  /** As in a container restarted in place: the file of the run before names a server that answers, not this one. */
  @Test
  void aFileLeftByAnEarlierRunDoesNotSpeakForAServerThatCouldNotBind() throws Exception {
    Path endpoint = dir.resolve("endpoint");
    Map<String, String> container = Map.of("ENDPOINT_FILE", endpoint.toString());
    try (TestServer answering = TestServer.start();
        ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Files.writeString(endpoint, "url=" + answering.httpBase() + "\nclient_certificate=none\n");
      assertEquals(0, check(container).exit(), "the file left behind passes the check");

      ActorSystem<Guardian.Command> unbound = LocalServer.start(taken.getLocalPort(), Map.of("http.endpoint-file", endpoint.toString()));
      unbound.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertFalse(Files.exists(endpoint), "removed as the server started");
      Ran ran = check(container);
      assertEquals(1, ran.exit(), ran::toString);
      assertTrue(ran.err().contains("no " + endpoint + " yet"), ran::toString);
    }
  }

  /** Written on a thread of its own once the port is bound, which can be just after /health first answers. */
  private static void awaitFile(Path endpoint) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Files.exists(endpoint)) {
      if (System.nanoTime() > deadline) throw new AssertionError("the server wrote no " + endpoint + " within 10 s");
      LocalServer.sleep(20);
    }
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
    environment.keySet().removeIf(name -> name.equals("PORT") || name.startsWith("TLS_") || name.startsWith("HEALTHCHECK_")
        || name.equals("ENDPOINT_FILE"));
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
