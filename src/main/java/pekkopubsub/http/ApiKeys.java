package pekkopubsub.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/** The configured API keys and the constant-time check of a presented one. */
public final class ApiKeys {
  private final byte[][] keys;

  public ApiKeys(List<String> keys) {
    this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
  }

  public static ApiKeys none() {
    return new ApiKeys(List.of());
  }

  /** Auth is on when at least one key is configured. */
  public boolean enabled() {
    return keys.length > 0;
  }

  /**
   * Whether {@code presented} is one of the keys. Every key is compared, with no early exit, and
   * {@link MessageDigest#isEqual} takes time independent of where bytes differ, so the answer's
   * timing tells an attacker neither which key nor how much of it matched.
   */
  public boolean accepts(String presented) {
    if (presented == null) return false;
    byte[] candidate = presented.getBytes(StandardCharsets.UTF_8);
    boolean match = false;
    for (byte[] key : keys) {
      match |= MessageDigest.isEqual(key, candidate);
    }
    return match;
  }

  /** Never the keys themselves: this may be logged. */
  @Override
  public String toString() {
    return "ApiKeys[" + keys.length + " configured]";
  }
}
