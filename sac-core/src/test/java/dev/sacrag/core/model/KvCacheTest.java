package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.model.ModelConfig.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvCacheTest {
    @TempDir
    Path tmp;

    @Test
    void aReservedCacheWritesInPlaceAndRefusesToOverflow() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] k = {m.zeros(new Shape(1, 2, 4, 3))};
            NDArray[] v = {m.zeros(new Shape(1, 2, 4, 3))};
            try (KvCache c = KvCache.reserved(m, k, v, 1)) {
                assertTrue(c.isReserved());
                assertEquals(1, c.length());
                assertEquals(4, c.capacity());
                NDArray[] full = c.append(0, m.ones(new Shape(1, 2, 2, 3)), m.ones(new Shape(1, 2, 2, 3)).mul(2));
                assertEquals(new Shape(1, 2, 4, 3), full[0].getShape(), "the arrays stay at their capacity");
                assertEquals(3, c.length());
                float[] keys = full[0].toFloatArray();
                for (int h = 0; h < 2; h++) {
                    for (int s = 0; s < 4; s++) {
                        float expected = s == 1 || s == 2 ? 1f : 0f;
                        for (int d = 0; d < 3; d++) {
                            assertEquals(expected, keys[(h * 4 + s) * 3 + d], "head " + h + " slot " + s);
                        }
                    }
                }
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> c.append(0, m.ones(new Shape(1, 2, 2, 3)), m.ones(new Shape(1, 2, 2, 3))));
                assertTrue(e.getMessage().contains("no room for 2"), e.getMessage());
            }
        }
    }

    @Test
    void aReservedCacheGrowsKeepingWhatItHolds() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] k = {m.arange(12f).reshape(1, 2, 2, 3)};
            NDArray[] v = {m.arange(12f).reshape(1, 2, 2, 3).neg()};
            try (KvCache c = KvCache.reserved(m, k, v, 2)) {
                c.grow(3);
                assertEquals(5, c.capacity());
                assertEquals(2, c.length());
                c.append(0, m.ones(new Shape(1, 2, 1, 3)), m.ones(new Shape(1, 2, 1, 3)));
                float[] keys = c.keys(0).toFloatArray();
                float[] values = c.values(0).toFloatArray();
                for (int h = 0; h < 2; h++) {
                    for (int s = 0; s < 5; s++) {
                        for (int d = 0; d < 3; d++) {
                            float expected = s < 2 ? (h * 2 + s) * 3 + d : s == 2 ? 1f : 0f;
                            assertEquals(expected, keys[(h * 5 + s) * 3 + d], "key, head " + h + " slot " + s);
                            assertEquals(s < 2 ? -expected : expected, values[(h * 5 + s) * 3 + d], "value, head " + h
                                    + " slot " + s);
                        }
                    }
                }
            }
            try (KvCache growing = new KvCache(m, 1)) {
                assertThrows(IllegalStateException.class, () -> growing.grow(4), "only a reserved cache grows");
            }
        }
    }

    @Test
    void decodingAgainstAReservedCacheWithItsUnwrittenSlotsMaskedEqualsAGrowingCache() throws Exception {
        ModelConfig config = TestModels.tiny(Architecture.QWEN2);
        Path dir = TestModels.write(config, tmp.resolve("m"), 5);
        long[] tokens = TransformerTest.randomTokens(new Random(6), 8, config.vocabSize());
        int prompt = 5;
        int capacity = tokens.length + 3;   // three slots never written
        try (Transformer model = Transformer.load(dir); NDScope scope = new NDScope()) {
            NDManager m = model.manager();
            NDArray[] keys = new NDArray[config.layers()];
            NDArray[] values = new NDArray[config.layers()];
            for (int l = 0; l < config.layers(); l++) {
                keys[l] = m.zeros(new Shape(1, config.kvHeads(), capacity, config.headDim()));
                values[l] = m.zeros(new Shape(1, config.kvHeads(), capacity, config.headDim()));
            }
            try (KvCache growing = new KvCache(m, config.layers());
                 KvCache reserved = KvCache.reserved(m, keys, values, 0)) {
                for (int at = 0; at < tokens.length; at = at == 0 ? prompt : at + 1) {
                    int t = at == 0 ? prompt : 1;
                    long[][] ids = {Arrays.copyOfRange(tokens, at, at + t)};
                    int[][] pos = new int[1][t];
                    for (int i = 0; i < t; i++) {
                        pos[0][i] = at + i;
                    }
                    float[] expected = model.forward(new Transformer.Input(model.embed(ids), pos, Masks.causal(m, t, at),
                            Transformer.Logits.LAST), growing).toFloatArray();
                    float[] mask = new float[t * capacity];
                    for (int q = 0; q < t; q++) {
                        Arrays.fill(mask, q * capacity + at + q + 1, (q + 1) * capacity, Masks.BLOCKED);
                    }
                    float[] actual = model.forward(new Transformer.Input(model.embed(ids), pos,
                            m.create(mask, new Shape(1, t, capacity)), Transformer.Logits.LAST), reserved).toFloatArray();
                    TransformerTest.assertClose(expected, actual, 1e-5, "logits after " + (at + t) + " tokens");
                    assertEquals(growing.length(), reserved.length());
                }
                assertArrayEquals(new long[] {1, config.kvHeads(), capacity, config.headDim()},
                        reserved.keys(0).getShape().getShape());
            }
        }
    }
}
