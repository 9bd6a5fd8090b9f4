package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicNameTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "orders", "a", "Z", "0", "orders.eu-west_1", "...", "---", "___", "A.b-C_d.9", "UPPER", "123"})
  void validNames(String name) {
    assertTrue(TopicName.isValid(name), name);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      " ", "orders ", " orders", "or ders", "a/b", "/", "a\\b", "a:b", "a*b", "a#b", "a?b", "a,b",
      "a\tb", "a\nb", "caf\u00e9", "\u00fcber", "\u65e5\u672c", "emoji\uD83D\uDE00", "\u0430bc" /* Cyrillic a */,
      "\uFF41" /* fullwidth a */, "\u0661" /* Arabic-indic digit one */, "a+b", "a@b", "$topic", "a%20b"})
  void invalidNames(String name) {
    assertFalse(TopicName.isValid(name), name);
  }

  @ParameterizedTest
  @ValueSource(strings = {".", ".."})
  void dotSegmentsAreReservedBecauseUrlsCannotAddressThem(String name) {
    assertFalse(TopicName.isValid(name));
    assertTrue(TopicName.problem(name).contains("reserved"), TopicName.problem(name));
  }

  @Test
  void emptyAndNullAreInvalid() {
    assertFalse(TopicName.isValid(""));
    assertFalse(TopicName.isValid(null));
    assertEquals("topic name must not be empty", TopicName.problem(""));
    assertEquals("topic name must not be empty", TopicName.problem(null));
  }

  @Test
  void lengthLimitIs256Characters() {
    assertEquals(256, TopicName.MAX_LENGTH);
    assertTrue(TopicName.isValid("a".repeat(255)));
    assertTrue(TopicName.isValid("a".repeat(256)));
    assertFalse(TopicName.isValid("a".repeat(257)));
    assertFalse(TopicName.isValid("a".repeat(10_000)));
  }

  @Test
  void problemExplainsWhyANameIsInvalid() {
    assertTrue(TopicName.problem("a".repeat(257)).contains("256"));
    String problem = TopicName.problem("a b");
    assertTrue(problem.contains("'a b'"), problem);
  }

  @Test
  void problemOfATooLongNameDoesNotEchoIt() {
    String huge = "x".repeat(5000);
    assertFalse(TopicName.problem(huge).contains(huge));
  }
}
