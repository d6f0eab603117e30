package dev.sacrag.cli;

import dev.sacrag.ingest.Question;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The demo's outcome: how many answers (documents named, the first pass) match a gold answer, how
 * many questions got no answer (an RPC error), and what the documents cost in Redis.
 */
record DemoReport(int correct, int total, int errors, int ratio, long bytesPerDoc, long fullBytesPerDoc,
                  Question firstQuestion) {

    /** At least 80% of the answers match, and every question was answered (an [error] is a pipeline fault). */
    boolean passed() {
        return errors == 0 && meetsBar(correct, total);
    }

    /** The demo's bar: at least 80% of the answers match (integer arithmetic: no rounding at the boundary). */
    static boolean meetsBar(int correct, int total) {
        return total > 0 && correct * 5L >= total * 4L;
    }

    /**
     * Why the demo did not pass, printed before the summary: questions that got no answer (an RPC
     * error, a pipeline fault: exit status 3), or else (exit status 1) misses that are the model's own
     * answers, with the model package's card (when it has one), which says how the model scores;
     * and when the {@code reference} (the base model reading whole documents) is under the bar
     * too, that the base model keeps the demo under the bar, not only the compression.
     */
    String shortfallLine(Path model, Optional<DemoReference> reference) {
        if (errors > 0) {
            return String.format(Locale.ROOT, "demo: the pipeline failed (exit status 3): %d of the %d questions got no"
                    + " answer (see [error] above)", errors, total);
        }
        Path card = model.resolve("MODEL_CARD.md");
        String base = reference.filter(r -> !r.passes()).map(r -> String.format(Locale.ROOT, "; even with each whole"
                + " document in its prompt the base model matches only %d/%d, under the bar as well, so the base model"
                + " keeps the demo under it, not only the compression", r.correct(), r.total())).orElse("");
        return String.format(Locale.ROOT, "demo: fewer than 80%% of the answers match (exit status 1); every question"
                + " was answered, so the misses are the model's answers, not a pipeline fault%s%s", base,
                Files.isRegularFile(card) ? " (how it scores on held-out data: " + card + ")" : "");
    }

    /** The demo's last line; scripts read it. */
    String summaryLine() {
        return String.format(Locale.ROOT, "demo: %d/%d answers match, ratio %d, %d bytes/doc vs %d full KV",
                correct, total, ratio, bytesPerDoc, fullBytesPerDoc);
    }
}
