package dev.sacrag.core.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Owned;
import dev.sacrag.core.model.Transformer;

import java.util.ArrayList;
import java.util.List;

/**
 * Compresses a context into anchor KV (sac-method.md, "Compressing a context"): cut the
 * tokens into chunks, add the anchor embedding at layer 0, run base + LoRA with attention
 * bidirectional inside each chunk, and keep post-RoPE K and V at the anchor positions of
 * every layer. Chunks never attend to each other, so chunks of one length run as a batch.
 */
public final class SacCompressor {
    /** Chunks per forward: bounds activation memory (B x T x I floats) on long documents. */
    static final int DEFAULT_BATCH_CHUNKS = 8;
    static final long PAD_TOKEN = 0;

    private final Transformer model; // base with the LoRA merged into its targets (q and v as the paper)
    private final SacAdapter adapter;
    private final int batchChunks;

    SacCompressor(Transformer merged, SacAdapter adapter, int batchChunks) {
        this.model = merged;
        this.adapter = adapter;
        this.batchChunks = batchChunks;
    }

    /** One chunk of the input: its tokens, the global position of its first token and its anchors' offsets. */
    record Chunk(long[] tokens, int firstPosition, int[] anchors) { }

    /**
     * @param tokens  the full compressor input: BOS, the context prompt, the context
     * @param modelId written into the result, naming (base, adapter, ratio)
     */
    public AnchorKv compress(long[] tokens, int ratio, String modelId) {
        return compress(tokens, ratio, modelId, 0);
    }

    /**
     * As {@link #compress(long[], int, String)} with every position moved by {@code shift}:
     * the reference the RoPE-shift composition is tested against.
     */
    AnchorKv compress(long[] tokens, int ratio, String modelId, int shift) {
        return compress(tokens, ratio, modelId, shift, null);
    }

    /**
     * The uniform anchors plus every token {@code alsoAnchor} marks (by index into {@code tokens}; {@link
     * CapitalisedWords}, session 18's experiment, trainable since session 21); an added anchor takes the
     * anchor-embedding row of the nearest uniform anchor at or before it (row 0 before the first: the table has a
     * row per uniform slot only). The result carries {@code modelId}: stored blobs of this layout come from a
     * {@link SacSpec#NAMES_VARIANT} adapter, whose model id no uniform adapter shares.
     */
    public AnchorKv compressWithExtraAnchors(long[] tokens, int ratio, String modelId, boolean[] alsoAnchor) {
        if (alsoAnchor.length != tokens.length) {
            throw new IllegalArgumentException("one mark per token: " + alsoAnchor.length + " marks for " + tokens.length
                    + " tokens");
        }
        return compress(tokens, ratio, modelId, 0, alsoAnchor);
    }

    private AnchorKv compress(long[] tokens, int ratio, String modelId, int shift, boolean[] alsoAnchor) {
        SacSpec spec = adapter.spec();
        if (alsoAnchor == null && spec.keepsCapitalisedWords()) {
            throw new IllegalStateException("adapter " + spec.variant() + " was trained with the tokens of capitalised"
                    + " words as anchors too: compress with SacEngine.compressTokens, which places them");
        }
        if (!spec.supports(ratio)) {
            throw new IllegalArgumentException("adapter " + spec.variant() + " supports ratios " + spec.ratios()
                    + ", not " + ratio);
        }
        if (tokens.length == 0) {
            throw new IllegalArgumentException("nothing to compress: empty token sequence");
        }
        List<Chunk> chunks = new ArrayList<>();
        for (int start = 0; start < tokens.length; start += spec.chunkSize()) {
            int end = Math.min(tokens.length, start + spec.chunkSize());
            chunks.add(new Chunk(java.util.Arrays.copyOfRange(tokens, start, end), shift + start + 1,
                    AnchorPositions.inChunk(end - start, ratio, alsoAnchor, start))); // 1-based
        }
        ModelConfig c = model.config();
        int[] chunkAnchors = chunks.stream().mapToInt(ch -> ch.anchors().length).toArray();
        int total = java.util.Arrays.stream(chunkAnchors).sum();
        float[][] keys = new float[c.layers()][c.kvHeads() * total * c.headDim()];
        float[][] values = new float[c.layers()][c.kvHeads() * total * c.headDim()];
        int anchorBase = 0;
        int from = 0;
        while (from < chunks.size()) {
            // a batch holds chunks of one length only: the short last chunk runs on its own
            // instead of being padded to the chunk size (526 tokens were costing 2 x 510)
            int to = from + 1;
            while (to < chunks.size() && to - from < batchChunks
                    && chunks.get(to).tokens().length == chunks.get(from).tokens().length) {
                to++;
            }
            anchorBase += compressBatch(chunks.subList(from, to), ratio, total, anchorBase, keys, values);
            from = to;
        }
        return new AnchorKv(modelId, c.layers(), c.kvHeads(), c.headDim(), tokens.length, chunkAnchors, keys, values);
    }

    /** Runs one padded batch of chunks and scatters their anchors into keys/values. */
    private int compressBatch(List<Chunk> batch, int ratio, int total, int anchorBase,
                              float[][] keys, float[][] values) {
        ModelConfig c = model.config();
        NDManager m = model.manager();
        int b = batch.size();
        int t = batch.stream().mapToInt(ch -> ch.tokens().length).max().orElseThrow();
        long[][] ids = new long[b][t];
        int[][] positions = new int[b][t];
        int[] lengths = new int[b];
        int[][] anchors = new int[b][];
        for (int i = 0; i < b; i++) {
            Chunk ch = batch.get(i);
            lengths[i] = ch.tokens().length;
            anchors[i] = ch.anchors();
            java.util.Arrays.fill(ids[i], PAD_TOKEN);
            System.arraycopy(ch.tokens(), 0, ids[i], 0, lengths[i]);
            for (int j = 0; j < t; j++) {
                positions[i][j] = ch.firstPosition() + j; // padding continues the numbering; it is masked
            }
        }
        int written = 0;
        try (NDScope scope = new NDScope(); KvCache cache = new KvCache(m, c.layers())) {
            NDArray embeds = model.embed(ids);                                  // [B, T, E]
            if (adapter.spec().anchorEmbedding()) {
                embeds = embeds.add(anchorEmbedding(m, anchors, b, t, ratio));
            }
            NDArray mask = Masks.chunks(m, lengths, t, !adapter.spec().bidirectional());
            model.forward(new Transformer.Input(embeds, positions, mask, Transformer.Logits.NONE), cache);
            int h = c.kvHeads();
            int d = c.headDim();
            for (int l = 0; l < c.layers(); l++) {
                float[] k = cache.keys(l).toFloatArray();                       // [B, Hkv, T, D]
                float[] v = cache.values(l).toFloatArray();
                int base = anchorBase;
                for (int i = 0; i < b; i++) {
                    for (int head = 0; head < h; head++) {
                        for (int a = 0; a < anchors[i].length; a++) {
                            int src = ((i * h + head) * t + anchors[i][a]) * d;
                            int dst = (head * total + base + a) * d;           // [Hkv, N, D]
                            System.arraycopy(k, src, keys[l], dst, d);
                            System.arraycopy(v, src, values[l], dst, d);
                        }
                    }
                    base += anchors[i].length;
                }
                written = base - anchorBase;
            }
        }
        return written;
    }

    /**
     * [B, T, E]: uniform anchor j of each chunk gets row j of the table, an added one the row of the nearest
     * uniform anchor at or before it; other tokens get 0.
     */
    private NDArray anchorEmbedding(NDManager m, int[][] anchors, int b, int t, int ratio) {
        int slots = adapter.spec().anchorSlots();
        float[] select = new float[b * t * slots];                              // one-hot [B, T, slots]
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < anchors[i].length; j++) {
                select[(i * t + anchors[i][j]) * slots + AnchorPositions.slotOf(anchors[i][j], ratio, slots)] = 1f;
            }
        }
        return Owned.floats(m, select, new Shape(b, t, slots)).matMul(adapter.anchorTable());
    }
}
