package pekkopubsub.protocol;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
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
  /** Reads one field's value mid-document, where the mapper's trailing-token check does not apply. */
  private final ObjectReader fieldReader;
  private final int maxRequestIdLength;
  private final int maxClientIdLength;

  public RequestDecoder(Settings.Limits limits) {
    this.mapper = JsonCodec.newMapper(limits);
    this.fieldReader = mapper.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
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
    Inbound streamed = decodeStreaming(text);
    return streamed != null ? streamed : decodeTree(text);
  }

  /**
   * The path every well-formed object takes: one pass of the streaming parser that keeps a
   * publish's payload as the exact text the client sent (a tree of it would only be written out
   * again), and small nodes for the other fields so that validation below sees them as the tree
   * path does. Null when the frame is not one well-formed JSON object: {@link #decodeTree} then
   * says what is wrong with it.
   */
  private Inbound decodeStreaming(String text) {
    try (JsonParser parser = mapper.getFactory().createParser(text)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) return null;
      ObjectNode root = mapper.getNodeFactory().objectNode();
      RawJson payload = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if (!field.equals("message")) {
          root.set(field, node(parser, value));
          continue;
        }
        payload = null;
        if (value != JsonToken.START_OBJECT) {
          root.set(field, node(parser, value));
          continue;
        }
        ObjectNode message = mapper.getNodeFactory().objectNode();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String messageField = parser.currentName();
          JsonToken messageValue = parser.nextToken();
          if (messageField.equals("payload")) {
            payload = rawValue(parser, messageValue, text);
            message.set(messageField, PAYLOAD_MARK);
          } else {
            message.set(messageField, node(parser, messageValue));
          }
        }
        root.set(field, message);
      }
      if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) return null;
      return decodeObject(root, payload);
    } catch (StreamConstraintsException e) {
      return overLimit(text, e);
    } catch (Invalid e) {
      return e.rejected;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The value at the parser's current token as a node; strings, the usual case, without a reader. */
  private JsonNode node(JsonParser parser, JsonToken value) throws IOException {
    return switch (value) {
      case VALUE_STRING -> TextNode.valueOf(parser.getText());
      case VALUE_TRUE -> BooleanNode.TRUE;
      case VALUE_FALSE -> BooleanNode.FALSE;
      case VALUE_NULL -> NullNode.getInstance();
      default -> fieldReader.readTree(parser);
    };
  }

  /** The text of the value at the parser's current token, which the parser then has passed. */
  private RawJson rawValue(JsonParser parser, JsonToken value, String text) throws IOException {
    long start = parser.currentTokenLocation().getCharOffset();
    if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
      skipValidating(parser);
    } else if (value == JsonToken.VALUE_STRING) {
      // Materializes the string so that the read limits apply to it as they do in a tree.
      parser.getText();
    }
    String raw = text.substring((int) start, (int) parser.currentLocation().getCharOffset());
    // Line breaks can only be whitespace between tokens (strings hold them escaped): as spaces, every
    // frame stays one line, and numbers and escapes stay as sent, which a tree written out again would not.
    // String.replace gives back the same string when the character is not in it.
    return RawJson.of(raw.replace('\n', ' ').replace('\r', ' '));
  }

  /** skipChildren, except that strings are read, so that the string length limit holds inside payloads too. */
  private static void skipValidating(JsonParser parser) throws IOException {
    int depth = 1;
    while (depth > 0) {
      JsonToken token = parser.nextToken();
      if (token == null) throw new JsonParseException(parser, "unexpected end of input");
      switch (token) {
        case START_OBJECT, START_ARRAY -> depth++;
        case END_OBJECT, END_ARRAY -> depth--;
        case VALUE_STRING -> parser.getText();
        default -> { }
      }
    }
  }

  private Inbound decodeTree(String text) {
    JsonNode root;
    try {
      root = mapper.readTree(text);
    } catch (StreamConstraintsException e) {
      return overLimit(text, e);
    } catch (JsonProcessingException | RuntimeException e) {
      return bad(salvagedRequestId(text), "message is not valid JSON");
    }
    if (root == null || !root.isObject()) return bad(null, "message must be a JSON object");
    try {
      return decodeObject(root, null);
    } catch (Invalid e) {
      return e.rejected;
    }
  }

  /** {@code payload} is the raw text of message.payload when the streaming path read it, else null. */
  private Inbound decodeObject(JsonNode root, RawJson payload) {
    String requestId = requestId(root);
    JsonNode type = root.get("type");
    if (type == null || type.isNull()) throw invalid(requestId, "field 'type' is required");
    if (!type.isTextual()) throw invalid(requestId, "field 'type' must be a string");
    return switch (type.textValue()) {
      case "subscribe" -> subscribe(root, requestId);
      case "unsubscribe" -> new Request.Unsubscribe(requestId, topic(root, requestId), clientId(root, requestId));
      case "publish" -> publish(root, requestId, payload);
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

  private Request.Publish publish(JsonNode root, String requestId, RawJson rawPayload) {
    String topic = topic(root, requestId);
    JsonNode message = root.get("message");
    if (message == null || message.isNull()) throw invalid(requestId, "field 'message' is required");
    if (!message.isObject()) throw invalid(requestId, "field 'message' must be an object");
    return message(message, "message.", requestId, topic, rawPayload);
  }

  /**
   * A REST publish's body, the message of a WebSocket publish ({@code {"id": UUID, "payload": any
   * JSON}}, id optional) to the topic its path names: the request, or why the body is not one.
   */
  public static Inbound restPublish(String topic, JsonNode body) {
    try {
      validTopicName(topic, null);
      if (!body.isObject()) throw invalid(null, "body must be a JSON object {\"payload\": <any JSON>}, with an optional \"id\" (a UUID)");
      return message(body, "", null, topic, null);
    } catch (Invalid e) {
      return e.rejected;
    }
  }

  /** {@code prefix} names the message's fields as the client wrote them. */
  private static Request.Publish message(JsonNode message, String prefix, String requestId, String topic, RawJson rawPayload) {
    JsonNode payloadNode = message.get("payload");
    if (payloadNode == null) throw invalid(requestId, "field '" + prefix + "payload' is required");
    RawJson payload = rawPayload != null ? rawPayload : RawJson.of(payloadNode);
    String id = null;
    JsonNode idNode = present(message, "id");
    if (idNode != null) {
      if (!idNode.isTextual()) throw invalid(requestId, "'" + prefix + "id' must be a UUID string");
      id = idNode.textValue();
      if (!isUuid(id)) throw invalid(requestId, "'" + prefix + "id' is not a UUID (8-4-4-4-12 hexadecimal digits)");
    }
    return new Request.Publish(requestId, topic, id, payload);
  }

  /**
   * The 36-character form, in either case. UUID.fromString also takes short groups and signs
   * ("1-2-3-4-5"), and would hand the client back an id it never sent.
   */
  static boolean isUuid(String text) {
    if (text.length() != 36) return false;
    for (int i = 0; i < 36; i++) {
      char c = text.charAt(i);
      boolean valid = i == 8 || i == 13 || i == 18 || i == 23 ? c == '-' : Character.digit(c, 16) >= 0 && c < 128;
      if (!valid) return false;
    }
    return true;
  }

  /** Stands for message.payload in the streaming path's node of the message, whose text is kept aside. */
  private static final JsonNode PAYLOAD_MARK = NullNode.getInstance();

  private String requestId(JsonNode root) {
    JsonNode node = present(root, "request_id");
    if (node == null) return null;
    if (!node.isTextual()) throw invalid(null, "'request_id' must be a string");
    String id = node.textValue();
    if (longerThan(id, maxRequestIdLength)) {
      throw invalid(null, "'request_id' is longer than " + maxRequestIdLength + " characters");
    }
    return node.textValue();
  }

  private String clientId(JsonNode root, String requestId) {
    String id = optionalString(root, "client_id", requestId);
    if (id != null && longerThan(id, maxClientIdLength)) {
      throw invalid(requestId, "'client_id' is longer than " + maxClientIdLength + " characters");
    }
    return id;
  }

  private static String topic(JsonNode root, String requestId) {
    JsonNode node = root.get("topic");
    if (node == null || node.isNull()) throw invalid(requestId, "field 'topic' is required");
    if (!node.isTextual()) throw invalid(requestId, "field 'topic' must be a string");
    return validTopicName(node.textValue(), requestId);
  }

  private static String validTopicName(String name, String requestId) {
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

  private Inbound.Rejected overLimit(String text, StreamConstraintsException e) {
    return bad(salvagedRequestId(text), "message exceeds a JSON limit: " + e.getOriginalMessage());
  }

  private String salvagedRequestId(String text) {
    return echoable(RequestIdSalvage.fromStart(text));
  }

  /**
   * {@code salvaged}, a request_id found in a message that could not be decoded, if it is one the
   * decoder would have accepted and echoed; else null.
   */
  public String echoable(String salvaged) {
    return salvaged == null || longerThan(salvaged, maxRequestIdLength) ? null : salvaged;
  }

  /** Longer than {@code max} characters (code points); counted only when the UTF-16 length says it may be. */
  private static boolean longerThan(String s, int max) {
    return s.length() > max && s.codePointCount(0, s.length()) > max;
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
