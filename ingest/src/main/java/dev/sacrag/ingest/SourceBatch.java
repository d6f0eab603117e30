package dev.sacrag.ingest;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a set of input files yields: documents to publish, inputs passed over, questions, and notes
 * for the user (e.g. files whose ids collided and were given a suffix each).
 */
public record SourceBatch(List<DocumentDraft> documents, List<Skipped> skipped, QuestionSet questions,
                          List<String> notes) {

    public SourceBatch {
        documents = List.copyOf(documents);
        skipped = List.copyOf(skipped);
        notes = List.copyOf(notes);
    }

    public Map<SkipReason, Integer> skippedByReason() {
        Map<SkipReason, Integer> counts = new EnumMap<>(SkipReason.class);
        skipped.forEach(s -> counts.merge(s.reason(), 1, Integer::sum));
        return counts;
    }
}
