package pekkopubsub.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for localhost and 127.0.0.1, made by the JDK's keytool, as the PEM
 * files an operator gives the server, and a client context that trusts it.
 */
public record TestCertificates(Path certificate, Path privateKey, SSLContext clientContext) {
  private static final char[] PASSWORD = "changeit".toCharArray();

  public static TestCertificates create(Path dir, String keyAlgorithm) {
    return create(dir, keyAlgorithm, 2);
  }

  /** A certificate valid for {@code days} from now. */
  public static TestCertificates create(Path dir, String keyAlgorithm, int days) {
    try {
      Files.createDirectories(dir);
      Path store = dir.resolve("server.p12");
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

  /**
   * Runs a client that trusts this certificate against {@code server} in memory until the
   * handshake is done, and returns the client's engine; an {@link SSLException} when it fails.
   */
  public SSLEngine handshakeWith(SSLEngine server) throws SSLException {
    SSLEngine client = clientContext.createSSLEngine("localhost", 443);
    client.setUseClientMode(true);
    ByteBuffer clientOut = ByteBuffer.allocate(1 << 16);
    ByteBuffer serverOut = ByteBuffer.allocate(1 << 16);
    ByteBuffer appIn = ByteBuffer.allocate(1 << 16);
    client.beginHandshake();
    server.beginHandshake();
    for (int step = 0; step < 200 && !(done(client) && done(server)); step++) {
      pump(client, clientOut, serverOut, appIn);
      pump(server, serverOut, clientOut, appIn);
    }
    if (!(done(client) && done(server))) throw new IllegalStateException("the handshake did not finish in 200 steps");
    return client;
  }

  private static void pump(SSLEngine engine, ByteBuffer out, ByteBuffer in, ByteBuffer appIn) throws SSLException {
    SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
    if (status == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
      engine.wrap(ByteBuffer.allocate(0), out);
    } else if (status == SSLEngineResult.HandshakeStatus.NEED_UNWRAP) {
      in.flip();
      engine.unwrap(in, appIn);
      in.compact();
    } else if (status == SSLEngineResult.HandshakeStatus.NEED_TASK) {
      for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) task.run();
    }
  }

  private static boolean done(SSLEngine engine) {
    SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
    return status == SSLEngineResult.HandshakeStatus.FINISHED || status == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
  }

  public static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }
}
