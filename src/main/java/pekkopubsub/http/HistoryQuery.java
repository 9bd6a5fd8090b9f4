package pekkopubsub.http;

import java.util.Map;
import java.util.Set;
import pekkopubsub.protocol.RequestDecoder;

/**
 * The query of GET /topics/{name}/messages, checked: at most {@code limit} events, those after
 * {@code sinceOffset} (of {@code epoch}) when it is given, else the newest.
 */
public record HistoryQuery(int limit, Long sinceOffset, String epoch) {
  public static final int DEFAULT_LIMIT = 100;
  public static final int MAX_LIMIT = RequestDecoder.MAX_LAST_N;
  /** api_key too: a browser that opened a page with it may pass it along. */
  private static final Set<String> KNOWN = Set.of("limit", "since_offset", "epoch", "api_key");

  /** The query of {@code parameters}; an IllegalArgumentException says what is wrong with it. */
  public static HistoryQuery parse(Map<String, String> parameters) {
    for (String name : parameters.keySet()) {
      // A subscribe's last_n here would otherwise be ignored without a word, and the default read.
      if (!KNOWN.contains(name)) {
        throw new IllegalArgumentException("unknown query parameter '" + name + "': expected limit, since_offset and epoch");
      }
    }
    int limit = DEFAULT_LIMIT;
    String limitText = parameters.get("limit");
    if (limitText != null) {
      Long parsed = number(limitText);
      if (parsed == null || parsed < 1 || parsed > MAX_LIMIT) {
        throw new IllegalArgumentException("'limit' must be an integer from 1 to " + MAX_LIMIT);
      }
      limit = parsed.intValue();
    }
    Long since = null;
    String sinceText = parameters.get("since_offset");
    if (sinceText != null) {
      since = number(sinceText);
      if (since == null || since < 0) throw new IllegalArgumentException("'since_offset' must be a non-negative integer");
    }
    String epoch = parameters.get("epoch");
    if (epoch != null && since == null) throw new IllegalArgumentException("'epoch' needs 'since_offset'");
    return new HistoryQuery(limit, since, epoch);
  }

  /** Decimal digits only: Long.parseLong would take a sign, and "+5" or "-0" are no offsets a client was given. */
  private static Long number(String text) {
    if (text.isEmpty() || text.length() > 18) return null;
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > '9') return null;
    }
    return Long.parseLong(text);
  }
}
