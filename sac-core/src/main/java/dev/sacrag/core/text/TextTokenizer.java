package dev.sacrag.core.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's {@code tokenizer.json} through DJL's Hugging Face binding, with truncation,
 * padding and automatic special tokens all off: the SAC prompts place BOS and the prompt
 * strings themselves.
 *
 * <p>Text is always plain text: the Hugging Face tokenizer turns the text of an added token
 * ({@code <|eos|>}, {@code <|end_of_text|>}, {@code <|im_start|>}) into that token wherever it
 * occurs, so a document or a question quoting one would put a real EOS or BOS into the
 * context. {@link #encode} breaks such an occurrence after its first character and encodes both
 * parts as ordinary text instead (control tokens are only ever placed by id).
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabularySize;
    /** Added tokens' texts by first character. */
    private final Map<Character, List<String>> addedByFirstChar;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int vocabularySize, List<String> addedTokens) {
        this.tokenizer = tokenizer;
        this.vocabularySize = vocabularySize;
        Map<Character, List<String>> byFirst = new HashMap<>();
        // a one-character token cannot be split (and its text is that character anyway)
        addedTokens.stream().filter(t -> t.length() > Character.charCount(t.codePointAt(0))).distinct()
                .forEach(t -> byFirst.computeIfAbsent(t.charAt(0), c -> new ArrayList<>()).add(t));
        this.addedByFirstChar = byFirst;
    }

    public static TextTokenizer load(Path modelDir) throws IOException {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "model folder has no tokenizer.json");
        }
        var root = com.google.gson.JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        return new TextTokenizer(HuggingFaceTokenizer.newInstance(file, Map.of(
                "truncation", "false", "padding", "false", "addSpecialTokens", "false")), maxId(root) + 1,
                addedTokens(root));
    }

    private static List<String> addedTokens(com.google.gson.JsonObject root) {
        List<String> out = new ArrayList<>();
        if (root.has("added_tokens")) {
            for (var t : root.getAsJsonArray("added_tokens")) {
                var content = t.getAsJsonObject().get("content");
                if (content != null && content.isJsonPrimitive()) {
                    out.add(content.getAsString());
                }
            }
        }
        return out;
    }

    /** The largest token id in the model vocabulary and the added tokens. */
    private static int maxId(com.google.gson.JsonObject root) {
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

    /** The ids of {@code text} as plain text: an added token's text in it is not that token (see above). */
    public long[] encode(String text) {
        List<String> pieces = plainPieces(text);
        if (pieces.size() == 1) {
            return tokenizer.encode(text, false, false).getIds();
        }
        return pieces.stream().map(p -> tokenizer.encode(p, false, false).getIds())
                .flatMapToLong(java.util.Arrays::stream).toArray();
    }

    /**
     * {@code text} cut so that no piece holds an added token's text: each occurrence is split
     * after its first character (and the rest checked again, in case it holds another one).
     */
    List<String> plainPieces(String text) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            if (!addedTokenAt(text, i)) {
                i++;
                continue;
            }
            int afterFirst = i + Character.charCount(text.codePointAt(i));
            pieces.add(text.substring(start, afterFirst));   // up to and including its first character
            start = afterFirst;
            i = afterFirst;
        }
        if (start < text.length() || pieces.isEmpty()) {
            pieces.add(text.substring(start));
        }
        return pieces;
    }

    private boolean addedTokenAt(String text, int i) {
        List<String> candidates = addedByFirstChar.get(text.charAt(i));
        return candidates != null && candidates.stream().anyMatch(t -> text.startsWith(t, i));
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
