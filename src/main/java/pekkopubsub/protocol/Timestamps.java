package pekkopubsub.protocol;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The contract's timestamp format: ISO-8601 UTC with exactly three fraction digits. */
public final class Timestamps {
  private static final DateTimeFormatter FORMAT =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Timestamps() {}

  public static String now() {
    return format(Instant.now());
  }

  public static String format(Instant instant) {
    return FORMAT.format(instant);
  }
}
