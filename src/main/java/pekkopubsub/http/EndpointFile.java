package pekkopubsub.http;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pubsub.http.endpoint-file: where the server, once bound, says what it serves, for a health check
 * on the same machine (the image's scripts/healthcheck) to ask that and not what it would guess
 * from environment variables, which a mounted application.conf does not set.
 *
 * <p>Why a file, not the configuration read again by the check: the check runs every 10 s, and
 * resolving the configuration as the server does (reference.conf, application.conf or
 * CONFIG_FILE, the environment) takes a JVM: one that only reads it and stops took 0.8 s of CPU
 * and 74 MB, where bash and curl take about 0.01 s and 12 MB. The file also says what the server
 * did, not what it would do: the address it bound, the port the kernel gave for a port of 0.
 */
public record EndpointFile(Path file) {
  private static final Logger log = LoggerFactory.getLogger(EndpointFile.class);

  /**
   * The file's text: {@code url=} how to reach the bound address from this machine (the loopback
   * when bound to every interface), and {@code client_certificate=} {@code required} under mutual
   * TLS, when the server answers only clients that present a certificate, or {@code none}.
   */
  public static String contents(InetSocketAddress bound, boolean tls, boolean clientCertificate) {
    InetAddress address = bound.getAddress();
    String host;
    if (address == null || address.isAnyLocalAddress()) {
      // The JVM's sockets bound to :: take IPv4 too, so 127.0.0.1 reaches either wildcard.
      host = "127.0.0.1";
    } else if (address instanceof Inet6Address) {
      host = "[" + address.getHostAddress().replace("%", "%25") + "]";
    } else {
      host = address.getHostAddress();
    }
    return "url=" + (tls ? "https" : "http") + "://" + host + ":" + bound.getPort() + "\n"
        + "client_certificate=" + (clientCertificate ? "required" : "none") + "\n";
  }

  /**
   * Replaces the file with {@link #contents}, whole: written beside it and renamed over it, so a
   * check never reads half of it. A failure is logged, not thrown: the server serves all the same.
   */
  public void write(InetSocketAddress bound, boolean tls, boolean clientCertificate) {
    Path absolute = file.toAbsolutePath();
    Path written = null;
    try {
      Files.createDirectories(absolute.getParent());
      written = Files.createTempFile(absolute.getParent(), absolute.getFileName() + ".", ".new");
      Files.writeString(written, contents(bound, tls, clientCertificate), StandardCharsets.UTF_8);
      try {
        Files.move(written, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(written, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException | RuntimeException e) {
      log.warn("cannot write the endpoint file {} (pubsub.http.endpoint-file), which a health check reads: {}", file, e.toString());
      if (written != null) {
        try {
          Files.deleteIfExists(written);
        } catch (IOException ignored) {
          // the warning above says what went wrong
        }
      }
    }
  }

  /**
   * Removes the file: at start, so that one left by an earlier run (a container restarted in place)
   * does not stand for this server before it is bound, and at an orderly stop.
   */
  public void remove() {
    try {
      Files.deleteIfExists(file);
    } catch (IOException | RuntimeException e) {
      log.warn("cannot remove the endpoint file {} (pubsub.http.endpoint-file): {}", file, e.toString());
    }
  }
}
