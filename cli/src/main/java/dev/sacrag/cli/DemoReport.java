package dev.sacrag.cli;

import dev.sacrag.ingest.Question;

import java.util.Locale;

/**
 * The demo's outcome: how many answers (documents named, the first pass) match a gold answer,
 * and what the documents cost in Redis.
 */
record DemoReport(int correct, int total, int ratio, long bytesPerDoc, long fullBytesPerDoc, Question firstQuestion) {

    /** Passes when at least 80% of the answers match (integer arithmetic: no rounding at the boundary). */
    boolean passed() {
        return total > 0 && correct * 5L >= total * 4L;
    }

    /** The demo's last line; scripts read it. */
    String summaryLine() {
        return String.format(Locale.ROOT, "demo: %d/%d answers match, ratio %d, %d bytes/doc vs %d full KV",
                correct, total, ratio, bytesPerDoc, fullBytesPerDoc);
    }
}
