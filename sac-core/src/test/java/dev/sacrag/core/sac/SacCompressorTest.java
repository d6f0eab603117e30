package dev.sacrag.core.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.kv.AnchorKv;
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
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SacCompressorTest {
    @TempDir
    static Path tmp;
    static Transformer base;
    static ModelConfig config;

    @BeforeAll
    static void load() throws Exception {
        config = TestModels.tiny(Architecture.QWEN2);
        base = Transformer.load(TestModels.write(config, tmp.resolve("m"), 11));
    }

    @AfterAll
    static void close() {
        base.close();
    }

    static long[] tokens(int n, long seed) {
        Random r = new Random(seed);
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + r.nextInt(250);
        }
        return t;
    }

    AnchorKv compress(SacSpec spec, float std, long[] tokens, int ratio, int batch, int shift) {
        try (SacAdapter adapter = SacTestRig.adapter(spec, config, base.manager(), std, 5)) {
            SacCompressor c = SacTestRig.compressor(base, adapter, batch);
            return c.compress(tokens, ratio, "m", shift);
        }
    }

    /** K or V of anchor a at a layer, all heads: [Hkv * D]. */
    static float[] anchor(AnchorKv kv, float[][] tensor, int layer, int a) {
        int n = kv.anchorCount();
        int d = kv.headDim();
        float[] out = new float[kv.kvHeads() * d];
        for (int h = 0; h < kv.kvHeads(); h++) {
            System.arraycopy(tensor[layer], (h * n + a) * d, out, h * d, d);
        }
        return out;
    }

    @Test
    void bidirectionalAnchorsSeeLaterTokensCausalOnesDoNot() {
        long[] a = tokens(20, 1);
        long[] b = a.clone();
        b[11] = b[11] == 100 ? 101 : 100;       // after the anchor at offset 9 (ratio 4: 1, 5, 9, 13, 17)
        int anchorAt9 = 2;
        for (boolean bidirectional : new boolean[] {true, false}) {
            SacSpec spec = SacTestRig.spec(510, bidirectional, true, 4);
            AnchorKv x = compress(spec, 0.05f, a, 4, 8, 0);
            AnchorKv y = compress(spec, 0.05f, b, 4, 8, 0);
            // layer 0 K/V are projections of the token's own embedding: never affected
            assertArrayEquals(anchor(x, x.keys(), 0, anchorAt9), anchor(y, y.keys(), 0, anchorAt9), 1e-6f);
            for (int layer = 1; layer < config.layers(); layer++) {
                float diff = maxDiff(anchor(x, x.keys(), layer, anchorAt9), anchor(y, y.keys(), layer, anchorAt9))
                        + maxDiff(anchor(x, x.values(), layer, anchorAt9), anchor(y, y.values(), layer, anchorAt9));
                if (bidirectional) {
                    assertTrue(diff > 1e-4, "layer " + layer + ": anchor KV should depend on a later token");
                } else {
                    assertEquals(0f, diff, 1e-6f, "layer " + layer + ": causal anchor KV must not see later tokens");
                }
            }
        }
    }

    @Test
    void causalWithZeroAdapterEqualsPlainModelKvAtAnchorsPerChunk() {
        int chunk = 8;
        int ratio = 2;
        long[] t = tokens(20, 2);                   // chunks of 8, 8 and 4 tokens
        AnchorKv kv = compress(SacTestRig.spec(chunk, false, true, ratio), 0f, t, ratio, 8, 0);
        int anchorIndex = 0;
        for (int start = 0; start < t.length; start += chunk) {
            long[] part = Arrays.copyOfRange(t, start, Math.min(t.length, start + chunk));
            int[] pos = new int[part.length];
            for (int i = 0; i < pos.length; i++) {
                pos[i] = start + 1 + i;
            }
            try (NDScope s = new NDScope(); KvCache cache = new KvCache(base.manager(), config.layers())) {
                base.forward(new Transformer.Input(base.embed(new long[][] {part}), new int[][] {pos},
                        Masks.causal(base.manager(), part.length, 0), Transformer.Logits.NONE), cache);
                int[] anchors = AnchorPositions.inChunk(part.length, ratio);
                for (int layer = 0; layer < config.layers(); layer++) {
                    float[] k = cache.keys(layer).toFloatArray();   // [1, Hkv, T, D]
                    float[] v = cache.values(layer).toFloatArray();
                    for (int a = 0; a < anchors.length; a++) {
                        float[] ek = new float[config.kvDim()];
                        float[] ev = new float[config.kvDim()];
                        for (int h = 0; h < config.kvHeads(); h++) {
                            int src = (h * part.length + anchors[a]) * config.headDim();
                            System.arraycopy(k, src, ek, h * config.headDim(), config.headDim());
                            System.arraycopy(v, src, ev, h * config.headDim(), config.headDim());
                        }
                        assertArrayEquals(ek, anchor(kv, kv.keys(), layer, anchorIndex + a), 1e-5f);
                        assertArrayEquals(ev, anchor(kv, kv.values(), layer, anchorIndex + a), 1e-5f);
                    }
                }
                anchorIndex += anchors.length;
            }
        }
        assertEquals(anchorIndex, kv.anchorCount());
    }

    @Test
    void batchedChunksEqualChunksOneByOne() {
        SacSpec spec = SacTestRig.spec(8, true, true, 2, 4);
        long[] t = tokens(27, 3);                   // 4 chunks: three of 8 in one batch, the last of 3 alone
        for (int ratio : new int[] {2, 4}) {
            AnchorKv batched = compress(spec, 0.05f, t, ratio, 8, 0);
            AnchorKv single = compress(spec, 0.05f, t, ratio, 1, 0);
            assertArrayEquals(single.chunkAnchors(), batched.chunkAnchors());
            for (int l = 0; l < config.layers(); l++) {
                assertArrayEquals(single.keys()[l], batched.keys()[l], 1e-5f, "K layer " + l);
                assertArrayEquals(single.values()[l], batched.values()[l], 1e-5f, "V layer " + l);
            }
        }
    }

    @Test
    void ropeShiftOfKeysEqualsEncodingAtShiftedPositions() {
        SacSpec spec = SacTestRig.spec(8, true, true, 2);
        long[] t = tokens(19, 4);
        int shift = 37;
        AnchorKv at0 = compress(spec, 0.05f, t, 2, 8, 0);
        AnchorKv shifted = compress(spec, 0.05f, t, 2, 8, shift);
        NDManager m = base.manager();
        for (int l = 0; l < config.layers(); l++) {
            try (NDScope s = new NDScope()) {
                NDArray k = m.create(at0.keys()[l], new Shape(config.kvHeads(), at0.anchorCount(), config.headDim()));
                assertArrayEquals(shifted.keys()[l], base.rope().rotate(k, shift).toFloatArray(), 1e-4f, "layer " + l);
            }
            assertArrayEquals(shifted.values()[l], at0.values()[l], 1e-5f, "values do not depend on position");
        }
    }

    @Test
    void extraAnchorsAddTheMarkedTokensAndLeaveNoneMarkedAsUniform() {
        SacSpec spec = SacTestRig.spec(8, false, true, 1, 4);   // causal, zero adapter: anchor K/V = the plain pass's
        long[] t = tokens(20, 6);                              // chunks of 8, 8 and 4: uniform anchors at 1 and 5
        try (SacAdapter adapter = SacTestRig.adapter(spec, config, base.manager(), 0f, 5)) {
            SacCompressor c = SacTestRig.compressor(base, adapter, 8);
            AnchorKv uniform = c.compress(t, 4, "m");
            AnchorKv everyToken = c.compress(t, 1, "m");      // ratio 1: every token an anchor, the plain pass's K/V
            AnchorKv none = c.compressWithExtraAnchors(t, 4, "m", new boolean[t.length]);
            assertArrayEquals(uniform.chunkAnchors(), none.chunkAnchors());
            assertArrayEquals(uniform.keys()[0], none.keys()[0], 1e-6f);
            boolean[] marked = new boolean[t.length];
            marked[1] = true;    // already a uniform anchor
            marked[2] = true;    // chunk 0, between its anchors 1 and 5
            marked[8] = true;    // chunk 1's first token
            AnchorKv more = c.compressWithExtraAnchors(t, 4, "m", marked);
            assertArrayEquals(new int[] {3, 3, 1}, more.chunkAnchors());
            // in order of position: chunk 0's anchors are tokens 1, 2 and 5, chunk 1's 8, 9 and 13; with a causal zero
            // adapter an added anchor's K/V is the plain pass's at its token, and the uniform ones are unchanged
            for (int l = 0; l < config.layers(); l++) {
                assertArrayEquals(anchor(uniform, uniform.keys(), l, 1), anchor(more, more.keys(), l, 2), 1e-5f);
                assertArrayEquals(anchor(uniform, uniform.values(), l, 0), anchor(more, more.values(), l, 0), 1e-5f);
                assertArrayEquals(anchor(everyToken, everyToken.keys(), l, 2), anchor(more, more.keys(), l, 1), 1e-5f);
                assertArrayEquals(anchor(everyToken, everyToken.values(), l, 8), anchor(more, more.values(), l, 3), 1e-5f);
            }
            assertThrows(IllegalArgumentException.class, () -> c.compressWithExtraAnchors(t, 4, "m", new boolean[3]));
        }
    }

    @Test
    void longContextGetsOneAnchorSetPerChunk() {
        SacSpec spec = SacTestRig.spec(8, true, true, 4);
        AnchorKv kv = compress(spec, 0.05f, tokens(27, 5), 4, 8, 0);
        assertArrayEquals(new int[] {2, 2, 2, 1}, kv.chunkAnchors());
        assertEquals(27, kv.tokenCount());
    }

    static float maxDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
