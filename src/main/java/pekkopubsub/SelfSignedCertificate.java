package pekkopubsub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for localhost and 127.0.0.1, made by the JDK's keytool, as the PEM
 * files an operator gives the server: for servers the bench tool and the tests start themselves.
 */
public record SelfSignedCertificate(Path certificate, Path privateKey) {
  private static final char[] PASSWORD = "changeit".toCharArray();

  /** Writes {@code dir/fullchain.pem} and {@code dir/privkey.pem}, valid for {@code days} from now. */
  public static SelfSignedCertificate create(Path dir, String keyAlgorithm, int days) {
    try {
      Files.createDirectories(dir);
      Path store = dir.resolve("server.p12");
      Files.deleteIfExists(store);
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "server",
          "-keyalg", keyAlgorithm, "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
          "-validity", Integer.toString(days), "-storetype", "PKCS12", "-keystore", store.toString(),
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
      Path certificate = Files.writeString(dir.resolve("fullchain.pem"),
          pem("CERTIFICATE", keys.getCertificate("server").getEncoded()));
      Path privateKey = Files.writeString(dir.resolve("privkey.pem"),
          pem("PRIVATE KEY", keys.getKey("server", PASSWORD).getEncoded()));
      return new SelfSignedCertificate(certificate, privateKey);
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
