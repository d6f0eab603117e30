package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Immutable f32 weights of a Llama-family decoder, owned by one NDManager.
 *
 * <p>Linear weights keep the checkpoint's [out, in] layout; the forward multiplies by a
 * transposed view ({@code x @ W^T}, as torch's linear does), so nothing is copied twice.
 * Checkpoint tensor names appear only in {@link #load}.
 */
public record Weights(
        NDArray embedding,      // [V, E]
        List<Layer> layers,
        NDArray finalNorm,      // [E]
        NDArray lmHead) {       // [V, E]; the embedding itself when tied

    /** One decoder layer. Bias and q/k-norm entries are null when the architecture has none. */
    public record Layer(
            NDArray attnNorm,   // [E]
            NDArray wq,         // [H*D, E]
            NDArray wk,         // [Hkv*D, E]
            NDArray wv,         // [Hkv*D, E]
            NDArray bq, NDArray bk, NDArray bv,
            NDArray qNorm, NDArray kNorm, // [D]
            NDArray wo,         // [E, H*D]
            NDArray mlpNorm,    // [E]
            NDArray wGate,      // [I, E]
            NDArray wUp,        // [I, E]
            NDArray wDown) {    // [E, I]

        /** This layer with the weight of one projection replaced. */
        public Layer with(LowRank.Target target, NDArray w) {
            return switch (target) {
                case Q_PROJ -> new Layer(attnNorm, w, wk, wv, bq, bk, bv, qNorm, kNorm, wo, mlpNorm, wGate, wUp, wDown);
                case K_PROJ -> new Layer(attnNorm, wq, w, wv, bq, bk, bv, qNorm, kNorm, wo, mlpNorm, wGate, wUp, wDown);
                case V_PROJ -> new Layer(attnNorm, wq, wk, w, bq, bk, bv, qNorm, kNorm, wo, mlpNorm, wGate, wUp, wDown);
                case O_PROJ -> new Layer(attnNorm, wq, wk, wv, bq, bk, bv, qNorm, kNorm, w, mlpNorm, wGate, wUp, wDown);
                case GATE_PROJ -> new Layer(attnNorm, wq, wk, wv, bq, bk, bv, qNorm, kNorm, wo, mlpNorm, w, wUp, wDown);
                case UP_PROJ -> new Layer(attnNorm, wq, wk, wv, bq, bk, bv, qNorm, kNorm, wo, mlpNorm, wGate, w, wDown);
                case DOWN_PROJ -> new Layer(attnNorm, wq, wk, wv, bq, bk, bv, qNorm, kNorm, wo, mlpNorm, wGate, wUp, w);
            };
        }

        /** The weight [out, in] of one projection. */
        public NDArray weight(LowRank.Target target) {
            return switch (target) {
                case Q_PROJ -> wq;
                case K_PROJ -> wk;
                case V_PROJ -> wv;
                case O_PROJ -> wo;
                case GATE_PROJ -> wGate;
                case UP_PROJ -> wUp;
                case DOWN_PROJ -> wDown;
            };
        }
    }

    /** Supplies a tensor by checkpoint name and expected shape. */
    @FunctionalInterface
    public interface Source {
        NDArray get(String name, long... shape) throws IOException;
    }

    public static Weights load(Path modelDir, ModelConfig c, NDManager manager) throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            Source checkpoint = (name, shape) -> {
                NDArray a = Owned.floats(manager, ckpt.read(name, shape), new Shape(shape));
                a.setName(name);
                return a;
            };
            boolean tied = c.tieWordEmbeddings() || !ckpt.has("lm_head.weight");
            return build(c, checkpoint, tied);
        }
    }

    /** Builds the weights from any source of named tensors (a checkpoint, an initialiser). */
    public static Weights build(ModelConfig c, Source src, boolean tiedHead) throws IOException {
        long e = c.hiddenSize();
        long q = c.queryDim();
        long kv = c.kvDim();
        long inter = c.intermediateSize();
        NDArray embedding = src.get("model.embed_tokens.weight", c.vocabSize(), e);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            boolean bias = c.architecture().qkvBias();
            boolean qkNorm = c.architecture().qkNorm();
            layers.add(new Layer(
                    src.get(p + "input_layernorm.weight", e),
                    src.get(p + "self_attn.q_proj.weight", q, e),
                    src.get(p + "self_attn.k_proj.weight", kv, e),
                    src.get(p + "self_attn.v_proj.weight", kv, e),
                    bias ? src.get(p + "self_attn.q_proj.bias", q) : null,
                    bias ? src.get(p + "self_attn.k_proj.bias", kv) : null,
                    bias ? src.get(p + "self_attn.v_proj.bias", kv) : null,
                    qkNorm ? src.get(p + "self_attn.q_norm.weight", c.headDim()) : null,
                    qkNorm ? src.get(p + "self_attn.k_norm.weight", c.headDim()) : null,
                    src.get(p + "self_attn.o_proj.weight", e, q),
                    src.get(p + "post_attention_layernorm.weight", e),
                    src.get(p + "mlp.gate_proj.weight", inter, e),
                    src.get(p + "mlp.up_proj.weight", inter, e),
                    src.get(p + "mlp.down_proj.weight", e, inter)));
        }
        NDArray norm = src.get("model.norm.weight", e);
        NDArray head = tiedHead ? embedding : src.get("lm_head.weight", c.vocabSize(), e);
        return new Weights(embedding, List.copyOf(layers), norm, head);
    }

    /** Every tensor under its checkpoint name (the head only when untied), for saving. */
    public java.util.Map<String, NDArray> named() {
        java.util.Map<String, NDArray> m = new java.util.LinkedHashMap<>();
        m.put("model.embed_tokens.weight", embedding);
        for (int i = 0; i < layers.size(); i++) {
            String p = "model.layers." + i + ".";
            Layer l = layers.get(i);
            m.put(p + "input_layernorm.weight", l.attnNorm());
            m.put(p + "self_attn.q_proj.weight", l.wq());
            m.put(p + "self_attn.k_proj.weight", l.wk());
            m.put(p + "self_attn.v_proj.weight", l.wv());
            putIfPresent(m, p + "self_attn.q_proj.bias", l.bq());
            putIfPresent(m, p + "self_attn.k_proj.bias", l.bk());
            putIfPresent(m, p + "self_attn.v_proj.bias", l.bv());
            putIfPresent(m, p + "self_attn.q_norm.weight", l.qNorm());
            putIfPresent(m, p + "self_attn.k_norm.weight", l.kNorm());
            m.put(p + "self_attn.o_proj.weight", l.wo());
            m.put(p + "post_attention_layernorm.weight", l.mlpNorm());
            m.put(p + "mlp.gate_proj.weight", l.wGate());
            m.put(p + "mlp.up_proj.weight", l.wUp());
            m.put(p + "mlp.down_proj.weight", l.wDown());
        }
        m.put("model.norm.weight", finalNorm);
        if (lmHead != embedding) {
            m.put("lm_head.weight", lmHead);
        }
        return m;
    }

    private static void putIfPresent(java.util.Map<String, NDArray> m, String name, NDArray a) {
        if (a != null) {
            m.put(name, a);
        }
    }

    public Weights withLayers(List<Layer> newLayers) {
        return new Weights(embedding, List.copyOf(newLayers), finalNorm, lmHead);
    }

}
