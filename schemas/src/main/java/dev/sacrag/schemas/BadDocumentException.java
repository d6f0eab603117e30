package dev.sacrag.schemas;

import java.util.Objects;

/**
 * A record value that can never become a document. Checked on purpose: every caller decodes one
 * record at a time and must route the failure (the compressor to the dead-letter topic with
 * {@link #reason()} in a header, ingest to its skipped count) instead of dying on it.
 */
public final class BadDocumentException extends Exception {

    /** Stable codes, written to dead-letter headers and summaries; never rename one. */
    public enum Reason {
        /** Bytes that are neither valid Avro single-object nor valid JSON. */
        MALFORMED,
        /** Avro single-object bytes whose schema fingerprint is not known to the reader. */
        UNKNOWN_SCHEMA,
        /** A declared content type this codec does not read. */
        UNSUPPORTED_CONTENT_TYPE,
        /** A required field (docId, text) is absent, null or blank. */
        MISSING_FIELD,
        /** A field has the wrong type or an illegal value (e.g. a brace in docId). */
        INVALID_FIELD,
        /** The text is empty or only whitespace: nothing to compress. */
        EMPTY_TEXT,
        /** The value or the text is over the configured limit. */
        TOO_LARGE
    }

    /**
     * Longest message kept, in characters. Messages quote the offending value ("'text' must be
     * a string, got [...]") and that value can be megabytes; the message travels in logs and
     * dead-letter headers, where it must stay small.
     */
    public static final int MAX_MESSAGE_CHARS = 1000;

    private final Reason reason;

    public BadDocumentException(Reason reason, String message) {
        super(reason + ": " + shorten(message));
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public BadDocumentException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + shorten(message), cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** {@code text} cut to {@code max} characters, saying how many were left out (never splits a surrogate pair). */
    public static String shorten(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end) + "... (" + (text.length() - end) + " more characters)";
    }

    private static String shorten(String message) {
        return shorten(message, MAX_MESSAGE_CHARS);
    }

    public Reason reason() {
        return reason;
    }
}
