package dev.sacrag.compressor;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Dead-letter records: the original key, value, timestamp and headers, unchanged, plus headers
 * saying why and where from. A consumer can fix and re-publish the value as it was.
 *
 * <table>
 * <caption>Headers added (UTF-8 text)</caption>
 * <tr><td>{@value #ERROR_CLASS}</td><td>exception class, e.g. dev.sacrag.schemas.BadDocumentException</td></tr>
 * <tr><td>{@value #ERROR_REASON}</td><td>stable code: a BadDocumentException reason (MALFORMED, EMPTY_TEXT,
 *     TOO_LARGE, ...) or {@value #COMPRESSION_FAILED}</td></tr>
 * <tr><td>{@value #ERROR_MESSAGE}</td><td>what was wrong, with the doc id where known</td></tr>
 * <tr><td>{@value #SOURCE_TOPIC}, {@value #SOURCE_PARTITION}, {@value #SOURCE_OFFSET}</td>
 *     <td>where the record was read</td></tr>
 * </table>
 */
public final class DeadLetters {

    public static final String ERROR_CLASS = "sac.error.class";
    public static final String ERROR_REASON = "sac.error.reason";
    public static final String ERROR_MESSAGE = "sac.error.message";
    public static final String SOURCE_TOPIC = "sac.error.source.topic";
    public static final String SOURCE_PARTITION = "sac.error.source.partition";
    public static final String SOURCE_OFFSET = "sac.error.source.offset";
    /** A valid document the model failed on (a bug or a limit the checks missed); not a schema reason. */
    public static final String COMPRESSION_FAILED = "COMPRESSION_FAILED";

    private DeadLetters() {
    }

    static Record<byte[], byte[]> of(Record<byte[], byte[]> original, Optional<RecordMetadata> source,
                                     String reason, Throwable error) {
        Headers headers = new RecordHeaders(original.headers().toArray());
        put(headers, ERROR_CLASS, error.getClass().getName());
        put(headers, ERROR_REASON, reason);
        put(headers, ERROR_MESSAGE, String.valueOf(error.getMessage()));
        source.ifPresent(m -> {
            put(headers, SOURCE_TOPIC, m.topic());
            put(headers, SOURCE_PARTITION, Integer.toString(m.partition()));
            put(headers, SOURCE_OFFSET, Long.toString(m.offset()));
        });
        return new Record<>(original.key(), original.value(), original.timestamp(), headers);
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
