package dev.sacrag.core.kv;

import dev.sacrag.core.model.Half;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * How one [Hkv, N, D] tensor of anchor K or V is stored in a blob.
 *
 * <p>{@code code} is the byte written to the blob header; it is fixed per constant and must
 * never be reused, so reordering the constants cannot change what old blobs mean. Buffers are
 * little-endian; reads and writes advance the buffer's position past the tensor.
 */
public enum KvDtype {

    F32(0) {
        @Override
        long tensorBytes(int heads, int anchors, int headDim) {
            return Math.multiplyExact(4L, elements(heads, anchors, headDim));
        }

        @Override
        void write(ByteBuffer out, float[] t, int heads, int anchors, int headDim) {
            requireWithin(t, Float.MAX_VALUE, "f32");
            putFloats(out, t);
        }

        @Override
        float[] read(ByteBuffer in, int heads, int anchors, int headDim) {
            return getFloats(in, heads * anchors * headDim);
        }
    },

    F16(1) {
        @Override
        long tensorBytes(int heads, int anchors, int headDim) {
            return Math.multiplyExact(2L, elements(heads, anchors, headDim));
        }

        @Override
        void write(ByteBuffer out, float[] t, int heads, int anchors, int headDim) {
            requireWithin(t, F16_MAX, "f16");   // beyond it f16 holds infinity, and attention over it is NaN
            short[] h = new short[t.length];
            for (int i = 0; i < t.length; i++) {
                h[i] = Half.fromFloat(t[i]);
            }
            out.asShortBuffer().put(h);
            out.position(out.position() + 2 * h.length);
        }

        @Override
        float[] read(ByteBuffer in, int heads, int anchors, int headDim) {
            short[] h = new short[heads * anchors * headDim];
            in.asShortBuffer().get(h);
            in.position(in.position() + 2 * h.length);
            float[] t = new float[h.length];
            for (int i = 0; i < h.length; i++) {
                t[i] = Half.toFloat(h[i]);
            }
            return t;
        }
    },

    /**
     * Symmetric per-channel int8, scales [Hkv, D] as f32, then values [Hkv, N, D] as int8: the
     * first int8 layout (code 2), still read; {@link #INT8} is what new blobs use. A channel
     * (head, dim) is scaled by its own max |x| over the anchors because K channel magnitudes
     * differ by orders of magnitude (RoPE pairs, outlier dims); one scale per tensor would
     * flatten the small channels to zero. Error per value is at most scale/2.
     */
    INT8_F32_SCALES(2) {
        @Override
        long tensorBytes(int heads, int anchors, int headDim) {
            return Int8.tensorBytes(F32, heads, anchors, headDim);
        }

        @Override
        void write(ByteBuffer out, float[] t, int heads, int anchors, int headDim) {
            Int8.write(F32, out, t, heads, anchors, headDim);
        }

        @Override
        float[] read(ByteBuffer in, int heads, int anchors, int headDim) {
            return Int8.read(F32, in, heads, anchors, headDim);
        }
    },

    /**
     * As {@link #INT8_F32_SCALES} with the scales stored as f16: the scales cost 2 bytes per
     * channel instead of 4, which is what keeps int8 anchor blobs within a few percent of an
     * exact half of f16 (a 64-anchor tensor: 2/64 over instead of 4/64). Values are quantised
     * against the scale rounded up to f16, so writer and reader agree exactly and no value
     * clips; a channel beyond f16's range (max |x| over ~8e6) is refused.
     */
    INT8(3) {
        @Override
        long tensorBytes(int heads, int anchors, int headDim) {
            return Int8.tensorBytes(F16, heads, anchors, headDim);
        }

        @Override
        void write(ByteBuffer out, float[] t, int heads, int anchors, int headDim) {
            Int8.write(F16, out, t, heads, anchors, headDim);
        }

        @Override
        float[] read(ByteBuffer in, int heads, int anchors, int headDim) {
            return Int8.read(F16, in, heads, anchors, headDim);
        }
    };

    /** The largest finite f16 value. */
    static final float F16_MAX = 65504f;

    /** Refuses NaN, infinities and values beyond {@code max}: a blob must decode to what was encoded. */
    private static void requireWithin(float[] t, float max, String type) {
        for (int i = 0; i < t.length; i++) {
            if (!(Math.abs(t[i]) <= max)) {   // false for NaN too
                throw new IllegalArgumentException("anchor K/V value " + t[i] + " at index " + i + " cannot be stored as "
                        + type + (Float.isFinite(t[i]) ? " (largest magnitude " + max + ")" : "")
                        + ": the model produced it; store f32 or fix the model");
            }
        }
    }

    /** The per-channel int8 arithmetic both int8 layouts share. */
    private static final class Int8 {
        /** The scales [Hkv, D] in {@code scaleType}, then the values [Hkv, N, D] as int8. */
        static long tensorBytes(KvDtype scaleType, int heads, int anchors, int headDim) {
            return Math.addExact(scaleType.tensorBytes(heads, 1, headDim), elements(heads, anchors, headDim));
        }

        static void write(KvDtype scaleType, ByteBuffer out, float[] t, int heads, int anchors, int headDim) {
            float[] scales = scales(t, heads, anchors, headDim, scaleType == F16);
            scaleType.write(out, scales, heads, 1, headDim);
            out.put(quantise(t, scales, heads, anchors, headDim));
        }

        static float[] read(KvDtype scaleType, ByteBuffer in, int heads, int anchors, int headDim) {
            return dequantise(in, scaleType.read(in, heads, 1, headDim), heads, anchors, headDim);
        }

        /** max |x| / 127 per (head, dim); rounded up to f16 when {@code f16} (as it will be stored). */
        private static float[] scales(float[] t, int heads, int anchors, int headDim, boolean f16) {
            float[] scales = new float[heads * headDim];
            for (int h = 0; h < heads; h++) {
                for (int n = 0; n < anchors; n++) {
                    int row = (h * anchors + n) * headDim;
                    for (int d = 0; d < headDim; d++) {
                        scales[h * headDim + d] = Math.max(scales[h * headDim + d], Math.abs(t[row + d]));
                    }
                }
            }
            for (int c = 0; c < scales.length; c++) {
                if (!Float.isFinite(scales[c])) {
                    throw new IllegalArgumentException("int8 needs finite values; channel " + c + " has max |x| " + scales[c]);
                }
                scales[c] /= 127f;
                if (f16) {
                    scales[c] = roundUpToHalf(scales[c], c);
                }
            }
            return scales;
        }

        /**
         * The smallest f16 value >= {@code scale}: rounding down would push max |x| / scale past
         * 127 (clipped, error above scale/2), and a tiny channel must not become all zeros.
         */
        private static float roundUpToHalf(float scale, int channel) {
            short h = Half.fromFloat(scale);
            if (Half.toFloat(h) < scale) {
                h++;   // positive halves are ordered like their bit patterns
            }
            float rounded = Half.toFloat(h);
            if (!Float.isFinite(rounded)) {
                throw new IllegalArgumentException("int8 with f16 scales: channel " + channel + " has max |x| "
                        + scale * 127f + ", beyond what an f16 scale holds");
            }
            return rounded;
        }

        private static byte[] quantise(float[] t, float[] scales, int heads, int anchors, int headDim) {
            byte[] q = new byte[t.length];
            for (int h = 0; h < heads; h++) {
                for (int n = 0; n < anchors; n++) {
                    int row = (h * anchors + n) * headDim;
                    for (int d = 0; d < headDim; d++) {
                        float scale = scales[h * headDim + d];
                        int v = scale == 0f ? 0 : Math.round(t[row + d] / scale);
                        q[row + d] = (byte) Math.max(-127, Math.min(127, v));
                    }
                }
            }
            return q;
        }

        private static float[] dequantise(ByteBuffer in, float[] scales, int heads, int anchors, int headDim) {
            byte[] q = new byte[heads * anchors * headDim];
            in.get(q);
            float[] t = new float[q.length];
            for (int h = 0; h < heads; h++) {
                for (int n = 0; n < anchors; n++) {
                    int row = (h * anchors + n) * headDim;
                    for (int d = 0; d < headDim; d++) {
                        t[row + d] = q[row + d] * scales[h * headDim + d];
                    }
                }
            }
            return t;
        }

        private Int8() {
        }
    }

    private final int code;

    KvDtype(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /**
     * The layout a flag or setting names for new blobs: {@code f32}, {@code f16} or {@code int8}
     * (any case). {@link #INT8_F32_SCALES} is refused: it stays readable, but nothing should
     * write it any more.
     */
    public static KvDtype forNewBlobs(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> F32;
            case "f16" -> F16;
            case "int8" -> INT8;
            default -> throw new IllegalArgumentException("must be f32, f16 or int8, not '" + name + "'");
        };
    }

    public static Optional<KvDtype> fromCode(int code) {
        for (KvDtype d : values()) {
            if (d.code == code) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** Exact byte length of one stored tensor; throws ArithmeticException past a long. */
    abstract long tensorBytes(int heads, int anchors, int headDim);

    abstract void write(ByteBuffer out, float[] t, int heads, int anchors, int headDim);

    abstract float[] read(ByteBuffer in, int heads, int anchors, int headDim);

    private static long elements(int heads, int anchors, int headDim) {
        return Math.multiplyExact(Math.multiplyExact((long) heads, (long) anchors), (long) headDim);
    }

    // Bulk view copies: one memcpy-like transfer instead of a putFloat per value.
    private static void putFloats(ByteBuffer out, float[] v) {
        out.asFloatBuffer().put(v);
        out.position(out.position() + 4 * v.length);
    }

    private static float[] getFloats(ByteBuffer in, int n) {
        float[] v = new float[n];
        in.asFloatBuffer().get(v);
        in.position(in.position() + 4 * n);
        return v;
    }
}
