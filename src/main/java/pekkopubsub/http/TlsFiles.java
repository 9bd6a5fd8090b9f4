package pekkopubsub.http;

import static net.logstash.logback.argument.StructuredArguments.kv;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import pekkopubsub.config.Settings.TlsProvider;

/**
 * The TLS identity the port serves, from its PEM files: read at start, and read again by each
 * {@link #check()}, which serves the new pair to the connections that come after it once both
 * files have changed into a valid pair (certbot renews them in place every two months or so).
 *
 * <p>Why a volatile reference read by every accepted connection: the certificate is configuration
 * that changes a few times a year, read once per connection at accept; a message to an actor per
 * accept would only add a hop to every connection's start.
 */
public final class TlsFiles {
  private static final Logger log = LoggerFactory.getLogger(TlsFiles.class);

  /** What a {@link #check()} found. */
  public enum Check {
    /** The files hold what is served. */
    UNCHANGED,
    /** The files changed into a valid pair, which new connections get from now on. */
    RELOADED,
    /** The files changed but are not a valid pair (yet): the previous certificate is still served. */
    REFUSED
  }

  private final Sources sources;
  private volatile TlsContext served;
  /** Digest of the files' contents that {@link #served} was made from, or last refused; guarded by this. */
  private byte[] servedDigest;
  private byte[] refusedDigest;
  private long refusals;

  private TlsFiles(Sources sources, TlsContext served, byte[] servedDigest) {
    this.sources = sources;
    this.served = served;
    this.servedDigest = servedDigest;
  }

  /**
   * Reads the files, as {@link TlsContext#fromPem} does, with its errors; {@code clientCa} null
   * when no client certificates are asked for; {@code provider} runs the sessions.
   */
  public static TlsFiles load(Path certificateChain, Path privateKey, Path clientCa, TlsProvider provider) {
    Sources sources = new Sources(certificateChain, privateKey, clientCa, provider);
    Contents contents = sources.read();
    TlsContext context = sources.context(contents);
    logServed("TLS certificate loaded", certificateChain, context);
    return new TlsFiles(sources, context, contents.digest());
  }

  /** A server-side engine, with the certificate served now. */
  public SSLEngine newServerEngine() {
    return served.newServerEngine();
  }

  /** The certificate served now. */
  public X509Certificate certificate() {
    return served.certificate();
  }

  /** How many checks found changed files that were not a valid pair. */
  public synchronized long refusals() {
    return refusals;
  }

  /**
   * Reads both files and serves them from now on if they changed and make a valid pair. Blocks on
   * the file system: run it where blocking is allowed. A refused pair is logged once (WARN), not
   * at every check that finds it again.
   */
  public synchronized Check check() {
    Contents contents;
    TlsContext context;
    try {
      contents = sources.read();
    } catch (IllegalArgumentException e) {
      return refused(digest(e.getMessage().getBytes()), e);
    }
    byte[] digest = contents.digest();
    if (Arrays.equals(digest, servedDigest)) return Check.UNCHANGED;
    try {
      context = sources.context(contents);
    } catch (IllegalArgumentException e) {
      return refused(digest, e);
    }
    served = context;
    servedDigest = digest;
    refusedDigest = null;
    logServed("TLS certificate reloaded", sources.certificateChain(), context);
    return Check.RELOADED;
  }

  private static void logServed(String what, Path file, TlsContext context) {
    log.info(what + " {} {} {} {}", kv("file", file), kv("subject", context.certificate().getSubjectX500Principal()),
        kv("valid_until", context.certificate().getNotAfter().toInstant()), kv("provider", context.provider()));
  }

  private Check refused(byte[] digest, IllegalArgumentException cause) {
    refusals++;
    if (!Arrays.equals(digest, refusedDigest)) {
      log.warn("TLS files changed but are not served; the previous certificate still is: {}", cause.getMessage());
      refusedDigest = digest;
    }
    return Check.REFUSED;
  }

  /** Where the identity comes from; {@code clientCa} null when no client certificates are asked for. */
  private record Sources(Path certificateChain, Path privateKey, Path clientCa, TlsProvider provider) {
    Contents read() {
      return new Contents(TlsContext.read(certificateChain, "certificate"), TlsContext.read(privateKey, "private key"),
          clientCa == null ? new byte[0] : TlsContext.read(clientCa, "client CA file"));
    }

    TlsContext context(Contents contents) {
      return TlsContext.fromPem(certificateChain, contents.chainPem(), privateKey, contents.keyPem(), clientCa,
          contents.clientCaPem(), provider);
    }
  }

  /** The files' bytes as one read found them. */
  private record Contents(byte[] chainPem, byte[] keyPem, byte[] clientCaPem) {
    byte[] digest() {
      return TlsFiles.digest(chainPem, keyPem, clientCaPem);
    }
  }

  private static byte[] digest(byte[]... files) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (byte[] file : files) {
        sha.update(file);
        sha.update((byte) 0);
      }
      return sha.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
