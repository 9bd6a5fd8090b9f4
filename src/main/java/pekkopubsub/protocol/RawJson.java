package pekkopubsub.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * One JSON value as the client sent it (UTF-8, already validated by {@link RequestDecoder}): a
 * publish's payload travels to every subscriber as these bytes, never parsed into a tree and
 * written out again.
 */
public record RawJson(ByteString utf8) implements JsonSerializable {

  /** Wraps JSON text the caller knows to be one valid value (the decoder's output, tests, tools). */
  public static RawJson of(String json) {
    return new RawJson(ByteString.fromString(json, StandardCharsets.UTF_8));
  }

  /** The compact text of a parsed value. */
  public static RawJson of(JsonNode value) {
    return of(value.toString());
  }

  public String text() {
    return utf8.utf8String();
  }

  @Override
  public void serialize(JsonGenerator gen, SerializerProvider serializers) throws IOException {
    gen.writeRawValue(text());
  }

  @Override
  public void serializeWithType(JsonGenerator gen, SerializerProvider serializers, TypeSerializer typeSer)
      throws IOException {
    serialize(gen, serializers);
  }

  @Override
  public String toString() {
    return text();
  }
}
