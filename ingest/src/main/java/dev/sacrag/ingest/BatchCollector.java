package dev.sacrag.ingest;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.DocumentRules;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Accumulates what the readers find and applies the bad-input policy in one place: every
 * document is checked with the same rules the compressor applies, so a bad one is reported
 * here with its file and line rather than later on the dead-letter topic.
 */
final class BatchCollector {

    private final DocumentSources.Options options;
    private final DocumentLimits limits;
    private final List<DocumentDraft> documents = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();
    private final List<Question> questions = new ArrayList<>();
    private final Set<String> docIds = new HashSet<>();

    BatchCollector(DocumentSources.Options options, DocumentLimits limits) {
        this.options = options;
        this.limits = limits;
    }

    String tenant() {
        return options.tenant();
    }

    /** Adds a valid draft and returns true; a bad one goes to {@link #bad} and returns false. */
    boolean add(String where, DocumentDraft draft) throws BadSourceException {
        try {
            // Version and time are placeholders: only the publisher knows them, and they cannot fail.
            DocumentRules.check(draft.toEvent(0, Instant.EPOCH), limits);
        } catch (BadDocumentException e) {
            bad(where, e);
            return false;
        }
        documents.add(draft);
        docIds.add(draft.docId());
        return true;
    }

    boolean hasDocument(String docId) {
        return docIds.contains(docId);
    }

    void bad(String where, BadDocumentException e) throws BadSourceException {
        if (options.onBadInput() == DocumentSources.OnBadInput.FAIL) {
            throw new BadSourceException(where, e);
        }
        skipped.add(new Skipped(where, SkipReason.BAD_INPUT, e.getMessage()));
    }

    void skip(Skipped entry) {
        skipped.add(entry);
    }

    void question(Question question) {
        questions.add(question);
    }

    SourceBatch build() {
        return new SourceBatch(documents, skipped, new QuestionSet(questions));
    }
}
