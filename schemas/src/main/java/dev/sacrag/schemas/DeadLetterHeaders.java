package dev.sacrag.schemas;

/**
 * The headers a compressor adds to a record of the documents topic it sets aside on the
 * dead-letter topic (UTF-8 text), named here because more than the compressor reads them: the
 * query service (why a document is not compressed), {@code sac docs refused} and warming. The
 * dead letter's value is the original's, unless {@link #VALUE_DROPPED} says it was left out.
 */
public final class DeadLetterHeaders {

    /** The exception class, e.g. dev.sacrag.schemas.BadDocumentException. */
    public static final String ERROR_CLASS = "sac.error.class";
    /** A stable code: a {@link BadDocumentException.Reason} name, COMPRESSION_FAILED, ENGINE_OOM or PROCESSING_FAILED. */
    public static final String ERROR_REASON = "sac.error.reason";
    /** What was wrong, with the doc id where known. */
    public static final String ERROR_MESSAGE = "sac.error.message";
    public static final String SOURCE_TOPIC = "sac.error.source.topic";
    public static final String SOURCE_PARTITION = "sac.error.source.partition";
    public static final String SOURCE_OFFSET = "sac.error.source.offset";
    /** The original record's timestamp (ms since the epoch): the version of a JSON document that names none. */
    public static final String SOURCE_TIMESTAMP = "sac.error.source.timestamp";
    /**
     * The model id whose tokenizer or compressor refused the record (too many tokens, a
     * failure, one repeated until the record was set aside); absent where the record is bad for every model (malformed, empty, too many
     * bytes). Warming for another model does not skip the record for it.
     */
    public static final String MODEL = "sac.error.model";
    /**
     * The version of the document the compressor refused, where it had decoded it (a refusal by a
     * model: too many tokens, a failure, out of memory): readers need not decode the value, which
     * may have been left out ({@link #VALUE_DROPPED}).
     */
    public static final String DOC_VERSION = "sac.error.doc.version";
    /** With {@link #DOC_VERSION}: the {@link ContentHash} of the refused document's text. */
    public static final String CONTENT_HASH = "sac.error.doc.content-hash";
    /** Set when the value was left out because the dead letter would not fit: the value's size in bytes. */
    public static final String VALUE_DROPPED = "sac.error.value.dropped";
    /** Set when the original headers were left out too (the dead letter still would not fit): how many. */
    public static final String HEADERS_DROPPED = "sac.error.headers.dropped";
    /** Set when even the key was left out (a key larger than the limit): the key's size in bytes. */
    public static final String KEY_DROPPED = "sac.error.key.dropped";

    private DeadLetterHeaders() {
    }
}
