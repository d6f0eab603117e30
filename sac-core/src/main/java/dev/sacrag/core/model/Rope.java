package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in the Hugging Face "rotate half" layout: a head vector x of
 * size D is split into halves (x1, x2) and rotated as {@code x*cos + rotate_half(x)*sin},
 * {@code rotate_half(x) = (-x2, x1)}, with frequency i used at both i and i + D/2.
 *
 * <p>rotate_half is linear, so we apply it as a product with a fixed signed permutation
 * matrix P [D, D]: no slicing, and autograd sees one matmul. Rotations compose
 * (R(a) R(b) = R(a + b)), which is what lets a post-RoPE key be moved by {@link #rotate}.
 */
public final class Rope {
    private final int headDim;
    private final double[] invFreq; // [D/2]
    private final NDArray rotateHalf; // [D, D]

    public Rope(ModelConfig config, NDManager manager) {
        this.headDim = config.headDim();
        this.invFreq = inverseFrequencies(config);
        int d = headDim;
        int h = d / 2;
        float[] p = new float[d * d];
        for (int i = 0; i < h; i++) {
            // (x @ P)[i] = -x[i + h] ; (x @ P)[i + h] = x[i]
            p[(i + h) * d + i] = -1f;
            p[i * d + (i + h)] = 1f;
        }
        this.rotateHalf = manager.create(p, new Shape(d, d));
    }

    /** Frequencies 1/theta^(2i/D), rescaled by the llama3 rule when the config asks for it. */
    static double[] inverseFrequencies(ModelConfig c) {
        int half = c.headDim() / 2;
        double[] f = new double[half];
        for (int i = 0; i < half; i++) {
            f[i] = 1.0 / StrictMath.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
        }
        ModelConfig.RopeScaling s = c.ropeScaling();
        if (s != null) {
            double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
            double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
            for (int i = 0; i < half; i++) {
                double wavelen = 2 * Math.PI / f[i];
                if (wavelen > lowWavelen) {
                    f[i] = f[i] / s.factor();
                } else if (wavelen >= highWavelen) {
                    double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor())
                            / (s.highFreqFactor() - s.lowFreqFactor());
                    f[i] = (1 - smooth) * f[i] / s.factor() + smooth * f[i];
                }
            }
        }
        return f;
    }

    /** cos and sin tables for positions [B][T], shaped [B, T, 1, D] to broadcast over heads. */
    public NDArray[] tables(NDManager manager, int[][] positions) {
        int b = positions.length;
        int t = positions[0].length;
        int d = headDim;
        int half = d / 2;
        float[] cos = new float[b * t * d];
        float[] sin = new float[b * t * d];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                int base = (i * t + j) * d;
                for (int k = 0; k < half; k++) {
                    double angle = positions[i][j] * invFreq[k];
                    float c = (float) StrictMath.cos(angle);
                    float s = (float) StrictMath.sin(angle);
                    cos[base + k] = c;
                    cos[base + k + half] = c;
                    sin[base + k] = s;
                    sin[base + k + half] = s;
                }
            }
        }
        Shape shape = new Shape(b, t, 1, d);
        // owned copies: autograd keeps these for backward (and rotate() closes them before its result is used)
        return new NDArray[] {Owned.floats(manager, cos, shape), Owned.floats(manager, sin, shape)};
    }

    /** x * cos + rotate_half(x) * sin, for x [..., D] and tables broadcastable to it. */
    public NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        return x.mul(cos).add(x.matMul(rotateHalf).mul(sin));
    }

    /**
     * Rotates post-RoPE keys [.., S, D] by {@code delta} positions: the result equals keys
     * that had been encoded at p + delta. Used to compose independently compressed documents.
     */
    public NDArray rotate(NDArray keys, int delta) {
        if (delta == 0) {
            return keys;
        }
        NDArray[] cs = tables(keys.getManager(), new int[][] {{delta}});
        NDArray cos = cs[0].reshape(headDim);
        NDArray sin = cs[1].reshape(headDim);
        NDArray out = apply(keys, cos, sin);
        cs[0].close();
        cs[1].close();
        return out;
    }

    public int headDim() {
        return headDim;
    }
}
