package dev.sacrag.core.kv;

/** An intact blob whose anchors were computed by another model; its KV means nothing to ours. */
public class ModelMismatchException extends BlobException {

    private final String expectedModelId;
    private final String foundModelId;

    public ModelMismatchException(String expectedModelId, String foundModelId) {
        super("anchor KV blob was encoded for model '" + foundModelId + "', expected '" + expectedModelId + "'");
        this.expectedModelId = expectedModelId;
        this.foundModelId = foundModelId;
    }

    public String expectedModelId() {
        return expectedModelId;
    }

    public String foundModelId() {
        return foundModelId;
    }
}
