package dev.sacrag.ingest;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** What a set of input files yields: documents to publish, inputs passed over, questions. */
public record SourceBatch(List<DocumentDraft> documents, List<Skipped> skipped, QuestionSet questions) {

    public SourceBatch {
        documents = List.copyOf(documents);
        skipped = List.copyOf(skipped);
    }

    public Map<SkipReason, Integer> skippedByReason() {
        Map<SkipReason, Integer> counts = new EnumMap<>(SkipReason.class);
        skipped.forEach(s -> counts.merge(s.reason(), 1, Integer::sum));
        return counts;
    }
}
