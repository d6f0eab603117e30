package dev.sacrag.compressor;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentJson;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * A request on the recompress topic to rebuild a document's blob from the last document the
 * compressor saw (the query service sends one when a blob was evicted; {@code sac warm --rebuild}
 * sends one per missing blob). Key = docId; value = JSON, every field optional:
 * <pre>{"tenant": "acme", "reason": "blob-evicted", "modelId": "3f9a0c1d2e4b"}</pre>
 * A request names a model so that only the compressor running that model acts on it; without
 * {@code modelId} every compressor does. A null or empty value is the same as {@code {}}.
 */
public record RecompressRequest(String docId, Optional<String> tenant, Optional<String> reason,
                                Optional<String> modelId) {

    public RecompressRequest {
        Objects.requireNonNull(docId, "docId");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(modelId, "modelId");
    }

    public static RecompressRequest parse(String docId, byte[] value) throws BadDocumentException {
        if (value == null || value.length == 0) {
            return new RecompressRequest(docId, Optional.empty(), Optional.empty(), Optional.empty());
        }
        JsonObject json = DocumentJson.parseObject(new String(value, StandardCharsets.UTF_8));
        return new RecompressRequest(docId, text(json, "tenant"), text(json, "reason"), text(json, "modelId"));
    }

    public byte[] toJson() {
        JsonObject json = new JsonObject();
        tenant.ifPresent(t -> json.addProperty("tenant", t));
        reason.ifPresent(r -> json.addProperty("reason", r));
        modelId.ifPresent(m -> json.addProperty("modelId", m));
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Optional<String> text(JsonObject json, String field) throws BadDocumentException {
        JsonElement e = json.get(field);
        if (e == null || e.isJsonNull()) {
            return Optional.empty();
        }
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw new BadDocumentException(BadDocumentException.Reason.INVALID_FIELD,
                    "recompress request field '" + field + "' must be a string, got " + e);
        }
        return Optional.of(p.getAsString());
    }
}
