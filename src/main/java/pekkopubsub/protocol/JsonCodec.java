package pekkopubsub.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.UncheckedIOException;
import org.apache.pekko.util.ByteString;
import pekkopubsub.config.Settings;

/** The one JSON codec: its mapper encodes every server frame and REST body; {@link RequestDecoder} validates client frames. */
public final class JsonCodec {

  private static final ObjectMapper MAPPER = newMapper(null);

  private static final ByteString REPLAY_SUFFIX = ByteString.fromString(",\"replay\":true}");

  private JsonCodec() {}

  /** A mapper with the codec's conventions; with {@code limits}, it also bounds what one document may cost to parse. */
  public static ObjectMapper newMapper(Settings.Limits l) {
    ObjectMapper mapper = JsonMapper.builder()
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .serializationInclusion(JsonInclude.Include.NON_NULL)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build();
    if (l == null) return mapper;
    // Bounds what one hostile document can cost to parse: deep nesting (stack), long numbers (BigInteger/BigDecimal parsing is superlinear), long strings.
    mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
        .maxNestingDepth(l.maxJsonNestingDepth())
        .maxNumberLength(l.maxJsonNumberLength())
        .maxStringLength(l.maxJsonStringLength())
        .build());
    return mapper;
  }

  /** The shared mapper, for the HTTP layer's marshallers. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * The frame's JSON. Events and acks, one each per publish, are written by {@link FrameWriter}
   * byte by byte in the field order and escaping the mapper uses; the mapper's reflective record
   * serialization cost several times more per publish in the server's profile.
   */
  public static ByteString encode(Object wireRecord) {
    if (wireRecord instanceof Outbound.Event event) return FrameWriter.event(event);
    if (wireRecord instanceof Outbound.Ack ack) return FrameWriter.ack(ack);
    return encodeWithMapper(wireRecord);
  }

  /** The mapper's encoding of any wire record: what {@link #encode} must equal. */
  static ByteString encodeWithMapper(Object wireRecord) {
    try {
      return ByteString.fromArrayUnsafe(MAPPER.writeValueAsBytes(wireRecord));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String encodeToString(Object wireRecord) {
    return encode(wireRecord).utf8String();
  }

  /**
   * The replay variant of an encoded event: the same object with {@code "replay":true} appended,
   * made from the stored bytes instead of encoding the event again.
   */
  public static ByteString asReplay(ByteString eventJson) {
    return eventJson.dropRight(1).concat(REPLAY_SUFFIX);
  }

  public static JsonNode parse(String json) throws JsonProcessingException {
    return MAPPER.readTree(json);
  }

  /** Decodes one text frame with the default limits; the server decodes with {@link RequestDecoder} and its configured ones. */
  public static Inbound decode(String text) {
    return RequestDecoder.withDefaults().decode(text);
  }
}

