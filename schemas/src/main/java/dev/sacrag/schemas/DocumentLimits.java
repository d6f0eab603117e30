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

    /**
     * Largest record of the compressor's latest-documents changelog: the JSON form of the largest
     * accepted document. JSON escapes at most a few characters per text character; twice the value
     * limit plus headroom covers real text, and the compressor's producer max.request.size is set to
     * the same. {@link DocumentRules#checkStorable} refuses a document whose JSON form passes it.
     */
    public int maxStoredBytes() {
        long bytes = 2L * maxValueBytes + (1 << 20);
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    /** 8 MiB of value, 4M characters of text: above Kafka's default 1 MiB message on purpose. */
    public static DocumentLimits defaults() {
        return new DocumentLimits(8 << 20, 4_000_000);
    }
}
