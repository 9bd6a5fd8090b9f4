package pekkopubsub.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.File;
import java.time.Duration;
import java.util.Locale;

/** Every setting of the server, parsed once from the layered configuration. */
public record Settings(
    String host,
    int port,
    int maxHistoryPerTopic,
    int outboundQueueSize,
    OverflowPolicy overflowPolicy,
    int maxFrameSize,
    Duration heartbeatInterval,
    int maxInFlight,
    Duration closeTimeout,
    Duration drainDeadline,
    Duration askTimeout) {

  /** What a connection does when its outbound queue of events is full. */
  public enum OverflowPolicy {
    DROP_OLDEST,
    DISCONNECT;

    static OverflowPolicy parse(String value) {
      return switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "drop-oldest" -> DROP_OLDEST;
        case "disconnect" -> DISCONNECT;
        default -> throw new IllegalArgumentException(
            "pubsub.connection.overflow-policy must be drop-oldest or disconnect, not '" + value + "'");
      };
    }
  }

  public Settings {
    require(port >= 0 && port <= 65535, "pubsub.http.port must be 0..65535");
    require(maxHistoryPerTopic >= 0, "pubsub.topic.max-history must be >= 0");
    require(outboundQueueSize >= 1, "pubsub.connection.outbound-queue-size must be >= 1");
    require(maxFrameSize >= 128, "pubsub.connection.max-frame-size must be >= 128 bytes");
    require(maxInFlight >= 1, "pubsub.connection.max-in-flight must be >= 1");
  }

  /** Reads the {@code pubsub} section of a resolved configuration. */
  public static Settings from(Config config) {
    Config c = config.getConfig("pubsub");
    return new Settings(
        c.getString("http.host"),
        c.getInt("http.port"),
        c.getInt("topic.max-history"),
        c.getInt("connection.outbound-queue-size"),
        OverflowPolicy.parse(c.getString("connection.overflow-policy")),
        Math.toIntExact(c.getBytes("connection.max-frame-size")),
        c.getDuration("connection.heartbeat-interval"),
        c.getInt("connection.max-in-flight"),
        c.getDuration("connection.close-timeout"),
        c.getDuration("shutdown.drain-deadline"),
        c.getDuration("ask-timeout"));
  }

  /**
   * The server's configuration, highest precedence first: environment variables
   * (env-overrides.conf), system properties, the operator's file (CONFIG_FILE, default
   * ./application.conf when present), then {@link #withDefaults the defaults}.
   */
  public static Config load() {
    String path = System.getenv().getOrDefault("CONFIG_FILE", "application.conf");
    File operatorFile = new File(path);
    Config operator = operatorFile.isFile() ? ConfigFactory.parseFile(operatorFile) : ConfigFactory.empty();
    return withDefaults(ConfigFactory.parseResources("env-overrides.conf")
        .withFallback(ConfigFactory.defaultOverrides())
        .withFallback(operator));
  }

  /** {@code overrides} above the server's Pekko settings (pekko-overrides.conf) and every reference.conf, resolved. */
  public static Config withDefaults(Config overrides) {
    return overrides
        .withFallback(ConfigFactory.parseResources("pekko-overrides.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  private static void require(boolean condition, String message) {
    if (!condition) throw new IllegalArgumentException(message);
  }
}
