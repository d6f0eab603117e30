package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every LoRA target changes the forward, and its unmerged delta equals the merged weight's. */
class LowRankTest {
    @TempDir
    Path tmp;

    @Test
    void eachTargetChangesTheForwardAndMergesToTheSameLogits() throws Exception {
        ModelConfig c = wideHeads();
        try (Transformer base = Transformer.load(TestModels.write(c, tmp.resolve("base"), 3)); NDScope scope = new NDScope()) {
            NDManager m = base.manager();
            long[][] ids = {{5, 9, 2, 7, 11, 4}};
            float[] plain = logits(base, ids, null);
            for (LowRank.Target t : LowRank.Target.values()) {
                SplittableRandom rnd = new SplittableRandom(t.ordinal());
                List<Map<LowRank.Target, LowRank.Pair>> layers = new java.util.ArrayList<>();
                for (int i = 0; i < c.layers(); i++) {   // the last layer only: the others carry none
                    layers.add(i < c.layers() - 1 ? Map.of()
                            : Map.of(t, new LowRank.Pair(random(m, rnd, 3, t.in(c)), random(m, rnd, t.out(c), 3))));
                }
                LowRank lora = new LowRank(layers, 2f);
                float[] unmerged = logits(base, ids, lora);
                float[] merged;
                try (Transformer withMerged = base.withMerged(lora)) {
                    merged = logits(withMerged, ids, null);
                }
                double change = 0;
                double gap = 0;
                for (int i = 0; i < plain.length; i++) {
                    change = Math.max(change, Math.abs(unmerged[i] - plain[i]));
                    gap = Math.max(gap, Math.abs(unmerged[i] - merged[i]));
                }
                assertTrue(change > 1e-3, t + " did not change the logits");
                assertTrue(gap < 1e-4, t + ": merged and unmerged logits differ by " + gap);
            }
        }
    }

    /** Tiny, but heads x head size (96) differs from the hidden size (64), as in Qwen3 or Gemma. */
    static ModelConfig wideHeads() {
        ModelConfig t = TestModels.tiny(ModelConfig.Architecture.LLAMA);
        return new ModelConfig(t.architecture(), t.vocabSize(), t.hiddenSize(), t.layers(), t.heads(), t.kvHeads(),
                24, t.intermediateSize(), t.ropeTheta(), null, t.rmsNormEps(), false, t.maxPositions(), 0, List.of(1));
    }

    @Test
    void widthsFollowTheProjection() {
        ModelConfig c = wideHeads();   // hidden 64, 4 heads x 24, 2 kv heads x 24, MLP 128
        assertEquals(List.of(64, 64, 64, 96, 64, 64, 128), java.util.Arrays.stream(LowRank.Target.values())
                .map(t -> t.in(c)).toList());
        assertEquals(List.of(96, 48, 48, 64, 128, 128, 64), java.util.Arrays.stream(LowRank.Target.values())
                .map(t -> t.out(c)).toList());
    }

    @Test
    void targetsAreKnownByTheirHuggingFaceNames() {
        assertEquals(LowRank.Target.GATE_PROJ, LowRank.Target.of("gate_proj"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LowRank.Target.of("lm_head"));
        assertTrue(e.getMessage().contains("lm_head") && e.getMessage().contains("down_proj"), e.getMessage());
    }

    private static float[] logits(Transformer model, long[][] ids, LowRank lora) {
        try (KvCache cache = new KvCache(model.manager(), model.config().layers())) {
            int t = ids[0].length;
            int[][] positions = {java.util.stream.IntStream.range(0, t).toArray()};
            return model.forward(new Transformer.Input(model.embed(ids), positions, Masks.causal(model.manager(), t, 0),
                    lora, Transformer.Logits.ALL), cache).toFloatArray();
        }
    }

    private static NDArray random(NDManager m, SplittableRandom rnd, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextDouble(-0.3, 0.3);
        }
        return m.create(v, new Shape(rows, cols));
    }
}
