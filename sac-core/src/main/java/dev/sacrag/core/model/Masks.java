package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Additive attention masks [B, T, S] (0 = may attend, {@link #BLOCKED} = may not), where T
 * counts the new tokens and S = cached + new. A large finite value rather than -inf keeps a
 * fully blocked (padding) row finite instead of NaN.
 */
public final class Masks {
    public static final float BLOCKED = -1e9f;

    /** Ordinary causal attention for T new tokens after {@code past} cached ones. */
    public static NDArray causal(NDManager m, int t, int past) {
        int s = past + t;
        float[] mask = new float[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = past + i + 1; j < s; j++) {
                mask[i * s + j] = BLOCKED;
            }
        }
        return Owned.floats(m, mask, new Shape(1, t, s));
    }

    /**
     * One row per chunk of a padded batch [B, T, T]: token i of chunk b sees token j when both
     * are real tokens (index < lengths[b]) and, if {@code causal}, j <= i. Padding rows see
     * only themselves, so they stay finite and never leak into real tokens.
     */
    public static NDArray chunks(NDManager m, int[] lengths, int t, boolean causal) {
        float[] mask = new float[lengths.length * t * t];
        java.util.Arrays.fill(mask, BLOCKED);
        for (int b = 0; b < lengths.length; b++) {
            int base = b * t * t;
            for (int i = 0; i < t; i++) {
                if (i >= lengths[b]) {
                    mask[base + i * t + i] = 0f;
                    continue;
                }
                int last = causal ? i : lengths[b] - 1;
                for (int j = 0; j <= last; j++) {
                    mask[base + i * t + j] = 0f;
                }
            }
        }
        return Owned.floats(m, mask, new Shape(lengths.length, t, t));
    }

    private Masks() {
    }
}
