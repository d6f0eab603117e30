package dev.sacrag.core.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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
 * one copy into memory PyTorch allocates and reference-counts. Masks and the anchor K/V a question
 * composes come through here for another reason, direct memory ({@link #floats(NDManager, float[],
 * Shape)}); weights for the memory limit below ({@link #floats(NDManager, java.nio.FloatBuffer,
 * Shape)}).
 * Inference needs none of this (each op finishes before the data can go), but shares the code.
 */
public final class Owned {

    /**
     * {@code data} as a [shape] float array in PyTorch-owned memory, staged through a direct buffer
     * this thread reuses. {@code NDManager.create(float[])} copies the data into a new direct
     * buffer for each array, which closing the array does not free: only a garbage collection
     * does, and the heap may see none for long. A question composes its documents' whole anchor
     * K/V that way (tens of MB for a 1B model), so direct memory grew by that much per question
     * until the JVM's cap forced a full collection (System.gc()) or the process ran out. Here the
     * only direct memory is the staging buffer, as large as the largest array this thread made.
     */
    public static NDArray floats(NDManager m, float[] data, Shape shape) {
        if (data.length == 0) {
            try (NDArray borrowed = m.create(data, shape)) {
                return borrowed.duplicate();
            }
        }
        ByteBuffer staging = staging(4L * data.length);
        staging.asFloatBuffer().put(data);
        try (NDArray borrowed = m.create(staging, shape, ai.djl.ndarray.types.DataType.FLOAT32)) {   // no copy: borrowed
            return borrowed.duplicate();
        }
    }

    private static final ThreadLocal<ByteBuffer[]> STAGING = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    /** This thread's staging buffer, cleared to {@code bytes} (grown when smaller). */
    private static ByteBuffer staging(long bytes) {
        ByteBuffer[] held = STAGING.get();
        int size = Math.toIntExact(bytes);
        if (held[0] == null || held[0].capacity() < size) {
            held[0] = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
        }
        ByteBuffer b = held[0];
        b.clear();
        b.limit(size);
        return b;
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
