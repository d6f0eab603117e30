package dev.sacrag.query.grpc;

import dev.sacrag.query.ask.QueryException;
import io.grpc.Status;

/**
 * The one place domain failures become RPC statuses (architecture.md, "RPC"). The description
 * is the exception's message: it names the tenant, documents and model concerned.
 */
final class StatusMapping {

    private StatusMapping() {
    }

    static Status toStatus(QueryException e) {
        Status status = switch (e.reason()) {
            case UNKNOWN_DOCUMENT, NOT_COMPRESSED, NO_MATCH -> Status.NOT_FOUND;
            case CATALOG_LOADING, STORE_UNAVAILABLE, RECOMPRESSING, MODEL_CHANGED, SHUTTING_DOWN -> Status.UNAVAILABLE;
            case CONTEXT_TOO_LONG -> Status.INVALID_ARGUMENT;
            case OVERLOADED, STORE_TOO_SMALL -> Status.RESOURCE_EXHAUSTED;
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
            case CANCELLED -> Status.CANCELLED;
        };
        return status.withDescription(e.getMessage());
    }
}
