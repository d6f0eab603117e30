package dev.sacrag.compressor;

/** The blob store could not serve an operation right now (Redis down, timed out, out of memory). */
public class BlobStoreUnavailableException extends RuntimeException {

    public BlobStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
