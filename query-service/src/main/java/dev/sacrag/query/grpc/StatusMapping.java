package dev.sacrag.query.grpc;

import dev.sacrag.query.ask.QueryException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The one place domain failures become RPC statuses (architecture.md, "RPC"). The description
 * is the exception's message: it names the tenant, documents and model concerned; its details
 * say the same to programs ({@link ErrorDetails}).
 */
final class StatusMapping {

    private StatusMapping() {
    }

    /** The status, its trailers and the exception's details, as the caller gets them. */
    static StatusRuntimeException toException(QueryException e) {
        return ErrorDetails.exception(toStatus(e), e.details(), trailers(e));
    }

    static Status toStatus(QueryException e) {
        Status status = switch (e.reason()) {
            case UNKNOWN_DOCUMENT, NOT_COMPRESSED, NO_MATCH -> Status.NOT_FOUND;
            case CATALOG_LOADING, STORE_UNAVAILABLE, RECOMPRESSING, MODEL_CHANGED, SHUTTING_DOWN -> Status.UNAVAILABLE;
            case CONTEXT_TOO_LONG -> Status.INVALID_ARGUMENT;
            case OVERLOADED, STORE_TOO_SMALL -> Status.RESOURCE_EXHAUSTED;
            case NO_WARM_CACHE -> Status.FAILED_PRECONDITION;
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
            case CANCELLED -> Status.CANCELLED;
        };
        return status.withDescription(ErrorDetails.fitted(e.getMessage(), e.details()));
    }

    /**
     * gRPC's retry pushback trailer (gRFC A6): a client with a retry policy for the status waits
     * this long before it retries, and does not retry at all on a negative value; {@code sac ask}
     * honours it too. Present only where the service knows: the question will pass on its own
     * (a blob being rebuilt, the topics being read, a model switch, a replica stopping), or will
     * not (Redis too small for it). Redis down and a full queue carry none: the client's own policy
     * decides.
     */
    static final Metadata.Key<String> RETRY_PUSHBACK_MS = QueryGrpcService.RETRY_PUSHBACK_MS;

    static Metadata trailers(QueryException e) {
        Metadata trailers = new Metadata();
        long pushback = switch (e.reason()) {
            case RECOMPRESSING, CATALOG_LOADING -> 1000;   // a rebuild or a topic read takes about that, at least
            case MODEL_CHANGED, SHUTTING_DOWN -> 0;           // at once: the next question meets the new model, another replica
            case STORE_TOO_SMALL -> -1;                       // retrying as is evicts another blob
            default -> Long.MIN_VALUE;
        };
        if (pushback != Long.MIN_VALUE) {
            trailers.put(RETRY_PUSHBACK_MS, Long.toString(pushback));
        }
        return trailers;
    }
}
