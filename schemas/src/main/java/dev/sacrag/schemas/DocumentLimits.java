package dev.sacrag.schemas;

/**
 * Size limits checked before any work is spent on a document. The value limit applies to the
 * raw record bytes (cheap, before parsing); the text limit to the decoded text.
 */
public record DocumentLimits(int maxValueBytes, int maxTextChars) {

    public DocumentLimits {
        if (maxValueBytes <= 0 || maxTextChars <= 0) {
            throw new IllegalArgumentException("document limits must be positive: maxValueBytes=" + maxValueBytes
                    + ", maxTextChars=" + maxTextChars);
        }
    }

    /** 8 MiB of value, 4M characters of text: above Kafka's default 1 MiB message on purpose. */
    public static DocumentLimits defaults() {
        return new DocumentLimits(8 << 20, 4_000_000);
    }
}
