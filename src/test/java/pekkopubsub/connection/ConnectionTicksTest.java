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
  void theFirstHeartbeatComesBetweenHalfAnIntervalAndAWholeOneSoThatConnectionsOpenedTogetherSpreadTheirHeartbeats() {
    Duration interval = Duration.ofSeconds(30);
    assertEquals(new Connection.FirstTick(Duration.ofSeconds(15), 0), Connection.firstTick(interval, 1, 0.0));
    assertEquals(new Connection.FirstTick(Duration.ofMillis(22_500), 0), Connection.firstTick(interval, 1, 0.5));
    Duration latest = Connection.firstTick(interval, 1, Math.nextDown(1.0)).delay();
    assertTrue(latest.compareTo(interval) <= 0 && latest.compareTo(Duration.ofMillis(29_999)) > 0, latest::toString);
  }

  /** README: the first heartbeat comes 0.5-1 interval after the upgrade; with an idle timeout's finer ticks it came after a whole one. */
  @Test
  void withSeveralTicksAnIntervalTheFirstHeartbeatIsSpreadTheSame() {
    Duration interval = Duration.ofSeconds(4);
    for (long ticks : new long[] {2, 4, 7, 600}) {
      Duration tick = Duration.ofNanos(interval.toNanos() / ticks);
      for (double uniform : new double[] {0.0, 0.1, 0.5, 0.77, Math.nextDown(1.0)}) {
        Connection.FirstTick first = Connection.firstTick(interval, ticks, uniform);
        String what = ticks + " ticks, " + uniform + ": " + first;
        // within a tick, give or take the nanoseconds an interval that ticks do not divide leaves over
        assertTrue(first.delay().compareTo(Duration.ZERO) > 0 && first.delay().compareTo(tick.plusNanos(ticks)) <= 0, what);
        assertTrue(first.ticksCounted() >= 0 && first.ticksCounted() < ticks, what);
        // The heartbeat comes at the tick that brings the count to `ticks`.
        Duration heartbeat = first.delay().plus(tick.multipliedBy(ticks - 1 - first.ticksCounted()));
        assertTrue(heartbeat.compareTo(interval.dividedBy(2)) >= 0 && heartbeat.compareTo(interval) <= 0, what + " -> " + heartbeat);
        long expectedMillis = 2000 + (long) (uniform * 2000);
        assertTrue(Math.abs(heartbeat.toMillis() - expectedMillis) <= 1, what + " -> " + heartbeat);
      }
    }
  }
}
