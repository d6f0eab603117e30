package dev.sacrag.compressor;

/**
 * The model ran out of memory on a document and it is to be tried again. Thrown out of the
 * processor on purpose: the task fails and a replacement thread replays the record, and the
 * engine's own rule ({@link AnchorCacheWriter#setAside}) decides when the document is set aside as
 * {@value DeadLetters#ENGINE_OOM}; {@link RecordFailures} leaves it to that rule.
 */
final class EngineOutOfMemoryException extends RuntimeException {

    EngineOutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
