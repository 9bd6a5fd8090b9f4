package pekkopubsub.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

  @Test
  void defaultsAreTheContractsDefaults() {
    Settings s = Settings.from(Settings.withDefaults(ConfigFactory.empty()));
    assertEquals(8000, s.port());
    assertEquals(100, s.maxHistoryPerTopic());
    assertEquals(256, s.outboundQueueSize());
    assertEquals(1024 * 1024, s.outboundQueueBytes());
    assertEquals(Settings.OverflowPolicy.DROP_OLDEST, s.overflowPolicy());
    assertEquals(64 * 1024, s.maxFrameSize());
    assertEquals(Duration.ofSeconds(30), s.heartbeatInterval());
    assertEquals(Duration.ofSeconds(5), s.drainDeadline());
    assertEquals(new Settings.FanOutPacing(Duration.ofNanos(150_000), Duration.ofMillis(5), 75_000), s.fanOutPacing());
  }

  /** The operator's file documents the defaults line by line: it must state exactly them. */
  @Test
  void theOperatorsApplicationConfStatesTheDefaults() {
    Config operator = ConfigFactory.parseFile(new java.io.File("application.conf"));
    assertTrue(operator.hasPath("pubsub.limits.publish-rate"), "application.conf documents the limits");
    assertEquals(Settings.from(Settings.withDefaults(ConfigFactory.empty())), Settings.from(Settings.withDefaults(operator)));
  }

  @Test
  void theServersPekkoSettingsWinOverPekkosOwnDefaults() {
    Config config = Settings.withDefaults(ConfigFactory.empty());
    assertEquals(256, config.getInt("pekko.actor.default-dispatcher.throughput"));
    assertEquals(Duration.ofMillis(50), config.getDuration("pekko.scheduler.tick-duration"));
    assertEquals(Duration.ofSeconds(120), config.getDuration("pekko.http.server.idle-timeout"));
    assertEquals(0, config.getInt("pekko.http.server.parsing.header-cache.default"));
  }

  @Test
  void operatorValuesOverrideDefaults() {
    Config config = Settings.withDefaults(ConfigFactory.parseString("""
        pubsub.http.port = 9001
        pubsub.connection.overflow-policy = disconnect
        pubsub.connection.max-frame-size = 1 MiB
        pubsub.topic.fan-out-pacing.max-spacing = 0
        pekko.actor.default-dispatcher.throughput = 5
        """));
    Settings s = Settings.from(config);
    assertEquals(9001, s.port());
    assertEquals(Settings.OverflowPolicy.DISCONNECT, s.overflowPolicy());
    assertEquals(1024 * 1024, s.maxFrameSize());
    assertEquals(Duration.ZERO, s.fanOutPacing().maxSpacing());
    assertEquals(5, config.getInt("pekko.actor.default-dispatcher.throughput"));
  }

  @Test
  void unknownOverflowPolicyIsAClearError() {
    Config config = Settings.withDefaults(ConfigFactory.parseString("pubsub.connection.overflow-policy = drop-newest"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.from(config));
    assertTrue(e.getMessage().contains("drop-oldest or disconnect"), e.getMessage());
  }

  @Test
  void theTlsProviderIsTheJdksUnlessNamedAndAnUnknownOneIsAClearError() {
    assertEquals(Settings.TlsProvider.JDK, Settings.from(Settings.withDefaults(ConfigFactory.empty())).tls().provider());
    assertEquals(Settings.TlsProvider.CONSCRYPT,
        Settings.from(Settings.withDefaults(ConfigFactory.parseString("pubsub.http.tls.provider = Conscrypt"))).tls().provider());
    Config config = Settings.withDefaults(ConfigFactory.parseString("pubsub.http.tls.provider = openssl"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.from(config));
    assertTrue(e.getMessage().contains("jdk or conscrypt, not 'openssl'"), e.getMessage());
  }

  @Test
  void impossibleValuesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Settings.from(
        Settings.withDefaults(ConfigFactory.parseString("pubsub.connection.outbound-queue-size = 0"))));
    assertThrows(IllegalArgumentException.class, () -> Settings.from(
        Settings.withDefaults(ConfigFactory.parseString("pubsub.http.port = 70000"))));
    assertThrows(IllegalArgumentException.class, () -> Settings.from(
        Settings.withDefaults(ConfigFactory.parseString("pubsub.limits.max-http-connections = -1"))));
  }

  /** Each of these was accepted, and then failed every connection (heartbeat 0), a shutdown, or the start with a bare overflow. */
  @Test
  void durationsAndSizesOutsideTheirRangeAreRefusedWithTheSettingAndItsRange() {
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put("connection.heartbeat-interval = 0", "pubsub.connection.heartbeat-interval must be positive: from 1ms to 24h");
    refused.put("connection.heartbeat-interval = -1s", "pubsub.connection.heartbeat-interval must be positive: from 1ms to 24h");
    refused.put("connection.heartbeat-interval = 400d", "pubsub.connection.heartbeat-interval must be positive: from 1ms to 24h");
    refused.put("shutdown.drain-deadline = -1s", "pubsub.shutdown.drain-deadline must be from 0 to 24h");
    refused.put("connection.close-timeout = -1s", "pubsub.connection.close-timeout must be from 0 to 24h");
    refused.put("ask-timeout = 0", "pubsub.ask-timeout must be positive: from 1ms to 24h");
    refused.put("http.tls.reload-interval = 30d", "pubsub.http.tls.reload-interval must be from 0 to 24h (0: never)");
    refused.put("limits.idle-timeout = -5m", "pubsub.limits.idle-timeout must be from 0 to 365d (0: off)");
    refused.put("topic.fan-out-pacing.spacing-per-subscriber = 2s", "pubsub.topic.fan-out-pacing.spacing-per-subscriber must be from 0 to 1s");
    refused.put("topic.fan-out-pacing.max-spacing = 1h", "pubsub.topic.fan-out-pacing.max-spacing must be from 0 to 1m (0: off)");
    refused.put("connection.max-frame-size = 10GiB", "pubsub.connection.max-frame-size must be from 128 bytes to 1 GiB");
    refused.put("connection.max-frame-size = 2GiB", "pubsub.connection.max-frame-size must be from 128 bytes to 1 GiB");
    refused.put("limits.json.max-string-length = 10GiB", "pubsub.limits.json.max-string-length must be from 1 KiB to 1 GiB");
    refused.put("limits.publish-rate = NaN", "pubsub.limits.publish-rate must be a number >= 0 (0: unlimited)");
    refused.put("limits.publish-burst = 0", "pubsub.limits.publish-burst must be >= 1 (0 only with publish-rate 0, which turns the limit off)");
    refused.put("http.port = 10000000000", "pubsub.http.port must be a whole number up to 2147483647, not 10000000000");
    refused.put("http.port = abc", "pubsub.http.port must be a whole number, not \"abc\"");
    refused.put("connection.outbound-queue-size = \"256.9\"", "pubsub.connection.outbound-queue-size must be a whole number, not 256.9");
    refused.put("limits.max-connections = 0.5", "pubsub.limits.max-connections must be a whole number, not 0.5");
    // Accepted, a blank host bound the loopback only: HOST= served nobody outside the machine.
    refused.put("http.host = \"\"", "pubsub.http.host must be a host name or address (0.0.0.0: every interface), not \"\"");
    refused.put("http.host = \" \"", "pubsub.http.host must be a host name or address (0.0.0.0: every interface), not \" \"");
    refused.put("connection.heartbeat-interval = often", "pubsub.connection.heartbeat-interval must be a duration, not \"often\"");
    refused.put("connection.outbound-queue-bytes = 100EiB", "pubsub.connection.outbound-queue-bytes must be a size, not \"100EiB\"");
    assertEachRefusedWith(refused);
  }

  /** HOCON reads a bare number as milliseconds: IDLE_TIMEOUT=300 closed idle connections after 0.3 s. */
  @Test
  void aDurationWithoutAUnitIsRefusedRatherThanReadAsMilliseconds() {
    Map<String, String> refused = new LinkedHashMap<>();
    // Quoted as the environment gives them (IDLE_TIMEOUT=300), and unquoted as a file may.
    refused.put("limits.idle-timeout = \"300\"", "pubsub.limits.idle-timeout has no unit: write 300s or 300ms, not 300 (a bare number counts milliseconds)");
    refused.put("connection.heartbeat-interval = 30", "pubsub.connection.heartbeat-interval has no unit: write 30s or 30ms, not 30 (a bare number counts milliseconds)");
    refused.put("shutdown.drain-deadline = \" 30 \"", "pubsub.shutdown.drain-deadline has no unit: write 30s or 30ms, not 30 (a bare number counts milliseconds)");
    refused.put("connection.close-timeout = 1.5", "pubsub.connection.close-timeout has no unit: write 1.5s or 1.5ms, not 1.5 (a bare number counts milliseconds)");
    refused.put("ask-timeout = 3", "pubsub.ask-timeout has no unit: write 3s or 3ms, not 3 (a bare number counts milliseconds)");
    refused.put("http.tls.reload-interval = \"60\"", "pubsub.http.tls.reload-interval has no unit: write 60s or 60ms, not 60 (a bare number counts milliseconds)");
    refused.put("topic.fan-out-pacing.max-spacing = 5", "pubsub.topic.fan-out-pacing.max-spacing has no unit: write 5s or 5ms, not 5 (a bare number counts milliseconds)");
    refused.put("topic.fan-out-pacing.spacing-per-subscriber = 150", "pubsub.topic.fan-out-pacing.spacing-per-subscriber has no unit: write 150s or 150ms, not 150 (a bare number counts milliseconds)");
    assertEachRefusedWith(refused);
    Settings zeros = Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.limits.idle-timeout = \"0\"\npubsub.topic.fan-out-pacing.max-spacing = 0")));
    assertEquals(Duration.ZERO, zeros.limits().idleTimeout(), "0 is 0 in any unit");
    assertEquals(Duration.ZERO, zeros.fanOutPacing().maxSpacing(), "0 is 0 in any unit");
    assertEquals(Duration.ofSeconds(300), Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.limits.idle-timeout = \"300s\""))).limits().idleTimeout());
  }

  /** A bare number counts bytes, and HOCON truncated a fraction: HEAP_HIGH_WATERMARK=0.85 was 0 bytes, the heap watch off. */
  @Test
  void aSizeWithAFractionOfAByteIsRefusedRatherThanTruncated() {
    String share = "a share of the maximum heap (\"85%\"), or a whole number of bytes or a size with a unit (\"512 MiB\")";
    String size = "a whole number of bytes or a size with a unit (\"64 KiB\")";
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put("connection.heap-high-watermark = \"0.85\"", "pubsub.connection.heap-high-watermark must be " + share + ", not \"0.85\"");
    refused.put("topic.history-memory = 0.25", "pubsub.topic.history-memory must be " + share + ", not 0.25");
    refused.put("connection.outbound-queue-bytes = \"0.5\"", "pubsub.connection.outbound-queue-bytes must be " + size + ", not \"0.5\"");
    refused.put("connection.outbound-queue-bytes = \"0.5B\"", "pubsub.connection.outbound-queue-bytes must be " + size + ", not \"0.5B\"");
    refused.put("connection.max-frame-size = 1000.5", "pubsub.connection.max-frame-size must be " + size + ", not 1000.5");
    assertEachRefusedWith(refused);
    Settings sizes = Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.connection.outbound-queue-bytes = \"0.5 KiB\"\npubsub.connection.max-frame-size = \"4096\"\npubsub.topic.history-memory = 0")));
    assertEquals(512, sizes.outboundQueueBytes());
    assertEquals(4096, sizes.maxFrameSize());
    assertEquals(0, sizes.historyMemoryBytes(), "0: no budget");
  }

  /** Counts and sizes read a whole number the same way: a zero fraction is still whole, in either. */
  @Test
  void aZeroFractionIsAWholeNumberForCountsAndSizesAlike() {
    Settings s = Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.connection.outbound-queue-size = \"256.0\"\npubsub.connection.max-frame-size = \"4096.0\"\n"
            + "pubsub.connection.outbound-queue-bytes = 1000.00")));
    assertEquals(256, s.outboundQueueSize());
    assertEquals(4096, s.maxFrameSize());
    assertEquals(1000, s.outboundQueueBytes());
  }

  /** README documents some of Pekko HTTP's server settings; one Pekko cannot read is the operator's mistake too, named as such. */
  @Test
  void aPekkoHttpServerSettingPekkoCannotReadIsNamedWithWhereItCameFrom(@TempDir Path dir) throws Exception {
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put("request-timeout = 3", "pekko.http.server.request-timeout");
    refused.put("request-timeout = soon", "pekko.http.server.request-timeout");
    refused.put("idle-timeout = whenever", "pekko.http.server.idle-timeout");
    refused.put("socket-options.so-send-buffer-size = lots", "pekko.http.server.socket-options.so-send-buffer-size");
    for (Map.Entry<String, String> bad : refused.entrySet()) {
      Path file = dir.resolve("operator.conf");
      Files.writeString(file, "pekko.http.server {\n  " + bad.getKey() + "\n}\n");
      Config config = Settings.load(Map.of("CONFIG_FILE", file.toString()));
      InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> Settings.checkPekkoHttpServer(config));
      assertEquals(bad.getValue(), e.setting(), e.getMessage());
      assertTrue(e.getMessage().startsWith(bad.getValue() + " (" + file + ": 2) is not a value Pekko HTTP can read: "), e.getMessage());
    }
    Files.writeString(dir.resolve("operator.conf"), "pekko.http.server.request-timeout = 3s\npekko.http.parsing.max-uri-length = 4k\n");
    Settings.checkPekkoHttpServer(Settings.load(Map.of("CONFIG_FILE", dir.resolve("operator.conf").toString())));
    Settings.checkPekkoHttpServer(Settings.load(Map.of()));
  }

  @Test
  void anErrorSaysWhichFileAndLineTheValueCameFrom(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("operator.conf");
    Files.writeString(file, "pubsub {\n  connection.heartbeat-interval = 0\n}\n");
    Config config = Settings.load(Map.of("CONFIG_FILE", file.toString()));
    InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> Settings.from(config));
    assertTrue(e.getMessage().startsWith("pubsub.connection.heartbeat-interval (" + file + ": 2) must be positive"), e.getMessage());
  }

  @Test
  void aConfigFileThatIsNotThereIsAnErrorWhileNoApplicationConfIsFine(@TempDir Path dir) {
    Path missing = dir.resolve("nonexistent.conf");
    InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
        () -> Settings.load(Map.of("CONFIG_FILE", missing.toString())));
    assertEquals("CONFIG_FILE names " + missing + ", which is not a file", e.getMessage());
    assertThrows(InvalidConfigurationException.class, () -> Settings.load(Map.of("CONFIG_FILE", dir.toString())));
    // The tests run in the project's directory, whose application.conf states the defaults.
    assertEquals(8000, Settings.from(Settings.load(Map.of())).port());
  }

  @Test
  void aConfigFileThatDoesNotParseIsAnErrorNamingItsLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("broken.conf");
    Files.writeString(file, "pubsub {\n  http.port = \n");
    InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
        () -> Settings.load(Map.of("CONFIG_FILE", file.toString())));
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
  }

  @Test
  void anApiKeySettingThatIsSetButHoldsNoKeyIsRefusedRatherThanTurningAuthOff() {
    for (String noKey : List.of("\",\"", "\" \"", "\"\"", "\" , ,\"", "[\"\"]", "[\" \", \"\"]")) {
      Config config = Settings.withDefaults(ConfigFactory.parseString("pubsub.auth.api-keys = " + noKey));
      InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> Settings.from(config), noKey);
      assertTrue(e.getMessage().startsWith("pubsub.auth.api-keys is set but holds no key"), e.getMessage());
    }
    assertTrue(Settings.from(Settings.withDefaults(ConfigFactory.parseString("pubsub.auth.api-keys = []"))).apiKeys().isEmpty(),
        "the empty list is how auth is off");
  }

  @Test
  void limitsAndAuthDefaultsMatchTheContract() {
    Settings s = Settings.from(Settings.withDefaults(ConfigFactory.empty()));
    assertTrue(s.apiKeys().isEmpty(), "auth is off by default");
    Settings.Limits l = s.limits();
    assertEquals(1000.0, l.publishRate());
    assertEquals(500, l.publishBurst());
    assertEquals(128, l.maxRequestIdLength());
    assertEquals(10000, l.maxConnections());
    assertEquals(1024, l.maxHttpConnections());
    assertEquals(Duration.ofMinutes(5), l.idleTimeout());
  }

  /** application.conf says "0 means unlimited": PUBLISH_RATE=0 PUBLISH_BURST=0 stopped the server at start. */
  @Test
  void publishRateAndBurstBothZeroAreUnlimited() {
    Settings.Limits l = Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.limits.publish-rate = 0\npubsub.limits.publish-burst = 0"))).limits();
    assertEquals(0.0, l.publishRate());
    assertEquals(0, l.publishBurst());
  }

  @Test
  void apiKeysComeAsAListOrAsOneCommaSeparatedStringLikeTheEnvironmentGivesThem() {
    Settings fromList = Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.auth.api-keys = [k1, \" k2 \"]")));
    assertEquals(java.util.List.of("k1", "k2"), fromList.apiKeys());
    Settings fromString = Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.auth.api-keys = \"k1, k2,,\"")));
    assertEquals(java.util.List.of("k1", "k2"), fromString.apiKeys());
  }

  @Test
  void settingsNeverPrintTheirApiKeys() {
    Settings s = Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.auth.api-keys = [super-secret-key]")));
    assertTrue(!s.toString().contains("super-secret-key"), s.toString());
  }

  @Test
  void historyMemoryAndTheHeapHighWatermarkAreASizeOrAShareOfTheMaximumHeap() {
    Settings defaults = Settings.from(Settings.withDefaults(ConfigFactory.empty()));
    long maxHeap = Runtime.getRuntime().maxMemory();
    assertEquals(maxHeap / 4, defaults.historyMemoryBytes(), "25% of the heap by default");
    assertEquals((long) (maxHeap * 0.85), defaults.heapHighWatermarkBytes(), "85% of the heap by default");
    for (String path : java.util.List.of("topic.history-memory", "connection.heap-high-watermark")) {
      assertEquals(300, Settings.heapShareBytes(setting(path, "\"30%\""), path, 1000));
      assertEquals(1000, Settings.heapShareBytes(setting(path, "100%"), path, 1000));
      assertEquals(512L << 20, Settings.heapShareBytes(setting(path, "512 MiB"), path, 1000));
      assertEquals(0, Settings.heapShareBytes(setting(path, "0"), path, 1000), "0: none");
      for (String wrong : java.util.List.of("\"0%\"", "\"150%\"", "\"many%\"")) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Settings.heapShareBytes(setting(path, wrong), path, 1000), wrong);
        assertTrue(e.getMessage().contains("pubsub." + path), e.getMessage());
      }
    }
  }

  private static Config setting(String path, String value) {
    return Settings.withDefaults(ConfigFactory.parseString("pubsub." + path + " = " + value)).getConfig("pubsub");
  }

  /** Each setting (relative to {@code pubsub}) stops the server at start with its message. */
  private static void assertEachRefusedWith(Map<String, String> refused) {
    refused.forEach((setting, message) -> {
      Config config = Settings.withDefaults(ConfigFactory.parseString("pubsub." + setting));
      InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> Settings.from(config), setting);
      assertEquals(message, e.getMessage(), setting);
    });
  }
}
