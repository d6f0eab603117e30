package dev.sacrag.core.kv;

/**
 * An anchor-KV blob that must not be decoded. Unchecked: decoding happens in memory, and a
 * caller handles it per request (re-compress the document) rather than at every call site.
 */
public class BlobException extends RuntimeException {

    public BlobException(String message) {
        super(message);
    }

    public BlobException(String message, Throwable cause) {
        super(message, cause);
    }
}
