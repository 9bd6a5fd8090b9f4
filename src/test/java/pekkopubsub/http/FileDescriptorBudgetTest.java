package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import pekkopubsub.config.Settings;

class FileDescriptorBudgetTest {

  private static Settings settings(String config) {
    return Settings.from(Settings.withDefaults(ConfigFactory.parseString(config)));
  }

  @Test
  void theDefaultsNeedAboutElevenThousandDescriptorsAndAShellsThousandIsWarnedAbout() {
    Settings defaults = settings("");
    assertEquals(OptionalLong.of(10_000 + 1_024 + FileDescriptorBudget.RESERVED), FileDescriptorBudget.needed(defaults));
    String warning = FileDescriptorBudget.shortfall(defaults, 1024);
    assertTrue(warning.contains("may open 1024 files"), warning);
    assertTrue(warning.contains("need about 11152"), warning);
    assertTrue(warning.contains("ulimit -n"), warning);
    assertNull(FileDescriptorBudget.shortfall(defaults, 1_048_576), "Docker's default limit is plenty");
  }

  @Test
  void conscryptsThreeDescriptorsPerConnectionAreCounted() {
    Settings conscrypt = settings("pubsub.limits.max-connections = 100\npubsub.limits.max-http-connections = 10\n"
        + "pubsub.http.tls { certificate = a.pem, private-key = k.pem, provider = conscrypt }");
    assertEquals(OptionalLong.of(330 + FileDescriptorBudget.RESERVED), FileDescriptorBudget.needed(conscrypt));
    Settings jdk = settings("pubsub.limits.max-connections = 100\npubsub.limits.max-http-connections = 10\n"
        + "pubsub.http.tls { certificate = a.pem, private-key = k.pem }");
    assertEquals(OptionalLong.of(110 + FileDescriptorBudget.RESERVED), FileDescriptorBudget.needed(jdk));
  }

  @Test
  void unlimitedConnectionsNeedNoParticularNumber() {
    assertEquals(OptionalLong.empty(), FileDescriptorBudget.needed(settings("pubsub.limits.max-connections = 0")));
    assertNull(FileDescriptorBudget.shortfall(settings("pubsub.limits.max-http-connections = 0"), 64));
  }

  @Test
  void thisProcessKnowsItsLimitOnUnix() {
    OptionalLong limit = FileDescriptorBudget.maxOpenFiles();
    assertTrue(limit.isEmpty() || limit.getAsLong() > 0, limit::toString);
  }
}
