package dev.sacrag.query.feed;

import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.query.retrieval.DocumentIndex;
import dev.sacrag.query.retrieval.IndexedDoc;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentRules;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Applies the documents topic to the retrieval index: a document replaces its previous
 * version, a tombstone deletes it (and {@code onDelete} evicts it elsewhere). Records the
 * compressor would dead-letter are skipped here too, counted and logged. Each document's
 * partition goes to {@link DocumentPartitions}, where recompress requests look it up.
 */
public final class DocumentFeed implements TopicFollower.Handler {

    private static final Logger log = LoggerFactory.getLogger(DocumentFeed.class);

    private final DocumentCodec codec;
    private final DocumentIndex index;
    private final Consumer<String> onDelete;
    private final QueryMetrics metrics;
    private final DocumentPartitions partitions;

    public DocumentFeed(DocumentCodec codec, DocumentIndex index, Consumer<String> onDelete, QueryMetrics metrics,
                        DocumentPartitions partitions) {
        this.codec = codec;
        this.index = index;
        this.onDelete = onDelete;
        this.metrics = metrics;
        this.partitions = partitions;
    }

    @Override
    public void handle(ConsumerRecords<byte[], byte[]> records) {
        for (ConsumerRecord<byte[], byte[]> r : records) {
            apply(r);
        }
        index.refresh();
    }

    private void apply(ConsumerRecord<byte[], byte[]> r) {
        if (r.value() == null) {
            if (r.key() == null) {
                skip(r, "a tombstone without a key");
                return;
            }
            String docId = new String(r.key(), StandardCharsets.UTF_8);
            index.delete(docId);
            partitions.deleted(docId);
            onDelete.accept(docId);
            metrics.feedRecord(r.topic(), true);
            return;
        }
        try {
            // as the compressor decodes it: what it dead-letters at decode is not indexed, or BM25 would match text
            // never compressed (what it refuses later, for its tokens or stored size, is: a refusal, told to questions)
            DocumentEvent e = codec.decodeRecord(DocumentRules.docIdOfKey(r.key()), r.value(), contentType(r), r.timestamp());
            index.upsert(new IndexedDoc(e.getDocId(), e.getTenant(), e.getVersion(), e.getTitle()), e.getText());
            partitions.seen(e.getDocId(), r.partition());
            metrics.feedRecord(r.topic(), true);
        } catch (BadDocumentException e) {
            skip(r, e.getMessage()); // the message starts with the reason
        }
    }

    private void skip(ConsumerRecord<byte[], byte[]> r, String why) {
        metrics.feedRecord(r.topic(), false);
        log.warn("skipping {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), why);
    }

    private static String contentType(ConsumerRecord<byte[], byte[]> r) {
        return header(r, DocumentCodec.CONTENT_TYPE_HEADER);
    }

    /** A header of {@code r} as text; null when absent (the feeds' readers of headers share it). */
    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
