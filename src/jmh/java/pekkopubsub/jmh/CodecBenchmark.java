package pekkopubsub.jmh;

import java.util.UUID;
import org.apache.pekko.util.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;
import pekkopubsub.connection.WebSocketFrames;
import pekkopubsub.protocol.Inbound;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.Outbound;
import pekkopubsub.protocol.RawJson;
import pekkopubsub.protocol.Timestamps;

/**
 * The per-message codec work of the hot path: decoding a client's publish frame (once per
 * publish, in the publisher's connection stage) and encoding the event and its WebSocket frame
 * (once per publish, in the Topic actor, as Topic.onPublish does), and the publish's ack, with a
 * ~100-byte payload.
 */
public class CodecBenchmark extends NanosecondBenchmark {

  static final String PAYLOAD = "{\"bt\":123456789012,\"pad\":\"" + "x".repeat(64) + "\"}";
  static final String PUBLISH = "{\"type\":\"publish\",\"topic\":\"orders\",\"request_id\":\"r-42\","
      + "\"message\":{\"id\":\"5b0e8d4e-6c8f-4f5e-9a51-2d3c1b0e7f11\",\"payload\":" + PAYLOAD + "}}";

  RawJson payload;
  String id;
  long offset;

  @Setup
  public void setup() throws Exception {
    payload = RawJson.of(PAYLOAD);
    id = UUID.randomUUID().toString();
    if (!(JsonCodec.decode(PUBLISH) instanceof pekkopubsub.protocol.Request)) {
      throw new IllegalStateException("the publish frame does not decode to a request: " + JsonCodec.decode(PUBLISH));
    }
  }

  /** JsonCodec.decode of a publish frame (validation included). */
  @Benchmark
  public Inbound decodePublish() {
    return JsonCodec.decode(PUBLISH);
  }

  /** What Topic.onPublish does per publish: encode the event JSON, then frame it. */
  @Benchmark
  public ByteString encodeEvent() {
    ByteString json = JsonCodec.encode(new Outbound.Event("orders", new Outbound.Message(id, payload), ++offset, Timestamps.now()));
    return WebSocketFrames.text(json);
  }

  /** What the publisher's connection stage does per publish when the topic answers: encode the ack. */
  @Benchmark
  public ByteString encodePublishAck() {
    return JsonCodec.encode(Outbound.Ack.published("r-42", "orders", ++offset, Timestamps.now()));
  }

  /** The timestamp alone (part of encodeEvent): one ISO-8601 string per publish. */
  @Benchmark
  public String timestamp() {
    return Timestamps.now();
  }
}
