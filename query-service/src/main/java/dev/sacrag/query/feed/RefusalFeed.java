package dev.sacrag.query.feed;

import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentRules;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Applies the dead-letter topic to {@link Refusals}: each dead letter of a documents-topic record
 * is decoded (its value is the original's) for the version it refused. A dead letter whose value
 * does not decode is of a record the index never took either (malformed, over the limits, or its
 * value left out of the dead letter for size): it explains nothing a question could meet, and is
 * passed over. So are dead letters of other topics (a recompress request).
 */
public final class RefusalFeed implements TopicFollower.Handler {

    /** Longest refusal message kept, in characters: the dead letter's may quote a bad value at length. */
    static final int MAX_MESSAGE_CHARS = 300;

    private final DocumentCodec codec;
    private final Refusals refusals;
    private final String documentsTopic;
    private final QueryMetrics metrics;

    public RefusalFeed(DocumentCodec codec, Refusals refusals, String documentsTopic, QueryMetrics metrics) {
        this.codec = codec;
        this.refusals = refusals;
        this.documentsTopic = documentsTopic;
        this.metrics = metrics;
    }

    @Override
    public void handle(ConsumerRecords<byte[], byte[]> records) {
        for (ConsumerRecord<byte[], byte[]> r : records) {
            apply(r);
            metrics.feedRecord(r.topic(), true);   // one passed over is not bad: it has nothing to explain
        }
    }

    /** Whether {@code r} became a refusal. */
    boolean apply(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null || r.value() == null || r.value().length == 0
                || !documentsTopic.equals(header(r, DeadLetterHeaders.SOURCE_TOPIC).orElse(null))) {
            return false;
        }
        long sourceTimestamp;
        try {
            sourceTimestamp = Long.parseLong(header(r, DeadLetterHeaders.SOURCE_TIMESTAMP).orElse(""));
        } catch (NumberFormatException e) {
            return false;   // a JSON document naming no version would get another one here than in the index
        }
        DocumentEvent doc;
        try {
            doc = codec.decodeRecord(DocumentRules.docIdOfKey(r.key()), r.value(),
                    header(r, DocumentCodec.CONTENT_TYPE_HEADER).orElse(null), sourceTimestamp);
        } catch (BadDocumentException e) {
            return false;
        }
        String message = header(r, DeadLetterHeaders.ERROR_MESSAGE).orElse("");
        refusals.add(new Refusals.Refusal(doc.getDocId(), doc.getVersion(), header(r, DeadLetterHeaders.MODEL),
                header(r, DeadLetterHeaders.ERROR_REASON).orElse("?"), BadDocumentException.shorten(message, MAX_MESSAGE_CHARS)));
        return true;
    }

    private static Optional<String> header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? Optional.empty() : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }
}
