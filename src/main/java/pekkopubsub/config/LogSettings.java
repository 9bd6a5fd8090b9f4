package pekkopubsub.config;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * LOG_LEVEL and LOG_FORMAT, which logback reads, checked before logging starts: logback takes a
 * level it does not know for DEBUG and a format it does not know for no logging at all.
 */
public final class LogSettings {
  static final List<String> LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");
  static final List<String> FORMATS = List.of("text", "json");

  private LogSettings() {}

  /**
   * The values logback is to use, as system properties (which logback reads before the
   * environment): spelled as logback knows them, whatever their case, and the defaults for blank
   * ones (as compose files write an unset variable). Throws when a value is none of them.
   */
  public static Map<String, String> fromEnvironment(Map<String, String> env) {
    String level = normalized(env, "LOG_LEVEL", "INFO", LEVELS, value -> value.toUpperCase(Locale.ROOT));
    String format = normalized(env, "LOG_FORMAT", "text", FORMATS, value -> value.toLowerCase(Locale.ROOT));
    return Map.of("LOG_LEVEL", level, "LOG_FORMAT", format);
  }

  private static String normalized(Map<String, String> env, String variable, String fallback, List<String> allowed,
      java.util.function.UnaryOperator<String> spelling) {
    String value = env.get(variable);
    if (value == null || value.isBlank()) return fallback;
    String spelled = spelling.apply(value.strip());
    if (!allowed.contains(spelled)) {
      throw new InvalidConfigurationException(null, "environment variable " + variable + " must be one of "
          + String.join(", ", allowed) + ", not \"" + value + "\"");
    }
    return spelled;
  }
}
