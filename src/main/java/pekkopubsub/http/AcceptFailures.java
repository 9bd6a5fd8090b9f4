package pekkopubsub.http;

/**
 * Keeps a listener's failing accepts (out of file descriptors, typically) to two log lines: the
 * first failure, and the recovery once accepts have worked for {@link #SETTLE_MILLIS}. The loop
 * retries every 100 ms while it lasts, and at the edge of the limit accepts alternate with
 * failures: a line per retry wrote ten a second for as long as the server was full.
 */
final class AcceptFailures {
  /** How long accepts must work, since the last failure, before the run of failures is over. */
  static final long SETTLE_MILLIS = 10_000;

  /** Failures of the current run; 0 when there is none. */
  private long failures;
  private long firstFailureMillis;
  private long lastFailureMillis;

  /** Counts a failed accept; true for the first of a run, which is worth a WARN. */
  boolean failed(long nowMillis) {
    boolean first = failures == 0;
    if (first) firstFailureMillis = nowMillis;
    failures++;
    lastFailureMillis = nowMillis;
    return first;
  }

  /** An accept that worked: ends a settled run with what to log about it; null otherwise. */
  String accepted(long nowMillis) {
    if (failures == 0 || nowMillis - lastFailureMillis < SETTLE_MILLIS) return null;
    String recovery = failures + (failures == 1 ? " failed attempt" : " failed attempts") + " over "
        + (lastFailureMillis - firstFailureMillis) + " ms, the last " + (nowMillis - lastFailureMillis) + " ms ago";
    failures = 0;
    return recovery;
  }
}
