package pekkopubsub.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for localhost and 127.0.0.1, made by the JDK's keytool, as the PEM
 * files an operator gives the server, and a client context that trusts it.
 */
public record TestCertificates(Path certificate, Path privateKey, SSLContext clientContext) {
  private static final char[] PASSWORD = "changeit".toCharArray();

  public static TestCertificates create(Path dir, String keyAlgorithm) {
    try {
      Path store = dir.resolve("server.p12");
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "server",
          "-keyalg", keyAlgorithm, "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
          "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
          "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
          .redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("keytool failed: " + output);
      }
      KeyStore keys = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        keys.load(in, PASSWORD);
      }
      Certificate cert = keys.getCertificate("server");
      Path certificate = Files.writeString(dir.resolve("fullchain.pem"), pem("CERTIFICATE", cert.getEncoded()));
      Path privateKey = Files.writeString(dir.resolve("privkey.pem"),
          pem("PRIVATE KEY", keys.getKey("server", PASSWORD).getEncoded()));
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      trusted.setCertificateEntry("server", cert);
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      SSLContext client = SSLContext.getInstance("TLS");
      client.init(null, trust.getTrustManagers(), null);
      return new TestCertificates(certificate, privateKey, client);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }
}
