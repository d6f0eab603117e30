package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.model.Owned;

/** Weighted next-token cross entropy. */
public final class Losses {

    /**
     * Mean over weighted positions of -log p(target): logits [B, T, V], targets and weights
     * [B][T] (weight 0 = not counted, e.g. padding or context tokens).
     */
    public static NDArray crossEntropy(NDArray logits, long[][] targets, float[][] weights) {
        NDManager m = logits.getManager();
        int b = targets.length;
        int t = targets[0].length;
        long[] flatT = new long[b * t];
        float[] flatW = new float[b * t];
        double total = 0;
        for (int i = 0; i < b; i++) {
            System.arraycopy(targets[i], 0, flatT, i * t, t);
            System.arraycopy(weights[i], 0, flatW, i * t, t);
            for (float w : weights[i]) {
                total += w;
            }
        }
        NDArray idx = Owned.longs(m, flatT, new Shape(b, t, 1));
        NDArray w = Owned.floats(m, flatW, new Shape(b, t));
        NDArray logp = logits.logSoftmax(-1).gather(idx, 2).reshape(b, t);   // [B, T]
        return Owned.div(logp.mul(w).sum().neg(), (float) Math.max(total, 1e-6));
    }

    private Losses() {
    }
}
