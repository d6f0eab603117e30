package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.schemas.CatalogKey;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class PublishedDocumentsTest {

    private static final String MODEL = "abc123def456";
    private final PublishedDocuments topic = new PublishedDocuments(DocumentCodec.withDefaults(), id -> !id.startsWith("other"));

    private static DocumentDraft draft(String text) {
        return new DocumentDraft("a", "default", OptionalLong.empty(), "Title", text, "docs/a.md", Map.of("k", "v"));
    }

    private void publish(DocumentDraft d, long version) {
        topic.accept(d.docId().getBytes(UTF_8), DocumentCodec.encodeAvro(d.toEvent(version, Instant.ofEpochMilli(version))),
                null, version);
    }

    static byte[] catalogValue(String docId, long version, String text) {
        return catalogValue(docId, "default", version, text == null ? "" : ContentHash.of(text));
    }

    static byte[] catalogValue(String docId, String tenant, long version, String contentHash) {
        AnchorCacheRecord r = AnchorCacheRecord.newBuilder().setDocId(docId).setTenant(tenant).setDocVersion(version)
                .setModelId(MODEL).setRatio(4).setTokenCount(10).setAnchorCount(3).setChunkCount(1).setRedisKey("k")
                .setBytes(100).setDtype("f16").setChecksum(1).setCompressedAt(Instant.EPOCH).setCompressMillis(5)
                .setContentHash(contentHash).build();
        try {
            return AnchorCacheRecord.getEncoder().encode(r).array();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The catalog holds {@code version} of document a with {@code text}, for {@code model}. */
    private void compressed(String model, long version, String text) {
        topic.acceptCatalog(CatalogKey.of("a", model).getBytes(UTF_8), catalogValue("a", version, text));
    }

    /** Published and compressed as it is. */
    private void held(DocumentDraft d, long version) {
        publish(d, version);
        compressed(MODEL, version, d.text());
    }

    @Test
    void aDraftAsTheTopicHoldsItAndCompressedAsItIsIsUnchangedWhateverItsPublishTime() {
        held(draft("Ada wrote notes."), 10);
        assertTrue(topic.unchanged(draft("Ada wrote notes.")));
        assertFalse(topic.unchanged(draft("Ada wrote more notes.")), "other text");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withTitle("Other")), "another title");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withTitle(null)), "no title is not an empty one");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withTenant("acme")), "another tenant");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withSource("elsewhere/a.md")), "another source");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withMetadata(Map.of("k", "w"))), "other metadata");
        assertFalse(topic.unchanged(new DocumentDraft("b", "default", OptionalLong.empty(), "Title", "Ada wrote notes.",
                "docs/a.md", Map.of("k", "v"))), "a document the topic does not hold");
        assertEquals(1, topic.documents());
    }

    @Test
    void anAbsentFieldIsNotAnEmptyOne() {
        held(draft("Ada wrote notes.").withSource(""), 10);
        assertTrue(topic.unchanged(draft("Ada wrote notes.").withSource("")));
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withSource(null)));
    }

    @Test
    void aDraftNamingAVersionIsUnchangedOnlyAtTheTopicsVersion() {
        held(draft("Ada wrote notes."), 10);
        assertTrue(topic.unchanged(draft("Ada wrote notes.").withVersion(10)), "a replay");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withVersion(11)), "the caller chose a new version");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withVersion(9)));
    }

    /** What the compressors and the index would ignore under {@link dev.sacrag.schemas.Succession}, said before it is sent. */
    @Test
    void aVersionBelowTheTopicsOrItsVersionWithOtherTextIsIgnoredByItsReaders() {
        publish(draft("Ada wrote notes."), 10);
        assertTrue(topic.ignored(draft("Ada wrote more notes.").withVersion(9)).orElseThrow()
                .startsWith("v9 is older than the topic's v10"));
        assertTrue(topic.ignored(draft("Ada wrote notes.").withVersion(9)).isPresent(), "older, whatever its text");
        assertTrue(topic.ignored(draft("Ada wrote more notes.").withVersion(10)).orElseThrow()
                .startsWith("v10 is on the topic with other text"));

        assertTrue(topic.ignored(draft("Ada wrote notes.").withVersion(10).withTitle("Renamed")).isEmpty(), "restated");
        assertTrue(topic.ignored(draft("Ada wrote more notes.").withVersion(11)).isEmpty(), "newer");
        assertTrue(topic.ignored(draft("Ada wrote more notes.")).isEmpty(), "stamped with the time at publishing");
        assertTrue(topic.ignored(new DocumentDraft("b", "default", OptionalLong.of(1), null, "x", null, Map.of()))
                .isEmpty(), "a document the topic does not hold");
        topic.accept("a".getBytes(UTF_8), null, null, 11);
        assertTrue(topic.ignored(draft("Ada wrote more notes.").withVersion(9)).isEmpty(), "a tombstone forgets the version");
    }

    @Test
    void metadataOrderAndTheRecordsFormatDoNotMatter() {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("a", "1");
        ab.put("b", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("b", "2");
        ba.put("a", "1");
        DocumentEvent json = draft("Ada wrote notes.").withMetadata(ba).toEvent(10, Instant.ofEpochMilli(10));
        topic.accept("a".getBytes(UTF_8), DocumentCodec.encodeJson(json).getBytes(UTF_8), DocumentCodec.JSON_CONTENT_TYPE, 10);
        compressed(MODEL, 10, "Ada wrote notes.");
        assertTrue(topic.unchanged(draft("Ada wrote notes.").withMetadata(ab)));
    }

    @Test
    void aJsonRecordNamingNoVersionStandsAtItsRecordTime() {
        topic.accept("a".getBytes(UTF_8), "{\"docId\":\"a\",\"title\":\"Title\",\"text\":\"Ada wrote notes.\",\"source\":\"docs/a.md\",\"metadata\":{\"k\":\"v\"}}"
                .getBytes(UTF_8), DocumentCodec.JSON_CONTENT_TYPE, 77);
        compressed(MODEL, 77, "Ada wrote notes.");
        assertTrue(topic.unchanged(draft("Ada wrote notes.")), "the compressor took it as v77, the record's time");
        assertTrue(topic.unchanged(draft("Ada wrote notes.").withVersion(77)));
    }

    @Test
    void theTopicsStandingFollowsTheCompressorsSuccessionRule() {
        publish(draft("first"), 10);
        publish(draft("second"), 12);
        publish(draft("older"), 11);   // ignored: lower than 12
        compressed(MODEL, 12, "second");
        assertTrue(topic.unchanged(draft("second")));
        assertFalse(topic.unchanged(draft("older")));

        publish(draft("conflicting"), 12);   // same version, other text: the first text of a version stands
        assertTrue(topic.unchanged(draft("second")));
        assertFalse(topic.unchanged(draft("conflicting")));

        publish(draft("second").withTitle("Renamed"), 12);   // same version, same text: restated
        assertTrue(topic.unchanged(draft("second").withTitle("Renamed")));
        assertFalse(topic.unchanged(draft("second")));
    }

    @Test
    void whatNoCompressorHoldsAsTheTopicHasItIsSent() {
        publish(draft("Ada wrote notes."), 10);
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "not compressed yet, or refused (TOO_LARGE, ENGINE_OOM)");

        compressed(MODEL, 9, "Ada wrote drafts.");
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "a compressor holds an older version: v10 was refused");
        compressed(MODEL, 9, "Ada wrote notes.");
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "the same text at an older version: v10 is not taken yet");

        compressed(MODEL, 10, "Ada wrote notes.");
        compressed("fedcba654321", 10, "Ada wrote notes.");
        assertTrue(topic.unchanged(draft("Ada wrote notes.")));

        compressed("fedcba654321", 12, "Ada wrote other notes.");
        assertFalse(topic.unchanged(draft("Ada wrote notes.")),
                "a compressor holds a version the topic no longer shows (compaction kept a lower one last)");
        topic.acceptCatalog(CatalogKey.of("a", "fedcba654321").getBytes(UTF_8), null);   // that model retired
        assertTrue(topic.unchanged(draft("Ada wrote notes.")));

        topic.acceptCatalog(CatalogKey.of("a", "fedcba654321").getBytes(UTF_8), new byte[] {1, 2, 3});
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "an entry this build cannot read is a doubt");
        topic.acceptCatalog(CatalogKey.of("a", "fedcba654321").getBytes(UTF_8), catalogValue("a", 10, null));
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "an entry without a content hash is a doubt");
    }

    @Test
    void aVersionAnyModelRefusedIsSentEvenWhereAnotherModelHoldsIt() {
        held(draft("Ada wrote notes."), 10);   // the old model holds v10
        assertTrue(topic.unchanged(draft("Ada wrote notes.")));
        // the new model of a rollout ran out of memory on it: it has no entry to disagree
        Map<String, String> headers = Map.of(DeadLetterHeaders.MODEL, "fedcba654321", DeadLetterHeaders.ERROR_REASON,
                "ENGINE_OOM", DeadLetterHeaders.DOC_VERSION, "10", DeadLetterHeaders.CONTENT_HASH, ContentHash.of("Ada wrote notes."));
        topic.acceptDeadLetter("a".getBytes(UTF_8), new byte[0], 5L, headers::get, DOCS);
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "publishing it again is how it is retried");
    }

    @Test
    void aRefusalOfAnotherVersionOrTextChangesNothingAndAnOlderDeadLetterIsDecoded() {
        held(draft("Ada wrote notes."), 10);
        Map<String, String> older = Map.of(DeadLetterHeaders.DOC_VERSION, "9", DeadLetterHeaders.CONTENT_HASH,
                ContentHash.of("Ada wrote notes."));
        topic.acceptDeadLetter("a".getBytes(UTF_8), new byte[0], 5L, older::get, DOCS);
        Map<String, String> other = Map.of(DeadLetterHeaders.DOC_VERSION, "10", DeadLetterHeaders.CONTENT_HASH,
                ContentHash.of("Ada wrote other notes."));
        topic.acceptDeadLetter("a".getBytes(UTF_8), new byte[0], 5L, other::get, DOCS);
        assertTrue(topic.unchanged(draft("Ada wrote notes.")));
        // a dead letter of a compressor before the version headers: its value is the document
        Map<String, String> decoded = Map.of(DeadLetterHeaders.SOURCE_TOPIC, DOCS, DeadLetterHeaders.SOURCE_TIMESTAMP, "10");
        topic.acceptDeadLetter("a".getBytes(UTF_8), DocumentCodec.encodeAvro(draft("Ada wrote notes.")
                .toEvent(10, Instant.EPOCH)), 5L, decoded::get, DOCS);
        assertFalse(topic.unchanged(draft("Ada wrote notes.")));
    }

    @Test
    void aCatalogEntryOfAnotherTenantIsADoubt() {
        publish(draft("Ada wrote notes."), 10);
        topic.acceptCatalog(CatalogKey.of("a", MODEL).getBytes(UTF_8), catalogValue("a", "acme", 10,
                ContentHash.of("Ada wrote notes.")));
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "restated into this tenant, the move not compressed");
    }

    @Test
    void aContentHashWithItsTopBitSetIsReadAsUnsigned() {
        String text = textWithTopBitSet();
        held(draft(text), 10);
        assertTrue(ContentHash.of(text).charAt(0) >= '8', ContentHash.of(text));
        assertTrue(topic.unchanged(draft(text)));
    }

    /** A text whose SHA-256 starts with a set bit (a negative long), found by counting. */
    private static String textWithTopBitSet() {
        for (int i = 0; ; i++) {
            String text = "Ada wrote notes " + i + ".";
            if (ContentHash.of(text).charAt(0) >= '8') {
                return text;
            }
        }
    }

    @Test
    void aTombstoneForgetsTheDocumentAndARecordThisReaderCannotTakeSendsIt() {
        held(draft("Ada wrote notes."), 10);
        topic.accept(null, new byte[] {1}, null, 11);
        assertTrue(topic.unchanged(draft("Ada wrote notes.")), "a record without a key is no document's");
        topic.accept("a".getBytes(UTF_8), "{not json".getBytes(UTF_8), DocumentCodec.JSON_CONTENT_TYPE, 11);
        assertFalse(topic.unchanged(draft("Ada wrote notes.")),
                "dead-lettered, or taken by a compressor of other limits or a newer schema: which, is not known here");

        held(draft("Ada wrote notes."), 12);
        topic.accept("a".getBytes(UTF_8), null, null, 13);
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "deleted: publishing it again brings it back");
        assertEquals(0, topic.documents());
    }

    @Test
    void recordsOfDocumentsOutsideTheRunAreNotKept() {
        topic.accept("other-1".getBytes(UTF_8), new byte[] {1}, null, 1);   // not even decoded
        topic.acceptCatalog(CatalogKey.of("other-1", MODEL).getBytes(UTF_8), new byte[] {1});
        assertEquals(0, topic.documents());
    }

    @Test
    void noneKnowsNothing() {
        assertFalse(PublishedDocuments.none().unchanged(draft("Ada wrote notes.")));
        assertTrue(PublishedDocuments.none().ignored(draft("Ada wrote notes.").withVersion(1)).isEmpty());
    }

    private static final String DOCS = "sac.documents";
    private static final String CATALOG = "sac.anchor-caches";
    private static final String DLQ = "sac.documents.dlq";
    private static final PublishedDocuments.Topics TOPICS = new PublishedDocuments.Topics(DOCS, CATALOG, DLQ);

    private static MockConsumer<byte[], byte[]> consumer(Map<String, Integer> partitions) {
        MockConsumer<byte[], byte[]> c = new MockConsumer<>(OffsetResetStrategy.NONE);
        Map<TopicPartition, Long> zero = new HashMap<>();
        partitions.forEach((topic, n) -> {
            List<PartitionInfo> infos = new ArrayList<>();
            for (int p = 0; p < n; p++) {
                infos.add(new PartitionInfo(topic, p, Node.noNode(), new Node[0], new Node[0]));
                zero.put(new TopicPartition(topic, p), 0L);
            }
            c.updatePartitions(topic, infos);
        });
        c.updateBeginningOffsets(zero);
        return c;
    }

    @Test
    void readTakesBothTopicsToTheirEndAndReportsOffsetsRead() throws Exception {
        MockConsumer<byte[], byte[]> c = consumer(Map.of(DOCS, 2, CATALOG, 1, DLQ, 1));
        byte[] doc = DocumentCodec.encodeAvro(draft("Ada wrote notes.").toEvent(10, Instant.EPOCH));
        c.updateEndOffsets(Map.of(new TopicPartition(DOCS, 0), 5L, new TopicPartition(DOCS, 1), 0L,
                new TopicPartition(CATALOG, 0), 1L, new TopicPartition(DLQ, 0), 0L));
        c.schedulePollTask(() -> {
            // offsets 0-3 compacted away: the position still reaches the end
            c.addRecord(new ConsumerRecord<>(DOCS, 0, 4, "a".getBytes(UTF_8), doc));
            c.addRecord(new ConsumerRecord<>(CATALOG, 0, 0, CatalogKey.of("a", MODEL).getBytes(UTF_8),
                    catalogValue("a", 10, "Ada wrote notes.")));
        });
        List<long[]> progress = new ArrayList<>();
        PublishedDocuments read = PublishedDocuments.read(c, "broker:9092", TOPICS, DocumentLimits.defaults(),
                Set.of("a"), Duration.ofSeconds(5), (done, total) -> progress.add(new long[] {done, total}));
        assertTrue(read.unchanged(draft("Ada wrote notes.")));
        assertTrue(read.catalog().found());
        assertTrue(read.deadLetters().found());
        long[] last = progress.get(progress.size() - 1);
        assertEquals(6, last[0], "offsets, compacted gaps included: the bar ends full");
        assertEquals(6, last[1]);
    }

    @Test
    void aMissingCatalogIsReportedAndAnEmptyTopicEndsAtOnce() throws Exception {
        MockConsumer<byte[], byte[]> c = consumer(Map.of(DOCS, 1));
        c.updateEndOffsets(Map.of(new TopicPartition(DOCS, 0), 0L));
        PublishedDocuments read = PublishedDocuments.read(c, "broker:9092", TOPICS, DocumentLimits.defaults(),
                Set.of("a"), Duration.ofSeconds(5), (done, total) -> { });
        assertFalse(read.catalog().found());
        assertFalse(read.deadLetters().found());
        assertEquals(0, read.documents());
    }

    /**
     * --catalog-topic or --dead-letter-topic naming the documents topic: it is read in each role
     * and every record counted as not of that kind, where it read as a catalog of nothing.
     */
    @Test
    void aTopicNamedAsCatalogOrDeadLetterTopicThatIsNeitherCountsEachRecordAsUnreadable() throws Exception {
        for (PublishedDocuments.Topics topics : List.of(new PublishedDocuments.Topics(DOCS, DOCS, DLQ),
                new PublishedDocuments.Topics(DOCS, CATALOG, DOCS))) {
            MockConsumer<byte[], byte[]> c = consumer(Map.of(DOCS, 1, CATALOG, 1, DLQ, 1));
            c.updateEndOffsets(Map.of(new TopicPartition(DOCS, 0), 2L, new TopicPartition(CATALOG, 0), 0L,
                    new TopicPartition(DLQ, 0), 0L));
            c.schedulePollTask(() -> {
                c.addRecord(new ConsumerRecord<>(DOCS, 0, 0, "a".getBytes(UTF_8),
                        DocumentCodec.encodeAvro(draft("Ada wrote notes.").toEvent(10, Instant.EPOCH))));
                c.addRecord(new ConsumerRecord<>(DOCS, 0, 1, "other-1".getBytes(UTF_8), null));
            });
            List<long[]> progress = new ArrayList<>();
            PublishedDocuments read = PublishedDocuments.read(c, "broker:9092", topics, DocumentLimits.defaults(),
                    Set.of("a"), Duration.ofSeconds(5), (done, total) -> progress.add(new long[] {done, total}));
            boolean asCatalog = topics.catalog().equals(DOCS);
            PublishedDocuments.Tally misnamed = asCatalog ? read.catalog() : read.deadLetters();
            assertEquals(new PublishedDocuments.Tally(true, 2, 2), misnamed, topics.toString());
            assertTrue(misnamed.noneReadable(), topics.toString());
            assertEquals(new PublishedDocuments.Tally(true, 0, 0), asCatalog ? read.deadLetters() : read.catalog());
            assertEquals(1, read.documents(), "still read as the documents topic");
            assertEquals(2, progress.get(progress.size() - 1)[1], "its offsets counted once");
        }
    }

    @Test
    void aCatalogEntryThisBuildCannotReadIsCountedAndOthersAreNot() {
        compressed(MODEL, 10, "Ada wrote notes.");
        topic.acceptCatalog(CatalogKey.of("a", "fedcba654321").getBytes(UTF_8), new byte[] {1, 2, 3});
        topic.acceptCatalog(CatalogKey.of("a", "0123456789ab").getBytes(UTF_8), null);
        topic.acceptCatalog("no-model".getBytes(UTF_8), catalogValue("a", 10, "Ada wrote notes."));
        topic.acceptCatalog(CatalogKey.of("other-1", MODEL).getBytes(UTF_8), new byte[] {1});   // not decoded
        assertEquals(new PublishedDocuments.Tally(false, 5, 2), topic.catalog());
        assertFalse(topic.catalog().noneReadable());

        topic.acceptDeadLetter("a".getBytes(UTF_8), new byte[0], 5L, Map.of(DeadLetterHeaders.ERROR_REASON, "TOO_LARGE")::get, DOCS);
        topic.acceptDeadLetter("a".getBytes(UTF_8), new byte[0], 5L, name -> null, DOCS);
        assertEquals(new PublishedDocuments.Tally(false, 2, 1), topic.deadLetters());
    }

    @Test
    void aReadThatStopsMovingFailsAfterTheTimeout() {
        MockConsumer<byte[], byte[]> c = consumer(Map.of(DOCS, 1, CATALOG, 1));
        c.updateEndOffsets(Map.of(new TopicPartition(DOCS, 0), 3L, new TopicPartition(CATALOG, 0), 0L));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PublishedDocuments.read(c, "broker:9092",
                TOPICS, DocumentLimits.defaults(), Set.of("a"), Duration.ofMillis(300), (done, total) -> { }));
        assertTrue(e.getMessage().contains("moved no further for --timeout 0s with 3 offsets left to read"), e.getMessage());
    }

    @Test
    void aTopicThePrincipalMayNotReadIsNamedForTheCallerToSendEverything() {
        MockConsumer<byte[], byte[]> c = consumer(Map.of(DOCS, 1, CATALOG, 1));
        c.updateEndOffsets(Map.of(new TopicPartition(DOCS, 0), 1L, new TopicPartition(CATALOG, 0), 0L));
        c.setPollException(new TopicAuthorizationException(Set.of(DOCS)));
        PublishedDocuments.NotReadable e = assertThrows(PublishedDocuments.NotReadable.class, () -> PublishedDocuments.read(c,
                "broker:9092", TOPICS, DocumentLimits.defaults(), Set.of("a"), Duration.ofSeconds(5), (d, t) -> { }));
        assertTrue(e.getMessage().startsWith("may not read " + DOCS + ", " + CATALOG + " and " + DLQ), e.getMessage());
    }
}
