package pekkopubsub.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.UUID;
import pekkopubsub.config.Settings;
import pekkopubsub.topic.TopicName;

/**
 * Decodes and validates client frames under one server's configured limits (JSON nesting, number
 * and string length, request_id and client_id length). Immutable and thread-safe: one instance
 * per server, shared by its connections.
 */
public final class RequestDecoder {
  public static final int MAX_LAST_N = 1000;

  private final ObjectMapper mapper;
  private final int maxRequestIdLength;
  private final int maxClientIdLength;

  public RequestDecoder(Settings.Limits limits) {
    this.mapper = JsonCodec.newMapper(limits);
    this.maxRequestIdLength = limits.maxRequestIdLength();
    this.maxClientIdLength = limits.maxClientIdLength();
  }

  /** A decoder with reference.conf's limits, for tools and tests that run without a server. */
  public static RequestDecoder withDefaults() {
    return Default.INSTANCE;
  }

  private static final class Default {
    static final RequestDecoder INSTANCE = new RequestDecoder(Settings.Limits.defaults());
  }

  /** Decodes one text frame; never throws: a bad frame becomes {@link Inbound.Rejected}. */
  public Inbound decode(String text) {
    JsonNode root;
    try {
      root = mapper.readTree(text);
    } catch (StreamConstraintsException e) {
      return bad(null, "message exceeds a JSON limit: " + e.getOriginalMessage());
    } catch (JsonProcessingException | RuntimeException e) {
      return bad(null, "message is not valid JSON");
    }
    if (root == null || !root.isObject()) return bad(null, "message must be a JSON object");
    try {
      return decodeObject(root);
    } catch (Invalid e) {
      return e.rejected;
    }
  }

  private Inbound decodeObject(JsonNode root) {
    String requestId = requestId(root);
    JsonNode type = root.get("type");
    if (type == null || type.isNull()) throw invalid(requestId, "field 'type' is required");
    if (!type.isTextual()) throw invalid(requestId, "field 'type' must be a string");
    return switch (type.textValue()) {
      case "subscribe" -> subscribe(root, requestId);
      case "unsubscribe" -> new Request.Unsubscribe(requestId, topic(root, requestId), clientId(root, requestId));
      case "publish" -> publish(root, requestId);
      case "ping" -> new Request.Ping(requestId);
      default -> throw invalid(requestId, "unknown type '" + abbreviate(type.textValue())
          + "': expected subscribe, unsubscribe, publish or ping");
    };
  }

  private Request.Subscribe subscribe(JsonNode root, String requestId) {
    String topic = topic(root, requestId);
    String clientId = clientId(root, requestId);
    String epoch = optionalString(root, "epoch", requestId);
    JsonNode lastN = present(root, "last_n");
    JsonNode sinceOffset = present(root, "since_offset");
    if (lastN != null && sinceOffset != null) {
      throw invalid(requestId, "use at most one of 'last_n' and 'since_offset'");
    }
    int n = 0;
    if (lastN != null) {
      if (!lastN.isIntegralNumber() || !lastN.canConvertToInt()
          || lastN.intValue() < 0 || lastN.intValue() > MAX_LAST_N) {
        throw invalid(requestId, "'last_n' must be an integer from 0 to " + MAX_LAST_N);
      }
      n = lastN.intValue();
    }
    Long since = null;
    if (sinceOffset != null) {
      if (!sinceOffset.isIntegralNumber() || !sinceOffset.canConvertToLong() || sinceOffset.longValue() < 0) {
        throw invalid(requestId, "'since_offset' must be a non-negative integer");
      }
      since = sinceOffset.longValue();
    }
    return new Request.Subscribe(requestId, topic, clientId, n, since, epoch);
  }

  private Request.Publish publish(JsonNode root, String requestId) {
    String topic = topic(root, requestId);
    JsonNode message = root.get("message");
    if (message == null || message.isNull()) throw invalid(requestId, "field 'message' is required");
    if (!message.isObject()) throw invalid(requestId, "field 'message' must be an object");
    JsonNode payload = message.get("payload");
    if (payload == null) throw invalid(requestId, "field 'message.payload' is required");
    UUID id = null;
    JsonNode idNode = present(message, "id");
    if (idNode != null) {
      if (!idNode.isTextual()) throw invalid(requestId, "'message.id' must be a UUID string");
      try {
        id = UUID.fromString(idNode.textValue());
      } catch (IllegalArgumentException e) {
        throw invalid(requestId, "'message.id' is not a UUID");
      }
      if (idNode.textValue().length() != 36) throw invalid(requestId, "'message.id' is not a UUID");
    }
    return new Request.Publish(requestId, topic, id, payload);
  }

  private String requestId(JsonNode root) {
    JsonNode node = present(root, "request_id");
    if (node == null) return null;
    if (!node.isTextual()) throw invalid(null, "'request_id' must be a string");
    String id = node.textValue();
    int max = maxRequestIdLength;
    if (id.length() > max && id.codePointCount(0, id.length()) > max) {
      throw invalid(null, "'request_id' is longer than " + max + " characters");
    }
    return node.textValue();
  }

  private String clientId(JsonNode root, String requestId) {
    String id = optionalString(root, "client_id", requestId);
    int max = maxClientIdLength;
    if (id != null && id.length() > max && id.codePointCount(0, id.length()) > max) {
      throw invalid(requestId, "'client_id' is longer than " + max + " characters");
    }
    return id;
  }

  private static String topic(JsonNode root, String requestId) {
    JsonNode node = root.get("topic");
    if (node == null || node.isNull()) throw invalid(requestId, "field 'topic' is required");
    if (!node.isTextual()) throw invalid(requestId, "field 'topic' must be a string");
    String name = node.textValue();
    if (!TopicName.isValid(name)) throw invalid(requestId, TopicName.problem(abbreviate(name)));
    return name;
  }

  private static String optionalString(JsonNode root, String field, String requestId) {
    JsonNode node = present(root, field);
    if (node == null) return null;
    if (!node.isTextual()) throw invalid(requestId, "'" + field + "' must be a string");
    return node.textValue();
  }

  /** A field that is there and not null; JSON null counts as absent for optional fields. */
  private static JsonNode present(JsonNode object, String field) {
    JsonNode node = object.get(field);
    return node == null || node.isNull() ? null : node;
  }

  private static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }

  private static Inbound.Rejected bad(String requestId, String message) {
    return new Inbound.Rejected(requestId, ErrorCode.BAD_REQUEST, message);
  }

  private static Invalid invalid(String requestId, String message) {
    return new Invalid(bad(requestId, message));
  }

  /** Unwinds validation to {@link #decode}; carries no stack trace because bad input is not exceptional here. */
  private static final class Invalid extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Inbound.Rejected rejected;

    Invalid(Inbound.Rejected rejected) {
      super(rejected.message(), null, false, false);
      this.rejected = rejected;
    }
  }
}
