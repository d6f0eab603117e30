package dev.sacrag.query.ask;

import dev.sacrag.schemas.DeadLetter;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Why a question or a warm request could not be served. The reason decides the RPC status
 * (see the gRPC layer's status mapping); the message is the description the caller reads, so it
 * names the tenant, documents and model concerned, and the details say the same to a program.
 */
public final class QueryException extends RuntimeException {

    /**
     * What a question could not find, for clients that act on it: a document that is not
     * compressed yet is worth waiting for, one a compressor refused is not until it is published
     * again, and telling them apart from the message alone means parsing it.
     */
    public sealed interface Detail {
    }

    /** The tenant has no such document (never published, deleted, or another tenant's). */
    public record UnknownDocument(String tenant, String docId) implements Detail {
    }

    /** Nothing in the tenant matched the question or query. */
    public record NoMatch(String tenant) implements Detail {
    }

    /**
     * A live document without anchor KV of {@code modelId}: not yet, or, where a compressor refused
     * its live version and text ({@code refusal}), not before it is published again.
     */
    public record Uncompressed(String docId, long version, String modelId, Optional<DeadLetter> refusal)
            implements Detail {
    }

    public enum Reason {
        /** No such document in the tenant (never published, deleted, or another tenant's). */
        UNKNOWN_DOCUMENT,
        /** The document exists but the catalog has no anchor KV of the active model for it yet. */
        NOT_COMPRESSED,
        /** Retrieval found no document of the tenant that matches the question. */
        NO_MATCH,
        /** The documents or catalog topic has not been read to its end since start-up. */
        CATALOG_LOADING,
        /** Redis did not answer. */
        STORE_UNAVAILABLE,
        /** A blob the catalog promised is gone from Redis; recompression was requested. */
        RECOMPRESSING,
        /**
         * A blob rebuilt on request was evicted again before a question could use it: Redis is too
         * small for the documents in use, and retrying would evict another.
         */
        STORE_TOO_SMALL,
        /** The active model was switched while the question waited for decoding; retry. */
        MODEL_CHANGED,
        /** The documents, question and answer do not fit the model's positions. */
        CONTEXT_TOO_LONG,
        /** The inference queue is full. */
        OVERLOADED,
        /** A Warm on a replica without a warm cache: there is nothing to load into, now or later. */
        NO_WARM_CACHE,
        DEADLINE_EXCEEDED,
        /** The caller went away. */
        CANCELLED,
        /** This instance is stopping; another can answer. */
        SHUTTING_DOWN
    }

    private final Reason reason;
    private final List<Detail> details;

    public QueryException(Reason reason, String message) {
        this(reason, message, List.of());
    }

    /** @param details one per document concerned (from retrieval: best match first) */
    public QueryException(Reason reason, String message, List<? extends Detail> details) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.details = List.copyOf(details);
    }

    public QueryException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.details = List.of();
    }

    public Reason reason() {
        return reason;
    }

    /** What the question could not find, one per document where it is about documents; empty for the other reasons. */
    public List<Detail> details() {
        return details;
    }
}
