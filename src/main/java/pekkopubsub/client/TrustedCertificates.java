package pekkopubsub.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/** Client TLS contexts: trusting exactly the certificates of a PEM file, as curl's {@code --cacert}, and presenting a client certificate. */
public final class TrustedCertificates {

  private TrustedCertificates() {}

  /** Throws {@link IllegalArgumentException} naming the file when it is unreadable or holds no certificate. */
  public static SSLContext trusting(Path pemFile) {
    return context(pemFile, null);
  }

  /**
   * A client TLS context that trusts the certificates of {@code pemFile} (null: the JVM's CAs) and
   * presents {@code identity} (null: none) to a server that asks for a client certificate.
   */
  public static SSLContext context(Path pemFile, KeyManager[] identity) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(identity, pemFile == null ? null : trustManagers(pemFile), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JDK has TLS", e);
    }
  }

  private static TrustManager[] trustManagers(Path pemFile) {
    try (InputStream in = Files.newInputStream(pemFile)) {
      Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) throw new IllegalArgumentException(pemFile + ": no PEM certificate in it");
      return trustingExactly(certificates);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(pemFile + ": " + e.getMessage(), e);
    }
  }

  /** Trust managers that accept exactly the chains ending in one of {@code certificates}; the server's for client CAs too. */
  public static TrustManager[] trustingExactly(Collection<? extends Certificate> certificates)
      throws GeneralSecurityException, IOException {
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    int n = 0;
    for (Certificate certificate : certificates) trusted.setCertificateEntry("ca-" + n++, certificate);
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    return trust.getTrustManagers();
  }
}
