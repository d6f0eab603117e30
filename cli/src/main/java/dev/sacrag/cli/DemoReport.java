package dev.sacrag.cli;

import dev.sacrag.ingest.Question;

import java.nio.file.Files;
import java.nio.file.Path;
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

    /**
     * Why the exit status is 1, printed before the summary when the demo did not pass: the run
     * itself completed (every document compressed, every question answered), so what fell short
     * is the answers, and the model package's card (when it has one) says how it scores.
     */
    String shortfallLine(Path model) {
        Path card = model.resolve("MODEL_CARD.md");
        return String.format(Locale.ROOT, "demo: fewer than 80%% of the answers match (exit status 1); the pipeline ran"
                + " end to end, the answers are the model's%s", Files.isRegularFile(card)
                ? " (its scores on held-out data: " + card + ")" : "");
    }

    /** The demo's last line; scripts read it. */
    String summaryLine() {
        return String.format(Locale.ROOT, "demo: %d/%d answers match, ratio %d, %d bytes/doc vs %d full KV",
                correct, total, ratio, bytesPerDoc, fullBytesPerDoc);
    }
}
