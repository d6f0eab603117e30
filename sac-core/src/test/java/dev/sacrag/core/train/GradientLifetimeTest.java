package dev.sacrag.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.LowRank;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.TestModels;
import dev.sacrag.core.model.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradients must not depend on what the JVM does between forward and backward. DJL's PyTorch
 * engine makes an array from Java data without copying (its storage is a direct ByteBuffer
 * that lives as long as the Java array object). {@code NDArray.mul(Number)} makes such a scalar
 * and closes it at once, and the token ids of an embedding were closed right after the lookup,
 * while autograd keeps both for backward (the LoRA scale, the rows the embedding gradient goes
 * to). Once a buffer is collected and its memory reused, backward reads whatever is there: the
 * SAC runs' rare non-finite gradients (always in the compressor's early layers, which backward
 * reaches last) and base-training runs that ended apart from identical ones. This test collects
 * and refills that memory with NaN before backward.
 */
class GradientLifetimeTest {
    @TempDir
    Path tmp;

    @Test
    void aGarbageCollectionBetweenForwardAndBackwardDoesNotChangeTheGradients() throws Exception {
        ModelConfig c = TestModels.tiny(ModelConfig.Architecture.LLAMA);
        try (Transformer model = Transformer.load(TestModels.write(c, tmp.resolve("base"), 5))) {
            NDManager m = model.manager();
            SplittableRandom rnd = new SplittableRandom(1);
            List<NDArray> params = new ArrayList<>();
            List<Map<LowRank.Target, LowRank.Pair>> layers = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                NDArray a = random(m, rnd, 4, c.hiddenSize());
                NDArray b = random(m, rnd, c.queryDim(), 4);
                params.add(a);
                params.add(b);
                layers.add(Map.of(LowRank.Target.Q_PROJ, new LowRank.Pair(a, b)));
            }
            params.add(model.weights().embedding());   // its backward reads the token ids again
            params.forEach(p -> p.setRequiresGradient(true));
            LowRank lora = new LowRank(layers, 2f);

            float[] calm = gradients(model, lora, params, false);
            float[] churned = gradients(model, lora, params, true);
            double gap = 0;
            double scale = 0;
            for (int i = 0; i < calm.length; i++) {
                assertTrue(Float.isFinite(churned[i]), "gradient " + i + " became " + churned[i]);
                gap = Math.max(gap, Math.abs(calm[i] - churned[i]));
                scale = Math.max(scale, Math.abs(calm[i]));
            }
            assertTrue(gap <= 1e-5 * scale, "gradients moved by " + gap + " (largest " + scale + ")");
        }
    }

    private static float[] gradients(Transformer model, LowRank lora, List<NDArray> params, boolean churn)
            throws InterruptedException {
        long[][] ids = {{3, 17, 9, 40, 22, 5, 31, 8}};
        long[][] targets = {{17, 9, 40, 22, 5, 31, 8, 1}};
        float[][] weights = {{1, 1, 1, 1, 1, 1, 1, 1}};
        try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss;
            try (KvCache cache = new KvCache(model.manager(), model.config().layers())) {
                NDArray logits = model.forward(new Transformer.Input(model.embed(ids), new int[][] {{0, 1, 2, 3, 4, 5, 6, 7}},
                        Masks.causal(model.manager(), 8, 0), lora, Transformer.Logits.ALL), cache);
                loss = Losses.crossEntropy(logits, targets, weights);
            }
            if (churn) {
                reuseFreedDirectMemory();
            }
            gc.backward(loss);
        }
        List<Float> out = new ArrayList<>();
        for (NDArray p : params) {
            for (float g : p.getGradient().toFloatArray()) {
                out.add(g);
            }
            p.getGradient().set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
        }
        float[] a = new float[out.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = out.get(i);
        }
        return a;
    }

    /** Lets the collector free unreachable direct buffers, then fills small blocks with NaN. */
    private static void reuseFreedDirectMemory() throws InterruptedException {
        List<ByteBuffer> hold = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(50);
            for (int i = 0; i < 20_000; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(4 * (1 + i % 4)).order(ByteOrder.nativeOrder());
                while (b.remaining() >= 4) {
                    b.putFloat(Float.NaN);
                }
                hold.add(b);
            }
        }
        assertTrue(hold.size() > 0);
    }

    private static NDArray random(NDManager m, SplittableRandom rnd, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextDouble(-0.2, 0.2);
        }
        return m.create(v, new Shape(rows, cols));
    }
}
