package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import pekkopubsub.config.Settings;

/** The one periodic timer of a connection: how many of its ticks make a heartbeat interval. */
class ConnectionTicksTest {

  private static Settings settings(String heartbeat, String idleTimeout) {
    return Settings.from(Settings.withDefaults(ConfigFactory.parseString(
        "pubsub.connection.heartbeat-interval = " + heartbeat + "\npubsub.limits.idle-timeout = " + idleTimeout)));
  }

  private static Duration tick(Settings s) {
    return s.heartbeatInterval().dividedBy(Connection.ticksPerHeartbeat(s));
  }

  @Test
  void withTheDefaultsTheHeartbeatIntervalIsTheTick() {
    Settings defaults = Settings.from(Settings.withDefaults(ConfigFactory.empty()));
    assertEquals(1, Connection.ticksPerHeartbeat(defaults));
    assertEquals(Duration.ofSeconds(30), tick(defaults));
  }

  @Test
  void withoutAnIdleTimeoutOnlyTheHeartbeatTicks() {
    assertEquals(1, Connection.ticksPerHeartbeat(settings("30s", "0s")));
  }

  @Test
  void anIdleTimeoutShorterThanFourHeartbeatsSplitsTheIntervalIntoEqualTicks() {
    Settings s = settings("30s", "1m");
    assertEquals(2, Connection.ticksPerHeartbeat(s));
    assertEquals(Duration.ofSeconds(15), tick(s));

    Settings uneven = settings("30s", "100s");
    assertEquals(2, Connection.ticksPerHeartbeat(uneven), "a tick of 15 s checks a 100 s timeout more than 4 times");
    assertEquals(Duration.ofSeconds(15), tick(uneven));
  }

  @Test
  void theIdleCheckIsNeverMoreOftenThanEvery50Milliseconds() {
    Settings s = settings("30s", "100ms");
    assertEquals(600, Connection.ticksPerHeartbeat(s));
    assertEquals(Duration.ofMillis(50), tick(s));
  }

  @Test
  void aHeartbeatShorterThanTheIdleCheckIsTheTick() {
    assertEquals(1, Connection.ticksPerHeartbeat(settings("100ms", "400ms")));
    assertEquals(1, Connection.ticksPerHeartbeat(settings("100ms", "5m")));
  }

  @Test
  void theFirstTickComesBetweenHalfATickAndAWholeOneSoThatConnectionsOpenedTogetherSpreadTheirHeartbeats() {
    Duration tick = Duration.ofSeconds(30);
    assertEquals(Duration.ofSeconds(15), Connection.firstTickDelay(tick, 0.0));
    assertEquals(Duration.ofMillis(22_500), Connection.firstTickDelay(tick, 0.5));
    Duration latest = Connection.firstTickDelay(tick, Math.nextDown(1.0));
    assertTrue(latest.compareTo(tick) <= 0 && latest.compareTo(Duration.ofMillis(29_999)) > 0, latest::toString);
  }
}
