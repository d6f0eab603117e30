package dev.sacrag.query.decode;

/**
 * A question's anchor KV was chosen for one model, but the active model changed before it was
 * decoded: the other model's decoder must never read those anchors. The caller may retry at once.
 */
public final class ModelChangedException extends RuntimeException {

    public ModelChangedException(String message) {
        super(message);
    }
}
