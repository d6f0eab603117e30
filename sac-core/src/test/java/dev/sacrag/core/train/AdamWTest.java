package dev.sacrag.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {

    /** Backward of sum(w * x) gives the gradient x. */
    private static void backward(NDArray w, float[] x) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(w.mul(w.getManager().create(x)).sum());
        }
    }

    @Test
    void aNonFiniteGradientSkipsTheStepAndLeavesNoTrace() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1f, -2f, 3f});
            NDArray u = m.create(new float[] {4f});
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", w);
            params.put("u", u);
            AdamW adam = new AdamW(params, AdamW.Settings.paper(), m, Set.of());

            backward(w, new float[] {0.5f, Float.NaN, 1f});
            backward(u, new float[] {0.25f});
            float norm = adam.step(1e-2f);
            assertFalse(Float.isFinite(norm));
            assertEquals(java.util.List.of("w"), adam.lastNonFinite(), "names where it broke");
            assertTrue(adam.skipReason().endsWith("(non-finite in: [w])"), adam.skipReason());
            assertArrayEquals(new float[] {1f, -2f, 3f}, w.toFloatArray(), "weights untouched");
            assertArrayEquals(new float[] {4f}, u.toFloatArray(), "weights untouched");
            assertEquals(0, adam.steps(), "the skipped step is not counted (bias correction)");

            backward(w, new float[] {0.5f, -1f, 1f});
            backward(u, new float[] {0.25f});
            norm = adam.step(1e-2f);
            assertTrue(Float.isFinite(norm));
            assertEquals(1, adam.steps());
            float[] after = w.toFloatArray();
            for (float v : after) {
                assertTrue(Float.isFinite(v), "the NaN gradient was cleared, not carried into the next step");
            }
            assertNotEquals(1f, after[0]);
        }
    }
}
