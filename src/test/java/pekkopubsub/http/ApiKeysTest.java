package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

  @Test
  void acceptsEveryConfiguredKeyAndNothingElse() {
    ApiKeys keys = new ApiKeys(List.of("k1", "second-key", "ключ"));
    assertTrue(keys.enabled());
    assertTrue(keys.accepts("k1"));
    assertTrue(keys.accepts("second-key"));
    assertTrue(keys.accepts("ключ"));
    for (String wrong : new String[] {"", "k", "k12", "K1", "second-ke", "second-key ", " k1", "ключи"}) {
      assertFalse(keys.accepts(wrong), wrong);
    }
    assertFalse(keys.accepts(null));
  }

  @Test
  void noKeysMeansOffAndAcceptsNothing() {
    assertFalse(ApiKeys.none().enabled());
    assertFalse(ApiKeys.none().accepts("anything"));
  }

  @Test
  void toStringNeverShowsAKey() {
    String text = new ApiKeys(List.of("top-secret-1", "top-secret-2")).toString();
    assertFalse(text.contains("secret"), text);
  }
}
