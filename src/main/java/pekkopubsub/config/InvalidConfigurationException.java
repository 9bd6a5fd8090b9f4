package pekkopubsub.config;

/** A configuration the server cannot start with, said in one line for the operator: the setting at fault (if one is) and what it must be. */
public final class InvalidConfigurationException extends IllegalArgumentException {
  private final String setting;
  private final String problem;

  /** {@code setting} is the full path ({@code pubsub.http.port}), or null when no single setting is at fault (a file that does not parse). */
  public InvalidConfigurationException(String setting, String problem) {
    this(setting, problem, "");
  }

  private InvalidConfigurationException(String setting, String problem, String origin) {
    super(setting == null ? problem : setting + origin + " " + problem);
    this.setting = setting;
    this.problem = problem;
  }

  /** The setting at fault, or null. */
  public String setting() {
    return setting;
  }

  /** The same problem, saying where the value came from ({@code environment variable PORT}, {@code application.conf: 12}). */
  InvalidConfigurationException from(String origin) {
    return new InvalidConfigurationException(setting, problem, " (" + origin + ")");
  }
}
