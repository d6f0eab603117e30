package dev.sacrag.core.model;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * An independent Llama/Qwen forward in plain Java (double loops, doubles, no DJL), written
 * straight from the Hugging Face modelling code, to check the DJL engine against.
 * mask[i][j] true = token i may attend to token j (single sequence, no cache).
 */
final class NaiveReference {
    private final ModelConfig c;
    private final Map<String, float[]> w = new HashMap<>();

    NaiveReference(Path modelDir) throws IOException {
        this.c = ModelConfig.load(modelDir);
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            for (var f : java.nio.file.Files.list(modelDir).filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                try (var r = Safetensors.open(f)) {
                    for (String name : r.entries().keySet()) {
                        FloatBuffer b = r.readF32(name);
                        float[] a = new float[b.remaining()];
                        b.get(a);
                        w.put(name, a);
                    }
                }
            }
        }
    }

    /** Logits [T][V] of tokens at the given positions under the given mask. */
    double[][] logits(long[] tokens, int[] positions, boolean[][] mask) {
        int t = tokens.length;
        int e = c.hiddenSize();
        double[][] x = new double[t][e];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < e; j++) {
                x[i][j] = emb[(int) tokens[i] * e + j];
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] h = norm(x, w.get(p + "input_layernorm.weight"));
            double[][] attn = attention(h, p, positions, mask);
            double[][] o = linear(attn, w.get(p + "self_attn.o_proj.weight"), null);
            add(x, o);
            double[][] h2 = norm(x, w.get(p + "post_attention_layernorm.weight"));
            double[][] gate = linear(h2, w.get(p + "mlp.gate_proj.weight"), null);
            double[][] up = linear(h2, w.get(p + "mlp.up_proj.weight"), null);
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < gate[i].length; j++) {
                    double g = gate[i][j];
                    gate[i][j] = g / (1 + Math.exp(-g)) * up[i][j];
                }
            }
            add(x, linear(gate, w.get(p + "mlp.down_proj.weight"), null));
        }
        double[][] h = norm(x, w.get("model.norm.weight"));
        float[] head = w.containsKey("lm_head.weight") ? w.get("lm_head.weight") : emb;
        return linear(h, head, null);
    }

    private double[][] attention(double[][] h, String p, int[] pos, boolean[][] mask) {
        int t = h.length;
        int d = c.headDim();
        int g = c.heads() / c.kvHeads();
        double[][] q = linear(h, w.get(p + "self_attn.q_proj.weight"), w.get(p + "self_attn.q_proj.bias"));
        double[][] k = linear(h, w.get(p + "self_attn.k_proj.weight"), w.get(p + "self_attn.k_proj.bias"));
        double[][] v = linear(h, w.get(p + "self_attn.v_proj.weight"), w.get(p + "self_attn.v_proj.bias"));
        double[][] out = new double[t][c.heads() * d];
        for (int head = 0; head < c.heads(); head++) {
            int kvHead = head / g;
            for (int i = 0; i < t; i++) {
                double[] qi = headVector(q[i], head, d, p + "self_attn.q_norm.weight", pos[i]);
                double[] scores = new double[t];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < t; j++) {
                    if (!mask[i][j]) {
                        scores[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double[] kj = headVector(k[j], kvHead, d, p + "self_attn.k_norm.weight", pos[j]);
                    double s = 0;
                    for (int z = 0; z < d; z++) {
                        s += qi[z] * kj[z];
                    }
                    scores[j] = s / Math.sqrt(d);
                    max = Math.max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j < t; j++) {
                    scores[j] = mask[i][j] ? Math.exp(scores[j] - max) : 0;
                    sum += scores[j];
                }
                for (int j = 0; j < t; j++) {
                    for (int z = 0; z < d; z++) {
                        out[i][head * d + z] += scores[j] / sum * v[j][kvHead * d + z];
                    }
                }
            }
        }
        return out;
    }

    /** One head of a projected row, q/k-normed when the model has it, then RoPE (rotate half). */
    private double[] headVector(double[] row, int head, int d, String normName, int position) {
        double[] x = new double[d];
        System.arraycopy(row, head * d, x, 0, d);
        float[] nw = w.get(normName);
        if (nw != null) {
            x = norm(new double[][] {x}, nw)[0];
        }
        double[] inv = Rope.inverseFrequencies(c);
        double[] out = new double[d];
        int half = d / 2;
        for (int i = 0; i < half; i++) {
            double a = position * inv[i];
            out[i] = x[i] * Math.cos(a) - x[i + half] * Math.sin(a);
            out[i + half] = x[i + half] * Math.cos(a) + x[i] * Math.sin(a);
        }
        return out;
    }

    private double[][] norm(double[][] x, float[] weight) {
        double[][] out = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double v : x[i]) {
                ms += v * v;
            }
            double r = 1 / Math.sqrt(ms / x[i].length + c.rmsNormEps());
            for (int j = 0; j < x[i].length; j++) {
                out[i][j] = x[i][j] * r * weight[j];
            }
        }
        return out;
    }

    /** y = x W^T + b with W stored [out, in]. */
    private static double[][] linear(double[][] x, float[] weight, float[] bias) {
        int in = x[0].length;
        int out = weight.length / in;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int k = 0; k < in; k++) {
                    s += x[i][k] * weight[o * in + k];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] += y[i][j];
            }
        }
    }
}
