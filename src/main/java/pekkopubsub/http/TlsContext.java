package pekkopubsub.http;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import org.conscrypt.AllocatedBuffer;
import org.conscrypt.BufferAllocator;
import org.conscrypt.Conscrypt;
import pekkopubsub.client.TrustedCertificates;
import pekkopubsub.config.Settings.TlsProvider;

/**
 * The server's TLS identity, read from the PEM files operators get from their certificate
 * authority (a certificate chain and an unencrypted PKCS #8 private key, as certbot writes them),
 * and the engines it serves connections with.
 */
public final class TlsContext {
  private static final Pattern PEM_BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
  private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS");
  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

  private final SSLContext sslContext;
  private final X509Certificate certificate;
  private final boolean clientCertificatesRequired;

  static final String REJECT_RENEGOTIATION = "jdk.tls.rejectClientInitiatedRenegotiation";

  static {
    // A TLS 1.2 client may ask for a new handshake mid-session, and the JDK accepts: a client could
    // make the server run full handshakes, its costliest work, as often as it liked (README, TLS).
    // Set here, not only in scripts/jvm.options, which `java -jar` does not read; JSSE reads it when
    // it serves its first handshake, which follows this class. An operator's explicit value stands.
    if (System.getProperty(REJECT_RENEGOTIATION) == null) System.setProperty(REJECT_RENEGOTIATION, "true");
  }

  private TlsContext(SSLContext sslContext, X509Certificate certificate, boolean clientCertificatesRequired) {
    this.sslContext = sslContext;
    this.certificate = certificate;
    this.clientCertificatesRequired = clientCertificatesRequired;
  }

  /** Reads both files; an {@link IllegalArgumentException} says which file is wrong and how. */
  public static TlsContext fromPem(Path certificateChain, Path privateKey, TlsProvider provider) {
    return fromPem(certificateChain, read(certificateChain, "certificate"), privateKey, read(privateKey, "private key"),
        null, new byte[0], provider);
  }

  /** The contents of a file, or an {@link IllegalArgumentException} naming it as the {@code role} file. */
  static byte[] read(Path file, String role) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("TLS: cannot read the " + role + " " + file + ": " + e, e);
    }
  }

  /** The files' contents, already read ({@code clientCa} null: no client certificates, its contents ignored); the paths name them in errors. */
  static TlsContext fromPem(Path certificateChain, byte[] chainPem, Path privateKey, byte[] keyPem, Path clientCa,
      byte[] clientCaPem, TlsProvider provider) {
    TrustManager[] clientTrust = clientCa == null ? null : clientTrust(clientCa, clientCaPem);
    List<Certificate> chain = readChain(certificateChain, chainPem);
    PrivateKey key = readKey(privateKey, keyPem);
    KeyManager[] keys = keyManagers(certificateChain, chain, privateKey, key);
    try {
      SSLContext context = usesConscrypt(provider, key.getAlgorithm())
          ? SSLContext.getInstance("TLS", ConscryptHolder.PROVIDER)
          : SSLContext.getInstance("TLS");
      context.init(keys, clientTrust, null);
      return new TlsContext(context, (X509Certificate) chain.get(0), clientTrust != null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JDK has TLS", e);
    }
  }

  /**
   * The identity a TLS context presents, from PEM files as {@link #fromPem} reads them: a server's,
   * or a client's certificate for a server that asks for one.
   */
  public static KeyManager[] keyManagers(Path certificateChain, Path privateKey) {
    return keyManagers(certificateChain, readChain(certificateChain, read(certificateChain, "certificate")), privateKey,
        readKey(privateKey, read(privateKey, "private key")));
  }

  private static KeyManager[] keyManagers(Path certificateChain, List<Certificate> chain, Path privateKey, PrivateKey key) {
    requireMatch(chain.get(0), key, certificateChain, privateKey);
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("identity", key, new char[0], chain.toArray(Certificate[]::new));
      KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, new char[0]);
      return keys.getKeyManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("TLS: the private key " + privateKey + " does not go with the certificate "
          + certificateChain + ": " + e.getMessage(), e);
    }
  }

  /** The server's own certificate, the first of the chain. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** A server-side engine for one accepted connection. */
  public SSLEngine newServerEngine() {
    SSLEngine engine = sslContext.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setNeedClientAuth(clientCertificatesRequired);
    if (Conscrypt.isConscrypt(engine)) {
      Conscrypt.setBufferAllocator(engine, ThreadDirectBuffers.INSTANCE);
      // Conscrypt's default sends no TLS 1.3 tickets, so every reconnect paid a full handshake;
      // the JDK's engine sends them. 0-RTT stays off in both.
      Conscrypt.setUseSessionTickets(engine, true);
    }
    return engine;
  }

  /**
   * Frees what an ended session holds outside the heap. Conscrypt frees a session's native memory
   * once both directions are closed and nothing is left to send (else only its finalizer, after a
   * collection, does); a connection that ended otherwise has its close_notify discarded into
   * {@code scratch}. The JDK's engine holds nothing to free.
   */
  public static void release(SSLEngine engine, ByteBuffer scratch) {
    if (!Conscrypt.isConscrypt(engine)) return;
    engine.closeOutbound();
    try {
      engine.closeInbound();
      while (!engine.isOutboundDone() && engine.wrap(NOTHING, scratch.clear()).bytesProduced() > 0) {
        // discarded: the connection is gone
      }
    } catch (SSLException | RuntimeException alreadyBroken) {
      // a session that cannot even be closed is left to Conscrypt's finalizer
    }
  }

  /** What runs the sessions: "Conscrypt" or the JDK's "SunJSSE". */
  public String provider() {
    return sslContext.getProvider().getName();
  }

  /**
   * Whether {@code provider} is Conscrypt, which can serve a key of {@code keyAlgorithm} here; an
   * {@link IllegalArgumentException} when it cannot. Conscrypt serves RSA and EC keys: BoringSSL
   * does not take others (Ed25519) from a Java key manager.
   */
  static boolean usesConscrypt(TlsProvider provider, String keyAlgorithm) {
    if (provider == TlsProvider.JDK) return false;
    if (ConscryptHolder.UNAVAILABLE != null) {
      throw new IllegalArgumentException("TLS: pubsub.http.tls.provider is conscrypt, but its native library does not load here ("
          + ConscryptHolder.UNAVAILABLE + "); set it to jdk");
    }
    if (!keyAlgorithm.equals("RSA") && !keyAlgorithm.equals("EC")) {
      throw new IllegalArgumentException("TLS: pubsub.http.tls.provider is conscrypt, which serves RSA and EC keys, not "
          + keyAlgorithm + "; set it to jdk");
    }
    return true;
  }

  /** Conscrypt's provider, made once, and why its native library did not load (null: it did). */
  private static final class ConscryptHolder {
    static final String UNAVAILABLE = unavailability();
    static final Provider PROVIDER = UNAVAILABLE == null ? Conscrypt.newProvider() : null;

    private static String unavailability() {
      try {
        Conscrypt.checkAvailability();
        return null;
      } catch (Throwable e) {
        return e.toString();
      }
    }
  }

  /**
   * Conscrypt copies between heap buffers and BoringSSL through a direct buffer. Without an
   * allocator each engine keeps one of 17 KB for its whole life, per connection; these belong to
   * the thread, as {@link TlsStage}'s own buffers do, and are used within one call of the engine.
   */
  private static final class ThreadDirectBuffers extends BufferAllocator {
    static final ThreadDirectBuffers INSTANCE = new ThreadDirectBuffers();
    private static final ThreadLocal<ByteBuffer> BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(17 * 1024));

    @Override
    public AllocatedBuffer allocateDirectBuffer(int capacity) {
      ByteBuffer buffer = BUFFER.get();
      if (buffer.capacity() < capacity) {
        buffer = ByteBuffer.allocateDirect(capacity);
        BUFFER.set(buffer);
      }
      buffer.clear().limit(capacity);
      return AllocatedBuffer.wrap(buffer);
    }
  }

  /** Trusts exactly the CA certificates of {@code file} for clients' certificates. */
  private static TrustManager[] clientTrust(Path file, byte[] pem) {
    List<Certificate> authorities = readChain(file, pem);
    try {
      return TrustedCertificates.trustingExactly(authorities);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("TLS: the client CA file " + file + " cannot be trusted: " + e.getMessage(), e);
    }
  }

  /**
   * A key that is not the certificate's would fail every handshake with an error only the client
   * sees; signing a probe with it and checking that with the certificate says so at start.
   */
  private static void requireMatch(Certificate certificate, PrivateKey key, Path certificateFile, Path keyFile) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "EdDSA", "Ed25519", "Ed448" -> key.getAlgorithm();
      default -> null;
    };
    if (algorithm == null) return;
    boolean matches;
    try {
      byte[] probe = "pekko-pubsub".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      throw new IllegalArgumentException("TLS: the private key " + keyFile + " is not the key of the first certificate in "
          + certificateFile);
    }
  }

  private static List<Certificate> readChain(Path file, byte[] pem) {
    try {
      List<Certificate> chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)));
      if (chain.isEmpty()) throw new IllegalArgumentException("TLS: no certificate in " + file);
      return chain;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("TLS: " + file + " is not a PEM certificate chain: " + e.getMessage(), e);
    }
  }

  private static PrivateKey readKey(Path file, byte[] pem) {
    Matcher block = PEM_BLOCK.matcher(new String(pem, StandardCharsets.US_ASCII));
    if (!block.find()) throw new IllegalArgumentException("TLS: no PEM block in the private key " + file);
    if (!block.group(1).equals("PRIVATE KEY")) {
      throw new IllegalArgumentException("TLS: the private key " + file + " is a '" + block.group(1)
          + "'; the server reads an unencrypted PKCS #8 'PRIVATE KEY' (convert it with: openssl pkcs8 -topk8 -nocrypt -in "
          + file + ")");
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(block.group(2)));
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException notThisAlgorithm) {
        // the next one
      }
    }
    throw new IllegalArgumentException("TLS: the private key " + file + " is none of " + KEY_ALGORITHMS);
  }
}
