package pekkopubsub.topic;

/**
 * The contract's rule for topic names, {@code ^[A-Za-z0-9._-]{1,256}$}, less {@code .} and
 * {@code ..}: HTTP clients and servers remove those path segments, so such a topic could never be
 * deleted over REST.
 */
public final class TopicName {
  public static final int MAX_LENGTH = 256;

  private TopicName() {}

  public static boolean isValid(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_LENGTH) return false;
    if (name.equals(".") || name.equals("..")) return false;
    for (int i = 0; i < name.length(); i++) {
      if (!isAllowed(name.charAt(i))) return false;
    }
    return true;
  }

  /** Why {@code name} is not a topic name, for error messages; the name itself is not echoed when huge. */
  public static String problem(String name) {
    if (name == null || name.isEmpty()) return "topic name must not be empty";
    if (name.length() > MAX_LENGTH) return "topic name is longer than " + MAX_LENGTH + " characters";
    if (name.equals(".") || name.equals("..")) return "topic names '.' and '..' are reserved: URLs cannot address them";
    return "invalid topic name '" + name + "': allowed are A-Z, a-z, 0-9, '.', '_' and '-'";
  }

  private static boolean isAllowed(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '_' || c == '-';
  }
}
