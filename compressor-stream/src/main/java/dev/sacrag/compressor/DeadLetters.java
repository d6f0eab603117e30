package dev.sacrag.compressor;

import dev.sacrag.schemas.BadDocumentException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Dead-letter records: the original key, value and headers, unchanged, plus headers saying why
 * and where from. A consumer can fix and re-publish the value as it was. The record's timestamp
 * is when it was dead-lettered, the original's goes in {@value #SOURCE_TIMESTAMP}: the topic's
 * retention counts from the timestamp, and a months-old document dead-lettered today (by a
 * rebuild for a new model, say) would otherwise be deleted as soon as its segment rolled, and
 * with it what warming and a model rollout know of it.
 *
 * <table>
 * <caption>Headers added (UTF-8 text)</caption>
 * <tr><td>{@value #ERROR_CLASS}</td><td>exception class, e.g. dev.sacrag.schemas.BadDocumentException</td></tr>
 * <tr><td>{@value #ERROR_REASON}</td><td>stable code: a BadDocumentException reason (MALFORMED, EMPTY_TEXT,
 *     TOO_LARGE, ...) or {@value #COMPRESSION_FAILED}</td></tr>
 * <tr><td>{@value #ERROR_MESSAGE}</td><td>what was wrong, with the doc id where known</td></tr>
 * <tr><td>{@value #SOURCE_TOPIC}, {@value #SOURCE_PARTITION}, {@value #SOURCE_OFFSET}</td>
 *     <td>where the record was read</td></tr>
 * <tr><td>{@value #SOURCE_TIMESTAMP}</td><td>the original record's timestamp (ms since the epoch)</td></tr>
 * </table>
 */
public final class DeadLetters {

    public static final String ERROR_CLASS = "sac.error.class";
    public static final String ERROR_REASON = "sac.error.reason";
    public static final String ERROR_MESSAGE = "sac.error.message";
    public static final String SOURCE_TOPIC = "sac.error.source.topic";
    public static final String SOURCE_PARTITION = "sac.error.source.partition";
    public static final String SOURCE_OFFSET = "sac.error.source.offset";
    public static final String SOURCE_TIMESTAMP = "sac.error.source.timestamp";
    /**
     * The model id whose tokenizer or compressor refused the record (too many tokens, a
     * failure); absent where the record is bad for every model (malformed, empty, too many
     * bytes). Warming for another model does not skip the record for it.
     */
    public static final String MODEL = "sac.error.model";
    /** Set when the value was left out because the dead letter would not fit: the value's size in bytes. */
    public static final String VALUE_DROPPED = "sac.error.value.dropped";
    /** Set when the original headers were left out too (the dead letter still would not fit): how many. */
    public static final String HEADERS_DROPPED = "sac.error.headers.dropped";
    /** Set when even the key was left out (a key larger than the limit): the key's size in bytes. */
    public static final String KEY_DROPPED = "sac.error.key.dropped";
    /** Longest {@value #ERROR_MESSAGE} kept, in characters (a message may quote the bad value). */
    static final int MAX_MESSAGE_CHARS = 2000;
    /** Room kept for the record's framing beside key, value and headers. */
    static final int RECORD_OVERHEAD = 1024;
    /** A valid document the model failed on (a bug or a limit the checks missed); not a schema reason. */
    public static final String COMPRESSION_FAILED = "COMPRESSION_FAILED";
    /**
     * The model ran out of memory on a document {@value AnchorCacheWriter#ENGINE_OOM_TRIES} times
     * in a row or more, while other documents compressed (or for half an hour): retried until then
     * (the machine's want, not the document's fault), then set aside so that its partition goes
     * on. Republish it once the compressor has more memory.
     */
    public static final String ENGINE_OOM = "ENGINE_OOM";

    private DeadLetters() {
    }

    /**
     * {@code message} says what failed; {@code error} is what threw (its class goes in
     * {@value #ERROR_CLASS}). A dead letter larger than {@code maxBytes} goes without its value
     * (header {@value #VALUE_DROPPED}: the value's size; the source headers say where the
     * original is): producers may compress documents that the dead-letter topic then receives
     * uncompressed, and a dead letter the broker or producer refuses would fail the task on
     * every replay, stalling the partition. For the same reason the message is cut to
     * {@value #MAX_MESSAGE_CHARS} characters, and if the dead letter still does not fit, the
     * original headers go ({@value #HEADERS_DROPPED}), then the key ({@value #KEY_DROPPED}).
     *
     * @param now the dead letter's timestamp (the original's goes in {@value #SOURCE_TIMESTAMP})
     */
    static Record<byte[], byte[]> of(Record<byte[], byte[]> original, Optional<RecordMetadata> source,
                                     String reason, String message, Throwable error, String modelId, long maxBytes,
                                     long now) {
        Header[] originalHeaders = original.headers().toArray();
        Headers headers = withReasons(originalHeaders, source, original.timestamp(), reason, message, error, modelId);
        byte[] key = original.key();
        byte[] value = original.value();
        String valueDropped = null;
        if (value != null && size(key, value, headers) > maxBytes) {
            valueDropped = Integer.toString(value.length);
            put(headers, VALUE_DROPPED, valueDropped);
            value = new byte[0];
        }
        if (size(key, value, headers) > maxBytes && originalHeaders.length > 0) {
            headers = withReasons(new Header[0], source, original.timestamp(), reason, message, error, modelId);
            if (valueDropped != null) {
                put(headers, VALUE_DROPPED, valueDropped);
            }
            put(headers, HEADERS_DROPPED, Integer.toString(originalHeaders.length));
        }
        if (key != null && size(key, value, headers) > maxBytes) {
            put(headers, KEY_DROPPED, Integer.toString(key.length));
            key = null;
        }
        return new Record<>(key, value, now, headers);
    }

    /** {@code kept} plus the headers saying why and where from. */
    private static Headers withReasons(Header[] kept, Optional<RecordMetadata> source, long sourceTimestamp,
                                       String reason, String message, Throwable error, String modelId) {
        Headers headers = new RecordHeaders(kept);
        if (modelId != null) {
            put(headers, MODEL, modelId);
        }
        put(headers, ERROR_CLASS, error.getClass().getName());
        put(headers, ERROR_REASON, reason);
        put(headers, ERROR_MESSAGE, BadDocumentException.shorten(String.valueOf(message), MAX_MESSAGE_CHARS));
        source.ifPresent(m -> {
            put(headers, SOURCE_TOPIC, m.topic());
            put(headers, SOURCE_PARTITION, Integer.toString(m.partition()));
            put(headers, SOURCE_OFFSET, Long.toString(m.offset()));
        });
        put(headers, SOURCE_TIMESTAMP, Long.toString(sourceTimestamp));
        return headers;
    }

    private static long size(byte[] key, byte[] value, Headers headers) {
        long n = RECORD_OVERHEAD + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (Header h : headers) {
            n += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
