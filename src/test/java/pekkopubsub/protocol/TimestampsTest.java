package pekkopubsub.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TimestampsTest {
  private static final DateTimeFormatter REFERENCE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  @Test
  void matchesTheIsoFormatForEveryMillisecondOfASecondAndAcrossSeconds() {
    long start = Instant.parse("2026-11-22T10:00:59.000Z").toEpochMilli();
    for (long t = start; t < start + 2_500; t++) {
      assertEquals(REFERENCE.format(Instant.ofEpochMilli(t)), Timestamps.format(t));
    }
  }

  @Test
  void matchesTheIsoFormatForRandomInstantsInAnyOrder() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 10_000; i++) {
      long t = random.nextLong(0, 4_102_444_800_000L);
      assertEquals(REFERENCE.format(Instant.ofEpochMilli(t)), Timestamps.format(t));
    }
  }

  @Test
  void formatsAnInstantAndNow() {
    assertEquals("2026-11-22T10:00:00.123Z", Timestamps.format(Instant.parse("2026-11-22T10:00:00.123456Z")));
    assertEquals(24, Timestamps.now().length());
  }
}
