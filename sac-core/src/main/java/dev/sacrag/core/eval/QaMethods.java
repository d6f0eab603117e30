package dev.sacrag.core.eval;

import ai.djl.ndarray.NDScope;
import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.sac.SacDecoder;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.core.text.TextTokenizer;

import java.util.List;

/**
 * The methods the evaluation compares, each answering one question about one context at a
 * given ratio: {@code full} (context in the prompt: upper bound), {@code none} (no context:
 * lower bound), {@code truncate} (first T/r context tokens), {@code uniform-kv} (plain causal
 * K/V at the anchor positions, no adapter), and SAC through an engine.
 */
final class QaMethods {
    /** Answer length limit unless told otherwise ({@link Evaluator#maxAnswerTokens}). */
    static final int MAX_ANSWER_TOKENS = 24;

    private final Transformer base;
    private final TextTokenizer tok;
    private final SacSpec prompts;
    private final SacEngine anyEngine;
    private final int maxAnswerTokens;

    /** The SAC adapter with int8 anchor blobs (per-channel f16 scales), for the quantisation loss. */
    static final String SAC_INT8 = "sac-int8";
    /** EXPERIMENT: the SAC adapter with the tokens of capitalised words kept as anchors too ({@code CapitalisedWords}). */
    static final String SAC_NAMES = "sac-names";

    QaMethods(SacEngine engine, int maxAnswerTokens) {
        this.anyEngine = engine;
        this.maxAnswerTokens = maxAnswerTokens;
        this.base = engine.base();
        this.tok = engine.tokenizer();
        this.prompts = engine.adapter().spec();
    }

    /** @param kept counts the {@value #SAC_NAMES} compressions' tokens and anchors (the other methods keep the ratio's) */
    String answer(String method, MrqaRecord ctx, MrqaRecord.Qa qa, int ratio, SacEngine sac, KeptAnchors kept) {
        return switch (method) {
            case "full" -> plain(contextTokens(ctx.context()), qa.question());
            case "none" -> plain(new long[0], qa.question());
            case "truncate" -> {
                long[] c = contextTokens(ctx.context());
                yield plain(java.util.Arrays.copyOf(c, c.length / ratio), qa.question());
            }
            case "uniform-kv" -> uniformKv(ctx.context(), qa.question(), ratio);
            case SAC_INT8 -> sacAnswer(sac, ctx.context(), qa.question(), ratio, KvDtype.INT8);
            case SAC_NAMES -> {
                AnchorKv kv = sac.compressKeepingCapitalisedWords(ctx.context(), ratio);
                kept.add(kv);
                yield answerFrom(sac, kv, qa.question());
            }
            default -> sacAnswer(sac, ctx.context(), qa.question(), ratio);
        };
    }

    private long[] contextTokens(String text) {
        return tok.encode(text);
    }

    /** BOS + context prompt + context tokens + question prompt, greedy, positions from 0. */
    private String plain(long[] context, String question) {
        long[] c = anyEngine.contextTokens(context);
        long[] q = tok.encode(prompts.questionPrompt() + question + prompts.answerPrompt());
        long[] ids = java.util.Arrays.copyOf(c, c.length + q.length);
        System.arraycopy(q, 0, ids, c.length, q.length);
        int[] pos = new int[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        try (KvCache cache = new KvCache(base.manager(), base.config().layers()); NDScope scope = new NDScope()) {
            Generator.Result r = Generator.generate(base, cache, base.embed(new long[][] {ids}), pos,
                    anyEngine.greedy(maxAnswerTokens), t -> { });
            return tok.decode(r.tokens()).strip();
        }
    }

    private String uniformKv(String context, String question, int ratio) {
        AnchorKv kv = anyEngine.uniformKv(context, ratio);
        long[] q = tok.encode(prompts.questionPrompt() + question + prompts.answerPrompt());
        SacDecoder decoder = anyEngine.decoder();
        try (SacDecoder.Composed c = decoder.compose(List.of(kv))) {
            return tok.decode(decoder.answerWithoutLm(c, q, anyEngine.greedy(maxAnswerTokens), t -> { }).tokens()).strip();
        }
    }

    private String sacAnswer(SacEngine engine, String context, String question, int ratio) {
        return sacAnswer(engine, context, question, ratio, null);
    }

    /**
     * SAC with the anchor KV passed through the blob codec in {@code dtype} first, as the
     * compressor stores it in Redis (null: the compressor's f32 tensors as they are).
     */
    private String sacAnswer(SacEngine engine, String context, String question, int ratio, KvDtype dtype) {
        AnchorKv kv = engine.compress(context, ratio);
        if (dtype != null) {
            kv = AnchorKvCodec.decode(AnchorKvCodec.encode(kv, dtype), kv.modelId());
        }
        return answerFrom(engine, kv, question);
    }

    /** The greedy answer from one document's anchor KV, as text. */
    private String answerFrom(SacEngine engine, AnchorKv kv, String question) {
        Generator.Result r = engine.answer(List.of(kv), question, engine.greedy(maxAnswerTokens), t -> { });
        return engine.tokenizer().decode(r.tokens()).strip();
    }
}
