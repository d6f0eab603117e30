package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.BlobKey;
import dev.sacrag.query.catalog.CatalogEntry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static dev.sacrag.cli.warming.BlobSweep.Verdict.DOCUMENT_GONE;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.LIVE;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.NOT_OURS;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.PENDING;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.SUPERSEDED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlobSweepTest {

    private static final BlobKey V5 = BlobKey.of("acme", "3f9a0c1d2e4b", "guides/setup.md", 5);

    private static Optional<BlobSweep.DocLife> life(Long... versions) {
        return Optional.of(new BlobSweep.DocLife(Set.of(versions), Set.of("acme"), false));
    }

    private static Optional<BlobSweep.DocLife> lifeAfterTombstone(Long... versions) {
        return Optional.of(new BlobSweep.DocLife(Set.of(versions), Set.of("acme"), true));
    }

    @Test
    void whatTheCatalogNamesOrMayYetNameIsNeverSwept() {
        assertEquals(LIVE, BlobSweep.judge(V5, Optional.of(5L), true, life(5L)));
        assertEquals(LIVE, BlobSweep.judge(V5, Optional.of(5L), true, Optional.empty()),
                "deleted, the compressor not there yet: it removes the blob itself");
        assertEquals(PENDING, BlobSweep.judge(V5, Optional.of(4L), true, life(4L, 5L)), "a newer version may not be committed yet");
        assertEquals(PENDING, BlobSweep.judge(V5, Optional.empty(), true, life(5L)), "a live document's first compression");
        assertEquals(PENDING, BlobSweep.judge(V5, Optional.empty(), true, life()), "a record that did not decode still holds it");
        assertEquals(PENDING, BlobSweep.judge(V5, Optional.of(9L), true, life(5L)),
                "deleted at v9 and published again at v5: the catalog's v9 entry is of the document's earlier life");
        assertEquals(PENDING, BlobSweep.judge(V5, Optional.of(6L), true, lifeAfterTombstone(5L, 6L)),
                "deleted at v6, published again at v5 and at a v6 the model refuses: the v6 entry may be the earlier"
                        + " life's, and v5's blob, its entry not committed yet, the one to serve");
        assertEquals(SUPERSEDED, BlobSweep.judge(V5, Optional.of(6L), true, lifeAfterTombstone(6L)),
                "v5 is not of this life: superseded whichever life the entry is of");
    }

    @Test
    void anOlderVersionThanTheCatalogsOfThisLifeOrADocumentGoneIsSwept() {
        assertEquals(SUPERSEDED, BlobSweep.judge(V5, Optional.of(6L), true, life(5L, 6L)));
        assertEquals(SUPERSEDED, BlobSweep.judge(V5, Optional.of(6L), true, life(6L)), "compaction kept the latest only");
        assertEquals(SUPERSEDED, BlobSweep.judge(V5, Optional.of(6L), true, Optional.empty()));
        assertEquals(DOCUMENT_GONE, BlobSweep.judge(V5, Optional.empty(), true, Optional.empty()));
    }

    @Test
    void anotherDeploymentsBlobIsNeverJudged() {
        for (Optional<Long> v : java.util.List.of(Optional.<Long>empty(), Optional.of(6L))) {
            for (Optional<BlobSweep.DocLife> l : java.util.List.of(Optional.<BlobSweep.DocLife>empty(), life(6L))) {
                assertEquals(NOT_OURS, BlobSweep.judge(V5, v, false, l));
            }
        }
        assertTrue(SUPERSEDED.swept && DOCUMENT_GONE.swept);
        assertFalse(LIVE.swept || PENDING.swept || NOT_OURS.swept);
    }

    @Test
    void aLiveDocumentsEntryWhoseBlobTheScanDidNotFindIsMissing() {
        BlobSweep.Documents docs = documents("a", "b", "c");
        docs.apply(record("c", null, 9));   // deleted: its compressor removes the entry, nothing rebuilds it
        List<CatalogEntry> entries = List.of(entry("acme", "a", 2, "m1"), entry("acme", "b", 1, "m1"),
                entry("acme", "c", 1, "m1"), entry("acme", "a", 2, "m2"), entry("other", "b", 1, "m2"));
        Set<BlobKey> found = Set.of(BlobKey.of("acme", "m1", "a", 2), BlobKey.of("acme", "m2", "a", 1));

        assertEquals(Map.of("m1", 1L, "m2", 2L), BlobSweep.missingBlobs(entries, found, docs, Optional.empty()),
                "b of m1; a of m2, whose blob found is of another version; other's b");
        assertEquals(Map.of("m1", 1L, "m2", 1L), BlobSweep.missingBlobs(entries, found, docs, Optional.of("acme")),
                "another tenant's blobs were not scanned");
        assertEquals(Map.of(), BlobSweep.missingBlobs(entries.subList(0, 1), found, docs, Optional.empty()));
    }

    @Test
    void theNoteOfMissingBlobsNamesTheRebuildOfEachModel() {
        assertEquals(Optional.empty(), summary(Map.of()).missingNote());
        assertEquals(Optional.of("docs sweep: note: 1 catalog entry of live documents names a blob Redis does not hold"
                + " (1 of model m1): questions about them wait for a recompression (Redis restarted without persistence,"
                + " was flushed, or evicted them?); 'sac warm --rebuild --model-id m1' compresses them again"),
                summary(Map.of("m1", 1L)).missingNote());
        String two = summary(new java.util.TreeMap<>(Map.of("m1", 3L, "m2", 2L))).missingNote().orElseThrow();
        assertTrue(two.startsWith("docs sweep: note: 5 catalog entries of live documents name a blob Redis does not hold"
                + " (3 of model m1, 2 of model m2)") && two.endsWith("'sac warm --rebuild --model-id ID' for each"
                + " compresses them again"), two);
    }

    private static BlobSweep.Summary summary(Map<String, Long> missing) {
        return new BlobSweep.Summary(Map.of(), 0, 0, false, missing);
    }

    private static BlobSweep.Documents documents(String... docIds) {
        BlobSweep.Documents docs = new BlobSweep.Documents();
        for (int i = 0; i < docIds.length; i++) {
            docs.apply(record(docIds[i], 1L, i));
        }
        return docs;
    }

    private static org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record(String docId, Long version,
                                                                                          long offset) {
        return new org.apache.kafka.clients.consumer.ConsumerRecord<>("sac.documents", 0, offset,
                docId.getBytes(java.nio.charset.StandardCharsets.UTF_8), version == null ? null
                : dev.sacrag.schemas.DocumentCodec.encodeAvro(dev.sacrag.schemas.avro.DocumentEvent.newBuilder()
                        .setDocId(docId).setTenant("acme").setVersion(version).setText("text")
                        .setMetadata(Map.of()).setPublishedAt(java.time.Instant.EPOCH).build()));
    }

    private static CatalogEntry entry(String tenant, String docId, long version, String modelId) {
        return new CatalogEntry(tenant, docId, version, modelId, 4, 100, 25, 1,
                dev.sacrag.kvstore.RedisKeys.blobKey(tenant, modelId, docId, version), 1000, "f16", 0,
                java.time.Instant.EPOCH, 10);
    }

    @Test
    void theDocumentsTopicTellsALifeAfterATombstoneFromAFirstOne() {
        BlobSweep.Documents docs = new BlobSweep.Documents();
        long[] offset = {0};
        java.util.function.BiConsumer<String, Long> publish = (docId, version) -> docs.apply(new org.apache.kafka.clients
                .consumer.ConsumerRecord<>("sac.documents", 0, offset[0]++, docId.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                version == null ? null : dev.sacrag.schemas.DocumentCodec.encodeAvro(dev.sacrag.schemas.avro.DocumentEvent
                        .newBuilder().setDocId(docId).setTenant("acme").setVersion(version).setText("text")
                        .setMetadata(java.util.Map.of()).setPublishedAt(java.time.Instant.EPOCH).build())));
        publish.accept("a", 1L);
        publish.accept("a", 2L);
        publish.accept("b", 2L);
        publish.accept("b", null);
        publish.accept("b", 1L);
        publish.accept("c", 3L);
        publish.accept("c", null);

        assertEquals(new BlobSweep.DocLife(Set.of(1L, 2L), Set.of("acme"), false), docs.life("a").orElseThrow());
        assertEquals(new BlobSweep.DocLife(Set.of(1L), Set.of("acme"), true), docs.life("b").orElseThrow());
        assertTrue(docs.life("c").isEmpty(), "deleted");
    }
}
