package dev.sacrag.core.kv;

/** The bytes are not an intact blob of a format this build reads: framing, size or CRC is wrong. */
public class CorruptBlobException extends BlobException {

    public CorruptBlobException(String message) {
        super(message);
    }

    public CorruptBlobException(String message, Throwable cause) {
        super(message, cause);
    }
}
