package dev.sacrag.query.feed;

import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dead letters become refusals of the version they hold, as the index took that version. */
class RefusalFeedTest {

    private static final String DOCUMENTS = "sac.documents";
    private static final String MODEL = "abc123def456";
    private final Refusals refusals = new Refusals();
    private final RefusalFeed feed = new RefusalFeed(DocumentCodec.withDefaults(), refusals, DOCUMENTS,
            QueryMetrics.inMemory());

    private static final String TEXT_HASH = ContentHash.of("A long document.");

    private static byte[] avro(String docId, long version) {
        return DocumentCodec.encodeAvro(DocumentEvent.newBuilder().setDocId(docId).setTenant("default").setVersion(version)
                .setText("A long document.").setMetadata(Map.of()).setPublishedAt(Instant.EPOCH).build());
    }

    private static Headers deadLetter(String sourceTopic, String model, String reason, long sourceTimestamp) {
        Headers h = new RecordHeaders();
        put(h, DeadLetterHeaders.SOURCE_TOPIC, sourceTopic);
        put(h, DeadLetterHeaders.SOURCE_TIMESTAMP, Long.toString(sourceTimestamp));
        put(h, DeadLetterHeaders.ERROR_REASON, reason);
        put(h, DeadLetterHeaders.ERROR_MESSAGE, reason + ": document has 4100 tokens, limit 2048 (--max-doc-tokens)");
        if (model != null) {
            put(h, DeadLetterHeaders.MODEL, model);
        }
        return h;
    }

    private static void put(Headers h, String name, String value) {
        h.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aDeadLetterOfTheDocumentsTopicIsARefusalOfTheVersionItHolds() {
        feed.handle(new FeedRecords("sac.documents.dlq").add("long", avro("long", 7), deadLetter(DOCUMENTS, MODEL, "TOO_LARGE", 5))
                .batch());
        DeadLetter r = refusals.of("long", 7, TEXT_HASH, MODEL).orElseThrow();
        assertEquals(Optional.of(MODEL), r.modelId());
        assertEquals("refused by the compressor of model " + MODEL + ": TOO_LARGE (document has 4100 tokens, limit 2048"
                + " (--max-doc-tokens))", Refusals.why(r));
        assertEquals(Optional.empty(), refusals.of("long", 8, TEXT_HASH, MODEL), "a later version is not refused");
        assertEquals(Optional.empty(), refusals.of("long", 7, ContentHash.of("other"), MODEL), "nor other text");
        assertEquals(Optional.empty(), refusals.of("long", 7, TEXT_HASH, "ffffffffffff"), "another model may take it");
    }

    @Test
    void aJsonDocumentNamingNoVersionIsRefusedAtItsOriginalRecordsTime() {
        Headers h = deadLetter(DOCUMENTS, null, "EMPTY_TEXT", 1_234L);
        put(h, DocumentCodec.CONTENT_TYPE_HEADER, DocumentCodec.JSON_CONTENT_TYPE);
        feed.handle(new FeedRecords("sac.documents.dlq")
                .add("j", "{\"docId\":\"j\",\"text\":\"x\"}".getBytes(StandardCharsets.UTF_8), h).batch());
        assertTrue(refusals.of("j", 1_234L, ContentHash.of("x"), MODEL).isPresent(),
                "the index took it at the same version; no model: all models");
    }

    @Test
    void aModelsRefusalNamesItsVersionAndTextInHeadersWhateverTheValue() {
        Headers h = deadLetter("sac.recompress", MODEL, "ENGINE_OOM", 5);   // a recompress request's dead letter
        put(h, DeadLetterHeaders.DOC_VERSION, "9");
        put(h, DeadLetterHeaders.CONTENT_HASH, TEXT_HASH);
        put(h, DeadLetterHeaders.VALUE_DROPPED, "9000000");
        feed.handle(new FeedRecords("sac.documents.dlq").add("big", new byte[0], h).batch());
        assertEquals("ENGINE_OOM", refusals.of("big", 9, TEXT_HASH, MODEL).orElseThrow().reason());
    }

    /** A document the compressor set aside after failing on it again and again is refused with its own remedy. */
    @Test
    void aRecordSetAsideAfterRepeatedFailuresIsARefusalWithItsRemedy() {
        Headers h = deadLetter(DOCUMENTS, MODEL, "PROCESSING_FAILED", 5);
        put(h, DeadLetterHeaders.DOC_VERSION, "4");
        put(h, DeadLetterHeaders.CONTENT_HASH, TEXT_HASH);
        feed.handle(new FeedRecords("sac.documents.dlq").add("p", avro("p", 4), h).batch());
        String remedy = Refusals.remedy(refusals.of("p", 4, TEXT_HASH, MODEL).orElseThrow());
        assertTrue(remedy.startsWith("the compressor failed on it again and again"), remedy);
    }

    @Test
    void deadLettersThatExplainNothingTheIndexHoldsArePassedOver() {
        Headers dropped = deadLetter(DOCUMENTS, MODEL, "TOO_LARGE", 5);
        put(dropped, DeadLetterHeaders.VALUE_DROPPED, "9000000");
        feed.handle(new FeedRecords("sac.documents.dlq")
                .add("a", avro("a", 1), deadLetter("sac.recompress", MODEL, "COMPRESSION_FAILED", 5))
                .add("b", "not a document".getBytes(StandardCharsets.UTF_8), deadLetter(DOCUMENTS, null, "MALFORMED", 5))
                .add("c", new byte[0], dropped)
                .add(null, avro("e", 1), deadLetter(DOCUMENTS, null, "INVALID_FIELD", 5))
                .batch());
        assertEquals(0, refusals.all().size(), refusals.all().toString());
    }

    @Test
    void aDeadLetterWithoutTheRecordsTimeIsReadAtItsOwnTimestampTheOriginalsThen() {
        // written by a compressor from before the source-timestamp header, which kept the original record's
        // timestamp: the version of a JSON document naming none
        Headers avro = deadLetter(DOCUMENTS, MODEL, "TOO_LARGE", 5);
        avro.remove(DeadLetterHeaders.SOURCE_TIMESTAMP);
        Headers json = deadLetter(DOCUMENTS, MODEL, "TOO_LARGE", 5);
        json.remove(DeadLetterHeaders.SOURCE_TIMESTAMP);
        put(json, DocumentCodec.CONTENT_TYPE_HEADER, DocumentCodec.JSON_CONTENT_TYPE);
        Headers unversioned = deadLetter(DOCUMENTS, MODEL, "TOO_LARGE", 5);
        unversioned.remove(DeadLetterHeaders.SOURCE_TIMESTAMP);
        put(unversioned, DocumentCodec.CONTENT_TYPE_HEADER, DocumentCodec.JSON_CONTENT_TYPE);
        feed.handle(new FeedRecords("sac.documents.dlq")
                .add("d", avro("d", 4), avro)
                .add("j", "{\"docId\":\"j\",\"version\":6,\"text\":\"x\"}".getBytes(StandardCharsets.UTF_8), json)
                .add("u", "{\"docId\":\"u\",\"text\":\"x\"}".getBytes(StandardCharsets.UTF_8), unversioned)
                .batch());
        assertTrue(refusals.of("d", 4, TEXT_HASH, MODEL).isPresent(), "an Avro document names its version");
        assertTrue(refusals.of("j", 6, ContentHash.of("x"), MODEL).isPresent(), "so does this JSON one");
        long third = 1_700_000_000_002L;   // FeedRecords' timestamp of the batch's third record
        assertTrue(refusals.of("u", third, ContentHash.of("x"), MODEL).isPresent(), "a JSON document naming no version"
                + " has the dead letter's timestamp, the original record's then: " + refusals.all());
        assertEquals(3, refusals.all().size(), refusals.all().toString());
    }

    @Test
    void theRefusalOfTheHighestVersionIsKeptPerModel() {
        feed.handle(new FeedRecords("sac.documents.dlq")
                .add("x", avro("x", 3), deadLetter(DOCUMENTS, MODEL, "ENGINE_OOM", 5))
                .add("x", avro("x", 2), deadLetter(DOCUMENTS, MODEL, "TOO_LARGE", 5))
                .add("x", avro("x", 2), deadLetter(DOCUMENTS, "ffffffffffff", "TOO_LARGE", 5))
                .batch());
        assertEquals("ENGINE_OOM", refusals.of("x", 3, TEXT_HASH, MODEL).orElseThrow().reason());
        assertEquals(Optional.empty(), refusals.of("x", 2, TEXT_HASH, MODEL), "replayed out of order: the lower version is history");
        assertTrue(refusals.of("x", 2, TEXT_HASH, "ffffffffffff").isPresent(), "another model's refusal is its own");
        assertTrue(Refusals.remedy(refusals.of("x", 3, TEXT_HASH, MODEL).orElseThrow()).contains("once the compressor has more memory"));
        refusals.forget("x");
        assertEquals(0, refusals.all().size());
    }

    @Test
    void aBatchThatFailsIsAppliedAgainWholeSoEveryModelsRefusalOfADocumentIsKept() {
        // a dead letter under the document's key that fails to apply, then two models' refusals of that document:
        // applied again key by key, only the key's last record (the second model's) would come back
        TopicFollower.Handler failingOnFirst = new TopicFollower.Handler() {
            @Override
            public void handle(org.apache.kafka.clients.consumer.ConsumerRecords<byte[], byte[]> records) {
                for (var r : records) {
                    if (r.offset() == 0) {
                        throw new IllegalStateException("a bug, on the first record");
                    }
                }
                feed.handle(records);
            }

            @Override
            public boolean keepsLatestPerKey() {
                return feed.keepsLatestPerKey();
            }
        };
        TopicFollower.applyBatch(failingOnFirst, "sac.documents.dlq", new FeedRecords("sac.documents.dlq")
                .add("x", avro("x", 4), deadLetter(DOCUMENTS, MODEL, "COMPRESSION_FAILED", 5))
                .add("x", avro("x", 3), deadLetter(DOCUMENTS, MODEL, "ENGINE_OOM", 5))
                .add("x", avro("x", 3), deadLetter(DOCUMENTS, "ffffffffffff", "TOO_LARGE", 5))
                .batch());
        assertEquals("ENGINE_OOM", refusals.of("x", 3, TEXT_HASH, MODEL).orElseThrow().reason());
        assertEquals("TOO_LARGE", refusals.of("x", 3, TEXT_HASH, "ffffffffffff").orElseThrow().reason());
        assertEquals(2, refusals.all().size(), "the failing record is skipped: " + refusals.all());
    }
}
