package pekkopubsub.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestIdSalvageTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"request_id\":\"r1\",\"type\":\"publish\",\"message\":{\"payload\":\"cut off he | r1",
      "{\"type\":\"publish\",\"message\":{\"request_id\":\"no\",\"payload\":[1,{\"a\":2}]},\"request_id\":\"r2\",\"pad\":\"x | r2",
      "{ \"request_id\" : \"with \\\"quotes\\\" and \\u00e9\" | with \"quotes\" and é",
      "{\"request_id\":\"\"} | ''"})
  void fromStartReadsTopLevelFieldsUntilTheTextBreaksOff(String text, String id) {
    assertEquals(id, RequestIdSalvage.fromStart(text));
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    assertEquals(id, RequestIdSalvage.fromStart(bytes, 0, bytes.length));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "not json", "[{\"request_id\":\"r\"}]", "{\"type\":\"ping\",\"pad\":\"cut before the id",
      "{\"request_id\":42}", "{\"request_id\":null}", "{\"message\":{\"request_id\":\"nested\"}}", "{\"request_id\":\"unterminated"})
  void fromStartFindsNothingWithoutACompleteTopLevelStringId(String text) {
    assertNull(RequestIdSalvage.fromStart(text));
  }

  @Test
  void fromEndReadsAnIdThatIsTheLastField() {
    assertEquals("r1", fromEnd("ut off\"},\"request_id\":\"r1\"}"));
    assertEquals("r2", fromEnd("x\", \"request_id\" :\t\"r2\" }\n"));
    assertEquals("esc\"aped\\", fromEnd("{\"request_id\":\"esc\\\"aped\\\\\"}"));
    assertEquals("été", fromEnd("8a\",\"request_id\":\"\\u00e9t\\u00e9\"}"));
  }

  /** {@code tail} behind bytes that are not part of the window. */
  private static String fromEnd(String tail) {
    byte[] bytes = ("garbage" + tail).getBytes(StandardCharsets.UTF_8);
    return RequestIdSalvage.fromEnd(bytes, 7, bytes.length - 7);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "\"message\":{\"request_id\":\"nested\"}}",
      "\"request_id\":\"r1\",\"type\":\"ping\"}",
      "\"request_id\":\"r1\"",
      "x\",\"other_id\":\"r1\"}",
      "x\",\"request_id\":42}",
      "the value is cut off at the window's start\"}",
      "x\",\"not_request_id\":\"r1\"}"})
  void fromEndFindsNothingUnlessTheIdEndsTheObject(String tail) {
    assertNull(fromEnd(tail));
  }
}
