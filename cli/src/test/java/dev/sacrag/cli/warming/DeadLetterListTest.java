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

    /** A model's refusal of {@code key} at {@code version}, which names the version in its headers. */
    private static DeadLetterList.Letter refusalOf(String key, long version) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterHeaders.ERROR_REASON, "ENGINE_OOM".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.SOURCE_TOPIC, DOCUMENTS.getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.MODEL, "abc123def456".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.DOC_VERSION, Long.toString(version).getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.CONTENT_HASH, dev.sacrag.schemas.ContentHash.of("x").getBytes(StandardCharsets.UTF_8));
        return DeadLetterList.Letter.of(new ConsumerRecord<>("sac.documents.dlq", 0, 0, 1, TimestampType.CREATE_TIME, -1, -1,
                key.getBytes(StandardCharsets.UTF_8), new byte[0], headers, Optional.empty()), DOCUMENTS);
    }

    @Test
    void aRefusalOfAVersionPublishedOverSinceNoLongerStands() {
        LiveDocuments docs = new LiveDocuments(dev.sacrag.schemas.DocumentLimits.defaults());
        docs.apply(document("doc", "{\"docId\":\"doc\",\"version\":7,\"text\":\"x\"}".getBytes(StandardCharsets.UTF_8)));

        DeadLetterList.Refusal older = refusalOf("doc", 5).judged(docs, docs.byId());
        assertEquals(java.util.OptionalLong.of(7), older.publishedAgain());
        assertEquals(true, older.past());
        DeadLetterList.Refusal current = refusalOf("doc", 7).judged(docs, docs.byId());
        assertEquals(java.util.OptionalLong.empty(), current.publishedAgain(), "the version the topic holds: it stands");
        assertEquals(false, current.past());
        assertEquals(java.util.OptionalLong.empty(), letter("doc", DOCUMENTS).judged(docs, docs.byId()).publishedAgain(),
                "a dead letter that names no version is not judged by one");
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

        assertEquals(true, letter("gone", DOCUMENTS).judged(docs, docs.byId()).deletedSince());
        assertEquals(true, letter("gone", "sac.recompress").judged(docs, docs.byId()).deletedSince(), "refused on a recompress request");
        assertEquals(false, letter("kept", DOCUMENTS).judged(docs, docs.byId()).deletedSince());
        assertEquals(true, letter("cleaned", DOCUMENTS).judged(docs, docs.byId()).deletedSince(),
                "read from this topic, no record left: deleted, and the tombstone cleaned since");
        assertEquals(false, letter("cleaned", "other.documents").judged(docs, docs.byId()).deletedSince(),
                "another documents topic than the one read: nothing known of it");
        DeadLetterList.Refusal dropped = letter(null, DOCUMENTS).judged(docs, docs.byId());
        assertEquals("(key dropped: 2000000 bytes)", dropped.docId());
        assertEquals(false, dropped.deletedSince(), "no key, no document to look up");
    }
}
