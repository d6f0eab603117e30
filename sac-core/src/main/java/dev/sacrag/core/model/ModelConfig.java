package dev.sacrag.core.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The shape of a Llama-family decoder, as read from a Hugging Face {@code config.json}.
 * Llama, Qwen2 and Qwen3 share one layout and differ only in the flags kept here
 * (q/k/v bias for Qwen2, per-head q/k RMSNorm for Qwen3, llama3 RoPE scaling for Llama 3.x).
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int intermediateSize,
        double ropeTheta,
        RopeScaling ropeScaling,
        double rmsNormEps,
        boolean tieWordEmbeddings,
        int maxPositions,
        int bosTokenId,
        List<Integer> eosTokenIds) {

    public enum Architecture {
        LLAMA("llama", "LlamaForCausalLM"),
        QWEN2("qwen2", "Qwen2ForCausalLM"),
        QWEN3("qwen3", "Qwen3ForCausalLM");

        public final String modelType;
        public final String hfClass;

        Architecture(String modelType, String hfClass) {
            this.modelType = modelType;
            this.hfClass = hfClass;
        }

        /** Qwen2 is the one family with bias on q, k and v. */
        public boolean qkvBias() {
            return this == QWEN2;
        }

        /** Qwen3 normalises each head of q and k (RMSNorm over head_dim) before RoPE. */
        public boolean qkNorm() {
            return this == QWEN3;
        }

        static Architecture fromModelType(String type) {
            for (Architecture a : values()) {
                if (a.modelType.equals(type)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("unsupported architecture model_type=\"" + type
                    + "\" (supported: llama, qwen2, qwen3)");
        }
    }

    /** Llama 3.x "llama3" frequency scaling of RoPE; null when the model uses plain RoPE. */
    public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositions) { }

    public ModelConfig {
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int queryDim() {
        return heads * headDim;
    }

    /** Bytes of K and V for one token over all layers at {@code bytesPerValue}. */
    public long kvBytesPerToken(int bytesPerValue) {
        return (long) layers * 2 * kvHeads * headDim * bytesPerValue;
    }

    public static ModelConfig load(Path modelDir) throws IOException {
        Path file = modelDir.resolve("config.json");
        try {
            return parse(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null,
                    "model folder has no config.json (expected a Hugging Face style folder)");
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public static ModelConfig parse(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        Architecture arch = Architecture.fromModelType(str(o, "model_type", "llama"));
        int hidden = o.get("hidden_size").getAsInt();
        int heads = o.get("num_attention_heads").getAsInt();
        int headDim = o.has("head_dim") && !o.get("head_dim").isJsonNull()
                ? o.get("head_dim").getAsInt() : hidden / heads;
        RopeScaling scaling = null;
        if (o.has("rope_scaling") && o.get("rope_scaling").isJsonObject()) {
            JsonObject rs = o.getAsJsonObject("rope_scaling");
            String type = str(rs, "rope_type", str(rs, "type", ""));
            if (!"llama3".equals(type)) {
                throw new IllegalArgumentException("unsupported rope_scaling type \"" + type
                        + "\" (supported: llama3)");
            }
            scaling = new RopeScaling(rs.get("factor").getAsDouble(),
                    rs.get("low_freq_factor").getAsDouble(), rs.get("high_freq_factor").getAsDouble(),
                    rs.get("original_max_position_embeddings").getAsInt());
        }
        // Llama-family configs may ask for biases the engine does not load (their tensors would be
        // ignored and the logits silently wrong); Qwen2's q/k/v bias is implied by its type, not this flag
        for (String flag : arch.qkvBias() ? List.of("mlp_bias") : List.of("attention_bias", "mlp_bias")) {
            if (o.has(flag) && o.get(flag).isJsonPrimitive() && o.get(flag).getAsBoolean()) {
                throw new IllegalArgumentException("unsupported " + flag + "=true for model_type=\"" + arch.modelType
                        + "\": the engine loads no such bias");
            }
        }
        // Qwen2's sliding-window attention (off in the Qwen2.5 configs) limits what each position attends
        // to in the layers from max_window_layers on; the engine attends to every earlier position in
        // every layer, so a window that could bind is refused
        if (o.has("use_sliding_window") && o.get("use_sliding_window").isJsonPrimitive()
                && o.get("use_sliding_window").getAsBoolean() && o.has("sliding_window")
                && !o.get("sliding_window").isJsonNull() && o.has("max_position_embeddings")
                && o.get("sliding_window").getAsInt() < o.get("max_position_embeddings").getAsInt()
                && (!o.has("max_window_layers") || o.get("max_window_layers").isJsonNull()
                        || o.get("max_window_layers").getAsInt() < o.get("num_hidden_layers").getAsInt())) {
            throw new IllegalArgumentException("unsupported use_sliding_window=true with sliding_window "
                    + o.get("sliding_window").getAsInt() + " below max_position_embeddings "
                    + o.get("max_position_embeddings").getAsInt() + " in the layers from max_window_layers on: the"
                    + " engine attends to every earlier position, so its logits would differ from the model's past the window");
        }
        List<Integer> eos = new ArrayList<>();
        JsonElement e = o.get("eos_token_id");
        if (e != null && e.isJsonArray()) {
            e.getAsJsonArray().forEach(x -> eos.add(x.getAsInt()));
        } else if (e != null && !e.isJsonNull()) {
            eos.add(e.getAsInt());
        }
        JsonElement bos = o.get("bos_token_id");
        return new ModelConfig(arch,
                o.get("vocab_size").getAsInt(),
                hidden,
                o.get("num_hidden_layers").getAsInt(),
                heads,
                o.has("num_key_value_heads") ? o.get("num_key_value_heads").getAsInt() : heads,
                headDim,
                o.get("intermediate_size").getAsInt(),
                o.has("rope_theta") ? o.get("rope_theta").getAsDouble() : 10000.0,
                scaling,
                o.has("rms_norm_eps") ? o.get("rms_norm_eps").getAsDouble() : 1e-6,
                o.has("tie_word_embeddings") && o.get("tie_word_embeddings").getAsBoolean(),
                o.has("max_position_embeddings") ? o.get("max_position_embeddings").getAsInt() : 4096,
                bos == null || bos.isJsonNull() ? -1 : bos.getAsInt(),
                eos);
    }

    /** The config.json a Hugging Face loader would accept for this shape. */
    public String toJson() {
        JsonObject o = new JsonObject();
        JsonArray archs = new JsonArray();
        archs.add(architecture.hfClass);
        o.add("architectures", archs);
        o.addProperty("model_type", architecture.modelType);
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("hidden_size", hiddenSize);
        o.addProperty("num_hidden_layers", layers);
        o.addProperty("num_attention_heads", heads);
        o.addProperty("num_key_value_heads", kvHeads);
        o.addProperty("head_dim", headDim);
        o.addProperty("intermediate_size", intermediateSize);
        o.addProperty("hidden_act", "silu");
        o.addProperty("rope_theta", ropeTheta);
        if (ropeScaling != null) {
            JsonObject rs = new JsonObject();
            rs.addProperty("rope_type", "llama3");
            rs.addProperty("factor", ropeScaling.factor());
            rs.addProperty("low_freq_factor", ropeScaling.lowFreqFactor());
            rs.addProperty("high_freq_factor", ropeScaling.highFreqFactor());
            rs.addProperty("original_max_position_embeddings", ropeScaling.originalMaxPositions());
            o.add("rope_scaling", rs);
        }
        o.addProperty("rms_norm_eps", rmsNormEps);
        o.addProperty("tie_word_embeddings", tieWordEmbeddings);
        o.addProperty("max_position_embeddings", maxPositions);
        o.addProperty("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) {
            o.addProperty("eos_token_id", eosTokenIds.get(0));
        } else {
            JsonArray eos = new JsonArray();
            eosTokenIds.forEach(eos::add);
            o.add("eos_token_id", eos);
        }
        o.addProperty("torch_dtype", "float32");
        if (architecture == Architecture.QWEN2) {
            o.addProperty("use_sliding_window", false);
        }
        Gson gson = new GsonBuilder().setPrettyPrinting().create();
        return gson.toJson(o);
    }

    private static String str(JsonObject o, String key, String dflt) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? dflt : e.getAsString().toLowerCase(Locale.ROOT);
    }
}
