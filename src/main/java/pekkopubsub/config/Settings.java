package pekkopubsub.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Every setting of the server, parsed once from the layered configuration. */
public record Settings(
    String host,
    int port,
    Tls tls,
    String endpointFile,
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
      require(maxConnections >= 0, "pubsub.limits.max-connections", "must be >= 0 (0: unlimited)");
      require(maxHttpConnections >= 0, "pubsub.limits.max-http-connections", "must be >= 0 (0: unlimited)");
      require(maxSubscriptionsPerConnection >= 0, "pubsub.limits.max-subscriptions-per-connection", "must be >= 0 (0: unlimited)");
      require(maxTopics >= 0, "pubsub.limits.max-topics", "must be >= 0 (0: unlimited)");
      require(Double.isFinite(publishRate) && publishRate >= 0, "pubsub.limits.publish-rate", "must be a number >= 0 (0: unlimited)");
      // With no rate there is no bucket, so PUBLISH_RATE=0 PUBLISH_BURST=0 is as unlimited as it reads.
      require(publishBurst >= 1 || (publishBurst == 0 && publishRate == 0), "pubsub.limits.publish-burst",
          "must be >= 1 (0 only with publish-rate 0, which turns the limit off)");
      // Only compared with, never scheduled: it may be longer than the others, within a long of nanoseconds.
      require(within(idleTimeout, Duration.ZERO, Duration.ofDays(365)), "pubsub.limits.idle-timeout",
          "must be from 0 to 365d (0: off)");
      require(maxRequestIdLength >= 1, "pubsub.limits.max-request-id-length", "must be >= 1");
      require(maxClientIdLength >= 1, "pubsub.limits.max-client-id-length", "must be >= 1");
      require(maxJsonNestingDepth >= 2, "pubsub.limits.json.max-nesting-depth", "must be >= 2");
      require(maxJsonNumberLength >= 20, "pubsub.limits.json.max-number-length", "must be >= 20");
      require(maxJsonStringLength >= 1024 && maxJsonStringLength <= MAX_BUFFERED_BYTES, "pubsub.limits.json.max-string-length",
          "must be from 1 KiB to 1 GiB");
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
          "pubsub.http.tls.certificate", "and pubsub.http.tls.private-key go together: set both (TLS) or neither");
      require(within(reloadInterval, Duration.ZERO, MAX_DURATION), "pubsub.http.tls.reload-interval", "must be from 0 to 24h (0: never)");
      require(clientCa.isBlank() || !certificate.isBlank(),
          "pubsub.http.tls.client-ca", "asks for client certificates, which needs TLS: set certificate and private-key too");
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
      // Bounded so that spacing x subscribers stays within a long of nanoseconds, even at 2^31 subscribers.
      require(within(spacingPerSubscriber, Duration.ZERO, Duration.ofSeconds(1)),
          "pubsub.topic.fan-out-pacing.spacing-per-subscriber", "must be from 0 to 1s");
      require(within(maxSpacing, Duration.ZERO, Duration.ofMinutes(1)),
          "pubsub.topic.fan-out-pacing.max-spacing", "must be from 0 to 1m (0: off)");
      require(hotDeliveriesPerSecond >= 0, "pubsub.topic.fan-out-pacing.hot-deliveries-per-second", "must be >= 0 (0: every topic)");
    }
  }

  /** What a connection does when its outbound queue of events is full. */
  public enum OverflowPolicy {
    DROP_OLDEST,
    DISCONNECT
  }

  /**
   * Longest duration of a setting that ends up in Pekko's scheduler, which refuses delays of more
   * than 2^31 ticks (24 days at its default tick of 10 ms), at start or, worse, at every connection.
   */
  private static final Duration MAX_DURATION = Duration.ofDays(1);

  private static final String SIZE = "a whole number of bytes or a size with a unit (\"64 KiB\")";
  private static final Pattern BARE_NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
  private static final Pattern LEADING_NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)");

  /** Largest message or string the server buffers whole: 1 GiB, well within what one Java array holds. */
  private static final int MAX_BUFFERED_BYTES = 1 << 30;

  /** The setting each environment variable of env-overrides.conf sets, by path, so that an error can name the variable. */
  private static final Map<String, String> ENVIRONMENT_VARIABLES = environmentVariables();

  public Settings {
    require(port >= 0 && port <= 65535, "pubsub.http.port", "must be 0..65535");
    require(maxHistoryPerTopic >= 0, "pubsub.topic.max-history", "must be >= 0");
    require(historyMemoryBytes >= 0, "pubsub.topic.history-memory", "must be >= 0 (0: no budget)");
    require(outboundQueueSize >= 1, "pubsub.connection.outbound-queue-size", "must be >= 1");
    require(outboundQueueBytes >= 0, "pubsub.connection.outbound-queue-bytes", "must be >= 0 (0: no byte bound)");
    require(heapHighWatermarkBytes >= 0, "pubsub.connection.heap-high-watermark", "must be >= 0 (0: off)");
    require(maxFrameSize >= 128 && maxFrameSize <= MAX_BUFFERED_BYTES, "pubsub.connection.max-frame-size",
        "must be from 128 bytes to 1 GiB");
    require(maxInFlight >= 1, "pubsub.connection.max-in-flight", "must be >= 1");
    require(maxUnansweredPings >= 0, "pubsub.connection.max-unanswered-pings", "must be >= 0 (0: never close for it)");
    // The scheduler refuses a repeating task with no delay: every connection would fail at its upgrade.
    require(within(heartbeatInterval, Duration.ofMillis(1), MAX_DURATION), "pubsub.connection.heartbeat-interval", "must be positive: from 1ms to 24h");
    require(within(closeTimeout, Duration.ZERO, MAX_DURATION), "pubsub.connection.close-timeout", "must be from 0 to 24h");
    require(within(drainDeadline, Duration.ZERO, MAX_DURATION), "pubsub.shutdown.drain-deadline", "must be from 0 to 24h");
    // Pekko's ask fails every question asked with no time to answer.
    require(within(askTimeout, Duration.ofMillis(1), MAX_DURATION), "pubsub.ask-timeout", "must be positive: from 1ms to 24h");
    apiKeys = List.copyOf(apiKeys);
    require(apiKeys.stream().noneMatch(String::isEmpty), "pubsub.auth.api-keys", "must not contain an empty key");
  }

  /**
   * Reads the {@code pubsub} section of a resolved configuration. A value it cannot run with is an
   * {@link InvalidConfigurationException} naming the setting, its range, and where the value came
   * from: the environment variable that set it, or the file and line.
   */
  public static Settings from(Config config) {
    try {
      return read(config.getConfig("pubsub"));
    } catch (InvalidConfigurationException e) {
      String origin = e.setting() == null ? null : originOf(config, e.setting());
      throw origin == null ? e : e.from(origin);
    } catch (ConfigException e) {
      throw new InvalidConfigurationException(null, e.getMessage());
    }
  }

  private static Settings read(Config c) {
    return new Settings(
        host(c),
        integer(c, "http.port"),
        new Tls(read(c, "http.tls.certificate", "a file path", Config::getString).trim(),
            read(c, "http.tls.private-key", "a file path", Config::getString).trim(),
            duration(c, "http.tls.reload-interval"),
            read(c, "http.tls.client-ca", "a file path", Config::getString).trim(),
            choice(c, "http.tls.provider", TlsProvider.class)),
        read(c, "http.endpoint-file", "a file path", Config::getString).trim(),
        integer(c, "topic.max-history"),
        heapShareBytes(c, "topic.history-memory", Runtime.getRuntime().maxMemory()),
        new FanOutPacing(duration(c, "topic.fan-out-pacing.spacing-per-subscriber"),
            duration(c, "topic.fan-out-pacing.max-spacing"),
            read(c, "topic.fan-out-pacing.hot-deliveries-per-second", "a whole number", Config::getLong)),
        integer(c, "connection.outbound-queue-size"),
        bytes(c, "connection.outbound-queue-bytes", "a size", SIZE),
        heapShareBytes(c, "connection.heap-high-watermark", Runtime.getRuntime().maxMemory()),
        choice(c, "connection.overflow-policy", OverflowPolicy.class),
        intBytes(c, "connection.max-frame-size"),
        read(c, "connection.permessage-deflate", "true or false", Config::getBoolean),
        duration(c, "connection.heartbeat-interval"),
        integer(c, "connection.max-unanswered-pings"),
        integer(c, "connection.max-in-flight"),
        duration(c, "connection.close-timeout"),
        duration(c, "shutdown.drain-deadline"),
        duration(c, "ask-timeout"),
        apiKeys(c),
        new Limits(
            integer(c, "limits.max-connections"),
            integer(c, "limits.max-http-connections"),
            integer(c, "limits.max-subscriptions-per-connection"),
            integer(c, "limits.max-topics"),
            read(c, "limits.publish-rate", "a number", Config::getDouble),
            integer(c, "limits.publish-burst"),
            duration(c, "limits.idle-timeout"),
            integer(c, "limits.max-request-id-length"),
            integer(c, "limits.max-client-id-length"),
            integer(c, "limits.json.max-nesting-depth"),
            integer(c, "limits.json.max-number-length"),
            intBytes(c, "limits.json.max-string-length")));
  }

  /** {@code path} of the pubsub section read by {@code getter}; a value it cannot read is refused as not {@code expected}. */
  private static <T> T read(Config c, String path, String expected, BiFunction<Config, String, T> getter) {
    try {
      return getter.apply(c, path);
    } catch (ConfigException.Missing e) {
      throw new InvalidConfigurationException("pubsub." + path, "must be set, to " + expected);
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw new InvalidConfigurationException("pubsub." + path,
          "must be " + expected + ", not " + c.getValue(path).render(ConfigRenderOptions.concise()));
    }
  }

  /** Blank is refused: an InetSocketAddress of "" is the loopback, and HOST= (compose's unset ${HOST:-}) served 127.0.0.1 only. */
  private static String host(Config c) {
    String host = read(c, "http.host", "a host name or address", Config::getString);
    require(!host.isBlank(), "pubsub.http.host", "must be a host name or address (0.0.0.0: every interface), not "
        + c.getValue("http.host").render(ConfigRenderOptions.concise()));
    return host;
  }

  /** A whole number that must fit an int; the record then checks the setting's own range. */
  private static int integer(Config c, String path) {
    long value = read(c, path, "a whole number", Config::getLong);
    // HOCON truncates: OUTBOUND_QUEUE_SIZE=256.9 was 256, MAX_CONNECTIONS=0.5 was 0, unlimited.
    String bare = bareNumber(c, path);
    require(bare == null || isWhole(bare), "pubsub." + path,
        "must be a whole number, not " + bare);
    require(value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE, "pubsub." + path,
        "must be a whole number up to 2147483647, not " + value);
    return (int) value;
  }

  /**
   * A size that the server holds in one array, saturated to an int: the record refuses anything
   * over {@link #MAX_BUFFERED_BYTES}, and says its range, instead of an overflow.
   */
  private static int intBytes(Config c, String path) {
    long bytes = bytes(c, path, "a size", SIZE);
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, bytes));
  }

  /**
   * A duration. HOCON reads a bare number as milliseconds, which an operator writing IDLE_TIMEOUT=300
   * or HEARTBEAT_INTERVAL=30 hardly meant: such a value is refused, 0 excepted, being 0 in any unit.
   */
  private static Duration duration(Config c, String path) {
    String bare = bareNumber(c, path);
    if (bare != null && Double.parseDouble(bare) != 0) {
      throw new InvalidConfigurationException("pubsub." + path,
          "has no unit: write " + bare + "s or " + bare + "ms, not " + bare + " (a bare number counts milliseconds)");
    }
    return read(c, path, "a duration", Config::getDuration);
  }

  /**
   * A size in bytes. A bare number counts bytes, and HOCON truncates a fraction of one: 0.85 meant as a
   * share of the heap, or 0.5 KiB, came out as 0, which turns the setting off. Such a value is refused,
   * as is any without a unit that is not a whole number.
   */
  private static long bytes(Config c, String path, String unreadable, String expected) {
    long bytes = read(c, path, unreadable, Config::getBytes);
    String bare = bareNumber(c, path);
    Matcher number = c.getValue(path).valueType() == ConfigValueType.STRING
        ? LEADING_NUMBER.matcher(c.getString(path).trim()) : null;
    boolean fraction = bare != null && !isWhole(bare);
    boolean underAByte = bytes == 0 && number != null && number.lookingAt() && Double.parseDouble(number.group()) != 0;
    require(!fraction && !underAByte, "pubsub." + path,
        "must be " + expected + ", not " + c.getValue(path).render(ConfigRenderOptions.concise()));
    return bytes;
  }

  /** Whether a bare number (as {@link #bareNumber} gives it) has no fraction: 256 and 256.0 do, 256.5 does not. */
  private static boolean isWhole(String bare) {
    return new BigDecimal(bare).stripTrailingZeros().scale() <= 0;
  }

  /** The value of {@code path} when it is a number without a unit, as text; otherwise null. */
  private static String bareNumber(Config c, String path) {
    if (!c.hasPath(path)) return null;
    ConfigValue value = c.getValue(path);
    String text = value.valueType() == ConfigValueType.NUMBER ? value.unwrapped().toString()
        : value.valueType() == ConfigValueType.STRING ? c.getString(path).trim() : null;
    return text != null && BARE_NUMBER.matcher(text).matches() ? text : null;
  }

  /**
   * Checks that Pekko HTTP can read its server settings ({@code pekko.http.server}, which README
   * documents for operators) from {@code config}, as the server reads them once its actor system runs.
   * Found there, a bad value failed the guardian with a stack trace; here it is one
   * {@link InvalidConfigurationException} naming the setting the operator gave.
   */
  public static void checkPekkoHttpServer(Config config) {
    RuntimeException failure = pekkoHttpServerFailure(config);
    if (failure == null) return;
    Config reference = withDefaults(ConfigFactory.empty());
    // Pekko's message may not name the key ("format error 3"): the one to blame is the value the
    // operator changed that fails on its own.
    // pekko.http, not only its server section: the server's parsing settings fall back to pekko.http.parsing.
    for (Map.Entry<String, ConfigValue> entry : config.getConfig(PEKKO_HTTP).entrySet()) {
      String setting = PEKKO_HTTP + "." + entry.getKey();
      if (reference.hasPath(setting) && reference.getValue(setting).unwrapped().equals(entry.getValue().unwrapped())) continue;
      Config alone = ConfigFactory.empty().withValue(setting, entry.getValue()).withFallback(reference);
      if (pekkoHttpServerFailure(alone) != null) {
        InvalidConfigurationException e = new InvalidConfigurationException(setting,
            "is not a value Pekko HTTP can read: " + entry.getValue().render(ConfigRenderOptions.concise()));
        String origin = originOf(config, setting);
        throw origin == null ? e : e.from(origin);
      }
    }
    throw new InvalidConfigurationException(null, "Pekko HTTP cannot read its server settings: " + failure.getMessage());
  }

  private static final String PEKKO_HTTP = "pekko.http";

  private static RuntimeException pekkoHttpServerFailure(Config config) {
    try {
      org.apache.pekko.http.javadsl.settings.ServerSettings.create(config);
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  /** Where the value of {@code setting} came from, in words; null when the operator did not set it. */
  private static String originOf(Config config, String setting) {
    if (!config.hasPath(setting)) return null;
    ConfigOrigin origin = config.getValue(setting).origin();
    String variable = ENVIRONMENT_VARIABLES.get(setting);
    if (variable != null && "env variables".equals(origin.description())) return "environment variable " + variable;
    return origin.filename() == null ? null : origin.description();
  }

  /** Redacts the API keys: a Settings value may end up in a log line or a test report. */
  @Override
  public String toString() {
    return "Settings[host=" + host + ", port=" + port + ", tls=" + tls + ", endpointFile=" + endpointFile
        + ", maxHistoryPerTopic=" + maxHistoryPerTopic
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
    if (!value.endsWith("%")) {
      return bytes(c, path, "a size or a share of the maximum heap (\"25%\")",
          "a share of the maximum heap (\"85%\"), or a whole number of bytes or a size with a unit (\"512 MiB\")");
    }
    double percent;
    try {
      percent = Double.parseDouble(value.substring(0, value.length() - 1).trim());
    } catch (NumberFormatException e) {
      percent = Double.NaN;
    }
    require(percent > 0 && percent <= 100,
        "pubsub." + path, "must be a size or a share of the maximum heap (over 0%, at most 100%), not '" + value + "'");
    return (long) (maxHeapBytes * percent / 100);
  }

  /**
   * A HOCON list, or one comma-separated string as PUBSUB_API_KEYS gives it; blanks around keys are
   * trimmed and empty entries skipped. Set to something that holds no key ("", ",", " ") is refused:
   * whoever set it meant auth on, and an empty list would turn it off. The empty list, reference.conf's
   * default, is how auth is off. The value itself is never repeated in an error: it may hold keys.
   */
  private static List<String> apiKeys(Config c) {
    String path = "auth.api-keys";
    ConfigValueType type = c.hasPath(path) ? c.getValue(path).valueType() : ConfigValueType.NULL;
    List<String> entries;
    if (type == ConfigValueType.LIST) {
      try {
        entries = c.getStringList(path);
      } catch (ConfigException.WrongType e) {
        throw new InvalidConfigurationException("pubsub." + path, "must be a list of strings or one comma-separated string");
      }
    } else if (type == ConfigValueType.STRING || type == ConfigValueType.NUMBER) {
      entries = Arrays.asList(c.getString(path).split(",", -1));
    } else {
      throw new InvalidConfigurationException("pubsub." + path, "must be a list of strings or one comma-separated string");
    }
    List<String> keys = entries.stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
    require(!keys.isEmpty() || entries.isEmpty(), "pubsub." + path,
        "is set but holds no key: give at least one (k1,k2), or unset it to turn auth off");
    return keys;
  }

  /**
   * The server's configuration, highest precedence first: environment variables
   * (env-overrides.conf), system properties, the operator's file (CONFIG_FILE, default
   * ./application.conf when present), then {@link #withDefaults the defaults}. A file that does not
   * parse, and a CONFIG_FILE that names no readable file, are an {@link InvalidConfigurationException}.
   */
  public static Config load() {
    return load(System.getenv());
  }

  static Config load(Map<String, String> environment) {
    try {
      return withDefaults(ConfigFactory.parseResources("env-overrides.conf")
          .withFallback(ConfigFactory.defaultOverrides())
          .withFallback(operatorFile(environment.get("CONFIG_FILE"))));
    } catch (ConfigException e) {
      throw new InvalidConfigurationException(null, e.getMessage());
    }
  }

  /** CONFIG_FILE's file, which must be there since the operator named it, or ./application.conf when present. */
  private static Config operatorFile(String configFile) {
    if (configFile == null) {
      File defaultFile = new File("application.conf");
      return defaultFile.isFile() ? ConfigFactory.parseFile(defaultFile) : ConfigFactory.empty();
    }
    Path path = Path.of(configFile);
    require(Files.isRegularFile(path), "CONFIG_FILE", "names " + path.toAbsolutePath() + ", which is not a file");
    require(Files.isReadable(path), "CONFIG_FILE", "names " + path.toAbsolutePath() + ", which this process cannot read");
    // Not allowed missing: a file that vanishes between the check and the read is an error too, not an empty configuration.
    return ConfigFactory.parseFile(path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
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
    String value = read(c, path, "a word", Config::getString);
    List<String> names = Arrays.stream(type.getEnumConstants())
        .map(constant -> constant.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
    int index = names.indexOf(value.trim().toLowerCase(Locale.ROOT));
    require(index >= 0, "pubsub." + path, "must be " + String.join(" or ", names) + ", not '" + value + "'");
    return type.getEnumConstants()[index];
  }

  private static Map<String, String> environmentVariables() {
    Pattern line = Pattern.compile("^\\s*(pubsub\\.[\\w.-]+)\\s*=\\s*\\$\\{\\?(\\w+)}");
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(
        Settings.class.getClassLoader().getResourceAsStream("env-overrides.conf"), StandardCharsets.UTF_8))) {
      return reader.lines().map(line::matcher).filter(Matcher::find)
          // A setting two variables set is named by the first: a second alias must not stop the server.
          .collect(Collectors.toUnmodifiableMap(m -> m.group(1), m -> m.group(2), (first, second) -> first));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether {@code d} is from {@code min} to {@code max}, both included. */
  private static boolean within(Duration d, Duration min, Duration max) {
    return d.compareTo(min) >= 0 && d.compareTo(max) <= 0;
  }

  private static void require(boolean condition, String setting, String problem) {
    if (!condition) throw new InvalidConfigurationException(setting, problem);
  }
}
