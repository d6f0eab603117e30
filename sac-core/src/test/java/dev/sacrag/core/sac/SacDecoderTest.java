package dev.sacrag.core.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.GenerationOptions;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.ModelConfig.Architecture;
import dev.sacrag.core.model.TestModels;
import dev.sacrag.core.model.Transformer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder against references that rotate no key. TrainServeParityTest holds it to the training graph, which
 * composes by the same rotation, so a mistake both made in the offsets would pass there; here composed documents must
 * be what the compressor encodes at the composed positions directly, and a cache of every token what the plain model
 * computes.
 */
class SacDecoderTest {
    @TempDir
    static Path tmp;
    static Transformer base;
    static ModelConfig config;

    @BeforeAll
    static void load() throws Exception {
        config = TestModels.tiny(Architecture.LLAMA);
        base = Transformer.load(TestModels.write(config, tmp.resolve("m"), 31));
    }

    @AfterAll
    static void close() {
        base.close();
    }

    /**
     * Chunks never attend to each other and anchors restart in every chunk, so documents of one chunk each (the last
     * may be shorter), compressed alone at 1..T_j and composed by rotating document j's keys by T_1 + ... + T_{j-1},
     * must be their concatenation compressed as one context: there chunk j is encoded at those positions directly,
     * and nothing is rotated. Three documents, so the third is moved by the sum of two lengths.
     */
    @Test
    void composedDocumentsEqualTheirConcatenationCompressedAsChunksOfOneContext() {
        int chunk = 16;
        SacSpec spec = SacTestRig.spec(chunk, true, true, 4);   // bidirectional, anchor embedding, random LoRA
        long[][] docs = {SacCompressorTest.tokens(chunk, 1), SacCompressorTest.tokens(chunk, 2),
                SacCompressorTest.tokens(7, 3)};
        long[] question = SacCompressorTest.tokens(6, 4);
        try (SacAdapter adapter = SacTestRig.adapter(spec, config, base.manager(), 0.05f, 5)) {
            SacCompressor compressor = SacTestRig.compressor(base, adapter, 8);
            SacDecoder decoder = new SacDecoder(base, adapter, new long[] {5, 6});
            AnchorKv whole = compressor.compress(concat(docs), 4, "m");
            List<AnchorKv> alone = java.util.Arrays.stream(docs).map(d -> compressor.compress(d, 4, "m")).toList();
            try (SacDecoder.Composed composed = decoder.compose(alone);
                 SacDecoder.Composed reference = decoder.compose(List.of(whole));
                 NDScope scope = new NDScope()) {
                assertEquals(whole.tokenCount(), composed.tokens(), "[LM] sits at T = T_1 + T_2 + T_3");
                assertEquals(whole.anchorCount(), composed.cache().length());
                for (int l = 0; l < config.layers(); l++) {
                    assertClose(reference.cache().keys(l).toFloatArray(), composed.cache().keys(l).toFloatArray(),
                            1e-4, "K of layer " + l);
                    assertClose(reference.cache().values(l).toFloatArray(), composed.cache().values(l).toFloatArray(),
                            1e-5, "V of layer " + l);
                }
                assertClose(logits(decoder, reference, question), logits(decoder, composed, question), 1e-4,
                        "logits of [LM] + question");
            }
        }
    }

    /**
     * With a causal compressor, no adapter (LoRA, anchor table: zero) and ratio 1 in one chunk, every token is an
     * anchor and its K/V are the plain model's; the question read after them at T+1... (the uniform-kv decoder) must
     * then be answered as the base model answers context and question read as one prompt.
     */
    @Test
    void anAnchorCacheOfEveryTokenAnswersAsThePlainPrefillOfContextAndQuestion() {
        SacSpec spec = SacTestRig.spec(32, false, true, 1);
        long[] context = SacCompressorTest.tokens(20, 7);
        long[] question = SacCompressorTest.tokens(5, 8);
        GenerationOptions greedy = GenerationOptions.greedy(12, Set.of());
        try (SacAdapter adapter = SacTestRig.adapter(spec, config, base.manager(), 0f, 5)) {
            SacCompressor compressor = SacTestRig.compressor(base, adapter, 8);
            SacDecoder decoder = new SacDecoder(base, adapter, new long[0]);
            AnchorKv kv = compressor.compress(context, 1, "m");
            assertEquals(context.length, kv.anchorCount());
            float[] fromAnchors;
            try (SacDecoder.Composed composed = decoder.compose(List.of(kv)); NDScope scope = new NDScope()) {
                int[] after = new int[question.length];
                for (int i = 0; i < after.length; i++) {
                    after[i] = composed.tokens() + 1 + i;
                }
                fromAnchors = base.forward(new Transformer.Input(base.embed(new long[][] {question}),
                        new int[][] {after}, Masks.causal(base.manager(), question.length, kv.anchorCount()),
                        Transformer.Logits.LAST), composed.cache()).toFloatArray();
            }
            Generator.Result answered;
            try (SacDecoder.Composed composed = decoder.compose(List.of(kv))) {
                answered = decoder.answerWithoutLm(composed, question, greedy, t -> { });
            }
            long[] prompt = concat(new long[][] {context, question});
            int[] positions = new int[prompt.length];
            for (int i = 0; i < positions.length; i++) {
                positions[i] = 1 + i;
            }
            float[] plainLogits;
            Generator.Result plain;
            try (NDScope scope = new NDScope(); KvCache cache = new KvCache(base.manager(), config.layers())) {
                plainLogits = base.forward(new Transformer.Input(base.embed(new long[][] {prompt}),
                        new int[][] {positions}, Masks.causal(base.manager(), prompt.length, 0),
                        Transformer.Logits.LAST), cache).toFloatArray();
            }
            try (NDScope scope = new NDScope(); KvCache cache = new KvCache(base.manager(), config.layers())) {
                plain = Generator.generate(base, cache, base.embed(new long[][] {prompt}), positions, greedy, t -> { });
            }
            assertClose(plainLogits, fromAnchors, 1e-4, "logits after the question");
            assertArrayEquals(plain.tokens(), answered.tokens(), "greedy answer");
        }
    }

    /** Logits [1 + Tq, V] of [LM] + {@code question} after a fresh copy of {@code context}'s cache. */
    private static float[] logits(SacDecoder decoder, SacDecoder.Composed context, long[] question) {
        int anchors = context.cache().length();
        try (KvCache copy = copyOf(context.cache())) {
            SacDecoder.LmPrompt p = decoder.lmPrompt(context, question);
            return base.forward(new Transformer.Input(p.embeds(), new int[][] {p.positions()},
                    Masks.causal(base.manager(), p.positions().length, anchors), Transformer.Logits.ALL), copy)
                    .toFloatArray();
        }
    }

    private static KvCache copyOf(KvCache c) {
        NDArray[] k = new ai.djl.ndarray.NDArray[c.layers()];
        NDArray[] v = new ai.djl.ndarray.NDArray[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            k[l] = c.keys(l).duplicate();
            v[l] = c.values(l).duplicate();
        }
        return KvCache.of(base.manager(), k, v);
    }

    private static long[] concat(long[][] parts) {
        long[] out = new long[0];
        for (long[] p : parts) {
            int at = out.length;
            out = java.util.Arrays.copyOf(out, at + p.length);
            System.arraycopy(p, 0, out, at, p.length);
        }
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        double maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(maxErr < tol, what + ": max |error| " + maxErr + " >= " + tol);
    }
}
