package dev.sacrag.core.gguf;

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
import java.util.Map;

/**
 * A byte-level BPE {@code tokenizer.json} (GPT-2 / Llama 3 / Qwen family) as llama.cpp's
 * "gpt2" tokenizer model wants it: one token string per id (ids the tokenizer does not use,
 * up to the embedding's row count, become UNUSED tokens), a llama_token_type per id, the
 * merges as "a b" strings, and the name of the pre-tokenizer regex llama.cpp should apply.
 */
record GgufVocab(List<String> tokens, int[] types, List<String> merges, String preTokenizer, int padId) {
    // llama_token_type values
    static final int NORMAL = 1;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;

    /** Token for the tokenizer_config.json-less folders of RandomModelWriter. */
    private static final String DEFAULT_PAD = "<|pad|>";

    /** Split regexes of the pre-tokenizers llama.cpp knows by name (its llama-vocab.cpp). */
    private static final Map<String, String> SPLIT_REGEX_NAMES = Map.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "llama-bpe",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "qwen2");

    static GgufVocab read(Path modelDir, int vocabSize) throws IOException {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "GGUF export needs the model's tokenizer.json");
        }
        JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonObject model = root.getAsJsonObject("model");
        if (!"BPE".equals(model.get("type").getAsString()) || bool(model, "byte_fallback")) {
            throw new IllegalArgumentException(file + ": only byte-level BPE tokenizers can be exported"
                    + " (model.type=" + model.get("type") + ", byte_fallback=" + model.get("byte_fallback") + ")");
        }
        String[] tokens = new String[vocabSize];
        int[] types = new int[vocabSize];
        for (Map.Entry<String, JsonElement> e : model.getAsJsonObject("vocab").entrySet()) {
            put(tokens, types, e.getValue().getAsInt(), e.getKey(), NORMAL, file);
        }
        int padId = -1;
        String padToken = padToken(modelDir);
        for (JsonElement el : root.getAsJsonArray("added_tokens")) {
            JsonObject t = el.getAsJsonObject();
            int id = t.get("id").getAsInt();
            String content = t.get("content").getAsString();
            put(tokens, types, id, content, bool(t, "special") ? CONTROL : USER_DEFINED, file);
            if (content.equals(padToken)) {
                padId = id;
            }
        }
        for (int i = 0; i < vocabSize; i++) {
            if (tokens[i] == null) {
                tokens[i] = "<|unused_" + i + "|>";
                types[i] = UNUSED;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonElement m : model.getAsJsonArray("merges")) {
            if (m.isJsonArray()) {
                JsonArray pair = m.getAsJsonArray();
                merges.add(pair.get(0).getAsString() + " " + pair.get(1).getAsString());
            } else {
                merges.add(m.getAsString());
            }
        }
        return new GgufVocab(List.of(tokens), types, List.copyOf(merges),
                preTokenizer(root.get("pre_tokenizer"), file), padId);
    }

    private static void put(String[] tokens, int[] types, int id, String text, int type, Path file) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException(file + ": token id " + id + " (\"" + text
                    + "\") does not fit vocab_size " + tokens.length + " of config.json");
        }
        tokens[id] = text;
        types[id] = type;
    }

    /**
     * The llama.cpp pre-tokenizer name for this tokenizer.json. It only changes how llama.cpp
     * splits text before BPE, never the ids a token-id prompt means.
     */
    static String preTokenizer(JsonElement pre, Path file) {
        if (pre != null && pre.isJsonObject()) {
            JsonObject p = pre.getAsJsonObject();
            String type = p.get("type").getAsString();
            if (type.equals("ByteLevel") && (!p.has("use_regex") || bool(p, "use_regex"))) {
                return "gpt-2";
            }
            if (type.equals("Sequence")) {
                JsonArray steps = p.getAsJsonArray("pretokenizers");
                JsonObject first = steps.get(0).getAsJsonObject();
                String firstType = first.get("type").getAsString();
                if (firstType.equals("Digits") && bool(first, "individual_digits") && steps.size() == 2) {
                    return "smollm";
                }
                if (firstType.equals("Split") && first.getAsJsonObject("pattern").has("Regex")) {
                    String name = SPLIT_REGEX_NAMES.get(first.getAsJsonObject("pattern").get("Regex").getAsString());
                    if (name != null) {
                        return name;
                    }
                }
            }
        }
        throw new IllegalArgumentException(file + ": no llama.cpp pre-tokenizer name is known for pre_tokenizer "
                + pre + " (known: ByteLevel = gpt-2, Digits+ByteLevel = smollm, the llama-bpe and qwen2 Split regexes)");
    }

    /** tokenizer_config.json's pad_token (a string or an AddedToken object), else "<|pad|>". */
    private static String padToken(Path modelDir) throws IOException {
        Path cfg = modelDir.resolve("tokenizer_config.json");
        if (!Files.exists(cfg)) {
            return DEFAULT_PAD;
        }
        JsonElement pad = JsonParser.parseString(Files.readString(cfg)).getAsJsonObject().get("pad_token");
        if (pad == null || pad.isJsonNull()) {
            return null;
        }
        return pad.isJsonObject() ? pad.getAsJsonObject().get("content").getAsString() : pad.getAsString();
    }

    private static boolean bool(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && !e.isJsonNull() && e.getAsBoolean();
    }
}
