package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import pekkopubsub.Guardian;
import pekkopubsub.LocalServer;
import pekkopubsub.Main;
import pekkopubsub.SelfSignedCertificate;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.client.TrustedCertificates;
import pekkopubsub.config.Settings.TlsProvider;
import pekkopubsub.http.TestCertificates;
import pekkopubsub.http.TlsContext;

/** The port with a certificate: REST over https, WebSocket over wss, nothing in plaintext. */
class TlsE2ETest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void restAndWebSocketWorkOverTlsAndPlaintextIsNotServed(TlsProvider provider) throws Exception {
    try (TlsServer server = TlsServer.start(TestCertificates.create(dir, "EC"), Map.of("http.tls.provider", provider.name()))) {
      HttpClient https = server.https();
      URI base = server.base();
      createTopic(https, base, "secure");

      URI wss = PubSubClient.webSocketUri(base);
      assertEquals("wss", wss.getScheme());
      PubSubClient subscriber = PubSubClient.connect(wss, WAIT, Map.of(), https);
      PubSubClient publisher = PubSubClient.connect(wss, WAIT, Map.of(), https);
      ack(subscriber.subscribe("secure"), "secure");
      for (int i = 1; i <= 3; i++) assertEquals(i, await(publisher.publish("secure", Wire.payload(i))).path("offset").asLong());
      List<JsonNode> events = Wire.events(subscriber, "secure", 3);
      assertEquals(List.of(1L, 2L, 3L), Wire.offsets(events));
      assertEquals(2, events.get(1).path("message").path("payload").path("n").asInt(), events.get(1).toString());

      HttpClient plain = HttpClient.newBuilder().connectTimeout(WAIT).build();
      assertThrows(IOException.class, () -> plain.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).timeout(WAIT).build(),
          HttpResponse.BodyHandlers.ofString()), "a plaintext request gets no HTTP answer");
      // At least one: the JDK client may retry a GET whose connection broke.
      assertTrue(handshakeFailures(server) >= 1, "the plaintext request counted as a handshake failure");

      // The close frame, written last, still reaches the client through the TLS session.
      CoordinatedShutdown.get(server.system()).run(Main.SignalReason.SIGTERM);
      assertEquals(1001, await(subscriber.closed(), WAIT).code());
    }
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void withAClientCaOnlyClientsPresentingACertificateItSignedGetIn(TlsProvider provider) throws Exception {
    TestCertificates certs = TestCertificates.create(dir.resolve("server"), "EC");
    SelfSignedCertificate client = SelfSignedCertificate.create(dir.resolve("client"), "EC", 2);
    SelfSignedCertificate stranger = SelfSignedCertificate.create(dir.resolve("stranger"), "EC", 2);
    try (TlsServer server = TlsServer.start(certs.presenting(client),
        Map.of("http.tls.client-ca", client.certificate().toString(), "http.tls.provider", provider.name()))) {
      createTopic(server.https(), server.base(), "mutual");
      URI wss = PubSubClient.webSocketUri(server.base());
      PubSubClient subscriber = PubSubClient.connect(wss, WAIT, Map.of(), server.https());
      ack(subscriber.subscribe("mutual"), "mutual");
      await(PubSubClient.connect(wss, WAIT, Map.of(), server.https()).publish("mutual", Wire.payload(1)));
      assertEquals(List.of(1L), Wire.offsets(Wire.events(subscriber, "mutual", 1)));

      SSLContext strangers = TrustedCertificates.context(certs.certificate(),
          TlsContext.keyManagers(stranger.certificate(), stranger.privateKey()));
      for (SSLContext refused : List.of(certs.clientContext(), strangers)) {
        HttpClient https = HttpClient.newBuilder().sslContext(refused).connectTimeout(WAIT).build();
        assertThrows(IOException.class, () -> https.send(HttpRequest.newBuilder(server.base().resolve("/health")).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofString()), "no certificate, or one the CA did not sign: no answer");
        assertThrows(RuntimeException.class, () -> PubSubClient.connect(wss, WAIT, Map.of(), https), "and no WebSocket");
      }
      assertTrue(handshakeFailures(server) >= 4, "each refusal counted as a handshake failure");
    }
  }

  /** A client that comes back resumes its session (a TLS 1.3 ticket): no certificate signed or checked again. */
  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aClientThatComesBackResumesItsSession(TlsProvider provider) throws Exception {
    TestCertificates certs = TestCertificates.create(dir, "EC");
    try (TlsServer server = TlsServer.start(certs, Map.of("http.tls.provider", provider.name()))) {
      SSLContext client = TrustedCertificates.trusting(certs.certificate());
      SSLSession first = healthOver(client, server.port());
      SSLSession second = healthOver(client, server.port());
      assertEquals(first.getCreationTime(), second.getCreationTime(), "the second connection resumed the first one's session");
    }
  }

  /** A client that opens TCP and never starts the TLS handshake is closed at the request timeout like any silent one. */
  @Test
  void aClientThatNeverHandshakesIsClosedAtTheRequestTimeout() throws Exception {
    try (TlsServer server = TlsServer.start(TestCertificates.create(dir, "EC"), Map.of("pekko.http.server.request-timeout", "1s"))) {
      try (java.net.Socket silent = new java.net.Socket("127.0.0.1", server.port())) {
        silent.setSoTimeout((int) WAIT.toMillis());
        long started = System.nanoTime();
        java.io.InputStream in = silent.getInputStream();
        while (in.read() != -1) {
          // a TLS alert may come before the end
        }
        assertTrue(System.nanoTime() - started < WAIT.toNanos(), "closed by the server, not by the read timeout");
      }
    }
  }

  /** certbot renews in place: the next check serves the new pair to new connections; those already open go on. */
  @Test
  void aCertificateRenewedInPlaceIsServedWithoutARestart() throws Exception {
    TestCertificates first = TestCertificates.create(dir.resolve("first"), "EC");
    TestCertificates renewed = TestCertificates.create(dir.resolve("renewed"), "EC", 90);
    Path live = Files.createDirectories(dir.resolve("live"));
    TestCertificates installed = new TestCertificates(Files.copy(first.certificate(), live.resolve("fullchain.pem")),
        Files.copy(first.privateKey(), live.resolve("privkey.pem")), first.clientContext());
    try (TlsServer server = TlsServer.start(installed, Map.of("http.tls.reload-interval", "200ms"))) {
      createTopic(server.https(), server.base(), "renewal");
      URI wss = PubSubClient.webSocketUri(server.base());
      PubSubClient subscriber = PubSubClient.connect(wss, WAIT, Map.of(), server.https());
      ack(subscriber.subscribe("renewal"), "renewal");

      Files.copy(renewed.certificate(), installed.certificate(), StandardCopyOption.REPLACE_EXISTING);
      Files.copy(renewed.privateKey(), installed.privateKey(), StandardCopyOption.REPLACE_EXISTING);
      HttpClient trustsRenewed = HttpClient.newBuilder().sslContext(renewed.clientContext()).connectTimeout(WAIT).build();
      awaitHealthy(trustsRenewed, server.base());

      HttpClient trustsFirst = HttpClient.newBuilder().sslContext(first.clientContext()).connectTimeout(WAIT).build();
      assertThrows(IOException.class, () -> trustsFirst.send(HttpRequest.newBuilder(server.base().resolve("/health")).build(),
          HttpResponse.BodyHandlers.ofString()), "a new connection gets the renewed certificate");
      PubSubClient publisher = PubSubClient.connect(wss, WAIT, Map.of(), trustsRenewed);
      await(publisher.publish("renewal", Wire.payload(1)));
      assertEquals(List.of(1L), Wire.offsets(Wire.events(subscriber, "renewal", 1)), "the connection opened before goes on");

      String metrics = trustsRenewed.send(HttpRequest.newBuilder(server.base().resolve("/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      long expiry = TlsContext.fromPem(renewed.certificate(), renewed.privateKey(), TlsProvider.JDK).certificate().getNotAfter().toInstant().getEpochSecond();
      double exposed = metrics.lines().filter(line -> line.startsWith("pubsub_tls_certificate_expiry_seconds "))
          .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1))).findFirst().orElse(-1);
      assertEquals(expiry, exposed, metrics);
    }
  }

  /** An alert on TLS failures is for a server with TLS: one without exported them as zeros, which read as TLS working. */
  @Test
  void onlyAServerWithTlsExportsTheTlsSeries() throws Exception {
    try (TestServer plain = TestServer.start()) {
      String metrics = plain.admin().send("GET", "/metrics", null).body().asText();
      assertTrue(metrics.contains("\npubsub_connections "), metrics);
      assertEquals(List.of(), metrics.lines().filter(line -> line.contains("pubsub_tls_")).toList(), "TLS series without TLS");
    }
    try (TlsServer server = TlsServer.start(TestCertificates.create(dir, "EC"), Map.of())) {
      String metrics = server.https().send(HttpRequest.newBuilder(server.base().resolve("/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      for (String series : List.of("pubsub_tls_failures_total{during=\"handshake\"} 0.0",
          "pubsub_tls_failures_total{during=\"session\"} 0.0", "pubsub_tls_reload_refused_total 0.0")) {
        assertTrue(metrics.lines().anyMatch(series::equals), series + " in " + metrics);
      }
    }
  }

  @Test
  void aServerWhoseKeyCannotBeReadStopsAsUnableToServe() throws Exception {
    TestCertificates certs = TestCertificates.create(dir, "RSA");
    ActorSystem<Guardian.Command> system = LocalServer.start(LocalServer.freePort(), Map.of(
        "http.tls.certificate", certs.certificate().toString(), "http.tls.private-key", dir.resolve("absent.pem").toString()));
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(Guardian.BindFailure.INSTANCE, CoordinatedShutdown.get(system).getShutdownReason().orElseThrow(),
        "Main exits 1 for this reason");
  }

  /** A server with the certificate (and {@code overrides}) that answers https, and a client that trusts it. */
  private record TlsServer(ActorSystem<Guardian.Command> system, int port, HttpClient https, URI base) implements AutoCloseable {
    static TlsServer start(TestCertificates certs, Map<String, String> overrides) throws InterruptedException {
      Map<String, String> settings = new java.util.HashMap<>(overrides);
      settings.put("http.tls.certificate", certs.certificate().toString());
      settings.put("http.tls.private-key", certs.privateKey().toString());
      int port = LocalServer.freePort();
      TlsServer server = new TlsServer(LocalServer.start(port, settings),
          port, HttpClient.newBuilder().sslContext(certs.clientContext()).connectTimeout(WAIT).build(),
          URI.create("https://localhost:" + port));
      try {
        awaitHealthy(server.https(), server.base());
        return server;
      } catch (RuntimeException | Error e) {
        server.close();
        throw e;
      }
    }

    @Override
    public void close() {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
    }
  }

  /** {@code GET /health} on a connection of its own; the session it ran in. */
  private static SSLSession healthOver(SSLContext client, int port) throws IOException {
    try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("localhost", port)) {
      socket.setSoTimeout((int) WAIT.toMillis());
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(parameters);
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
      return socket.getSession();
    }
  }

  private static double handshakeFailures(TlsServer server) throws IOException, InterruptedException {
    String metrics = server.https().send(HttpRequest.newBuilder(server.base().resolve("/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return metrics.lines().filter(line -> line.startsWith("pubsub_tls_failures_total{during=\"handshake\"} "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).findFirst().orElse(0);
  }

  private static void createTopic(HttpClient https, URI base, String name) throws IOException, InterruptedException {
    HttpResponse<String> created = https.send(HttpRequest.newBuilder(base.resolve("/topics"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
  }

  private static void awaitHealthy(HttpClient https, URI base) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        HttpResponse<String> health = https.send(HttpRequest.newBuilder(base.resolve("/health")).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"ok\""), health.body());
        return;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) throw new AssertionError("no https answer from " + base, notYet);
        Thread.sleep(100);
      }
    }
  }
}
