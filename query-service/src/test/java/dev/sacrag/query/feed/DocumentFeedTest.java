package dev.sacrag.query.feed;

import dev.sacrag.query.TestAnchors;
import dev.sacrag.query.anchors.CacheKey;
import dev.sacrag.query.anchors.WarmCache;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.query.retrieval.DocumentIndex;
import dev.sacrag.query.retrieval.ScoredDoc;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DocumentFeedTest {

    private static final String TOPIC = "sac.documents";
    private final QueryMetrics metrics = QueryMetrics.inMemory();
    private final DocumentIndex index = new DocumentIndex();
    private final WarmCache cache = new WarmCache(1 << 20, metrics);
    private final DocumentPartitions partitions = new DocumentPartitions();
    private final DocumentFeed feed = new DocumentFeed(DocumentCodec.withDefaults(), index, cache::evictDoc, metrics,
            partitions);

    @AfterEach
    void close() {
        index.close();
    }

    private static byte[] avro(String docId, String tenant, long version, String text) {
        return DocumentCodec.encodeAvro(DocumentEvent.newBuilder().setDocId(docId).setTenant(tenant).setVersion(version)
                .setText(text).setMetadata(Map.of()).setPublishedAt(Instant.EPOCH).build());
    }

    private List<String> search(String tenant, String q) {
        return index.search(tenant, q, 5).stream().map(ScoredDoc::docId).toList();
    }

    @Test
    void indexesAvroAndJsonDocumentsAndAppliesTombstones() {
        Headers json = new RecordHeaders().add(DocumentCodec.CONTENT_TYPE_HEADER,
                DocumentCodec.JSON_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
        feed.handle(new FeedRecords(TOPIC)
                .add("a", avro("a", "t", 1, "Penguins live in Antarctica."))
                .add("b", "{\"docId\":\"b\",\"tenant\":\"t\",\"text\":\"Camels live in deserts.\"}".getBytes(StandardCharsets.UTF_8), json)
                .batch());
        assertEquals(List.of("a"), search("t", "penguins"));
        assertEquals(List.of("b"), search("t", "camels"));
        assertEquals(1_700_000_000_001L, index.find("b").orElseThrow().version(), "JSON without a version: the record time");

        CacheKey warmA = new CacheKey("t", "a", 1, "m", 0L);
        cache.put(warmA, TestAnchors.kv("m", 10, 2, 1), WarmCache.Admission.EVICT_LRU);
        feed.handle(new FeedRecords(TOPIC).add("a", null).batch());
        assertEquals(List.of(), search("t", "penguins"));
        assertFalse(cache.contains(warmA), "a deleted document leaves the cache at once");
    }

    @Test
    void skipsDocumentsTheCompressorWouldDeadLetter() {
        feed.handle(new FeedRecords(TOPIC)
                .add("x", "garbage".getBytes(StandardCharsets.UTF_8))
                .add("e", avro("e", "t", 1, "   "))
                .add("b", avro("a", "t", 1, "Filed under another document's key."))
                .add("ok", avro("ok", "t", 1, "Otters hold hands."))
                .batch());
        assertEquals(1, index.size());
        assertTrue(index.find("ok").isPresent());
        assertTrue(index.find("a").isEmpty(), "a document under another key was indexed");
        assertEquals(3.0, metrics.registry().get("sac.query.feed.records").tag("result", "bad").counter().count());
    }

    /** The partition a document was published to (by any partitioner) is where its recompress requests must go. */
    @Test
    void remembersEachDocumentsPartitionUntilItIsDeleted() {
        feed.handle(new FeedRecords(TOPIC)
                .addOn(4, "a", avro("a", "t", 1, "Penguins live in Antarctica."), new RecordHeaders())
                .addOn(2, "b", avro("b", "t", 1, "Camels live in deserts."), new RecordHeaders())
                .batch());
        assertEquals(OptionalInt.of(4), partitions.of("a"));
        assertEquals(OptionalInt.of(2), partitions.of("b"));
        assertEquals(OptionalInt.empty(), partitions.of("never-seen"));
        feed.handle(new FeedRecords(TOPIC).addOn(4, "a", null, new RecordHeaders()).batch());
        assertEquals(OptionalInt.empty(), partitions.of("a"), "a deleted document has no partition to ask");
    }
}
