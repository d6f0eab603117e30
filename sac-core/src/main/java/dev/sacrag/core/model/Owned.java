package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Arrays from Java data whose memory PyTorch owns.
 *
 * <p>DJL's PyTorch engine turns Java data into an array without copying: the tensor's storage
 * is a direct ByteBuffer that stays alive only while the Java array object does. Autograd,
 * though, keeps its own reference to every tensor a gradient needs (the scale of {@code x * s},
 * the cos table of RoPE) and reads it during backward, after the Java object may be closed and
 * collected and its memory reused. {@code NDArray.mul(Number)} is the worst case: it makes
 * such a scalar and closes it at once. Training then reads garbage now and then: rare NaN
 * gradients (always in the compressor's early layers, which backward reaches last) and
 * gradients that differ between identical runs ({@code GradientLifetimeTest} shows it).
 *
 * <p>So an array made from Java data that autograd may keep past its Java object's life (a
 * scalar operand, token ids, RoPE tables, loss weights, one-hot selections) goes through here:
 * one copy into memory PyTorch allocates and reference-counts. Arrays the model holds for its
 * own life (its weights, the attention scale) and masks (added, never kept) need none.
 * Inference needs none of this (each op finishes before the data can go), but shares the code.
 */
public final class Owned {

    /** {@code data} as a [shape] float array in PyTorch-owned memory. */
    public static NDArray floats(NDManager m, float[] data, Shape shape) {
        try (NDArray borrowed = m.create(data, shape)) {
            return borrowed.duplicate();
        }
    }

    /** {@code data} as a [shape] int64 array in PyTorch-owned memory (e.g. token ids, which embedding backward keeps). */
    public static NDArray longs(NDManager m, long[] data, Shape shape) {
        try (NDArray borrowed = m.create(data, shape)) {
            return borrowed.duplicate();
        }
    }

    /** A 0-d array holding {@code v}, in PyTorch-owned memory. */
    private static NDArray scalar(NDManager m, float v) {
        try (NDArray borrowed = m.create(v)) {
            return borrowed.duplicate();
        }
    }

    /** x * s. */
    public static NDArray mul(NDArray x, float s) {
        return x.mul(scalar(x.getManager(), s));
    }

    /** x / s. */
    public static NDArray div(NDArray x, float s) {
        return x.div(scalar(x.getManager(), s));
    }

    private Owned() {
    }
}
