package pekkopubsub.http;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
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
import javax.net.ssl.TrustManager;
import pekkopubsub.client.TrustedCertificates;

/**
 * The server's TLS identity, read from the PEM files operators get from their certificate
 * authority (a certificate chain and an unencrypted PKCS #8 private key, as certbot writes them),
 * and the engines it serves connections with.
 */
public final class TlsContext {
  private static final Pattern PEM_BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
  private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS");

  private final SSLContext sslContext;
  private final X509Certificate certificate;
  private final boolean clientCertificatesRequired;

  private TlsContext(SSLContext sslContext, X509Certificate certificate, boolean clientCertificatesRequired) {
    this.sslContext = sslContext;
    this.certificate = certificate;
    this.clientCertificatesRequired = clientCertificatesRequired;
  }

  /** Reads both files; an {@link IllegalArgumentException} says which file is wrong and how. */
  public static TlsContext fromPem(Path certificateChain, Path privateKey) {
    return fromPem(certificateChain, privateKey, null);
  }

  /** The same, requiring client certificates signed by a CA of {@code clientCa} unless it is null. */
  public static TlsContext fromPem(Path certificateChain, Path privateKey, Path clientCa) {
    return fromPem(certificateChain, read(certificateChain, "certificate"), privateKey, read(privateKey, "private key"),
        clientCa, clientCa == null ? new byte[0] : read(clientCa, "client CA file"));
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
      byte[] clientCaPem) {
    TrustManager[] clientTrust = clientCa == null ? null : clientTrust(clientCa, clientCaPem);
    List<Certificate> chain = readChain(certificateChain, chainPem);
    KeyManager[] keys = keyManagers(certificateChain, chain, privateKey, keyPem);
    try {
      SSLContext context = SSLContext.getInstance("TLS");
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
        read(privateKey, "private key"));
  }

  private static KeyManager[] keyManagers(Path certificateChain, List<Certificate> chain, Path privateKey, byte[] keyPem) {
    PrivateKey key = readKey(privateKey, new String(keyPem, StandardCharsets.US_ASCII));
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
    return engine;
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

  private static PrivateKey readKey(Path file, String pem) {
    Matcher block = PEM_BLOCK.matcher(pem);
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
