package dev.sacrag.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.sac.SacDecoder;
import dev.sacrag.core.sac.SacEngine;

import java.util.List;

/**
 * Negative log-likelihood of {@code TARGET} continuation tokens after a passage, with the
 * passage in the prompt (full), absent (none), or compressed by SAC and read through [LM]
 * (as in stage-1 training): with uniform anchors (sac), or with every token of a capitalised word
 * an anchor too ({@value QaMethods#SAC_NAMES}, the experiment).
 */
final class Perplexity {
    static final int PASSAGE = 256;
    static final int TARGET = 64;

    private final SacEngine engine;

    Perplexity(SacEngine engine) {
        this.engine = engine;
    }

    /**
     * Mean NLL per target token (nats) for one method; null when the text is too short.
     *
     * @param kept counts the {@value QaMethods#SAC_NAMES} compressions' tokens and anchors
     */
    Double nll(String method, long[] text, int ratio, SacEngine sac, KeptAnchors kept) {
        if (text.length < PASSAGE + TARGET) {
            return null;
        }
        long[] passage = java.util.Arrays.copyOf(text, PASSAGE);
        long[] target = java.util.Arrays.copyOfRange(text, PASSAGE, PASSAGE + TARGET);
        long bos = engine.config().bosTokenId();
        return switch (method) {
            case "full" -> plain(concat(new long[] {bos}, passage), target);
            case "none" -> plain(new long[] {bos}, target);
            case QaMethods.SAC_NAMES -> {
                AnchorKv kv = sac.compressKeepingCapitalisedWords(sac.contextTokens(passage), ratio);
                kept.add(kv);
                yield continuationNll(sac, kv, target);
            }
            default -> continuationNll(sac,
                    sac.compressor().compress(sac.contextTokens(passage), ratio, sac.modelId(ratio)), target);
        };
    }

    private double plain(long[] prefix, long[] target) {
        Transformer m = engine.base();
        long[] ids = concat(prefix, java.util.Arrays.copyOf(target, target.length - 1));
        int[] pos = new int[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        try (NDScope s = new NDScope(); KvCache cache = new KvCache(m.manager(), m.config().layers())) {
            NDArray logits = m.forward(new Transformer.Input(m.embed(new long[][] {ids}), new int[][] {pos},
                    Masks.causal(m.manager(), ids.length, 0), Transformer.Logits.ALL), cache);
            return targetNll(logits.get("0, {}:", prefix.length - 1).toFloatArray(), target, m.config().vocabSize());
        }
    }

    /** The target's NLL decoded after the passage's anchor KV and the [LM] token. */
    private double continuationNll(SacEngine sac, AnchorKv kv, long[] target) {
        Transformer m = sac.base();
        SacDecoder decoder = sac.decoder();
        try (SacDecoder.Composed c = decoder.compose(List.of(kv)); NDScope s = new NDScope()) {
            SacDecoder.LmPrompt p = decoder.lmPrompt(c, java.util.Arrays.copyOf(target, target.length - 1));
            NDArray logits = m.forward(new Transformer.Input(p.embeds(), new int[][] {p.positions()},
                    Masks.causal(m.manager(), p.positions().length, c.cache().length()), Transformer.Logits.ALL),
                    c.cache());
            return targetNll(logits.toFloatArray(), target, m.config().vocabSize());
        }
    }

    /** logits [n, V] where row i predicts target[i]. */
    private static double targetNll(float[] logits, long[] target, int v) {
        double sum = 0;
        for (int i = 0; i < target.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[i * v + j]);
            }
            double z = 0;
            for (int j = 0; j < v; j++) {
                z += Math.exp(logits[i * v + j] - max);
            }
            sum += max + Math.log(z) - logits[i * v + (int) target[i]];
        }
        return sum / target.length;
    }

    static long[] concat(long[] a, long[] b) {
        long[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
