package pekkopubsub.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

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
}
