package dev.sacrag.core.eval;

import dev.sacrag.core.kv.AnchorKv;

import java.util.Locale;

/**
 * Compressor input tokens and anchors of the compressions one method makes at one ratio, where the method keeps
 * more anchors than its ratio says ({@value QaMethods#SAC_NAMES}): what the QA and perplexity rows report as
 * tokens per anchor. One per row: the evaluator makes a new one for each method and ratio it scores.
 */
final class KeptAnchors {
    private long tokens;
    private long anchors;

    void add(AnchorKv kv) {
        tokens += kv.tokenCount();
        anchors += kv.anchorCount();
    }

    /** Tokens per anchor of the compressions counted (0: none). */
    double tokensPerAnchor() {
        return anchors == 0 ? 0 : (double) tokens / anchors;
    }

    /** The end of a progress line: "  1.68 context tokens per anchor", or nothing for 0 (none counted). */
    static String describe(double tokensPerAnchor) {
        return tokensPerAnchor == 0 ? "" : String.format(Locale.ROOT, "  %.2f context tokens per anchor", tokensPerAnchor);
    }
}
