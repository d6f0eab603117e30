package dev.sacrag.ingest;

/** Why an input was not published; summaries count by these. */
public enum SkipReason {
    /** The file has no text (or only whitespace). */
    EMPTY_FILE,
    /** A file in a walked directory whose type is not ingested (or not of the chosen format), or no regular file (a pipe). */
    UNSUPPORTED_FILE,
    /** A file or line that is not a valid document, skipped because the caller chose SKIP. */
    BAD_INPUT,
    /** A file or folder that could not be read (permissions, an I/O error), skipped because the caller chose SKIP. */
    UNREADABLE,
    /** An MRQA context already seen in this run: published once, its questions still kept. */
    DUPLICATE_CONTEXT,
    /** A file reached a second time through a symbolic link: published once, under its own path. */
    DUPLICATE_FILE,
    /** A symbolic link whose target does not exist. */
    BROKEN_LINK
}
