package dev.sacrag.core.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.GenerationOptions;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Transformer;

import java.util.List;
import java.util.function.LongConsumer;

/**
 * Answers a question from anchor KV alone (sac-method.md, "Decoding against the anchors"):
 * the frozen base model reads the documents' anchors as its prefix cache, then [LM] at
 * position T and the question prompt at T+1...; it never sees the documents' other tokens.
 *
 * <p>Several documents, each compressed alone at positions 1..T_j, are composed by rotating
 * document j's keys by T_1 + ... + T_{j-1} (RoPE rotations compose), so a cached document
 * never depends on which others a question uses.
 */
public final class SacDecoder {
    private final Transformer model; // the frozen base model
    private final SacAdapter adapter;

    SacDecoder(Transformer base, SacAdapter adapter) {
        this.model = base;
        this.adapter = adapter;
    }

    /** Composes the documents' anchor KV into a prefix cache; returns it and T = sum of T_j. */
    public record Composed(KvCache cache, int tokens) implements AutoCloseable {
        @Override
        public void close() {
            cache.close();
        }
    }

    public Composed compose(List<AnchorKv> docs) {
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("no documents to compose");
        }
        ModelConfig c = model.config();
        NDManager m = model.manager();
        NDArray[] keys = new NDArray[c.layers()];
        NDArray[] values = new NDArray[c.layers()];
        int offset = 0;
        try (NDScope scope = new NDScope()) {
            for (AnchorKv doc : docs) {
                if (doc.layers() != c.layers() || doc.kvHeads() != c.kvHeads() || doc.headDim() != c.headDim()) {
                    throw new IllegalArgumentException("anchor KV of model " + doc.modelId() + " has shape "
                            + doc.layers() + "x" + doc.kvHeads() + "x" + doc.headDim() + ", this model "
                            + c.layers() + "x" + c.kvHeads() + "x" + c.headDim());
                }
                Shape shape = new Shape(1, c.kvHeads(), doc.anchorCount(), c.headDim()); // [1, Hkv, N_j, D]
                for (int l = 0; l < c.layers(); l++) {
                    NDArray k = model.rope().rotate(m.create(doc.keys()[l], shape), offset);
                    NDArray v = m.create(doc.values()[l], shape);
                    keys[l] = keys[l] == null ? k : keys[l].concat(k, 2);
                    values[l] = values[l] == null ? v : values[l].concat(v, 2);
                }
                offset += doc.tokenCount();
            }
            return new Composed(KvCache.of(m, keys, values), offset);
        }
    }

    /** The decoder's prompt after the anchors: the tokens of question prompt + question + answer prompt. */
    public long[] questionTokens(SacEngine engine, String question) {
        SacSpec s = adapter.spec();
        return engine.tokenizer().encode(s.questionPrompt() + question + s.answerPrompt());
    }

    /** The decoder's input after the anchors: [LM] then {@code tokens}, and their positions. */
    public record LmPrompt(NDArray embeds, int[] positions) { }

    /**
     * [LM] + {@code tokens} as embeddings [1, 1 + n, E] at positions T, T+1, ...: [LM] shares
     * position T with the last context token, as the released code. The arrays belong to the
     * caller's NDScope.
     */
    public LmPrompt lmPrompt(Composed context, long[] tokens) {
        int[] positions = new int[tokens.length + 1];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = context.tokens() + i;
        }
        NDArray lm = adapter.lmToken().reshape(1, 1, model.config().hiddenSize());
        return new LmPrompt(lm.concat(model.embed(new long[][] {tokens}), 1), positions);
    }

    /** Greedy (or sampled) answer tokens, streamed through {@code onToken}. */
    public Generator.Result answer(Composed context, long[] questionTokens, GenerationOptions options,
                                   LongConsumer onToken) {
        try (NDScope scope = new NDScope()) {
            LmPrompt prompt = lmPrompt(context, questionTokens);
            return Generator.generate(model, context.cache(), prompt.embeds(), prompt.positions(), options, onToken);
        }
    }

    /**
     * The "uniform-kv" baseline of the evaluation: the question prompt follows the anchors
     * directly at positions T+1... (no [LM] token, no adapter).
     */
    public Generator.Result answerWithoutLm(Composed context, long[] questionTokens, GenerationOptions options,
                                            LongConsumer onToken) {
        int[] positions = new int[questionTokens.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = context.tokens() + 1 + i;
        }
        try (NDScope scope = new NDScope()) {
            return Generator.generate(model, context.cache(), model.embed(new long[][] {questionTokens}), positions,
                    options, onToken);
        }
    }
}
