package dev.sacrag.query.ask;

import java.util.Objects;

/**
 * Why a question or a warm request could not be served. The reason decides the RPC status
 * (see the gRPC layer's status mapping); the message is the description the caller reads, so it
 * names the tenant, documents and model concerned.
 */
public final class QueryException extends RuntimeException {

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
        DEADLINE_EXCEEDED,
        /** The caller went away. */
        CANCELLED,
        /** This instance is stopping; another can answer. */
        SHUTTING_DOWN
    }

    private final Reason reason;

    public QueryException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public QueryException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
