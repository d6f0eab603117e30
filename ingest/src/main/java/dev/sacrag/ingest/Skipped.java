package dev.sacrag.ingest;

/**
 * One input that was not published.
 *
 * @param where {@code path} or {@code path:line}
 */
public record Skipped(String where, SkipReason reason, String detail) {

    @Override
    public String toString() {
        return where + ": " + reason + (detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
