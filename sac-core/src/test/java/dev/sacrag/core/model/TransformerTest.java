package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.sacrag.core.model.ModelConfig.Architecture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransformerTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("llama", TestModels.tiny(Architecture.LLAMA)),
                Arguments.of("qwen2", TestModels.tiny(Architecture.QWEN2)),
                Arguments.of("qwen3", TestModels.tiny(Architecture.QWEN3)),
                Arguments.of("llama3-rope-scaling", TestModels.tinyLlama3()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logitsMatchNaiveReferenceWithCausalAndBidirectionalMasks(String name, ModelConfig config) throws Exception {
        Path dir = TestModels.write(config, tmp.resolve(name), 7);
        NaiveReference ref = new NaiveReference(dir);
        long[] tokens = randomTokens(new Random(1), 13, config.vocabSize());
        int[] positions = new int[tokens.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = 40 + i; // not starting at 0: RoPE must use the given positions
        }
        try (Transformer model = Transformer.load(dir)) {
            for (boolean causal : new boolean[] {true, false}) {
                boolean[][] allowed = new boolean[tokens.length][tokens.length];
                for (int i = 0; i < tokens.length; i++) {
                    for (int j = 0; j < tokens.length; j++) {
                        allowed[i][j] = !causal || j <= i;
                    }
                }
                double[][] expected = ref.logits(tokens, positions, allowed);
                float[] actual;
                try (NDScope scope = new NDScope()) {
                    NDManager m = model.manager();
                    NDArray mask = Masks.chunks(m, new int[] {tokens.length}, tokens.length, causal);
                    try (KvCache cache = new KvCache(m, config.layers())) {
                        NDArray logits = model.forward(new Transformer.Input(model.embed(new long[][] {tokens}),
                                new int[][] {positions}, mask, Transformer.Logits.ALL), cache);
                        actual = logits.toFloatArray();
                    }
                }
                assertClose(expected, actual, 1e-4, name + (causal ? " causal" : " bidirectional"));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void aLastLogitsForwardGivesTheLastRowOfAllAndTheSameCache(String name, ModelConfig config) throws Exception {
        Path dir = TestModels.write(config, tmp.resolve(name), 11);
        int t = 9;
        long[][] tokens = {randomTokens(new Random(3), t, config.vocabSize()), randomTokens(new Random(4), t, config.vocabSize())};
        int[][] positions = new int[2][t];
        for (int i = 0; i < t; i++) {
            positions[0][i] = 5 + i;
            positions[1][i] = 17 + i;
        }
        int v = config.vocabSize();
        try (Transformer model = Transformer.load(dir); NDScope scope = new NDScope()) {
            NDManager m = model.manager();
            // row 0 causal, row 1 bidirectional: the last layer must keep each row's own mask row
            float[] maskData = new float[2 * t * t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    maskData[i * t + j] = j <= i ? 0f : Masks.BLOCKED;
                }
            }
            NDArray mask = m.create(maskData, new ai.djl.ndarray.types.Shape(2, t, t));
            float[] all;
            float[] last;
            float[] nextAll;
            float[] nextLast;
            try (KvCache a = new KvCache(m, config.layers()); KvCache b = new KvCache(m, config.layers())) {
                all = model.forward(new Transformer.Input(model.embed(tokens), positions, mask, Transformer.Logits.ALL), a)
                        .toFloatArray();
                last = model.forward(new Transformer.Input(model.embed(tokens), positions, mask, Transformer.Logits.LAST), b)
                        .toFloatArray();
                for (int l = 0; l < config.layers(); l++) {
                    assertClose(a.keys(l).toFloatArray(), b.keys(l).toFloatArray(), 1e-6, name + " keys of layer " + l);
                    assertClose(a.values(l).toFloatArray(), b.values(l).toFloatArray(), 1e-6, name + " values of layer " + l);
                }
                long[][] next = {{tokens[0][0]}, {tokens[1][1]}};
                int[][] nextPos = {{5 + t}, {17 + t}};
                NDArray open = m.zeros(new ai.djl.ndarray.types.Shape(2, 1, t + 1));
                nextAll = model.forward(new Transformer.Input(model.embed(next), nextPos, open, Transformer.Logits.LAST), a)
                        .toFloatArray();
                nextLast = model.forward(new Transformer.Input(model.embed(next), nextPos, open, Transformer.Logits.LAST), b)
                        .toFloatArray();
            }
            for (int row = 0; row < 2; row++) {
                for (int k = 0; k < v; k++) {
                    assertEquals(all[(row * t + t - 1) * v + k], last[row * v + k], 1e-4, name + " row " + row + " logit " + k);
                }
            }
            assertClose(nextAll, nextLast, 1e-5, name + " the step after");
        }
    }

    @Test
    void incrementalDecodingWithCacheEqualsOneFullForward() throws Exception {
        ModelConfig config = TestModels.tiny(Architecture.QWEN2);
        Path dir = TestModels.write(config, tmp.resolve("m"), 3);
        long[] tokens = randomTokens(new Random(2), 10, config.vocabSize());
        try (Transformer model = Transformer.load(dir); NDScope scope = new NDScope()) {
            NDManager m = model.manager();
            int[] pos = new int[tokens.length];
            for (int i = 0; i < pos.length; i++) {
                pos[i] = i + 1;
            }
            float[] full;
            try (KvCache cache = new KvCache(m, config.layers())) {
                full = model.forward(new Transformer.Input(model.embed(new long[][] {tokens}), new int[][] {pos},
                        Masks.causal(m, tokens.length, 0), Transformer.Logits.ALL), cache).toFloatArray();
            }
            int v = config.vocabSize();
            try (KvCache cache = new KvCache(m, config.layers())) {
                // a 4-token prefill, then one token at a time
                long[] prefix = java.util.Arrays.copyOf(tokens, 4);
                model.forward(new Transformer.Input(model.embed(new long[][] {prefix}),
                        new int[][] {java.util.Arrays.copyOf(pos, 4)}, Masks.causal(m, 4, 0),
                        Transformer.Logits.NONE), cache);
                for (int i = 4; i < tokens.length; i++) {
                    float[] step = model.forward(new Transformer.Input(model.embed(new long[][] {{tokens[i]}}),
                            new int[][] {{pos[i]}}, Masks.causal(m, 1, i), Transformer.Logits.LAST), cache).toFloatArray();
                    for (int k = 0; k < v; k++) {
                        assertEquals(full[i * v + k], step[k], 1e-4, "token " + i + " logit " + k);
                    }
                }
                assertEquals(tokens.length, cache.length());
            }
        }
    }

    @Test
    void aForwardDoesNotKeepEveryLayersHiddenStatesUntilItsScopeCloses() throws Exception {
        int[] held = new int[2];
        int[] layers = {2, 8};
        for (int k = 0; k < layers.length; k++) {
            ModelConfig t = TestModels.tiny(Architecture.LLAMA);
            ModelConfig config = new ModelConfig(Architecture.LLAMA, t.vocabSize(), t.hiddenSize(), layers[k], t.heads(),
                    t.kvHeads(), t.headDim(), t.intermediateSize(), t.ropeTheta(), null, t.rmsNormEps(), false,
                    t.maxPositions(), 0, List.of(1));
            Path dir = TestModels.write(config, tmp.resolve("layers-" + layers[k]), 5);
            long[] tokens = randomTokens(new Random(4), 12, config.vocabSize());
            try (Transformer model = Transformer.load(dir); KvCache cache = new KvCache(model.manager(), config.layers());
                 NDScope scope = new NDScope()) {
                NDManager m = model.manager();
                NDArray embeds = model.embed(new long[][] {tokens});
                NDArray mask = Masks.causal(m, tokens.length, 0);
                int before = m.getManagedArrays().size();
                model.forward(new Transformer.Input(embeds, new int[][] {java.util.stream.IntStream.rangeClosed(1, 12).toArray()},
                        mask, Transformer.Logits.NONE), cache);
                // still open in the caller's scope, less the cache's K and V per layer (a sub-manager's)
                held[k] = m.getManagedArrays().size() - before - 2 * config.layers();
            }
        }
        assertEquals(held[0], held[1], "arrays left open by a forward of 2 layers vs 8 layers: " + held[0] + " vs " + held[1]);
    }

    /**
     * The compressor runs a document's chunks as one padded batch (Masks.chunks). Each chunk's
     * real tokens must get the logits that chunk gets alone: padding slots, whatever their
     * tokens, may not leak in, and padding rows must stay finite (a NaN row would poison the
     * batch's reductions).
     */
    @Test
    void paddedChunksOfABatchGiveEachChunkWhatItGetsAlone() throws Exception {
        ModelConfig config = TestModels.tiny(Architecture.LLAMA);
        Path dir = TestModels.write(config, tmp.resolve("chunks"), 11);
        Random r = new Random(6);
        int[] lengths = {7, 3, 5};
        int t = 7;
        long[][] chunks = new long[lengths.length][];
        long[][] padded = new long[lengths.length][t];
        int[][] positions = new int[lengths.length][t];
        for (int b = 0; b < lengths.length; b++) {
            chunks[b] = randomTokens(r, lengths[b], config.vocabSize());
            for (int i = 0; i < t; i++) {
                padded[b][i] = i < lengths[b] ? chunks[b][i] : r.nextInt(config.vocabSize());   // junk in the padding
                positions[b][i] = 1 + 8 * b + i;
            }
        }
        int v = config.vocabSize();
        try (Transformer model = Transformer.load(dir)) {
            for (boolean causal : new boolean[] {true, false}) {
                float[] batch;
                try (NDScope scope = new NDScope(); KvCache cache = new KvCache(model.manager(), config.layers())) {
                    batch = model.forward(new Transformer.Input(model.embed(padded), positions,
                            Masks.chunks(model.manager(), lengths, t, causal), Transformer.Logits.ALL), cache).toFloatArray();
                }
                for (float x : batch) {
                    assertTrue(Float.isFinite(x), "a padded batch produced a non-finite logit (causal " + causal + ")");
                }
                for (int b = 0; b < lengths.length; b++) {
                    float[] alone;
                    try (NDScope scope = new NDScope(); KvCache cache = new KvCache(model.manager(), config.layers())) {
                        alone = model.forward(new Transformer.Input(model.embed(new long[][] {chunks[b]}),
                                new int[][] {java.util.Arrays.copyOf(positions[b], lengths[b])},
                                Masks.chunks(model.manager(), new int[] {lengths[b]}, lengths[b], causal),
                                Transformer.Logits.ALL), cache).toFloatArray();
                    }
                    for (int i = 0; i < lengths[b]; i++) {
                        for (int k = 0; k < v; k++) {
                            assertEquals(alone[i * v + k], batch[(b * t + i) * v + k], 1e-4,
                                    "chunk " + b + " token " + i + " logit " + k + (causal ? " (causal)" : " (bidirectional)"));
                        }
                    }
                }
            }
        }
    }

    static long[] randomTokens(Random r, int n, int vocab) {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        double maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(maxErr < tol, what + ": max |error| " + maxErr + " >= " + tol);
    }

    static void assertClose(double[][] expected, float[] actual, double tol, String what) {
        int v = expected[0].length;
        assertEquals(expected.length * v, actual.length, what + ": logits size");
        double maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < v; j++) {
                maxErr = Math.max(maxErr, Math.abs(expected[i][j] - actual[i * v + j]));
            }
        }
        assertTrue(maxErr < tol, what + ": max |error| " + maxErr + " >= " + tol);
    }
}
