package dev.sacrag.ingest;

import static dev.sacrag.schemas.BadDocumentException.Reason.INVALID_FIELD;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentLimits;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Accumulates what the readers find and applies the bad-input policy in one place: every
 * document is checked with the same rules the compressor applies, so a bad one is reported
 * here with its file and line rather than later on the dead-letter topic. A doc id already
 * taken in this run is bad input too: the topic keeps one document per id, so publishing both
 * would silently keep whichever came last.
 */
final class BatchCollector {

    private final DocumentSources.Options options;
    private final DocumentLimits limits;
    private final DocumentPublisher.Format valueFormat;
    private final List<DocumentDraft> documents = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();
    private final List<Question> questions = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    /** Where each collected document came from, by doc id. */
    private final Map<String, String> sources = new HashMap<>();
    private final long now = System.currentTimeMillis();

    /** Where accepted drafts go: {@link #documents} (the batch holds them all), or the caller's consumer. */
    private final java.util.function.Consumer<DocumentDraft> sink;
    private int accepted;

    private final boolean keepQuestions;

    BatchCollector(DocumentSources.Options options, DocumentLimits limits, DocumentPublisher.Format valueFormat) {
        this(options, limits, valueFormat, null, true);
    }

    /**
     * @param sink each valid draft, as it is read, instead of keeping it (null: keep them for {@link #build})
     * @param keepQuestions false where the questions were collected already (a second read)
     */
    BatchCollector(DocumentSources.Options options, DocumentLimits limits, DocumentPublisher.Format valueFormat,
                   java.util.function.Consumer<DocumentDraft> sink, boolean keepQuestions) {
        this.options = options;
        this.limits = limits;
        this.valueFormat = valueFormat;
        this.sink = sink != null ? sink : documents::add;
        this.keepQuestions = keepQuestions;
    }

    /** Valid drafts so far, kept or handed to the sink. */
    int accepted() {
        return accepted;
    }

    String tenant() {
        return options.tenant();
    }

    /** The limits every document of the batch is held to. */
    DocumentLimits limits() {
        return limits;
    }

    /** Adds a valid draft and returns true; a bad one goes to {@link #bad} and returns false. */
    boolean add(String where, DocumentDraft draft) throws BadSourceException {
        try {
            String first = sources.get(draft.docId());
            if (first != null) {
                throw new BadDocumentException(INVALID_FIELD, "docId '" + draft.docId() + "' is already the id of "
                        + first + " in this run; the topic keeps one document per id");
            }
            // Version and time stand in as the publisher will stamp them: now, so the value has its size then.
            DocumentPublisher.checkedValue(draft.toEvent(now, Instant.ofEpochMilli(now)), valueFormat, limits);
        } catch (BadDocumentException e) {
            bad(where, e);
            return false;
        }
        sink.accept(draft);
        accepted++;
        sources.put(draft.docId(), where);
        return true;
    }

    boolean hasDocument(String docId) {
        return sources.containsKey(docId);
    }

    /** The ids of the documents accepted so far (a view, not a copy). */
    java.util.Set<String> docIds() {
        return java.util.Collections.unmodifiableSet(sources.keySet());
    }

    void bad(String where, BadDocumentException e) throws BadSourceException {
        if (options.onBadInput() == DocumentSources.OnBadInput.FAIL) {
            throw new BadSourceException(where, e);
        }
        skipped.add(new Skipped(where, SkipReason.BAD_INPUT, e.getMessage()));
    }

    /**
     * A file or folder that could not be read: under FAIL the error is thrown (naming the path and
     * why); under SKIP it is counted under {@link SkipReason#UNREADABLE} and the run goes on.
     */
    void unreadable(String where, IOException e) throws IOException {
        if (options.onBadInput() == DocumentSources.OnBadInput.FAIL) {
            throw e;
        }
        skipped.add(new Skipped(where, SkipReason.UNREADABLE, whyUnreadable(e)));
    }

    /** "permission denied" and the like: what a FileSystemException says only through its class. */
    static String whyUnreadable(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "gone while the run read the inputs";
        }
        if (e instanceof java.nio.file.FileSystemException f) {
            return f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    void skip(Skipped entry) {
        skipped.add(entry);
    }

    void note(String note) {
        notes.add(note);
    }

    void question(Question question) {
        if (keepQuestions) {
            questions.add(question);
        }
    }

    SourceBatch build() {
        return new SourceBatch(documents, skipped, new QuestionSet(questions), notes);
    }
}
