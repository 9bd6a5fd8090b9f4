package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HistoryQueryTest {

  @Test
  void withoutParametersItReadsTheNewestHundred() {
    assertEquals(new HistoryQuery(100, null, null), HistoryQuery.parse(Map.of()));
  }

  @Test
  void takesALimitAnOffsetAndItsEpoch() {
    assertEquals(new HistoryQuery(1000, 0L, "9f3c"),
        HistoryQuery.parse(Map.of("limit", "1000", "since_offset", "0", "epoch", "9f3c")));
    assertEquals(new HistoryQuery(1, 41L, null), HistoryQuery.parse(Map.of("limit", "1", "since_offset", "41")));
    assertEquals(new HistoryQuery(100, null, null), HistoryQuery.parse(Map.of("api_key", "k")), "a browser's key passes");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "1001", "-1", "+5", "ten", "", "1.5", "99999999999999999999"})
  void refusesALimitOutsideOneToAThousand(String limit) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HistoryQuery.parse(Map.of("limit", limit)));
    assertEquals("'limit' must be an integer from 1 to 1000", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "+5", "x", "", "1e3", "9999999999999999999"})
  void refusesAnOffsetThatIsNoWholeNumber(String offset) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HistoryQuery.parse(Map.of("since_offset", offset)));
    assertEquals("'since_offset' must be a non-negative integer", e.getMessage());
  }

  @Test
  void refusesAnEpochWithoutOffsetAndNamesAnUnknownParameter() {
    assertEquals("'epoch' needs 'since_offset'",
        assertThrows(IllegalArgumentException.class, () -> HistoryQuery.parse(Map.of("epoch", "e"))).getMessage());
    String unknown = assertThrows(IllegalArgumentException.class, () -> HistoryQuery.parse(Map.of("last_n", "5"))).getMessage();
    assertTrue(unknown.startsWith("unknown query parameter 'last_n'"), unknown);
  }
}
