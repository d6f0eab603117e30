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
 * one copy into memory PyTorch allocates and reference-counts. Masks (added, never kept) need
 * none; weights come through here for the memory limit below ({@link #floats(NDManager,
 * java.nio.FloatBuffer, Shape)}).
 * Inference needs none of this (each op finishes before the data can go), but shares the code.
 */
public final class Owned {

    /** {@code data} as a [shape] float array in PyTorch-owned memory. */
    public static NDArray floats(NDManager m, float[] data, Shape shape) {
        try (NDArray borrowed = m.create(data, shape)) {
            return borrowed.duplicate();
        }
    }

    /**
     * Checkpoint values (a direct buffer {@code Safetensors} filled) as a [shape] float array in
     * PyTorch-owned memory. Weights come through here for a reason of their own: DJL copies a
     * FloatBuffer into a fresh direct ByteBuffer that the array then borrows for its whole life,
     * so a model held that way sits in JVM direct memory, capped by -XX:MaxDirectMemorySize (by
     * default the heap limit, a quarter of RAM): a 1B model in f32 (5 GB) would not load on a 16 GB
     * host. Copied into PyTorch's memory, the buffers are garbage once the load is done.
     */
    public static NDArray floats(NDManager m, java.nio.FloatBuffer data, Shape shape) {
        try (NDArray borrowed = m.create(data, shape, ai.djl.ndarray.types.DataType.FLOAT32)) {
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
