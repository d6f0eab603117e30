package dev.sacrag.ingest;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The outcome of one ingest run.
 *
 * @param failures why documents were not published: the broker refused one (docId and cause), one
 *     named a version the documents topic's readers would ignore (docId and why), or several were left
 *     unsent after a timeout (one message with their count)
 * @param bytes key and value bytes acknowledged by the broker (before Kafka's compression)
 * @param unchanged documents not sent because the documents topic holds them as they are
 *     ({@link PublishedDocuments#unchanged})
 */
public record IngestSummary(int published, List<Skipped> skipped, List<String> failures, long bytes,
                            Duration elapsed, QuestionSet questions, int failedDocuments, int unchanged) {

    /**
     * @param failedDocuments documents not published: one failure message may stand for several
     *     (those left unsent after a timeout)
     */
    public IngestSummary {
        skipped = List.copyOf(skipped);
        failures = List.copyOf(failures);
    }

    /** A run that found no document unchanged. */
    public IngestSummary(int published, List<Skipped> skipped, List<String> failures, long bytes, Duration elapsed,
                         QuestionSet questions, int failedDocuments) {
        this(published, skipped, failures, bytes, elapsed, questions, failedDocuments, 0);
    }

    /** A summary where each failure message is one document's. */
    public IngestSummary(int published, List<Skipped> skipped, List<String> failures, long bytes, Duration elapsed,
                         QuestionSet questions) {
        this(published, skipped, failures, bytes, elapsed, questions, failures.size());
    }

    public Map<SkipReason, Integer> skippedByReason() {
        Map<SkipReason, Integer> counts = new EnumMap<>(SkipReason.class);
        skipped.forEach(s -> counts.merge(s.reason(), 1, Integer::sum));
        return counts;
    }

    public boolean hasFailures() {
        return !failures.isEmpty();
    }

    /** E.g. 10.2 KiB, 1.4 MiB: a run of a few small files was "0.0 MiB". */
    static String size(long bytes) {
        return bytes < 1024 * 1024 ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    /**
     * E.g. {@code ingest: published 120 documents (1.4 MiB) in 3.2 s (37.5 docs/s); skipped 2 (EMPTY_FILE 2); failed 0},
     * with {@code ; 30 unchanged (on the topic as they are: not sent)} after the rate when some were left out.
     */
    public String line() {
        double seconds = elapsed.toNanos() / 1e9;
        String skippedText = skipped.isEmpty() ? "skipped 0" : "skipped " + skipped.size() + " ("
                + skippedByReason().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                        .collect(Collectors.joining(", ")) + ")";
        return String.format(Locale.ROOT, "ingest: published %d documents (%s) in %.1f s (%.1f docs/s)%s; %s; failed %d%s",
                published, size(bytes), seconds, published / Math.max(seconds, 1e-9),
                unchanged == 0 ? "" : "; " + unchanged + " unchanged (on the topic as they are: not sent)", skippedText,
                failedDocuments, questions.size() == 0 ? "" : "; " + questions.size() + " questions");
    }
}
