package dev.sacrag.cli.warming;

import dev.sacrag.schemas.DeadLetterHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeadLetterListTest {

    private static final String DOCUMENTS = "sac.documents";

    /** A dead letter of {@code key} (null: dropped) for a record read from {@code sourceTopic}. */
    private static DeadLetterList.Letter letter(String key, String sourceTopic) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterHeaders.ERROR_REASON, "TOO_LARGE".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.SOURCE_TOPIC, sourceTopic.getBytes(StandardCharsets.UTF_8));
        if (key == null) {
            headers.add(DeadLetterHeaders.KEY_DROPPED, "2000000".getBytes(StandardCharsets.UTF_8));
        }
        return DeadLetterList.Letter.of(new ConsumerRecord<>("sac.documents.dlq", 0, 0, 1, TimestampType.CREATE_TIME, -1, -1,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), new byte[0], headers, Optional.empty()), DOCUMENTS);
    }

    private static ConsumerRecord<byte[], byte[]> document(String key, byte[] value) {
        return new ConsumerRecord<>(DOCUMENTS, 0, 0, 1, TimestampType.CREATE_TIME, -1, -1,
                key.getBytes(StandardCharsets.UTF_8), value, new RecordHeaders(), Optional.empty());
    }

    @Test
    void aRefusalIsOfADocumentDeletedSinceOnlyWhereTheDocumentsTopicSaysSo() {
        LiveDocuments docs = new LiveDocuments(dev.sacrag.schemas.DocumentLimits.defaults());
        docs.apply(document("gone", "{\"docId\":\"gone\",\"text\":\"x\"}".getBytes(StandardCharsets.UTF_8)));
        docs.apply(document("gone", null));
        docs.apply(document("kept", "{\"docId\":\"kept\",\"text\":\"x\"}".getBytes(StandardCharsets.UTF_8)));

        assertEquals(true, letter("gone", DOCUMENTS).judged(docs).deletedSince());
        assertEquals(true, letter("gone", "sac.recompress").judged(docs).deletedSince(), "refused on a recompress request");
        assertEquals(false, letter("kept", DOCUMENTS).judged(docs).deletedSince());
        assertEquals(true, letter("cleaned", DOCUMENTS).judged(docs).deletedSince(),
                "read from this topic, no record left: deleted, and the tombstone cleaned since");
        assertEquals(false, letter("cleaned", "other.documents").judged(docs).deletedSince(),
                "another documents topic than the one read: nothing known of it");
        DeadLetterList.Refusal dropped = letter(null, DOCUMENTS).judged(docs);
        assertEquals("(key dropped: 2000000 bytes)", dropped.docId());
        assertEquals(false, dropped.deletedSince(), "no key, no document to look up");
    }
}
