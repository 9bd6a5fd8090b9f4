package pekkopubsub.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LogSettingsTest {

  private static Map<String, String> env(String level, String format) {
    Map<String, String> env = new HashMap<>();
    if (level != null) env.put("LOG_LEVEL", level);
    if (format != null) env.put("LOG_FORMAT", format);
    return env;
  }

  @Test
  void unsetOrBlankVariablesGetTheDefaults() {
    assertEquals(Map.of("LOG_LEVEL", "INFO", "LOG_FORMAT", "text"), LogSettings.fromEnvironment(env(null, null)));
    assertEquals(Map.of("LOG_LEVEL", "INFO", "LOG_FORMAT", "text"), LogSettings.fromEnvironment(env("", " ")));
  }

  @ParameterizedTest
  @CsvSource({"debug, JSON, DEBUG, json", "Warn, Text, WARN, text", " error , json, ERROR, json", "OFF, text, OFF, text"})
  void knownValuesInAnyCaseAreSpelledAsLogbackKnowsThem(String level, String format, String expectedLevel, String expectedFormat) {
    assertEquals(Map.of("LOG_LEVEL", expectedLevel, "LOG_FORMAT", expectedFormat), LogSettings.fromEnvironment(env(level, format)));
  }

  @Test
  void anUnknownLevelOrFormatIsRefusedNamingTheVariableAndTheChoices() {
    InvalidConfigurationException level = assertThrows(InvalidConfigurationException.class,
        () -> LogSettings.fromEnvironment(env("INF0", null)));
    assertEquals("environment variable LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF, not \"INF0\"",
        level.getMessage());
    InvalidConfigurationException format = assertThrows(InvalidConfigurationException.class,
        () -> LogSettings.fromEnvironment(env(null, "logfmt")));
    assertEquals("environment variable LOG_FORMAT must be one of text, json, not \"logfmt\"", format.getMessage());
  }
}
