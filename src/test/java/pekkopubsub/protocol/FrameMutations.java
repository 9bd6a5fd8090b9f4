package pekkopubsub.protocol;

/** Damage done to a valid client frame by the property tests of the codec and of whole sessions. */
public final class FrameMutations {

  private FrameMutations() {}

  /** One mutation of a valid frame: truncated, a character replaced, inserted or removed, or doubled. */
  public static String mutate(String frame, int kind, int position, char c) {
    int at = frame.isEmpty() ? 0 : position % frame.length();
    return switch (kind) {
      case 0 -> frame.substring(0, at);
      case 1 -> frame.substring(0, at) + c + frame.substring(Math.min(frame.length(), at + 1));
      case 2 -> frame.substring(0, at) + c + frame.substring(at);
      case 3 -> frame.substring(0, at) + frame.substring(Math.min(frame.length(), at + 1));
      default -> frame + frame;
    };
  }
}
