package pekkopubsub.http;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import pekkopubsub.SelfSignedCertificate;
import pekkopubsub.client.TrustedCertificates;

/** A {@link SelfSignedCertificate} and a client context that trusts it. */
public record TestCertificates(Path certificate, Path privateKey, SSLContext clientContext) {

  public static TestCertificates create(Path dir, String keyAlgorithm) {
    return create(dir, keyAlgorithm, 2);
  }

  /** A certificate valid for {@code days} from now. */
  public static TestCertificates create(Path dir, String keyAlgorithm, int days) {
    SelfSignedCertificate made = SelfSignedCertificate.create(dir, keyAlgorithm, days);
    return new TestCertificates(made.certificate(), made.privateKey(), TrustedCertificates.trusting(made.certificate()));
  }

  /** The same, with a client context that also presents {@code client}'s certificate (for mutual TLS). */
  public TestCertificates presenting(SelfSignedCertificate client) {
    return new TestCertificates(certificate, privateKey,
        TrustedCertificates.context(certificate, TlsContext.keyManagers(client.certificate(), client.privateKey())));
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
    return SelfSignedCertificate.pem(type, der);
  }
}
