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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.config.Settings;
import pekkopubsub.config.Settings.TlsProvider;

class TlsContextTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void rsaAndEcKeysFromPemFilesServeAHandshakeTheClientTrusts(TlsProvider provider) throws SSLException {
    for (String algorithm : List.of("RSA", "EC")) {
      TestCertificates certs = TestCertificates.create(dir.resolve(algorithm), algorithm);
      TlsContext tls = TlsContext.fromPem(certs.certificate(), certs.privateKey(), provider);
      SSLEngine server = tls.newServerEngine();
      assertFalse(server.getUseClientMode());
      SSLEngine client = certs.handshakeWith(server);
      assertEquals("CN=localhost", client.getSession().getPeerPrincipal().getName(), algorithm + " with " + provider);
    }
  }

  @Test
  void theProviderNamedRunsTheSessions() {
    TestCertificates certs = TestCertificates.create(dir, "EC");
    assertEquals("SunJSSE", TlsContext.fromPem(certs.certificate(), certs.privateKey(), TlsProvider.JDK).provider());
    assertEquals("Conscrypt", TlsContext.fromPem(certs.certificate(), certs.privateKey(), TlsProvider.CONSCRYPT).provider());
  }

  @Test
  void anEd25519KeyIsServedByTheJdkAndRefusedByConscryptAtStart() throws SSLException {
    TestCertificates certs = TestCertificates.create(dir, "Ed25519");
    TlsContext tls = TlsContext.fromPem(certs.certificate(), certs.privateKey(), TlsProvider.JDK);
    assertEquals("CN=localhost", certs.handshakeWith(tls.newServerEngine()).getSession().getPeerPrincipal().getName());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TlsContext.fromPem(certs.certificate(), certs.privateKey(), TlsProvider.CONSCRYPT));
    assertTrue(e.getMessage().contains("serves RSA and EC keys, not EdDSA; set it to jdk"), e.getMessage());
  }

  @Test
  void aPkcs1KeyIsRefusedWithTheCommandThatConvertsIt() throws IOException {
    TestCertificates certs = TestCertificates.create(dir, "RSA");
    Path pkcs1 = Files.writeString(dir.resolve("rsa.pem"), TestCertificates.pem("RSA PRIVATE KEY", new byte[] {1, 2, 3}));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TlsContext.fromPem(certs.certificate(), pkcs1, TlsProvider.JDK));
    assertTrue(e.getMessage().contains("'RSA PRIVATE KEY'") && e.getMessage().contains("openssl pkcs8 -topk8"), e.getMessage());
  }

  @Test
  void missingAndWrongFilesAreNamedInTheError() throws IOException {
    TestCertificates certs = TestCertificates.create(dir, "EC");
    Path missing = dir.resolve("missing.pem");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(missing, certs.privateKey(), TlsProvider.JDK))
        .getMessage().contains("cannot read the certificate " + missing));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(certs.certificate(), missing, TlsProvider.JDK))
        .getMessage().contains("cannot read the private key " + missing));
    Path text = Files.writeString(dir.resolve("text.pem"), "not a pem file");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(text, certs.privateKey(), TlsProvider.JDK))
        .getMessage().contains(text.toString()));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsContext.fromPem(certs.certificate(), text, TlsProvider.JDK))
        .getMessage().contains("no PEM block in the private key " + text));
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsRefusedAtStart() {
    TestCertificates one = TestCertificates.create(dir.resolve("first"), "EC");
    TestCertificates other = TestCertificates.create(dir.resolve("second"), "EC");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TlsContext.fromPem(one.certificate(), other.privateKey(), TlsProvider.JDK));
    assertTrue(e.getMessage().contains("is not the key of the first certificate in " + one.certificate()), e.getMessage());
  }

  @Test
  void theCertificateAndTheKeyAreSetTogetherOrNotAtAll() {
    assertFalse(new Settings.Tls("", " ", Duration.ZERO, "", TlsProvider.JDK).enabled(), "blank is off");
    assertTrue(new Settings.Tls("a.pem", "b.pem", Duration.ofMinutes(1), "", TlsProvider.JDK).enabled());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Settings.Tls("a.pem", "", Duration.ZERO, "", TlsProvider.JDK));
    assertTrue(e.getMessage().contains("pubsub.http.tls.private-key"), e.getMessage());
    assertTrue(new Settings.Tls("a.pem", "b.pem", Duration.ZERO, "ca.pem", TlsProvider.JDK).requiresClientCertificates());
    e = assertThrows(IllegalArgumentException.class, () -> new Settings.Tls("", "", Duration.ZERO, "ca.pem", TlsProvider.JDK));
    assertTrue(e.getMessage().contains("client-ca asks for client certificates, which needs TLS"), e.getMessage());
  }
}
