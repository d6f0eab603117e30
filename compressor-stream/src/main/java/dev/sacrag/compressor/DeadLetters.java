package dev.sacrag.compressor;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.avro.DocumentEvent;
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
 * is when it was dead-lettered, the original's goes in {@value DeadLetterHeaders#SOURCE_TIMESTAMP}: the topic's
 * retention counts from the timestamp, and a months-old document dead-lettered today (by a
 * rebuild for a new model, say) would otherwise be deleted as soon as its segment rolled, and
 * with it what warming and a model rollout know of it.
 *
 * <table>
 * <caption>Headers added (UTF-8 text)</caption>
 * <tr><td>{@value DeadLetterHeaders#ERROR_CLASS}</td><td>exception class, e.g. dev.sacrag.schemas.BadDocumentException</td></tr>
 * <tr><td>{@value DeadLetterHeaders#ERROR_REASON}</td><td>stable code: a BadDocumentException reason (MALFORMED, EMPTY_TEXT,
 *     TOO_LARGE, ...), {@value #COMPRESSION_FAILED}, {@value #ENGINE_OOM} or {@value #PROCESSING_FAILED}</td></tr>
 * <tr><td>{@value DeadLetterHeaders#ERROR_MESSAGE}</td><td>what was wrong, with the doc id where known</td></tr>
 * <tr><td>{@value DeadLetterHeaders#SOURCE_TOPIC}, {@value DeadLetterHeaders#SOURCE_PARTITION}, {@value DeadLetterHeaders#SOURCE_OFFSET}</td>
 *     <td>where the record was read</td></tr>
 * <tr><td>{@value DeadLetterHeaders#SOURCE_TIMESTAMP}</td><td>the original record's timestamp (ms since the epoch)</td></tr>
 * <tr><td>{@value DeadLetterHeaders#MODEL}</td><td>the model that refused it, where a model did (tokens, a failure, its
 *     compressor failing on the record again and again)</td></tr>
 * <tr><td>{@value DeadLetterHeaders#DOC_VERSION}, {@value DeadLetterHeaders#CONTENT_HASH}</td><td>with the model: the
 *     refused document's version and text hash (the value may be a recompress request, or left out for size)</td></tr>
 * </table>
 */
public final class DeadLetters {

    /** Longest {@value DeadLetterHeaders#ERROR_MESSAGE} kept, in characters (a message may quote the bad value). */
    static final int MAX_MESSAGE_CHARS = 2000;
    /** Room kept for the record's framing beside key, value and headers. */
    static final int RECORD_OVERHEAD = 1024;
    /** A valid document the model failed on: {@link DeadLetter#COMPRESSION_FAILED}. */
    public static final String COMPRESSION_FAILED = DeadLetter.COMPRESSION_FAILED;
    /**
     * The model ran out of memory on a document {@value AnchorCacheWriter#ENGINE_OOM_TRIES} times
     * in a row or more, while other documents compressed (or for half an hour): retried until then,
     * then set aside so that its partition goes on ({@link DeadLetter#ENGINE_OOM}).
     */
    public static final String ENGINE_OOM = DeadLetter.ENGINE_OOM;
    /**
     * Processing the record failed its stream thread {@code --max-record-failures} times in a row
     * with an error the compressor does not otherwise handle (not Redis, the engine's memory or
     * Kafka: {@link RecordFailures}): set aside unprocessed on its next try ({@link DeadLetter#PROCESSING_FAILED}).
     */
    public static final String PROCESSING_FAILED = DeadLetter.PROCESSING_FAILED;

    private DeadLetters() {
    }

    /**
     * {@code message} says what failed; {@code error} is what threw (its class goes in
     * {@value DeadLetterHeaders#ERROR_CLASS}). A dead letter larger than {@code maxBytes} goes without its value
     * (header {@value DeadLetterHeaders#VALUE_DROPPED}: the value's size; the source headers say where the
     * original is): producers may compress documents that the dead-letter topic then receives
     * uncompressed, and a dead letter the broker or producer refuses would fail the task on
     * every replay, stalling the partition. For the same reason the message is cut to
     * {@value #MAX_MESSAGE_CHARS} characters, and if the dead letter still does not fit, the
     * original headers go ({@value DeadLetterHeaders#HEADERS_DROPPED}), then the key ({@value DeadLetterHeaders#KEY_DROPPED}).
     *
     * @param refused the document refused, where it was decoded (a model's refusal): its version and text
     *     hash go in headers, so that readers need not decode a value that may be left out; else null
     * @param now the dead letter's timestamp (the original's goes in {@value DeadLetterHeaders#SOURCE_TIMESTAMP})
     */
    static Record<byte[], byte[]> of(Record<byte[], byte[]> original, Optional<RecordMetadata> source,
                                     String reason, String message, Throwable error, String modelId,
                                     DocumentEvent refused, long maxBytes, long now) {
        Header[] originalHeaders = original.headers().toArray();
        Headers headers = withReasons(originalHeaders, source, original.timestamp(), reason, message, error, modelId, refused);
        byte[] key = original.key();
        byte[] value = original.value();
        String valueDropped = null;
        if (value != null && size(key, value, headers) > maxBytes) {
            valueDropped = Integer.toString(value.length);
            put(headers, DeadLetterHeaders.VALUE_DROPPED, valueDropped);
            value = new byte[0];
        }
        if (size(key, value, headers) > maxBytes && originalHeaders.length > 0) {
            headers = withReasons(new Header[0], source, original.timestamp(), reason, message, error, modelId, refused);
            if (valueDropped != null) {
                put(headers, DeadLetterHeaders.VALUE_DROPPED, valueDropped);
            }
            put(headers, DeadLetterHeaders.HEADERS_DROPPED, Integer.toString(originalHeaders.length));
        }
        if (key != null && size(key, value, headers) > maxBytes) {
            put(headers, DeadLetterHeaders.KEY_DROPPED, Integer.toString(key.length));
            key = null;
        }
        return new Record<>(key, value, now, headers);
    }

    /** {@code kept} plus the headers saying why and where from. */
    private static Headers withReasons(Header[] kept, Optional<RecordMetadata> source, long sourceTimestamp,
                                       String reason, String message, Throwable error, String modelId,
                                       DocumentEvent refused) {
        Headers headers = new RecordHeaders(kept);
        if (modelId != null) {
            put(headers, DeadLetterHeaders.MODEL, modelId);
        }
        if (refused != null) {
            put(headers, DeadLetterHeaders.DOC_VERSION, Long.toString(refused.getVersion()));
            put(headers, DeadLetterHeaders.CONTENT_HASH, ContentHash.of(refused.getText()));
        }
        put(headers, DeadLetterHeaders.ERROR_CLASS, error.getClass().getName());
        put(headers, DeadLetterHeaders.ERROR_REASON, reason);
        put(headers, DeadLetterHeaders.ERROR_MESSAGE, BadDocumentException.shorten(String.valueOf(message), MAX_MESSAGE_CHARS));
        source.ifPresent(m -> {
            put(headers, DeadLetterHeaders.SOURCE_TOPIC, m.topic());
            put(headers, DeadLetterHeaders.SOURCE_PARTITION, Integer.toString(m.partition()));
            put(headers, DeadLetterHeaders.SOURCE_OFFSET, Long.toString(m.offset()));
        });
        put(headers, DeadLetterHeaders.SOURCE_TIMESTAMP, Long.toString(sourceTimestamp));
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
