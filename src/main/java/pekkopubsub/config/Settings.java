package pekkopubsub.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.File;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Every setting of the server, parsed once from the layered configuration. */
public record Settings(
    String host,
    int port,
    Tls tls,
    int maxHistoryPerTopic,
    long historyMemoryBytes,
    FanOutPacing fanOutPacing,
    int outboundQueueSize,
    long outboundQueueBytes,
    long heapHighWatermarkBytes,
    OverflowPolicy overflowPolicy,
    int maxFrameSize,
    boolean permessageDeflate,
    Duration heartbeatInterval,
    int maxUnansweredPings,
    int maxInFlight,
    Duration closeTimeout,
    Duration drainDeadline,
    Duration askTimeout,
    List<String> apiKeys,
    Limits limits) {

  /** The resource limits of issue 5; 0 in a count or rate means unlimited where the field says so. */
  public record Limits(
      int maxConnections,
      int maxHttpConnections,
      int maxSubscriptionsPerConnection,
      int maxTopics,
      double publishRate,
      int publishBurst,
      Duration idleTimeout,
      int maxRequestIdLength,
      int maxClientIdLength,
      int maxJsonNestingDepth,
      int maxJsonNumberLength,
      int maxJsonStringLength) {

    public Limits {
      require(maxConnections >= 0, "pubsub.limits.max-connections must be >= 0 (0: unlimited)");
      require(maxHttpConnections >= 0, "pubsub.limits.max-http-connections must be >= 0 (0: unlimited)");
      require(maxSubscriptionsPerConnection >= 0, "pubsub.limits.max-subscriptions-per-connection must be >= 0 (0: unlimited)");
      require(maxTopics >= 0, "pubsub.limits.max-topics must be >= 0 (0: unlimited)");
      require(publishRate >= 0, "pubsub.limits.publish-rate must be >= 0 (0: unlimited)");
      require(publishBurst >= 1, "pubsub.limits.publish-burst must be >= 1");
      require(!idleTimeout.isNegative(), "pubsub.limits.idle-timeout must be >= 0 (0: off)");
      require(maxRequestIdLength >= 1, "pubsub.limits.max-request-id-length must be >= 1");
      require(maxClientIdLength >= 1, "pubsub.limits.max-client-id-length must be >= 1");
      require(maxJsonNestingDepth >= 2, "pubsub.limits.json.max-nesting-depth must be >= 2");
      require(maxJsonNumberLength >= 20, "pubsub.limits.json.max-number-length must be >= 20");
      require(maxJsonStringLength >= 1024, "pubsub.limits.json.max-string-length must be >= 1 KiB");
    }

    /** The defaults of reference.conf, for code and tests that run without a configuration. */
    public static Limits defaults() {
      return Settings.from(withDefaults(ConfigFactory.empty())).limits();
    }
  }

  /**
   * pubsub.http.tls: PEM files of the certificate chain and its private key, both empty for plain
   * HTTP and ws://; how often they are read again for a renewed pair (zero: never); the PEM file of
   * the CAs whose client certificates are required (empty: none asked for).
   */
  public record Tls(String certificate, String privateKey, Duration reloadInterval, String clientCa, TlsProvider provider) {
    public Tls {
      require(certificate.isBlank() == privateKey.isBlank(),
          "pubsub.http.tls.certificate and pubsub.http.tls.private-key go together: set both (TLS) or neither");
      require(!reloadInterval.isNegative(), "pubsub.http.tls.reload-interval must be >= 0 (0: never)");
      require(clientCa.isBlank() || !certificate.isBlank(),
          "pubsub.http.tls.client-ca asks for client certificates, which needs TLS: set certificate and private-key too");
    }

    public boolean requiresClientCertificates() {
      return !clientCa.isBlank();
    }

    public boolean enabled() {
      return !certificate.isBlank();
    }
  }

  /** pubsub.http.tls.provider: which implementation runs the TLS sessions. */
  public enum TlsProvider {
    /** The JDK's own, in Java. */
    JDK,
    /**
     * Conscrypt (BoringSSL): about half the server's CPU per new TLS connection, but three file
     * descriptors and about 9 KB more memory per connection; the server does not start where its
     * native library does not load.
     */
    CONSCRYPT
  }

  /** pubsub.topic.fan-out-pacing: when a hot topic batches its fan-outs. */
  public record FanOutPacing(Duration spacingPerSubscriber, Duration maxSpacing, long hotDeliveriesPerSecond) {
    /** No pacing: every batch of publishes goes out as soon as the topic has handled it. */
    public static final FanOutPacing OFF = new FanOutPacing(Duration.ZERO, Duration.ZERO, Long.MAX_VALUE);

    public FanOutPacing {
      require(!spacingPerSubscriber.isNegative(), "pubsub.topic.fan-out-pacing.spacing-per-subscriber must be >= 0");
      require(!maxSpacing.isNegative(), "pubsub.topic.fan-out-pacing.max-spacing must be >= 0 (0: off)");
      require(hotDeliveriesPerSecond >= 0, "pubsub.topic.fan-out-pacing.hot-deliveries-per-second must be >= 0 (0: every topic)");
    }
  }

  /** What a connection does when its outbound queue of events is full. */
  public enum OverflowPolicy {
    DROP_OLDEST,
    DISCONNECT
  }

  public Settings {
    require(port >= 0 && port <= 65535, "pubsub.http.port must be 0..65535");
    require(maxHistoryPerTopic >= 0, "pubsub.topic.max-history must be >= 0");
    require(historyMemoryBytes >= 0, "pubsub.topic.history-memory must be >= 0 (0: no budget)");
    require(outboundQueueSize >= 1, "pubsub.connection.outbound-queue-size must be >= 1");
    require(outboundQueueBytes >= 0, "pubsub.connection.outbound-queue-bytes must be >= 0 (0: no byte bound)");
    require(heapHighWatermarkBytes >= 0, "pubsub.connection.heap-high-watermark must be >= 0 (0: off)");
    require(maxFrameSize >= 128, "pubsub.connection.max-frame-size must be >= 128 bytes");
    require(maxInFlight >= 1, "pubsub.connection.max-in-flight must be >= 1");
    require(maxUnansweredPings >= 0, "pubsub.connection.max-unanswered-pings must be >= 0 (0: never close for it)");
    apiKeys = List.copyOf(apiKeys);
    require(apiKeys.stream().noneMatch(String::isEmpty), "pubsub.auth.api-keys must not contain an empty key");
  }

  /** Reads the {@code pubsub} section of a resolved configuration. */
  public static Settings from(Config config) {
    Config c = config.getConfig("pubsub");
    return new Settings(
        c.getString("http.host"),
        c.getInt("http.port"),
        new Tls(c.getString("http.tls.certificate").trim(), c.getString("http.tls.private-key").trim(),
            c.getDuration("http.tls.reload-interval"), c.getString("http.tls.client-ca").trim(),
            choice(c, "http.tls.provider", TlsProvider.class)),
        c.getInt("topic.max-history"),
        heapShareBytes(c, "topic.history-memory", Runtime.getRuntime().maxMemory()),
        new FanOutPacing(c.getDuration("topic.fan-out-pacing.spacing-per-subscriber"),
            c.getDuration("topic.fan-out-pacing.max-spacing"), c.getLong("topic.fan-out-pacing.hot-deliveries-per-second")),
        c.getInt("connection.outbound-queue-size"),
        c.getBytes("connection.outbound-queue-bytes"),
        heapShareBytes(c, "connection.heap-high-watermark", Runtime.getRuntime().maxMemory()),
        choice(c, "connection.overflow-policy", OverflowPolicy.class),
        Math.toIntExact(c.getBytes("connection.max-frame-size")),
        c.getBoolean("connection.permessage-deflate"),
        c.getDuration("connection.heartbeat-interval"),
        c.getInt("connection.max-unanswered-pings"),
        c.getInt("connection.max-in-flight"),
        c.getDuration("connection.close-timeout"),
        c.getDuration("shutdown.drain-deadline"),
        c.getDuration("ask-timeout"),
        apiKeys(c),
        new Limits(
            c.getInt("limits.max-connections"),
            c.getInt("limits.max-http-connections"),
            c.getInt("limits.max-subscriptions-per-connection"),
            c.getInt("limits.max-topics"),
            c.getDouble("limits.publish-rate"),
            c.getInt("limits.publish-burst"),
            c.getDuration("limits.idle-timeout"),
            c.getInt("limits.max-request-id-length"),
            c.getInt("limits.max-client-id-length"),
            c.getInt("limits.json.max-nesting-depth"),
            c.getInt("limits.json.max-number-length"),
            Math.toIntExact(c.getBytes("limits.json.max-string-length"))));
  }

  /** Redacts the API keys: a Settings value may end up in a log line or a test report. */
  @Override
  public String toString() {
    return "Settings[host=" + host + ", port=" + port + ", tls=" + tls + ", maxHistoryPerTopic=" + maxHistoryPerTopic
        + ", historyMemoryBytes=" + historyMemoryBytes
        + ", fanOutPacing=" + fanOutPacing + ", outboundQueueSize=" + outboundQueueSize
        + ", outboundQueueBytes=" + outboundQueueBytes + ", heapHighWatermarkBytes=" + heapHighWatermarkBytes
        + ", overflowPolicy=" + overflowPolicy
        + ", maxFrameSize=" + maxFrameSize + ", permessageDeflate=" + permessageDeflate + ", heartbeatInterval=" + heartbeatInterval
        + ", maxUnansweredPings=" + maxUnansweredPings
        + ", maxInFlight=" + maxInFlight + ", closeTimeout=" + closeTimeout + ", drainDeadline=" + drainDeadline
        + ", askTimeout=" + askTimeout + ", apiKeys=" + apiKeys.size() + " configured, limits=" + limits + "]";
  }

  /** A setting that is a size ("512 MiB", 0 for none) or a share of the maximum heap ("25%"), in bytes. */
  static long heapShareBytes(Config c, String path, long maxHeapBytes) {
    String value = c.getValue(path).valueType() == ConfigValueType.STRING ? c.getString(path).trim() : "";
    if (!value.endsWith("%")) return c.getBytes(path);
    double percent;
    try {
      percent = Double.parseDouble(value.substring(0, value.length() - 1).trim());
    } catch (NumberFormatException e) {
      percent = Double.NaN;
    }
    require(percent > 0 && percent <= 100,
        "pubsub." + path + " must be a size or a share of the maximum heap (over 0%, at most 100%), not '" + value + "'");
    return (long) (maxHeapBytes * percent / 100);
  }

  /** A HOCON list, or one comma-separated string as PUBSUB_API_KEYS gives it; blanks around keys are trimmed. */
  private static List<String> apiKeys(Config c) {
    if (c.getValue("auth.api-keys").valueType() == ConfigValueType.LIST) {
      return c.getStringList("auth.api-keys").stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
    }
    return Arrays.stream(c.getString("auth.api-keys").split(",")).map(String::trim).filter(k -> !k.isEmpty()).toList();
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

  /**
   * The constant of {@code type} that {@code path} names in lower case, words joined by '-'
   * ({@code DROP_OLDEST}: drop-oldest), in any case; otherwise an error that lists them all.
   */
  private static <E extends Enum<E>> E choice(Config c, String path, Class<E> type) {
    String value = c.getString(path);
    List<String> names = Arrays.stream(type.getEnumConstants())
        .map(constant -> constant.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
    int index = names.indexOf(value.trim().toLowerCase(Locale.ROOT));
    if (index < 0) {
      throw new IllegalArgumentException("pubsub." + path + " must be " + String.join(" or ", names) + ", not '" + value + "'");
    }
    return type.getEnumConstants()[index];
  }

  private static void require(boolean condition, String message) {
    if (!condition) throw new IllegalArgumentException(message);
  }
}
