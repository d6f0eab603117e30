package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKv;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A model stand-in: one token per whitespace-separated word plus a two-token prompt, one anchor
 * per {@code ratio} tokens, values derived from the token ids (deterministic). Records every call.
 */
final class FakeCompressor implements DocumentCompressor {

    static final String MODEL_ID = "fa4e0000c0de";
    static final int RATIO = 4;
    private static final int PROMPT_TOKENS = 2;

    final List<long[]> compressed = new CopyOnWriteArrayList<>();
    volatile RuntimeException failWith;
    /** Which token sequences {@link #failWith} is thrown for (all by default). */
    volatile java.util.function.Predicate<long[]> failWhen = tokens -> true;
    volatile RuntimeException tokenizerFailsWith;
    /** An error (not an exception) {@link #compress} throws: what no rule of the processors turns into a dead letter. */
    volatile Error crashWith;
    /** Tokens added to every text (a test's way to push a stored document over the token limit). */
    volatile int extraTokens;

    @Override
    public String modelId() {
        return MODEL_ID;
    }

    @Override
    public int ratio() {
        return RATIO;
    }

    @Override
    public long[] tokenize(String text) {
        if (tokenizerFailsWith != null) {
            throw tokenizerFailsWith;
        }
        String[] words = text.trim().split("\\s+");
        long[] ids = new long[PROMPT_TOKENS + words.length + extraTokens];
        ids[0] = 1;
        ids[1] = 2;
        for (int i = 0; i < words.length; i++) {
            ids[PROMPT_TOKENS + i] = Math.floorMod(words[i].hashCode(), 1000) + 3;
        }
        Arrays.fill(ids, PROMPT_TOKENS + words.length, ids.length, 3L);
        return ids;
    }

    @Override
    public AnchorKv compress(long[] tokens) {
        if (crashWith != null) {
            throw crashWith;
        }
        if (failWith != null && failWhen.test(tokens)) {
            throw failWith;
        }
        compressed.add(tokens.clone());
        int anchors = (tokens.length + RATIO - 1) / RATIO;
        int headDim = 2;
        float[][] keys = new float[1][anchors * headDim];
        float[][] values = new float[1][anchors * headDim];
        for (int a = 0; a < anchors; a++) {
            long id = tokens[Math.min(tokens.length - 1, a * RATIO + RATIO / 2)];
            keys[0][a * headDim] = id;
            keys[0][a * headDim + 1] = a;
            values[0][a * headDim] = -id;
            values[0][a * headDim + 1] = tokens.length;
        }
        return new AnchorKv(MODEL_ID, 1, 1, headDim, tokens.length, new int[] {anchors}, keys, values);
    }

    int compressions() {
        return compressed.size();
    }

    boolean compressedText(String text) {
        long[] t = tokenize(text);
        return compressed.stream().anyMatch(c -> Arrays.equals(c, t));
    }
}
