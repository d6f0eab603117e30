package dev.sacrag.schemas;

import static dev.sacrag.schemas.BadDocumentException.Reason.MALFORMED;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON form of a document (architecture.md "JSON documents"): {@code docId} and
 * {@code text} required; {@code tenant}, {@code title}, {@code version}, {@code source},
 * {@code metadata} and {@code publishedAt} optional; unknown fields ignored so that producers
 * may add fields before readers know them. Parsing is strict JSON; building does not validate
 * (see {@link DocumentRules}).
 */
public final class DocumentJson {

    public static final String DEFAULT_TENANT = "default";
    private static final TypeAdapter<JsonElement> TREE = new Gson().getAdapter(JsonElement.class);

    private DocumentJson() {
    }

    /** A JSON object starts with '{' after an optional UTF-8 byte-order mark and whitespace. */
    static boolean looksLikeJsonObject(byte[] value) {
        int i = startsWithBom(value) ? 3 : 0;
        while (i < value.length && (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' || value[i] == '\n')) {
            i++;
        }
        return i < value.length && value[i] == '{';
    }

    static JsonObject parseObject(byte[] value) throws BadDocumentException {
        int offset = startsWithBom(value) ? 3 : 0;
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value, offset, value.length - offset))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BadDocumentException(MALFORMED, "JSON value is not valid UTF-8", e);
        }
        return parseObject(text);
    }

    /** Strict JSON (no comments, single quotes or NaN) holding exactly one object. */
    public static JsonObject parseObject(String text) throws BadDocumentException {
        try (JsonReader reader = new JsonReader(new StringReader(text))) {
            reader.setStrictness(Strictness.STRICT);
            JsonElement tree = TREE.read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new BadDocumentException(MALFORMED, "trailing data after the JSON object");
            }
            if (tree == null || !tree.isJsonObject()) {
                throw new BadDocumentException(MALFORMED, "JSON value is not an object");
            }
            return tree.getAsJsonObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new BadDocumentException(MALFORMED, "invalid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * @param nowMillis version and publishedAt when the object has none
     */
    public static DocumentEvent fromJson(JsonObject json, long nowMillis) throws BadDocumentException {
        String docId = requiredString(json, "docId");
        String text = requiredString(json, "text");
        String tenant = optionalString(json, "tenant");
        Long version = optionalLong(json, "version");
        return DocumentEvent.newBuilder()
                .setDocId(docId)
                .setTenant(tenant == null ? DEFAULT_TENANT : tenant)
                .setVersion(version == null ? nowMillis : version)
                .setTitle(optionalString(json, "title"))
                .setText(text)
                .setSource(optionalString(json, "source"))
                .setMetadata(metadata(json))
                .setPublishedAt(publishedAt(json, nowMillis))
                .build();
    }

    /** One line of JSON; publishedAt in epoch milliseconds. */
    public static String toJson(DocumentEvent event) {
        JsonObject json = new JsonObject();
        json.addProperty("docId", event.getDocId());
        json.addProperty("tenant", event.getTenant());
        json.addProperty("version", event.getVersion());
        if (event.getTitle() != null) {
            json.addProperty("title", event.getTitle());
        }
        json.addProperty("text", event.getText());
        if (event.getSource() != null) {
            json.addProperty("source", event.getSource());
        }
        JsonObject metadata = new JsonObject();
        event.getMetadata().forEach(metadata::addProperty);
        json.add("metadata", metadata);
        json.addProperty("publishedAt", event.getPublishedAt().toEpochMilli());
        return json.toString();
    }

    private static String requiredString(JsonObject json, String field) throws BadDocumentException {
        String value = optionalString(json, field);
        if (value == null) {
            throw DocumentCodec.missing(field);
        }
        return value;
    }

    /** Absent and JSON null both mean "not given". */
    private static String optionalString(JsonObject json, String field) throws BadDocumentException {
        JsonElement element = json.get(field);
        if (element == null || element.isJsonNull()) {
            return null;
        }
        if (!(element instanceof JsonPrimitive primitive) || !primitive.isString()) {
            throw DocumentCodec.invalid("'" + field + "' must be a string, got " + element);
        }
        return primitive.getAsString();
    }

    private static Long optionalLong(JsonObject json, String field) throws BadDocumentException {
        JsonElement element = json.get(field);
        if (element == null || element.isJsonNull()) {
            return null;
        }
        if (!(element instanceof JsonPrimitive primitive) || !primitive.isNumber()) {
            throw DocumentCodec.invalid("'" + field + "' must be an integer, got " + element);
        }
        try {
            // getAsLong would silently truncate 1.5 to 1; a version must be exact.
            return new BigDecimal(primitive.getAsString()).longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw DocumentCodec.invalid("'" + field + "' must be a 64-bit integer, got " + element);
        }
    }

    /** String values kept as is; numbers and booleans as their JSON text; nesting rejected. */
    private static Map<String, String> metadata(JsonObject json) throws BadDocumentException {
        JsonElement element = json.get("metadata");
        Map<String, String> metadata = new LinkedHashMap<>();
        if (element == null || element.isJsonNull()) {
            return metadata;
        }
        if (!element.isJsonObject()) {
            throw DocumentCodec.invalid("'metadata' must be an object of strings, got " + element);
        }
        for (Map.Entry<String, JsonElement> entry : element.getAsJsonObject().entrySet()) {
            if (!(entry.getValue() instanceof JsonPrimitive value)) {
                throw DocumentCodec.invalid("metadata '" + entry.getKey() + "' must be a string, got " + entry.getValue());
            }
            metadata.put(entry.getKey(), value.getAsString());
        }
        return metadata;
    }

    /** Epoch milliseconds or an ISO-8601 instant; "now" when absent. */
    private static Instant publishedAt(JsonObject json, long nowMillis) throws BadDocumentException {
        JsonElement element = json.get("publishedAt");
        if (element == null || element.isJsonNull()) {
            return Instant.ofEpochMilli(nowMillis);
        }
        if (element instanceof JsonPrimitive primitive && primitive.isString()) {
            Instant instant;
            try {
                instant = Instant.parse(primitive.getAsString());
            } catch (DateTimeParseException e) {
                throw DocumentCodec.invalid("'publishedAt' must be epoch milliseconds or ISO-8601, got " + element);
            }
            try {
                instant.toEpochMilli();   // stored as epoch milliseconds downstream; ISO-8601 reaches further
            } catch (ArithmeticException e) {
                throw DocumentCodec.invalid("'publishedAt' is out of range (epoch milliseconds must fit 64 bits), got "
                        + element);
            }
            return instant;
        }
        return Instant.ofEpochMilli(optionalLong(json, "publishedAt"));
    }

    private static boolean startsWithBom(byte[] value) {
        return value.length >= 3 && value[0] == (byte) 0xEF && value[1] == (byte) 0xBB && value[2] == (byte) 0xBF;
    }
}
