package pekkopubsub.jmh;

import java.util.UUID;
import org.apache.pekko.util.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;
import pekkopubsub.connection.PerMessageDeflate;
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

  /** A 2 KB event of repetitive JSON, as price or feed updates are. */
  static final ByteString EVENT_2K = ByteString.fromString("{\"type\":\"event\",\"topic\":\"orders\",\"message\":{\"payload\":["
      + "{\"symbol\":\"ACME\",\"bid\":101.25,\"ask\":101.27,\"size\":300},".repeat(30) + "{}]},\"offset\":1}");

  RawJson payload;
  String id;
  long offset;
  ByteString event;

  @Setup
  public void setup() throws Exception {
    payload = RawJson.of(PAYLOAD);
    id = UUID.randomUUID().toString();
    event = JsonCodec.encode(new Outbound.Event("orders", new Outbound.Message(id, payload), 1, Timestamps.now()));
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
  /** permessage-deflate: the compressed frame of a ~250-byte event, once per publish when a subscriber agreed to it. */
  @Benchmark
  public ByteString compressEvent() {
    return PerMessageDeflate.compressedText(event);
  }

  /** The same for a 2 KB event. */
  @Benchmark
  public ByteString compressEvent2k() {
    return PerMessageDeflate.compressedText(EVENT_2K);
  }

  @Benchmark
  public String timestamp() {
    return Timestamps.now();
  }
}
