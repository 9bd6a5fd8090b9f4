package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.http.TestCertificates;

/**
 * The packaged server started as README's TLS example does, {@code java -jar} without
 * scripts/jvm.options: a TLS 1.2 client that asks for a new handshake mid-session is refused.
 */
class TlsRenegotiationIT {
  @TempDir
  Path dir;
  private Process process;

  @AfterEach
  void cleanUp() throws InterruptedException {
    PackagedServer.stop(process);
  }

  @Test
  void aClientInitiatedRenegotiationIsRefusedAndTheSessionEnds() throws Exception {
    TestCertificates certs = TestCertificates.create(dir.resolve("certs"), "EC");
    int port = LocalServer.freePort();
    process = PackagedServer.startTls(PackagedServer.jar(), Files.createDirectories(dir.resolve("work")), certs, port, null,
        dir.resolve("server.log"));
    HttpClient https = HttpClient.newBuilder().sslContext(certs.clientContext()).connectTimeout(Duration.ofSeconds(5)).build();
    TestServer.awaitHealthy(process, new AdminClient(URI.create("https://localhost:" + port), Map.of(), https));

    try (SSLSocket socket = (SSLSocket) certs.clientContext().getSocketFactory().createSocket("localhost", port)) {
      socket.setSoTimeout(10_000);
      socket.setEnabledProtocols(new String[] {"TLSv1.2"});
      socket.startHandshake();
      assertEquals("TLSv1.2", socket.getSession().getProtocol());
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] head = new byte[12];
      assertEquals(12, in.readNBytes(head, 0, 12), "an answer before the renegotiation");
      assertEquals("HTTP/1.1 200", new String(head, StandardCharsets.US_ASCII));

      // The JDK's client renegotiates when asked for a second handshake in TLS 1.2; the refusal
      // arrives as a handshake_failure alert while it reads the server's answer.
      assertThrows(SSLException.class, () -> {
        socket.startHandshake();
        out.write("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        while (in.read(new byte[4096]) >= 0) {
          // what is left of the first answer; the alert or the end comes next
        }
        throw new IOException("the session ended without an alert");
      });
    }
    String log = Files.readString(dir.resolve("server.log"), StandardCharsets.UTF_8);
    assertTrue(process.isAlive(), "the server serves on: " + log);
  }
}
