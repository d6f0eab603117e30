package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Llama-family decoder (Llama 2/3, Qwen2, Qwen3, SmolLM, TinyLlama) in f32 on DJL.
 *
 * <p>Shape letters: B batch, T new tokens, S cached + new tokens, E hidden, H query heads,
 * Hkv key/value heads, g = H / Hkv, D head dim, I intermediate, V vocabulary.
 *
 * <p>The model holds only immutable config and weights; the caller owns the {@link KvCache}
 * and the native memory of everything a forward returns, which lands in the caller's
 * {@code NDScope} (see {@code Generator}); each layer's temporaries are freed when the layer
 * is done.
 */
public final class Transformer implements AutoCloseable {

    /** Which logits the forward computes; the compressor needs none, generation only the last. */
    public enum Logits { NONE, LAST, ALL }

    /**
     * One forward call. {@code embeds} [B, T, E] are the input embeddings (see {@link #embed});
     * {@code positions} [B][T] the RoPE positions; {@code mask} additive [B or 1, T, S];
     * {@code lora} nullable.
     */
    public record Input(NDArray embeds, int[][] positions, NDArray mask, LowRank lora, Logits logits) {
        public Input(NDArray embeds, int[][] positions, NDArray mask, Logits logits) {
            this(embeds, positions, mask, null, logits);
        }
    }

    private final ModelConfig config;
    private final Weights weights;
    private final NDManager manager;
    private final boolean ownsManager;
    private final Rope rope;
    private final NDArray eps;
    private final NDArray attnScale;

    private Transformer(ModelConfig config, Weights weights, NDManager manager, boolean ownsManager) {
        this.config = config;
        this.weights = weights;
        this.manager = manager;
        this.ownsManager = ownsManager;
        this.rope = new Rope(config, manager);
        this.eps = manager.create((float) config.rmsNormEps());
        this.attnScale = manager.create((float) (1.0 / Math.sqrt(config.headDim())));
    }

    public static Transformer load(Path modelDir) throws IOException {
        ModelConfig config = ModelConfig.load(modelDir);
        NDManager manager = NDManager.newBaseManager();
        try {
            return new Transformer(config, Weights.load(modelDir, config, manager), manager, true);
        } catch (Throwable e) {   // an Error too (out of direct memory while reading the weights): free what was read
            manager.close();
            throw e;
        }
    }

    public static Transformer of(ModelConfig config, Weights weights, NDManager manager) {
        return new Transformer(config, weights, manager, false);
    }

    /**
     * A model whose LoRA-targeted projections have the delta merged in; shares every other
     * weight with this one. Close it to free the merged projections only.
     */
    public Transformer withMerged(LowRank lora) {
        NDManager sub = manager.newSubManager();
        List<Weights.Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            Weights.Layer l = weights.layers().get(i);
            for (var e : lora.layers().get(i).entrySet()) {
                LowRank.Pair p = e.getValue();
                NDArray merged = p.b().matMul(p.a());          // one new [out, in] array, scaled and added in place
                merged.muli(lora.scale()).addi(l.weight(e.getKey()));
                merged.attach(sub);
                l = l.with(e.getKey(), merged);
            }
            layers.add(l);
        }
        return new Transformer(config, weights.withLayers(layers), sub, true);
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    public Rope rope() {
        return rope;
    }

    public NDManager manager() {
        return manager;
    }

    /** Token ids [B, T] (int64) to embeddings [B, T, E]. */
    public NDArray embed(NDArray tokenIds) {
        return tokenIds.getNDArrayInternal()
                .embedding(tokenIds, weights.embedding(), SparseFormat.DENSE).singletonOrThrow();
    }

    public NDArray embed(long[][] tokenIds) {
        int b = tokenIds.length;
        int t = tokenIds[0].length;
        long[] flat = new long[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(tokenIds[i], 0, flat, i * t, t);
        }
        NDArray ids = Owned.longs(manager, flat, new Shape(b, t)); // the embedding's backward reads them
        NDArray out = embed(ids);
        ids.close();
        return out;
    }

    /**
     * Runs the decoder over T new tokens, appending their K and V to {@code cache}.
     * Returns logits [B, T, V] (ALL), [B, 1, V] (LAST) or null (NONE). With NONE the last
     * layer stops once its K and V are cached: nothing after it is needed.
     */
    public NDArray forward(Input in, KvCache cache) {
        NDArray[] cs = rope.tables(in.embeds().getManager(), in.positions());
        NDArray cos = cs[0];
        NDArray sin = cs[1];
        NDArray mask = in.mask().expandDims(1).expandDims(1); // [B|1, 1, 1, T, S]
        NDArray x = in.embeds();
        for (int i = 0; i < config.layers(); i++) {
            Weights.Layer w = weights.layers().get(i);
            Map<LowRank.Target, LowRank.Pair> lora = in.lora() == null ? null : in.lora().layers().get(i);
            boolean last = i == config.layers() - 1;
            boolean kvOnly = last && in.logits() == Logits.NONE;
            boolean lastQueryOnly = last && in.logits() == Logits.LAST;
            float scale = in.lora() == null ? 0f : in.lora().scale();
            // A layer's temporaries are released as soon as the layer is done, or a long prefill
            // holds every layer's attention scores at once (4 x 512 tokens on a 30-layer model
            // reached 24 GB). Under autograd this is safe too: the graph keeps its own references
            // to the tensors backward needs (as long as PyTorch owns their memory: see Owned);
            // only the Java handles go. The output moves to the caller's scope.
            NDArray previous = x;
            try (NDScope layerScope = new NDScope()) {
                x = layer(x, w, lora, scale, cos, sin, mask, cache, i, kvOnly, lastQueryOnly);
                NDScope.unregister(x);
            }
            NDScope.register(x);
            // The previous layer's output is not needed past this layer (autograd keeps its own
            // reference): freed now, or a forward held every layer's hidden states until the
            // caller's scope closed. The embeddings are the caller's.
            if (previous != x && previous != in.embeds()) {
                NDScope.unregister(previous);
                previous.close();
            }
        }
        if (in.logits() == Logits.NONE) {
            return null;
        }
        // with LAST, the last layer already returned the last position only: x is [B, 1, E]
        NDArray h = rmsNorm(x, weights.finalNorm());
        return h.matMul(weights.lmHead().transpose()); // [B, T|1, V]
    }

    /**
     * One decoder layer over T new tokens. {@code kvOnly}: only cache K and V (nothing reads the
     * output). {@code lastQueryOnly}: cache K and V of all T, but compute the attention and MLP of
     * the last position only, returning [B, 1, E]: in the last layer of a LAST-logits forward
     * nothing else reads the other positions' outputs. Their keys and values are all a later
     * step needs; on the 4-layer demo model this skips about a fifth of a prompt's arithmetic.
     */
    private NDArray layer(NDArray x, Weights.Layer w, Map<LowRank.Target, LowRank.Pair> lora, float loraScale,
                          NDArray cos, NDArray sin, NDArray mask, KvCache cache, int index, boolean kvOnly,
                          boolean lastQueryOnly) {
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        int h = config.heads();
        int hkv = config.kvHeads();
        int d = config.headDim();

        NDArray xn = rmsNorm(x, w.attnNorm());
        NDArray k = delta(linear(xn, w.wk(), w.bk()), xn, lora, LowRank.Target.K_PROJ, loraScale); // [B, T, Hkv*D]
        NDArray v = delta(linear(xn, w.wv(), w.bv()), xn, lora, LowRank.Target.V_PROJ, loraScale); // [B, T, Hkv*D]
        k = k.reshape(b, t, hkv, d);
        v = v.reshape(b, t, hkv, d);
        if (w.kNorm() != null) {
            k = rmsNorm(k, w.kNorm());
        }
        k = rope.apply(k, cos, sin);
        NDArray[] kv = cache.append(index,
                k.transpose(0, 2, 1, 3),                                // [B, Hkv, T, D]
                v.transpose(0, 2, 1, 3));
        if (kvOnly) {
            return x;   // the compressor's last layer: its queries would attend for nothing
        }
        if (lastQueryOnly && t > 1) {
            String lastRow = ":, " + (t - 1) + ":";
            x = x.get(lastRow);                                         // [B, 1, E]
            xn = xn.get(lastRow);
            cos = cos.get(lastRow);                                     // [B, 1, 1, D]
            sin = sin.get(lastRow);
            mask = mask.get(":, :, :, " + (t - 1) + ":");               // [B|1, 1, 1, 1, S]
            t = 1;
        }
        NDArray q = delta(linear(xn, w.wq(), w.bq()), xn, lora, LowRank.Target.Q_PROJ, loraScale).reshape(b, t, h, d);
        if (w.qNorm() != null) {
            q = rmsNorm(q, w.qNorm());
        }
        q = rope.apply(q, cos, sin);                                    // [B, T, H, D]
        NDArray attn = t == 1 ? attendOne(q, kv, mask, b, hkv, h / hkv, d) : attend(q, kv, mask, b, t, hkv, h / hkv, d);
        x = x.add(delta(attn.matMul(w.wo().transpose()), attn, lora, LowRank.Target.O_PROJ, loraScale)); // [B, T, E]

        NDArray xm = rmsNorm(x, w.mlpNorm());
        NDArray gate = delta(xm.matMul(w.wGate().transpose()), xm, lora, LowRank.Target.GATE_PROJ, loraScale); // [B, T, I]
        NDArray up = delta(xm.matMul(w.wUp().transpose()), xm, lora, LowRank.Target.UP_PROJ, loraScale);       // [B, T, I]
        NDArray act = gate.mul(gate.getNDArrayInternal().sigmoid()).mul(up); // SiLU(gate) * up
        return x.add(delta(act.matMul(w.wDown().transpose()), act, lora, LowRank.Target.DOWN_PROJ, loraScale)); // [B, T, E]
    }

    /**
     * Attention of T queries [B, T, H, D] over K, V [B, Hkv, S, D]; each KV head serves g = H / Hkv
     * query heads (head = kvHead * g + j). Returns [B, T, H*D].
     */
    private NDArray attend(NDArray q, NDArray[] kv, NDArray mask, long b, long t, int hkv, int g, int d) {
        NDArray keys = kv[0].expandDims(2);                             // [B, Hkv, 1, S, D]
        NDArray values = kv[1].expandDims(2);                           // [B, Hkv, 1, S, D]
        NDArray qg = q.reshape(b, t, hkv, g, d).transpose(0, 2, 3, 1, 4); // [B, Hkv, g, T, D]
        NDArray scores = qg.matMul(keys.transpose(0, 1, 2, 4, 3))       // [B, Hkv, g, T, S]
                .mul(attnScale).add(mask);
        return scores.softmax(-1).matMul(values)                        // [B, Hkv, g, T, D]
                .transpose(0, 3, 1, 2, 4).reshape(b, t, (long) hkv * g * d); // [B, T, H*D]
    }

    /**
     * {@link #attend} for one query position (a decode step, the last layer of a prompt): the g
     * query heads of a KV head are the rows of one product with that head's K and V, so K and V
     * are read in place instead of being broadcast (copied) to every query head, a copy that grows
     * with the batch and the cache.
     */
    private NDArray attendOne(NDArray q, NDArray[] kv, NDArray mask, long b, int hkv, int g, int d) {
        long s = kv[0].getShape().get(2);
        NDArray qg = q.reshape(b, hkv, g, d);                          // [B, Hkv, g, D]
        NDArray scores = qg.matMul(kv[0].transpose(0, 1, 3, 2))         // [B, Hkv, g, S]
                .mul(attnScale).add(mask.reshape(mask.getShape().get(0), 1, 1, s));
        return scores.softmax(-1).matMul(kv[1])                         // [B, Hkv, g, D]
                .reshape(b, 1, (long) hkv * g * d);                     // [B, 1, H*D]
    }

    /** {@code y} plus the unmerged LoRA delta of {@code target} on input {@code x}, if it has one. */
    private static NDArray delta(NDArray y, NDArray x, Map<LowRank.Target, LowRank.Pair> lora, LowRank.Target target,
                                 float scale) {
        LowRank.Pair p = lora == null ? null : lora.get(target);
        return p == null ? y : y.add(Owned.mul(x.matMul(p.a().transpose()).matMul(p.b().transpose()), scale));
    }

    private static NDArray linear(NDArray x, NDArray w, NDArray bias) {
        NDArray y = x.matMul(w.transpose());
        return bias == null ? y : y.add(bias);
    }

    /** x / sqrt(mean(x^2) + eps) * weight over the last axis. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray ms = x.square().mean(new int[] {-1}, true);
        return x.div(ms.add(eps).sqrt()).mul(weight);
    }

    /** Long token ids as a DJL array (helper for callers that build batches). */
    public NDArray ids(long[] ids) {
        return manager.create(ids, new Shape(1, ids.length)).toType(DataType.INT64, false);
    }

    @Override
    public void close() {
        if (ownsManager) {
            manager.close();
        }
    }
}
