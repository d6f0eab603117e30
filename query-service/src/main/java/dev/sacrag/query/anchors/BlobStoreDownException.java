package dev.sacrag.query.anchors;

/** The blob store (Redis) did not answer: a transient condition, reported as UNAVAILABLE. */
public final class BlobStoreDownException extends RuntimeException {

    public BlobStoreDownException(String message, Throwable cause) {
        super(message, cause);
    }
}
