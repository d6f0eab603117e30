package dev.sacrag.query.ask;

import dev.sacrag.query.ask.QueryException.NoMatch;
import dev.sacrag.query.ask.QueryException.Uncompressed;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.retrieval.DocumentIndex;
import dev.sacrag.query.retrieval.IndexedDoc;
import dev.sacrag.query.retrieval.ScoredDoc;

import dev.sacrag.schemas.DeadLetter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import static dev.sacrag.query.ask.QueryException.Reason.CONTEXT_TOO_LONG;
import static dev.sacrag.query.ask.QueryException.Reason.NOT_COMPRESSED;
import static dev.sacrag.query.ask.QueryException.Reason.NO_MATCH;
import static dev.sacrag.query.ask.QueryException.Reason.UNKNOWN_DOCUMENT;

/**
 * Picks the documents of a question. A document is usable when the documents topic has it
 * live in the caller's tenant (the source of truth: deleted documents are never answered from)
 * and the catalog has its anchor KV for the active model. The catalog's version may trail the
 * document's during recompression; the last compressed version is used meanwhile, unless the
 * document was deleted after it and published again ({@link IndexedDoc#mayBeCompressionOf}).
 */
public final class DocumentChooser {

    /** A chosen document and its retrieval score (0 when the caller named it). */
    record Chosen(CatalogEntry entry, double score) {
    }

    /**
     * The documents of a question, and the refusals of the matches retrieval passed over, best
     * first (each would have taken a place): the answer says what it lacks.
     */
    record Choice(List<Chosen> chosen, List<DeadLetter> refused) {
    }

    /**
     * @param skipped matching documents skipped because they are not compressed, best match first:
     *     not yet, or never until published again where a compressor refused their live version
     * @param hits whether anything in the tenant matched at all
     * @param skippedTooLong whether a matching document was skipped because it did not fit
     */
    record Retrieval(List<Chosen> chosen, List<Uncompressed> skipped, boolean hits, boolean skippedTooLong) {

        /** The ids of the matching documents skipped because they are not compressed yet. */
        List<String> uncompressed() {
            return skipped.stream().filter(u -> u.refusal().isEmpty()).map(Uncompressed::docId).toList();
        }

        /** The refusals of the matching documents skipped because a compressor refused their live version. */
        List<DeadLetter> refused() {
            return skipped.stream().flatMap(u -> u.refusal().stream()).toList();
        }

        Choice orThrow(String tenant) {
            if (!chosen.isEmpty()) {
                return new Choice(chosen, refused());
            }
            if (!hits || skipped.isEmpty() && !skippedTooLong) {   // none, or every match deleted since the search
                throw new QueryException(NO_MATCH, "no document of tenant '" + tenant + "' matches the question",
                        List.of(new NoMatch(tenant)));
            }
            if (skippedTooLong) {
                // the matches not compressed are said too, with their details: some may come, or were refused
                throw new QueryException(CONTEXT_TOO_LONG, "the documents matching the question are too long for the model"
                        + (skipped.isEmpty() ? "" : "; the other matches are " + notCompressed()), skipped);
            }
            throw new QueryException(NOT_COMPRESSED, "the documents matching the question are " + notCompressed(), skipped);
        }

        /** "not compressed yet: [a, b]", or "not compressed: ..." naming each refusal and the way out. */
        private String notCompressed() {
            List<String> uncompressed = uncompressed();
            List<DeadLetter> refused = refused();
            if (refused.isEmpty()) {
                return "not compressed yet: " + uncompressed;
            }
            return "not compressed: " + (uncompressed.isEmpty() ? "" : uncompressed + " not yet; ")
                    + refused.stream().map(r -> "'" + r.docId() + "' v" + r.version() + " " + Refusals.why(r))
                            .collect(Collectors.joining("; "))
                    + " (publish a refused document again once fixed; 'sac docs refused' lists the refusals)";
        }
    }

    private final DocumentIndex index;
    private final Catalog catalog;
    private final String modelId;
    /** Null where only whether an entry is current matters ({@link #isCurrent}). */
    private final Refusals refusals;

    DocumentChooser(DocumentIndex index, Catalog catalog, String modelId, Refusals refusals) {
        this.index = index;
        this.catalog = catalog;
        this.modelId = modelId;
        this.refusals = refusals;
    }

    /**
     * The caller's documents, in their order (repeats dropped), each known and compressed. When some
     * are not, the failure names every one of them, in the caller's order ({@link #allOf}): the first
     * alone had a caller who named two refused documents told of one, and of the other only once the
     * first was fixed and published again.
     */
    List<Chosen> named(String tenant, List<String> docIds, int tokenBudget) {
        List<Chosen> chosen = new ArrayList<>();
        List<QueryException> unusable = new ArrayList<>();
        long tokens = 0;
        for (String id : new LinkedHashSet<>(docIds)) {
            Optional<IndexedDoc> doc = live(tenant, id);
            Optional<CatalogEntry> e = doc.flatMap(this::compression);
            if (doc.isEmpty()) {
                unusable.add(QueryEngine.unknown(tenant, id));
            } else if (e.isEmpty()) {
                unusable.add(QueryEngine.notCompressed(uncompressed(doc.get())));
            } else {
                chosen.add(new Chosen(e.get(), 0));
                tokens += e.get().tokenCount();
            }
        }
        if (!unusable.isEmpty()) {
            throw allOf(unusable);
        }
        if (tokens > tokenBudget) {
            throw new QueryException(CONTEXT_TOO_LONG, "documents " + docIds + " hold " + tokens
                    + " tokens; with the question and the answer that exceeds what the model attends over ("
                    + tokenBudget + " tokens left for documents)");
        }
        return chosen;
    }

    /**
     * One failure for the named documents that cannot be used: alone, as it is; several, their
     * messages joined and their details in order, UNKNOWN_DOCUMENT where one is unknown (both are
     * NOT_FOUND to the caller, who reads each document's own detail).
     */
    private static QueryException allOf(List<QueryException> unusable) {
        if (unusable.size() == 1) {
            return unusable.get(0);
        }
        QueryException.Reason reason = unusable.stream().anyMatch(u -> u.reason() == UNKNOWN_DOCUMENT)
                ? UNKNOWN_DOCUMENT : NOT_COMPRESSED;
        return new QueryException(reason, unusable.size() + " of the documents named cannot be used: "
                + unusable.stream().map(Throwable::getMessage).collect(Collectors.joining("; ")),
                unusable.stream().flatMap(u -> u.details().stream()).toList());
    }

    /** BM25 over the tenant's documents: the best {@code topK} that are compressed and fit the budget together. */
    Retrieval retrieve(String tenant, String question, int topK, int tokenBudget) {
        List<ScoredDoc> hits = index.search(tenant, question, Math.max(4 * topK, topK + 16));
        List<Chosen> chosen = new ArrayList<>();
        List<Uncompressed> skipped = new ArrayList<>();
        boolean skippedTooLong = false;
        long tokens = 0;
        for (ScoredDoc hit : hits) {
            if (chosen.size() == topK) {
                break;
            }
            Optional<IndexedDoc> doc = live(tenant, hit.docId());
            if (doc.isEmpty()) {
                continue;   // deleted or moved since the search
            }
            Optional<CatalogEntry> e = compression(doc.get());
            if (e.isEmpty()) {
                skipped.add(uncompressed(doc.get()));
            } else if (tokens + e.get().tokenCount() > tokenBudget) {
                skippedTooLong = true;
            } else {
                chosen.add(new Chosen(e.get(), hit.score()));
                tokens += e.get().tokenCount();
            }
        }
        return new Retrieval(chosen, skipped, !hits.isEmpty(), skippedTooLong);
    }

    /**
     * Whether {@code e} is still what a question about its document would be answered from: the
     * catalog still points at it for its model, and its document is live in its tenant, in the
     * incarnation it was compressed from (what the preloader and the cache ask before keeping it).
     */
    public static boolean isCurrent(CatalogEntry e, DocumentIndex index, Catalog catalog) {
        return new DocumentChooser(index, catalog, e.modelId(), null).compressed(e.tenant(), e.docId()).filter(e::equals).isPresent();
    }

    /** {@link #isCurrent}, and of the model the service answers with: what the cache may keep, and a Warm counts. */
    public static boolean isCurrent(CatalogEntry e, String activeModelId, DocumentIndex index, Catalog catalog) {
        return e.modelId().equals(activeModelId) && isCurrent(e, index, catalog);
    }

    /** The catalog entry of a live, compressed document of the tenant. */
    Optional<CatalogEntry> compressed(String tenant, String docId) {
        return live(tenant, docId).flatMap(this::compression);
    }

    /**
     * A live document of the tenant the model has no compression of, with a compressor's refusal of
     * its live version and text, if any; empty when it is compressed, or not live in the tenant.
     */
    Optional<Uncompressed> uncompressed(String tenant, String docId) {
        return live(tenant, docId).filter(doc -> compression(doc).isEmpty()).map(this::uncompressed);
    }

    /**
     * The live document a current catalog entry answers for: in its tenant, in the incarnation it
     * was compressed from; empty when none (deleted, moved, another life of the id).
     */
    static Optional<IndexedDoc> answeredBy(CatalogEntry current, DocumentIndex index) {
        return index.find(current.docId()).filter(doc -> doc.tenant().equals(current.tenant())
                && doc.mayBeCompressionOf(current.docVersion()));
    }

    /** A live document the model has no compression of, with a compressor's refusal of its live version and text, if any. */
    private Uncompressed uncompressed(IndexedDoc doc) {
        Optional<DeadLetter> refusal = refusals == null ? Optional.empty()
                : index.contentHash(doc).flatMap(hash -> refusals.of(doc.docId(), doc.version(), hash, modelId));
        return new Uncompressed(doc.docId(), doc.version(), modelId, refusal);
    }

    /** The catalog's compression of the document for the model, unless it is of a deleted incarnation. */
    private Optional<CatalogEntry> compression(IndexedDoc doc) {
        return catalog.find(doc.tenant(), doc.docId(), modelId).filter(e -> doc.mayBeCompressionOf(e.docVersion()));
    }

    private Optional<IndexedDoc> live(String tenant, String docId) {
        return index.find(docId).filter(doc -> doc.tenant().equals(tenant));
    }
}
