package dev.sacrag.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.model.Weights;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Autograd through the whole training forward (embedding, RMSNorm, RoPE, grouped attention
 * with a causal mask, SwiGLU, tied head, weighted cross entropy) agrees with central finite
 * differences of the loss along a random direction, for every parameter tensor.
 */
class GradientCheckTest {
    static final ModelConfig CONFIG = new ModelConfig(ModelConfig.Architecture.LLAMA, 40, 16, 2, 4, 2, 4, 24,
            10000, null, 1e-5, true, 64, 0, List.of(1));

    @Test
    void autogradMatchesFiniteDifferencesForEveryParameter() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            SplittableRandom root = new SplittableRandom(11);
            Weights w = Weights.build(CONFIG, (name, shape) -> {
                SplittableRandom r = root.split();
                int n = 1;
                for (long d : shape) {
                    n *= (int) d;
                }
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = name.endsWith("norm.weight") ? 1f + 0.1f * (float) BaseTrainer.gaussian(r)
                            : 0.3f * (float) BaseTrainer.gaussian(r);
                }
                NDArray a = m.create(v, new Shape(shape));
                params.put(name, a);
                return a;
            }, true);
            Transformer model = Transformer.of(CONFIG, w, m);
            SplittableRandom data = new SplittableRandom(5);
            long[][] in = new long[2][9];
            long[][] tg = new long[2][9];
            float[][] wt = new float[2][9];
            for (int b = 0; b < 2; b++) {
                for (int j = 0; j < 9; j++) {
                    in[b][j] = data.nextInt(CONFIG.vocabSize());
                    tg[b][j] = data.nextInt(CONFIG.vocabSize());
                    wt[b][j] = j < 2 ? 0f : (j % 3 == 0 ? 3f : 1f);
                }
            }
            Batch batch = new Batch(in, tg, wt, 18);
            for (NDArray p : params.values()) {
                p.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(loss(model, batch));
            }
            for (var e : params.entrySet()) {
                NDArray p = e.getValue();
                float[] g = p.getGradient().toFloatArray();
                float[] base = p.toFloatArray();
                float[] dir = new float[base.length];
                double analytic = 0;
                for (int i = 0; i < dir.length; i++) {
                    dir[i] = (float) BaseTrainer.gaussian(data);
                    analytic += g[i] * dir[i];
                }
                double eps = 1e-3;
                double numeric = (lossAt(model, batch, p, base, dir, eps) - lossAt(model, batch, p, base, dir, -eps)) / (2 * eps);
                set(p, base);
                assertEquals(numeric, analytic, 2e-3 + 0.01 * Math.abs(numeric), e.getKey());
            }
        }
    }

    private static double lossAt(Transformer model, Batch batch, NDArray p, float[] base, float[] dir, double eps) {
        float[] v = new float[base.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (base[i] + eps * dir[i]);
        }
        set(p, v);
        try (NDArray l = loss(model, batch)) {
            return l.getFloat();
        }
    }

    private static void set(NDArray p, float[] v) {
        AdamW.copyInto(p, java.nio.FloatBuffer.wrap(v));
    }

    private static NDArray loss(Transformer model, Batch batch) {
        KvCache cache = new KvCache(model.manager(), model.config().layers());
        NDArray logits = batch.logits(model, cache);
        return Losses.crossEntropy(logits, batch.targets(), batch.weights());
    }
}
