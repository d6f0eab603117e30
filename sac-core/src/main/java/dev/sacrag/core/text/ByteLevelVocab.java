package dev.sacrag.core.text;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import dev.sacrag.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a byte-level BPE {@code tokenizer.json} in the Hugging Face format (the GPT-2 /
 * Llama 3 / Qwen family of tokenizers): special tokens first, then the 256 byte tokens,
 * then one token per merge. Read back through DJL's HuggingFaceTokenizer like any real model.
 */
public final class ByteLevelVocab {

    /** GPT-2's reversible map from bytes to printable code points, used by ByteLevel. */
    public static char[] byteToUnicode() {
        char[] map = new char[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            direct[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            direct[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            direct[b] = true;
        }
        int next = 256;
        for (int b = 0; b < 256; b++) {
            map[b] = direct[b] ? (char) b : (char) next++;
        }
        return map;
    }

    /** The token string of a byte sequence in the ByteLevel alphabet. */
    public static String encodeBytes(byte[] bytes) {
        char[] map = byteToUnicode();
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            sb.append(map[b & 0xff]);
        }
        return sb.toString();
    }

    public static String encodeBytes(String text) {
        return encodeBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes tokenizer.json. {@code merges} are pairs of ByteLevel-alphabet token strings in
     * priority order; the merged token gets the next id. Returns the vocabulary size.
     */
    public static int write(Path file, List<String> specials, List<String[]> merges) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : specials) {
            vocab.put(s, vocab.size());
        }
        for (char c : byteToUnicode()) {
            vocab.putIfAbsent(String.valueOf(c), vocab.size());
        }
        JsonArray mergeJson = new JsonArray();
        for (String[] m : merges) {
            vocab.putIfAbsent(m[0] + m[1], vocab.size());
            mergeJson.add(m[0] + " " + m[1]);
        }
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        for (String s : specials) {
            JsonObject t = new JsonObject();
            t.addProperty("id", vocab.get(s));
            t.addProperty("content", s);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        root.add("added_tokens", added);
        root.add("normalizer", JsonNull.INSTANCE);
        root.add("pre_tokenizer", byteLevel(false));
        root.add("post_processor", JsonNull.INSTANCE);
        root.add("decoder", byteLevel(true));
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        JsonObject v = new JsonObject();
        vocab.forEach(v::addProperty);
        model.add("vocab", v);
        model.add("merges", mergeJson);
        root.add("model", model);
        AtomicFiles.writeString(file, new GsonBuilder().disableHtmlEscaping().create().toJson(root));
        return vocab.size();
    }

    private static JsonObject byteLevel(boolean decoder) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", decoder);
        o.addProperty("trim_offsets", true);
        o.addProperty("use_regex", true);
        return o;
    }

    private ByteLevelVocab() {
    }
}
