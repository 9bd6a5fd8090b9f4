package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.config.Settings;

class TlsContextTest {

  @TempDir
  Path dir;

  @Test
  void rsaAndEcKeysFromPemFilesServeAHandshakeTheClientTrusts() throws SSLException {
    for (String algorithm : java.util.List.of("RSA", "EC")) {
      TestCertificates certs = TestCertificates.create(dir.resolve(algorithm), algorithm);
      TlsContext tls = TlsContext.fromPem(certs.certificate(), certs.privateKey());
      SSLEngine server = tls.newServerEngine();
      assertFalse(server.getUseClientMode());
      SSLEngine client = certs.handshakeWith(server);
      assertEquals("CN=localhost", client.getSession().getPeerPrincipal().getName(), algorithm);
    }
  }

  @Test
  void aPkcs1KeyIsRefusedWithTheCommandThatConvertsIt() throws IOException {
    TestCertificates certs = TestCertificates.create(dir, "RSA");
    Path pkcs1 = Files.writeString(dir.resolve("rsa.pem"), TestCertificates.pem("RSA PRIVATE KEY", new byte[] {1, 2, 3}));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TlsContext.fromPem(certs.certificate(), pkcs1));
    assertTrue(e.getMessage().contains("'RSA PRIVATE KEY'") && e.getMessage().contains("openssl pkcs8 -topk8"), e.getMessage());
  }

  @Test
  void missingAndWrongFilesAreNamedInTheError() throws IOException {
    TestCertificates certs = TestCertificates.create(dir, "EC");
    Path missing = dir.resolve("missing.pem");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(missing, certs.privateKey()))
        .getMessage().contains("cannot read the certificate " + missing));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(certs.certificate(), missing))
        .getMessage().contains("cannot read the private key " + missing));
    Path text = Files.writeString(dir.resolve("text.pem"), "not a pem file");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(text, certs.privateKey()))
        .getMessage().contains(text.toString()));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(certs.certificate(), text))
        .getMessage().contains("no PEM block in the private key " + text));
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsRefusedAtStart() {
    TestCertificates one = TestCertificates.create(dir.resolve("first"), "EC");
    TestCertificates other = TestCertificates.create(dir.resolve("second"), "EC");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TlsContext.fromPem(one.certificate(), other.privateKey()));
    assertTrue(e.getMessage().contains("is not the key of the first certificate in " + one.certificate()), e.getMessage());
  }

  @Test
  void theCertificateAndTheKeyAreSetTogetherOrNotAtAll() {
    assertFalse(new Settings.Tls("", " ", Duration.ZERO, "").enabled(), "blank is off");
    assertTrue(new Settings.Tls("a.pem", "b.pem", Duration.ofMinutes(1), "").enabled());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Settings.Tls("a.pem", "", Duration.ZERO, ""));
    assertTrue(e.getMessage().contains("pubsub.http.tls.private-key"), e.getMessage());
    assertTrue(new Settings.Tls("a.pem", "b.pem", Duration.ZERO, "ca.pem").requiresClientCertificates());
    e = assertThrows(IllegalArgumentException.class, () -> new Settings.Tls("", "", Duration.ZERO, "ca.pem"));
    assertTrue(e.getMessage().contains("client-ca asks for client certificates, which needs TLS"), e.getMessage());
  }
}
