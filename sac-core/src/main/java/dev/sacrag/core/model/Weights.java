package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.nio.FloatBuffer;
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

        /** A copy of this layer with other q and v projections (a merged LoRA). */
        public Layer withQv(NDArray newWq, NDArray newWv) {
            return new Layer(attnNorm, newWq, wk, newWv, bq, bk, bv, qNorm, kNorm, wo, mlpNorm, wGate, wUp, wDown);
        }
    }

    public static Weights load(Path modelDir, ModelConfig c, NDManager manager) throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            Loader l = new Loader(ckpt, manager);
            long e = c.hiddenSize();
            long q = c.queryDim();
            long kv = c.kvDim();
            long inter = c.intermediateSize();
            NDArray embedding = l.get("model.embed_tokens.weight", c.vocabSize(), e);
            List<Layer> layers = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                String p = "model.layers." + i + ".";
                boolean bias = c.architecture().qkvBias();
                boolean qkNorm = c.architecture().qkNorm();
                layers.add(new Layer(
                        l.get(p + "input_layernorm.weight", e),
                        l.get(p + "self_attn.q_proj.weight", q, e),
                        l.get(p + "self_attn.k_proj.weight", kv, e),
                        l.get(p + "self_attn.v_proj.weight", kv, e),
                        bias ? l.get(p + "self_attn.q_proj.bias", q) : null,
                        bias ? l.get(p + "self_attn.k_proj.bias", kv) : null,
                        bias ? l.get(p + "self_attn.v_proj.bias", kv) : null,
                        qkNorm ? l.get(p + "self_attn.q_norm.weight", c.headDim()) : null,
                        qkNorm ? l.get(p + "self_attn.k_norm.weight", c.headDim()) : null,
                        l.get(p + "self_attn.o_proj.weight", e, q),
                        l.get(p + "post_attention_layernorm.weight", e),
                        l.get(p + "mlp.gate_proj.weight", inter, e),
                        l.get(p + "mlp.up_proj.weight", inter, e),
                        l.get(p + "mlp.down_proj.weight", e, inter)));
            }
            NDArray norm = l.get("model.norm.weight", e);
            NDArray head = c.tieWordEmbeddings() || !ckpt.has("lm_head.weight")
                    ? embedding : l.get("lm_head.weight", c.vocabSize(), e);
            return new Weights(embedding, List.copyOf(layers), norm, head);
        }
    }

    public Weights withLayers(List<Layer> newLayers) {
        return new Weights(embedding, List.copyOf(newLayers), finalNorm, lmHead);
    }

    private record Loader(Checkpoint ckpt, NDManager manager) {
        NDArray get(String name, long... shape) throws IOException {
            FloatBuffer data = ckpt.read(name, shape);
            NDArray a = manager.create(data, new Shape(shape), DataType.FLOAT32);
            a.setName(name);
            return a;
        }
    }
}
