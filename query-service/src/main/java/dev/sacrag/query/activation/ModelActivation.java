package dev.sacrag.query.activation;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A record of the control topic ({@value #DEFAULT_TOPIC}, compacted, one partition) that names
 * the model every query service answers with. Key {@value #KEY}; value JSON:
 * <pre>{"modelId": "3f9a0c1d2e4b", "adapter": "sac-v2"}</pre>
 * {@code adapter} is a hint (a folder name under the model package's {@code adapters/}, or a
 * path); each replica finds the adapter whose model id matches among its own adapters. A
 * tombstone under the key returns every replica to the model it was started with.
 * Written by {@code sac model activate}.
 */
public record ModelActivation(String modelId, Optional<String> adapter) {

    public static final String DEFAULT_TOPIC = "sac.control";
    public static final String KEY = "active-model";
    private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public ModelActivation {
        requireModelId(modelId);
        Objects.requireNonNull(adapter, "adapter");
    }

    /** @throws IllegalArgumentException saying what a model id is, when {@code modelId} is not one */
    public static String requireModelId(String modelId) {
        Objects.requireNonNull(modelId, "modelId");
        if (!MODEL_ID.matcher(modelId).matches()) {
            throw new IllegalArgumentException("'" + modelId + "' is not a model id (1-64 letters, digits, '.', '_' or '-')");
        }
        return modelId;
    }

    /** @throws IllegalArgumentException when the value is not such a JSON object */
    public static ModelActivation parse(byte[] value) {
        try {
            JsonElement json = JsonParser.parseString(new String(value, StandardCharsets.UTF_8));
            if (!json.isJsonObject()) {
                throw new IllegalArgumentException("a model activation is a JSON object, got " + json);
            }
            JsonObject o = json.getAsJsonObject();
            return new ModelActivation(text(o, "modelId").orElseThrow(() ->
                    new IllegalArgumentException("a model activation needs \"modelId\", got " + o)), text(o, "adapter"));
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("a model activation is JSON: " + e.getMessage(), e);
        }
    }

    public byte[] toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("modelId", modelId);
        adapter.ifPresent(a -> o.addProperty("adapter", a));
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Optional<String> text(JsonObject o, String field) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            return Optional.empty();
        }
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a string, got " + e);
        }
        return Optional.of(p.getAsString());
    }
}
