package dev.sacrag.query.decode;

/** The service is stopping: a question it will not decode, which another instance can answer. */
public final class InferenceShutdownException extends RuntimeException {

    public InferenceShutdownException(String message) {
        super(message);
    }
}
