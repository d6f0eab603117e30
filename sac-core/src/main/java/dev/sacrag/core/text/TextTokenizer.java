package dev.sacrag.core.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A model's {@code tokenizer.json} through DJL's Hugging Face binding, with truncation,
 * padding and automatic special tokens all off: the SAC prompts place BOS and the prompt
 * strings themselves.
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabularySize;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int vocabularySize) {
        this.tokenizer = tokenizer;
        this.vocabularySize = vocabularySize;
    }

    public static TextTokenizer load(Path modelDir) throws IOException {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "model folder has no tokenizer.json");
        }
        return new TextTokenizer(HuggingFaceTokenizer.newInstance(file, Map.of(
                "truncation", "false", "padding", "false", "addSpecialTokens", "false")), maxId(file) + 1);
    }

    /** The largest token id in the model vocabulary and the added tokens. */
    private static int maxId(Path file) throws IOException {
        var root = com.google.gson.JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        int max = -1;
        var model = root.getAsJsonObject("model");
        if (model != null && model.has("vocab") && model.get("vocab").isJsonObject()) {
            for (var e : model.getAsJsonObject("vocab").entrySet()) {
                max = Math.max(max, e.getValue().getAsInt());
            }
        }
        if (root.has("added_tokens")) {
            for (var t : root.getAsJsonArray("added_tokens")) {
                max = Math.max(max, t.getAsJsonObject().get("id").getAsInt());
            }
        }
        return max;
    }

    public long[] encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        return e.getIds();
    }

    /** Decodes ids, keeping special tokens out of the text. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /** Number of tokens the tokenizer knows (specials included). */
    public int vocabularySize() {
        return vocabularySize;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
