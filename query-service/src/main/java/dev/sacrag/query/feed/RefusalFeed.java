package dev.sacrag.query.feed;

import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DocumentCodec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;

/**
 * Applies the dead-letter topic to {@link Refusals}: each dead letter names the document version
 * and text it refused ({@link DeadLetter#read}: the headers a model's refusal carries, or else the
 * value of a documents-topic dead letter, decoded). One that names none is of a record the index
 * never took either (malformed, over the limits), or of an older compressor that left the value
 * out for size or refused a recompress request: it is passed over.
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
            DeadLetter.read(r.key(), r.value(), r.timestamp(), name -> DocumentFeed.header(r, name), documentsTopic, codec)
                    .ifPresent(d -> refusals.add(new DeadLetter(d.docId(), d.version(), d.contentHash(), d.modelId(),
                            d.reason(), BadDocumentException.shorten(d.message(), MAX_MESSAGE_CHARS))));
            metrics.feedRecord(r.topic(), true);   // one passed over is not bad: it has nothing to explain
        }
    }

    /**
     * A document's key carries one dead letter per refusing model: each adds to {@link Refusals}
     * (which keeps the highest version per model), so a failed batch is applied again whole,
     * where keeping the key's last record would drop the other models' refusals.
     */
    @Override
    public boolean keepsLatestPerKey() {
        return false;
    }
}
