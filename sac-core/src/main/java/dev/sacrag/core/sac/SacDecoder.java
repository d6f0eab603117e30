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
import dev.sacrag.core.model.Owned;
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

    /** The question prompt's tokens alone: the head every question prompt starts with. */
    private final long[] questionPromptTokens;

    SacDecoder(Transformer base, SacAdapter adapter, long[] questionPromptTokens) {
        this.model = base;
        this.adapter = adapter;
        this.questionPromptTokens = questionPromptTokens.clone();
    }

    /** Positions of the prompt head the prompt cache keeps: [LM] and the question prompt's tokens. */
    int headPositions() {
        return 1 + questionPromptTokens.length;
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
                    NDArray k = model.rope().rotate(Owned.floats(m, doc.keys()[l], shape), offset);
                    NDArray v = Owned.floats(m, doc.values()[l], shape);
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

    /**
     * The decoder's input after the anchors for one question, using {@code prefixes} for the
     * fixed head ([LM] + question prompt) where it can: on a hit the cached head is appended to
     * {@code context}'s cache; on a miss the head is prefilled into it now and kept. Either way
     * the returned prompt is what follows the head (question + answer prompt), at the positions
     * it has in the uncached prompt, so the answer is the one {@link #lmPrompt} would give. With
     * no key, a disabled cache, or a question whose tokens do not start with the question
     * prompt's own (BPE may merge across the boundary), it is {@link #lmPrompt} unchanged.
     * The arrays belong to the caller's NDScope; {@code context}'s cache grows by the head.
     */
    public LmPrompt prompt(Composed context, long[] questionTokens, String contextKey, PromptPrefixCache prefixes) {
        long[] head = questionPromptTokens;
        if (contextKey == null || !prefixes.enabled() || questionTokens.length <= head.length
                || !java.util.Arrays.equals(questionTokens, 0, head.length, head, 0, head.length)) {
            return lmPrompt(context, questionTokens);
        }
        if (!prefixes.appendTo(contextKey, context.cache(), context.tokens())) {
            int anchors = context.cache().length();
            LmPrompt h = lmPrompt(context, head);
            try (NDScope scope = new NDScope()) {
                model.forward(new Transformer.Input(h.embeds(), new int[][] {h.positions()},
                        dev.sacrag.core.model.Masks.causal(model.manager(), h.positions().length, anchors),
                        Transformer.Logits.NONE), context.cache());
            }
            prefixes.put(contextKey, context.cache(), anchors, context.tokens());
        }
        long[] rest = java.util.Arrays.copyOfRange(questionTokens, head.length, questionTokens.length);
        int[] positions = new int[rest.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = context.tokens() + 1 + head.length + i;   // [LM] at T, the head's tokens at T+1..
        }
        return new LmPrompt(model.embed(new long[][] {rest}), positions);
    }

    /** Greedy (or sampled) answer tokens, streamed through {@code onToken}. */
    public Generator.Result answer(Composed context, long[] questionTokens, GenerationOptions options,
                                   LongConsumer onToken) {
        return answer(context, questionTokens, null, PromptPrefixCache.DISABLED, options, onToken);
    }

    /** As above, the prompt's head from {@code prefixes} where it has it (see {@link #prompt}). */
    public Generator.Result answer(Composed context, long[] questionTokens, String contextKey, PromptPrefixCache prefixes,
                                   GenerationOptions options, LongConsumer onToken) {
        try (NDScope scope = new NDScope()) {
            LmPrompt prompt = prompt(context, questionTokens, contextKey, prefixes);
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
