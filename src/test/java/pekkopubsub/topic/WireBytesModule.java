package pekkopubsub.topic;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import org.apache.pekko.util.ByteString;
import pekkopubsub.protocol.RawJson;

/**
 * Jackson's view of the Topic protocol's two byte types, for Pekko's serializer in tests: a frame
 * ({@link ByteString}) and a payload ({@link RawJson}) cross as their bytes, unparsed.
 */
public final class WireBytesModule extends SimpleModule {

  public WireBytesModule() {
    super("WireBytesModule");
    addSerializer(ByteString.class, new JsonSerializer<>() {
      @Override
      public void serialize(ByteString bytes, JsonGenerator gen, SerializerProvider provider) throws IOException {
        gen.writeBinary(bytes.toArray());
      }
    });
    addDeserializer(ByteString.class, new JsonDeserializer<>() {
      @Override
      public ByteString deserialize(JsonParser parser, DeserializationContext context) throws IOException {
        return ByteString.fromArrayUnsafe(parser.getBinaryValue());
      }
    });
    addSerializer(RawJson.class, new JsonSerializer<>() {
      @Override
      public void serialize(RawJson json, JsonGenerator gen, SerializerProvider provider) throws IOException {
        gen.writeBinary(json.utf8().toArray());
      }
    });
    addDeserializer(RawJson.class, new JsonDeserializer<>() {
      @Override
      public RawJson deserialize(JsonParser parser, DeserializationContext context) throws IOException {
        return new RawJson(ByteString.fromArrayUnsafe(parser.getBinaryValue()));
      }
    });
  }
}
