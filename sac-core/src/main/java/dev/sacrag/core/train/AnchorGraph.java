package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.LowRank;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Owned;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.sac.AnchorPositions;
import dev.sacrag.core.sac.SacSpec;

import java.util.List;
import java.util.function.Function;

/**
 * The SAC compressor and decoder as one differentiable graph, for training: the same maths
 * as {@code SacCompressor} / {@code SacDecoder} (chunking, midpoint anchors, anchor
 * embedding at layer 0, bidirectional chunk attention, LoRA on the targeted projections,
 * post-RoPE anchor K/V, RoPE-shift composition, [LM] at position T), but with the LoRA
 * unmerged and anchors gathered by a one-hot matmul so gradients reach the adapter.
 */
final class AnchorGraph {
    private final Transformer base;
    private final SacSpec spec;
    private final LowRank lora;
    private final NDArray anchorTable;  // [slots, E]
    private final NDArray lmToken;      // [E]
    private final Function<long[], boolean[]> alsoAnchor; // null: the paper's uniform anchors only

    AnchorGraph(Transformer base, SacSpec spec, LowRank lora, NDArray anchorTable, NDArray lmToken) {
        this(base, spec, lora, anchorTable, lmToken, null);
    }

    /**
     * With {@code alsoAnchor} (EXPERIMENT, {@code sac-names}): the tokens it marks in a compressor input are
     * anchors too, beside the uniform ones, as {@code SacCompressor.compressWithExtraAnchors} places them.
     */
    AnchorGraph(Transformer base, SacSpec spec, LowRank lora, NDArray anchorTable, NDArray lmToken,
                Function<long[], boolean[]> alsoAnchor) {
        this.base = base;
        this.spec = spec;
        this.lora = lora;
        this.anchorTable = anchorTable;
        this.lmToken = lmToken;
        this.alsoAnchor = alsoAnchor;
        requireMarksFor(spec, alsoAnchor);
    }

    /** Marks go with the {@link SacSpec#NAMES_VARIANT} variant, and only with it. */
    static void requireMarksFor(SacSpec spec, Function<long[], boolean[]> alsoAnchor) {
        if (spec.keepsCapitalisedWords() != (alsoAnchor != null)) {
            throw new IllegalArgumentException("variant " + spec.variant() + (alsoAnchor == null
                    ? " places anchors on marked tokens too: it needs the marks"
                    : " places its anchors uniformly: marks are for " + SacSpec.NAMES_VARIANT + " only"));
        }
    }

    /** Anchor K and V per layer, [1, Hkv, N, D], of one document compressed at positions 1..T. */
    NDArray[][] compress(long[] tokens, int ratio) {
        ModelConfig c = base.config();
        NDManager m = base.manager();
        int cs = spec.chunkSize();
        int chunks = (tokens.length + cs - 1) / cs;
        int t = Math.min(cs, tokens.length);
        long[][] ids = new long[chunks][t];
        int[][] positions = new int[chunks][t];
        int[] lengths = new int[chunks];
        boolean[] marks = alsoAnchor == null ? null : alsoAnchor.apply(tokens);
        if (marks != null && marks.length != tokens.length) {
            throw new IllegalArgumentException("one mark per token: " + marks.length + " marks for " + tokens.length
                    + " tokens");
        }
        int[][] anchorsOf = new int[chunks][];
        int total = 0;
        for (int b = 0; b < chunks; b++) {
            anchorsOf[b] = AnchorPositions.inChunk(Math.min(cs, tokens.length - b * cs), ratio, marks, b * cs);
            total += anchorsOf[b].length;
        }
        int slots = spec.anchorSlots();
        float[] slotSelect = new float[chunks * t * slots];   // [B, T, slots]: an anchor -> its table row (AnchorPositions.slotOf)
        float[] gather = new float[total * chunks * t];       // [N, B*T]: anchor n <- position of its chunk
        int n = 0;
        for (int b = 0; b < chunks; b++) {
            int start = b * cs;
            lengths[b] = Math.min(cs, tokens.length - start);
            System.arraycopy(tokens, start, ids[b], 0, lengths[b]);
            for (int j = 0; j < t; j++) {
                positions[b][j] = start + 1 + j;
            }
            int[] anchors = anchorsOf[b];
            for (int j = 0; j < anchors.length; j++) {
                slotSelect[(b * t + anchors[j]) * slots + AnchorPositions.slotOf(anchors[j], ratio, slots)] = 1f;
                gather[n++ * chunks * t + b * t + anchors[j]] = 1f;
            }
        }
        NDArray embeds = base.embed(ids);                                           // [B, T, E]
        if (spec.anchorEmbedding()) {
            embeds = embeds.add(Owned.floats(m, slotSelect, new Shape(chunks, t, slots)).matMul(anchorTable));
        }
        NDArray mask = Masks.chunks(m, lengths, t, !spec.bidirectional());
        NDArray select = Owned.floats(m, gather, new Shape(total, (long) chunks * t)); // [N, B*T]
        NDArray[][] kv = new NDArray[2][c.layers()];
        try (KvCache cache = new KvCache(m, c.layers())) {
            base.forward(new Transformer.Input(embeds, positions, mask, lora, Transformer.Logits.NONE), cache);
            for (int l = 0; l < c.layers(); l++) {
                kv[0][l] = pick(cache.keys(l), select, chunks, t);
                kv[1][l] = pick(cache.values(l), select, chunks, t);
            }
        }
        return kv;
    }

    /** [B, Hkv, T, D] -> [1, Hkv, N, D] at the anchor positions. */
    private NDArray pick(NDArray x, NDArray select, int b, int t) {
        ModelConfig c = base.config();
        NDArray flat = x.transpose(1, 0, 2, 3).reshape(c.kvHeads(), (long) b * t, c.headDim()); // [Hkv, B*T, D]
        return select.matMul(flat).expandDims(0);                                               // [1, Hkv, N, D]
    }

    /** Composes documents by RoPE shift; returns per-layer K, V and the total token count T. */
    record Context(NDArray[] keys, NDArray[] values, int tokens) { }

    Context compose(List<NDArray[][]> docs, List<Integer> lengths) {
        int layers = base.config().layers();
        NDArray[] k = new NDArray[layers];
        NDArray[] v = new NDArray[layers];
        int offset = 0;
        for (int d = 0; d < docs.size(); d++) {
            for (int l = 0; l < layers; l++) {
                NDArray shifted = base.rope().rotate(docs.get(d)[0][l], offset);
                k[l] = k[l] == null ? shifted : k[l].concat(shifted, 2);
                v[l] = v[l] == null ? docs.get(d)[1][l] : v[l].concat(docs.get(d)[1][l], 2);
            }
            offset += lengths.get(d);
        }
        return new Context(k, v, offset);
    }

    /**
     * Teacher-forced decoder logits [1, 1 + Tq, V] for [LM] + {@code tokens} after the anchors.
     * Consumes {@code ctx} (its arrays become the decoder's cache); compose again to decode twice.
     */
    NDArray decode(Context ctx, long[] tokens) {
        NDManager m = base.manager();
        int n = tokens.length + 1;
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = ctx.tokens() + i;
        }
        NDArray lm = lmToken.reshape(1, 1, base.config().hiddenSize());
        NDArray embeds = lm.concat(base.embed(new long[][] {tokens}), 1);
        try (KvCache cache = KvCache.of(m, ctx.keys(), ctx.values())) {
            int past = cache.length();
            return base.forward(new Transformer.Input(embeds, new int[][] {positions}, Masks.causal(m, n, past),
                    Transformer.Logits.ALL), cache);
        }
    }

    /**
     * Teacher-forced logits [Q, 1 + max Tq, V] of several decoder inputs ([LM] + tokens each)
     * against the same anchors: one forward, the inputs right-padded (padding rows are never
     * scored), the anchor K/V repeated per input so their gradients add up. Row q equals
     * {@link #decode} of input q on its real positions.
     */
    NDArray decodeBatch(Context ctx, List<long[]> inputs) {
        NDManager m = base.manager();
        int q = inputs.size();
        int n = 1 + inputs.stream().mapToInt(t -> t.length).max().orElseThrow();
        long[][] ids = new long[q][n - 1];
        int[][] positions = new int[q][n];
        for (int b = 0; b < q; b++) {
            long[] t = inputs.get(b);
            System.arraycopy(t, 0, ids[b], 0, t.length);
            for (int i = 0; i < n; i++) {
                positions[b][i] = ctx.tokens() + i;
            }
        }
        NDArray lm = lmToken.reshape(1, 1, base.config().hiddenSize()).repeat(0, q);
        NDArray embeds = lm.concat(base.embed(ids), 1);                          // [Q, n, E]
        int layers = base.config().layers();
        NDArray[] k = new NDArray[layers];
        NDArray[] v = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            k[l] = ctx.keys()[l].repeat(0, q);
            v[l] = ctx.values()[l].repeat(0, q);
        }
        try (KvCache cache = KvCache.of(m, k, v)) {
            int past = cache.length();
            return base.forward(new Transformer.Input(embeds, positions, Masks.causal(m, n, past),
                    Transformer.Logits.ALL), cache);
        }
    }
}
