package pekkopubsub.protocol;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The contract's timestamp format: ISO-8601 UTC with exactly three fraction digits. */
public final class Timestamps {
  private static final DateTimeFormatter SECOND =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);

  /** "2026-11-22T10:00:00." for one epoch second: formatted once per second instead of once per event. */
  private record FormattedSecond(long epochSecond, String prefix) {}

  // A cache of a pure function: a thread that reads a stale entry formats the second itself.
  private static volatile FormattedSecond last = new FormattedSecond(Long.MIN_VALUE, "");

  private Timestamps() {}

  public static String now() {
    return format(System.currentTimeMillis());
  }

  public static String format(Instant instant) {
    return format(instant.toEpochMilli());
  }

  static String format(long epochMilli) {
    long second = Math.floorDiv(epochMilli, 1000L);
    int millis = (int) Math.floorMod(epochMilli, 1000L);
    FormattedSecond cached = last;
    if (cached.epochSecond() != second) {
      cached = new FormattedSecond(second, SECOND.format(Instant.ofEpochSecond(second)));
      last = cached;
    }
    char[] digits = {(char) ('0' + millis / 100), (char) ('0' + millis / 10 % 10), (char) ('0' + millis % 10), 'Z'};
    return cached.prefix().concat(new String(digits));
  }
}
