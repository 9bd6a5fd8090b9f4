package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.config.Settings.TlsProvider;

/** Renewing the certificate in place: what each check serves, and what it refuses. */
class TlsFilesTest {

  @TempDir
  Path dir;

  private void install(TestCertificates certs, boolean chain, boolean key) throws IOException {
    if (chain) Files.copy(certs.certificate(), dir.resolve("fullchain.pem"), StandardCopyOption.REPLACE_EXISTING);
    if (key) Files.copy(certs.privateKey(), dir.resolve("privkey.pem"), StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void aRenewedPairIsServedFromTheCheckThatFindsItAndAHalfWrittenOneIsNot() throws Exception {
    TestCertificates first = TestCertificates.create(dir.resolve("first"), "EC");
    TestCertificates renewed = TestCertificates.create(dir.resolve("renewed"), "EC");
    install(first, true, true);
    TlsFiles files = TlsFiles.load(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"), null, TlsProvider.JDK);
    first.handshakeWith(files.newServerEngine());
    assertEquals(TlsFiles.Check.UNCHANGED, files.check());

    install(renewed, true, false);
    assertEquals(TlsFiles.Check.REFUSED, files.check(), "the new chain with the old key");
    assertEquals(TlsFiles.Check.REFUSED, files.check());
    first.handshakeWith(files.newServerEngine());
    assertThrows(SSLException.class, () -> renewed.handshakeWith(files.newServerEngine()));
    assertEquals(2, files.refusals());

    install(renewed, false, true);
    assertEquals(TlsFiles.Check.RELOADED, files.check());
    renewed.handshakeWith(files.newServerEngine());
    assertThrows(SSLException.class, () -> first.handshakeWith(files.newServerEngine()));
    assertEquals(TlsFiles.Check.UNCHANGED, files.check());
    assertEquals(2, files.refusals());
  }

  @Test
  void filesThatCannotBeReadAreRefusedAndTheCertificateServedStays() throws Exception {
    TestCertificates certs = TestCertificates.create(dir.resolve("certs"), "RSA");
    install(certs, true, true);
    TlsFiles files = TlsFiles.load(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"), null, TlsProvider.JDK);
    Files.delete(dir.resolve("privkey.pem"));

    assertEquals(TlsFiles.Check.REFUSED, files.check());
    certs.handshakeWith(files.newServerEngine());

    install(certs, false, true);
    assertEquals(TlsFiles.Check.UNCHANGED, files.check(), "the same pair again");
  }
}
