package dev.sacrag.compressor;

/**
 * The blob store stayed unavailable for a record's whole retry budget. Thrown out of the
 * processor on purpose: the task fails, its transaction aborts, and the replacement stream
 * thread processes the record again from the last commit — nothing is skipped.
 */
public final class RetriesExhaustedException extends RuntimeException {

    public RetriesExhaustedException(String message, BlobStoreUnavailableException cause) {
        super(message, cause);
    }
}
