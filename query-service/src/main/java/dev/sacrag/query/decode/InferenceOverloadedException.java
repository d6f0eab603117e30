package dev.sacrag.query.decode;

/** The inference queue is full: the caller should back off and retry. */
public final class InferenceOverloadedException extends RuntimeException {

    public InferenceOverloadedException(String message) {
        super(message);
    }
}
