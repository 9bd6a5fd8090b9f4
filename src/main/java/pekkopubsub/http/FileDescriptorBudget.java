package pekkopubsub.http;

import java.lang.management.ManagementFactory;
import java.util.OptionalLong;
import pekkopubsub.config.Settings;

/**
 * Compares the process's limit of open files with what the connection limits allow, so that an
 * operator learns at start, not under load, that {@code ulimit -n} (1,024 in many containers and
 * shells) will refuse connections long before {@code max-connections}: past it the server cannot
 * accept, and new clients wait in the kernel's backlog until they give up.
 */
public final class FileDescriptorBudget {

  /** What the server holds besides connections: the jar, the selector, log files, the JVM's own. */
  static final long RESERVED = 128;

  private FileDescriptorBudget() {}

  /** Descriptors the limits let the server hold at once; empty when a limit is 0 (unlimited). */
  public static OptionalLong needed(Settings settings) {
    Settings.Limits limits = settings.limits();
    if (limits.maxConnections() == 0 || limits.maxHttpConnections() == 0) return OptionalLong.empty();
    // A connection over Conscrypt's TLS holds three descriptors instead of one (README, "TLS").
    long perConnection = settings.tls().enabled() && settings.tls().provider() == Settings.TlsProvider.CONSCRYPT ? 3 : 1;
    return OptionalLong.of(((long) limits.maxConnections() + limits.maxHttpConnections()) * perConnection + RESERVED);
  }

  /** The warning for an operator when {@code maxOpenFiles} is below what the limits need; null when it is not. */
  public static String shortfall(Settings settings, long maxOpenFiles) {
    OptionalLong needed = needed(settings);
    if (needed.isEmpty() || maxOpenFiles >= needed.getAsLong()) return null;
    return "the process may open " + maxOpenFiles + " files, but max-connections (" + settings.limits().maxConnections()
        + ") and max-http-connections (" + settings.limits().maxHttpConnections() + ") need about " + needed.getAsLong()
        + ": past it new connections are not accepted; raise the limit (ulimit -n, docker run --ulimit nofile=N)"
        + " or lower MAX_CONNECTIONS";
  }

  /** This process's limit of open files, where the JVM can tell it (Unix). */
  public static OptionalLong maxOpenFiles() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix
        ? OptionalLong.of(unix.getMaxFileDescriptorCount()) : OptionalLong.empty();
  }
}
