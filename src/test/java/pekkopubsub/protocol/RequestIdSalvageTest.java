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

  /**
   * Overlong forms (C0 AF is "/"), encoded surrogates and code points past U+10FFFF, which Jackson's
   * byte parser reads as characters: echoed, the id would be one the client never sent.
   */
  @ParameterizedTest
  @ValueSource(strings = {"C0AF", "E080AF", "F08080AF", "C080", "EDA080", "F4908080", "F5808080"})
  void anIdWhoseOwnBytesAreNotUtf8IsNotFound(String hex) {
    byte[] first = concat(utf8("garbage{\"request_id\":\"u"), hex(hex), utf8("\",\"type\":\"ping\"}"));
    assertNull(RequestIdSalvage.fromStart(first, 7, first.length - 7));
    byte[] last = concat(utf8("garbage{\"type\":\"ping\",\"request_id\":\"u"), hex(hex), utf8("\"}"));
    assertNull(RequestIdSalvage.fromEnd(last, 7, last.length - 7));
  }

  @Test
  void bytesThatAreNotUtf8OutsideTheIdLeaveItFound() {
    byte[] first = concat(utf8("garbage{\"x\":\""), hex("C0AF"), utf8("\",\"request_id\":\"\\\"\u00e9t\u00e9\",\"y\":\""), hex("FF"));
    assertEquals("\"\u00e9t\u00e9", RequestIdSalvage.fromStart(first, 7, first.length - 7));
    byte[] last = concat(utf8("garbage{\"x\":\""), hex("C0AF"), utf8("\",\"request_id\":\"\\\"\u00e9t\u00e9\"}"));
    assertEquals("\"\u00e9t\u00e9", RequestIdSalvage.fromEnd(last, 7, last.length - 7));
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] hex(String hex) {
    return java.util.HexFormat.of().parseHex(hex);
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    for (byte[] part : parts) all.writeBytes(part);
    return all.toByteArray();
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
