package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.schemas.CatalogKey;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The production topology in TopologyTestDriver, with a fake model and an in-memory blob store. */
class CompressorTopologyTest {

    static final CompressorTopics TOPICS = CompressorTopics.defaults();
    static final String MODEL = FakeCompressor.MODEL_ID;
    static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");

    /** The collaborators' clock: {@link #NOW} until a test moves it on. */
    private final MovableClock clock = new MovableClock();

    private static final class MovableClock extends Clock {
        private Instant now = NOW;

        void advance(java.time.Duration by) {
            now = now.plus(by);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return Clock.fixed(now, zone);
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
    static final int MAX_CHARS = 500;
    static final int MAX_TOKENS = 40;
    static final int MAX_VALUE_BYTES = 4096;
    static final Duration RETIRE_GRACE = Duration.ofSeconds(90);

    @TempDir
    Path stateDir;

    final FakeCompressor model = new FakeCompressor();
    final InMemoryBlobStore redis = new InMemoryBlobStore();
    final CompressorMetrics metrics = new CompressorMetrics(new SimpleMeterRegistry(), CompressorTopics.defaults(),
            Duration.ofSeconds(60));
    Topology topology;
    TopologyTestDriver driver;
    TestInputTopic<String, byte[]> documents;
    TestInputTopic<String, byte[]> recompress;
    TestOutputTopic<String, AnchorCacheRecord> catalog;
    TestOutputTopic<byte[], byte[]> deadLetters;

    @BeforeEach
    void start() {
        start(settings(new DocumentLimits(MAX_VALUE_BYTES, MAX_CHARS).maxStoredBytes()));
    }

    static CompressionSettings settings(long deadLetterMaxBytes) {
        return new CompressionSettings(new DocumentLimits(MAX_VALUE_BYTES, MAX_CHARS), MAX_TOKENS,
                KvDtype.F32, Optional.empty(),
                new RetryPolicy(Duration.ofMillis(5), Duration.ofMillis(40), Duration.ofMillis(250)),
                Duration.ofSeconds(5), deadLetterMaxBytes, RETIRE_GRACE, CompressorConfig.DEFAULT_MAX_RECORD_FAILURES);
    }

    void start(CompressionSettings settings) {
        topology = CompressorTopology.build(TOPICS, settings,
                new Collaborators(model, redis, metrics, clock));
        drive();
    }

    /**
     * What a failed stream thread's replacement does, with nothing committed before the failure:
     * new tasks of the same topology (its shared collaborators kept) read the partitions again from
     * their first offset, with empty stores (the driver cleans its state directory on close).
     */
    void replay() {
        driver.close();
        drive();
    }

    private void drive() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "compressor-topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(topology, props);
        documents = driver.createInputTopic(TOPICS.documents(), new StringSerializer(), new ByteArraySerializer());
        recompress = driver.createInputTopic(TOPICS.recompress(), new StringSerializer(), new ByteArraySerializer());
        catalog = driver.createOutputTopic(TOPICS.catalog(), new StringDeserializer(),
                CompressorSerdes.anchorCacheRecord().deserializer());
        deadLetters = driver.createOutputTopic(TOPICS.deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    static DocumentEvent doc(String docId, long version, String text) {
        return DocumentEvent.newBuilder().setDocId(docId).setTenant("acme").setVersion(version).setText(text)
                .setMetadata(Map.of()).setPublishedAt(NOW).build();
    }

    void publishAvro(DocumentEvent doc) {
        publish(doc.getDocId(), DocumentCodec.encodeAvro(doc), DocumentCodec.AVRO_CONTENT_TYPE);
    }

    void publish(String key, byte[] value, String contentType) {
        Headers headers = new RecordHeaders();
        if (contentType != null) {
            headers.add(DocumentCodec.CONTENT_TYPE_HEADER, contentType.getBytes(StandardCharsets.UTF_8));
        }
        documents.pipeInput(new TestRecord<>(key, value, headers, NOW));
    }

    void requestRecompress(String docId, String json) {
        recompress.pipeInput(docId, json.getBytes(StandardCharsets.UTF_8));
    }

    static String keyOf(String docId, long version) {
        return RedisKeys.blobKey("acme", MODEL, docId, version);
    }

    double count(String name, String... tags) {
        return metrics.count(name, tags);
    }

    @Test
    void compressesAnAvroDocumentIntoABlobAndACatalogRecord() {
        publishAvro(doc("doc-1", 10, "alpha beta gamma delta epsilon"));

        TestRecord<String, AnchorCacheRecord> out = catalog.readRecord();
        assertEquals("doc-1|" + MODEL, out.key());
        AnchorCacheRecord r = out.value();
        byte[] blob = redis.blobs.get(keyOf("doc-1", 10));
        assertNotNull(blob, "blob written under the versioned key; Redis holds " + redis.blobs.keySet());
        AnchorKv kv = AnchorKvCodec.decode(blob, MODEL);
        assertEquals(7, kv.tokenCount(), "2 prompt tokens + 5 words");
        assertEquals("doc-1", r.getDocId());
        assertEquals("acme", r.getTenant());
        assertEquals(10, r.getDocVersion());
        assertEquals(MODEL, r.getModelId());
        assertEquals(FakeCompressor.RATIO, r.getRatio());
        assertEquals(kv.tokenCount(), r.getTokenCount());
        assertEquals(kv.anchorCount(), r.getAnchorCount());
        assertEquals(1, r.getChunkCount());
        assertEquals(keyOf("doc-1", 10), r.getRedisKey());
        assertEquals(blob.length, r.getBytes());
        assertEquals("f32", r.getDtype());
        CRC32C crc = new CRC32C();
        crc.update(blob, 0, blob.length - 4);
        assertEquals(crc.getValue(), r.getChecksum(), "the CRC the blob carries, of every byte before it");
        assertEquals(NOW, r.getCompressedAt());
        assertEquals(ContentHash.of("alpha beta gamma delta epsilon"), r.getContentHash());
        assertEquals(DocumentCodec.AVRO_CONTENT_TYPE, header(out.headers(), DocumentCodec.CONTENT_TYPE_HEADER));
        assertTrue(catalog.isEmpty());
        assertEquals(1, count("documents.compressed"));
        assertEquals(1, count("records.in", "topic", TOPICS.documents()));
        assertEquals(blob.length, metrics.registry().get("sac.compressor.bytes.written").counter().count());
        assertEquals(1, metrics.registry().get("sac.compressor.compress.time").timer().count());
    }

    @Test
    void compressesAJsonDocumentDetectedByItsLeadingBraceWithTheRecordTimeAsVersion() {
        publish("doc-json", "{\"docId\":\"doc-json\",\"tenant\":\"acme\",\"text\":\"plain json text\"}"
                .getBytes(StandardCharsets.UTF_8), null);

        AnchorCacheRecord r = catalog.readValue();
        assertEquals(NOW.toEpochMilli(), r.getDocVersion(), "a JSON document without version takes the record time");
        assertTrue(redis.blobs.containsKey(keyOf("doc-json", NOW.toEpochMilli())));
        assertTrue(model.compressedText("plain json text"));
    }

    /** A producer still on the previous schema jar: its records carry that schema's fingerprint. */
    @Test
    void compressesADocumentWrittenWithAnOlderSchema() throws Exception {
        org.apache.avro.Schema v1 = dev.sacrag.schemas.SchemaHistory.olderDocumentEvents().get(0);
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(v1);
        old.put("docId", "doc-v1");
        old.put("tenant", "acme");
        old.put("version", 3L);
        old.put("title", null);
        old.put("text", "written by an old producer");
        old.put("publishedAt", NOW.toEpochMilli());
        java.nio.ByteBuffer bytes = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
                org.apache.avro.generic.GenericData.get(), v1).encode(old);
        byte[] value = new byte[bytes.remaining()];
        bytes.get(value);
        publish("doc-v1", value, DocumentCodec.AVRO_CONTENT_TYPE);

        assertTrue(deadLetters.isEmpty(), "dead-lettered as an unknown schema");
        assertEquals(3, catalog.readValue().getDocVersion());
        assertTrue(model.compressedText("written by an old producer"));
    }

    @Test
    void anUpdateReplacesTheBlobAndRetiresTheOldOneWithAGraceNotADelete() {
        publishAvro(doc("doc-1", 1, "first text"));
        byte[] first = redis.blobs.get(keyOf("doc-1", 1));
        publishAvro(doc("doc-1", 2, "second different text"));

        List<AnchorCacheRecord> out = catalog.readValuesToList();
        assertEquals(2, out.size());
        assertEquals(keyOf("doc-1", 2), out.get(1).getRedisKey());
        assertEquals(List.of(keyOf("doc-1", 2)), redis.liveKeys(), "only the new version's blob is left to live");
        // until the transaction holding v2's catalog record commits, readers are pointed at v1
        assertArrayEquals(first, redis.blobs.get(keyOf("doc-1", 1)), "the old blob is still readable");
        assertEquals(Map.of(keyOf("doc-1", 1), RETIRE_GRACE), redis.expiring);
        assertEquals(2, model.compressions());
    }

    @Test
    void skipsAVersionOlderThanTheCompressedOne() {
        publishAvro(doc("doc-1", 5, "newer text"));
        publishAvro(doc("doc-1", 3, "older text arriving late"));

        assertEquals(1, catalog.readValuesToList().size());
        assertEquals(List.of(keyOf("doc-1", 5)), List.copyOf(redis.blobs.keySet()));
        assertEquals(1, model.compressions());
        assertEquals(1, count("documents.skipped", "reason", "older"));
    }

    /**
     * The query service's index takes a refused version as the document's (it never learns of the
     * refusal): a lower version, or the refused one with other text, compressed here would be
     * answered from beside the refused text the index searches (found in live QA).
     */
    @Test
    void aRefusedVersionCountsInTheVersionRulesAsACompressedOneDoes() {
        publishAvro(doc("doc-1", 5, "short"));
        publishAvro(doc("doc-1", 100, "w ".repeat(MAX_TOKENS)));   // refused: over the token limit
        assertEquals(1, deadLetters.readRecordsToList().size());
        publishAvro(doc("doc-1", 50, "a lower version, short"));
        publishAvro(doc("doc-1", 100, "the refused version with other text"));
        assertEquals(1, model.compressions(), "neither is compressed");
        assertEquals(1, count("documents.skipped", "reason", "older"));
        assertEquals(1, count("documents.skipped", "reason", "not-newer"));

        publishAvro(doc("doc-1", 100, "w ".repeat(MAX_TOKENS)));   // the same again: tried again (a retry), refused again
        assertEquals(1, deadLetters.readRecordsToList().size());
        assertEquals(ContentHash.of("w ".repeat(MAX_TOKENS)), refusedMarker("doc-1").split(":")[1]);
        publishAvro(doc("doc-1", 101, "fixed"));
        assertEquals(2, model.compressions());
        assertEquals(101, catalog.readValuesToList().get(1).getDocVersion());
        assertEquals(null, refusedMarker("doc-1"), "compressed at a higher version: the refusal is history");
        publishAvro(doc("doc-1", 60, "lower than the compressed 101"));
        assertEquals(2, count("documents.skipped", "reason", "older"), "the compressed version rules again");

        publishAvro(doc("doc-2", 9, "w ".repeat(MAX_TOKENS)));   // refused, never compressed
        publishAvro(doc("doc-2", 8, "lower than the refused 9, nothing compressed"));
        assertEquals(3, count("documents.skipped", "reason", "older"), "a refusal stands without a compressed version too");
        publish("doc-2", null, null);   // deleted: the refusal goes with it
        assertEquals(null, refusedMarker("doc-2"));
        publishAvro(doc("doc-2", 3, "a new life under a lower version"));
        assertEquals(3, model.compressions(), "a deleted document's refusal does not stand for its next life");
    }

    /** The refused-versions marker of {@code docId}: "version:contentHash", or null. */
    private String refusedMarker(String docId) {
        org.apache.kafka.streams.state.KeyValueStore<String, String> store = driver.getKeyValueStore(CompressorTopology.REFUSED_STORE);
        return store.get(docId);
    }

    @Test
    void aVersionTooLargeToStoreIsRefusedAfterTheVersionRulesAndCountsAsRefused() {
        restartWithValuesOfAMebibyte();
        publishAvro(doc("doc-1", 5, "short text"));   // the text of controlTitled: v100 would be a reuse but for its store size
        publishAvro(controlTitled(3));   // older: skipped, not dead-lettered
        assertEquals(1, count("documents.skipped", "reason", "older"));
        assertTrue(deadLetters.isEmpty(), "an older version is skipped before its stored form is measured");
        publishAvro(controlTitled(100));
        assertEquals("TOO_LARGE", header(deadLetters.readRecord().headers(), DeadLetterHeaders.ERROR_REASON));
        publishAvro(doc("doc-1", 50, "lower than the refused 100"));
        assertEquals(2, count("documents.skipped", "reason", "older"), "the index keeps v100: so does the compressor");
        assertEquals(1, model.compressions());
    }

    /**
     * Starts the topology again with values of up to 1 MiB (the test's character limit kept): room
     * for a value whose stored JSON form is over the store's changelog limit. Returns the limits.
     */
    private DocumentLimits restartWithValuesOfAMebibyte() {
        driver.close();
        DocumentLimits limits = new DocumentLimits(1 << 20, MAX_CHARS);
        start(new CompressionSettings(limits, MAX_TOKENS, KvDtype.F32, Optional.empty(),
                new RetryPolicy(Duration.ofMillis(5), Duration.ofMillis(40), Duration.ofMillis(250)),
                Duration.ofSeconds(5), limits.maxStoredBytes(), RETIRE_GRACE,
                CompressorConfig.DEFAULT_MAX_RECORD_FAILURES));
        return limits;
    }

    /** doc-1 at {@code version} with a title of control characters: within the value limit, over the store's as JSON. */
    private static DocumentEvent controlTitled(long version) {
        DocumentEvent d = doc("doc-1", version, "short text");
        d.setTitle("\u0001".repeat(600_000));
        return d;
    }

    @Test
    void skipsTheCompressedVersionRepublishedWithOtherText() {
        publishAvro(doc("doc-1", 5, "original text"));
        publishAvro(doc("doc-1", 5, "other text under the same version"));

        assertEquals(1, catalog.readValuesToList().size());
        assertEquals(1, model.compressions());
        assertEquals(1, count("documents.skipped", "reason", "not-newer"));
    }

    @Test
    void identicalContentIsNotRecompressedWhileItsBlobExists() {
        publishAvro(doc("doc-1", 1, "same words every time"));
        byte[] first = redis.blobs.get(keyOf("doc-1", 1));
        publishAvro(doc("doc-1", 2, "same words every time"));

        assertEquals(1, model.compressions(), "no model work for identical text");
        List<AnchorCacheRecord> out = catalog.readValuesToList();
        assertEquals(2, out.size());
        AnchorCacheRecord second = out.get(1);
        assertEquals(2, second.getDocVersion());
        assertEquals(keyOf("doc-1", 2), second.getRedisKey(), "the blob moved to the new version's key");
        assertEquals(out.get(0).getChecksum(), second.getChecksum());
        assertEquals(List.of(keyOf("doc-1", 2)), redis.liveKeys());
        assertEquals(Map.of(keyOf("doc-1", 1), RETIRE_GRACE), redis.expiring, "the old key is retired, not deleted");
        assertArrayEquals(first, redis.blobs.get(keyOf("doc-1", 2)));
        assertEquals(Map.of(keyOf("doc-1", 1), (long) first.length), redis.expectedReadBytes,
                "the read of the blob is given time for the catalog's bytes");
        assertEquals(1, count("documents.deduplicated"));
        assertEquals(2.0 * first.length, metrics.registry().get("sac.compressor.bytes.written").counter().count(),
                "the copy is written bytes too: Redis holds both until the old key expires");
    }

    @Test
    void identicalContentIsNotRecompressedWhenAnAbortedAttemptAlreadyMovedItsBlob() {
        publishAvro(doc("doc-1", 1, "moved before the abort"));
        AnchorCacheRecord first = catalog.readValue();
        // an attempt at v2 moved the blob, then its transaction aborted: the store still says v1
        redis.blobs.put(keyOf("doc-1", 2), redis.blobs.remove(keyOf("doc-1", 1)));
        redis.expiring.put(keyOf("doc-1", 2), Duration.ofMinutes(1));   // and a later move away from it retired it
        publishAvro(doc("doc-1", 2, "moved before the abort"));

        assertEquals(1, model.compressions(), "the blob exists (at the new key): no model work");
        AnchorCacheRecord second = catalog.readValue();
        assertEquals(keyOf("doc-1", 2), second.getRedisKey());
        assertEquals(List.of(keyOf("doc-1", 2)), redis.liveKeys(), "the record names a key that is about to expire");
        assertEquals(first.getChecksum(), second.getChecksum());
        assertEquals(first.getBytes(), second.getBytes());
        assertEquals(1, count("documents.deduplicated"));
    }

    @Test
    void replayingTheCompressedVersionChangesNothing() {
        DocumentEvent d = doc("doc-1", 1, "replayed after a restart");
        publishAvro(d);
        catalog.readValue();
        publishAvro(d);

        assertTrue(catalog.isEmpty());
        assertEquals(1, model.compressions());
        assertEquals(0, count("documents.deduplicated"), "nothing was deduplicated: the same version came again");
        assertEquals(1, count("documents.skipped", "reason", "replayed"));
    }

    @Test
    void anOlderVersionOrAReplayIsSkippedBeforeTheTokenizerSeesIt() {
        publishAvro(doc("doc-1", 5, "fits the limit when published"));
        catalog.readValue();
        model.extraTokens = MAX_TOKENS;   // a restart with a lower --max-doc-tokens: stored versions no longer fit
        publishAvro(doc("doc-1", 3, "an older version"));
        publishAvro(doc("doc-1", 5, "fits the limit when published"));

        assertTrue(deadLetters.isEmpty(), "skipped by the version rules, not dead-lettered for its tokens");
        assertEquals(1, count("documents.skipped", "reason", "older"));
        assertEquals(1, count("documents.skipped", "reason", "replayed"));
        assertEquals(1, model.compressions());
    }

    @Test
    void aTombstoneForADocumentNeverCompressedCountsNoDelete() {
        documents.pipeInput("never-seen", null);

        assertEquals("never-seen|" + MODEL, catalog.readRecord().key(), "the catalog tombstone still goes out");
        assertEquals(0, count("documents.deleted"));
    }

    @Test
    void identicalContentIsRecompressedWhenItsBlobIsMissing() {
        publishAvro(doc("doc-1", 1, "evicted words"));
        redis.blobs.clear(); // evicted by Redis
        publishAvro(doc("doc-1", 2, "evicted words"));

        assertEquals(2, model.compressions());
        assertEquals(keyOf("doc-1", 2), catalog.readValuesToList().get(1).getRedisKey());
        assertTrue(redis.blobs.containsKey(keyOf("doc-1", 2)));
        assertEquals(0, count("documents.deduplicated"));
    }

    @Test
    void identicalContentIsRecompressedWhenItsBlobIsNotTheOneTheCatalogDescribes() {
        publishAvro(doc("doc-1", 1, "overwritten words"));
        redis.blobs.put(keyOf("doc-1", 1), "not an anchor blob".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        publishAvro(doc("doc-1", 2, "overwritten words"));

        assertEquals(2, model.compressions(), "bytes that fail the catalog's checksum are not carried over");
        assertEquals(0, count("documents.deduplicated"));
        AnchorCacheRecord second = catalog.readValuesToList().get(1);
        assertEquals(keyOf("doc-1", 2), second.getRedisKey());
        assertEquals(second.getBytes(), redis.blobs.get(keyOf("doc-1", 2)).length);
    }

    @Test
    void identicalContentIsRecompressedWhenAnotherIntactBlobOfTheModelTookItsKey() {
        publishAvro(doc("doc-1", 1, "the described words"));
        publishAvro(doc("doc-2", 1, "some other words"));
        // a late write of another document's anchors (or of an earlier life of this version) under the key
        redis.blobs.put(keyOf("doc-1", 1), redis.blobs.get(keyOf("doc-2", 1)).clone());
        publishAvro(doc("doc-1", 2, "the described words"));

        assertEquals(3, model.compressions(), "another document's anchors are not carried over as this one's");
        assertEquals(0, count("documents.deduplicated"));
        AnchorCacheRecord third = catalog.readValuesToList().get(2);
        assertEquals(AnchorKvCodec.checksum(redis.blobs.get(keyOf("doc-1", 2))), third.getChecksum());
        assertTrue(third.getChecksum() != AnchorKvCodec.checksum(redis.blobs.get(keyOf("doc-2", 1))));
    }

    @Test
    void aTombstoneDeletesTheBlobAndEmitsACatalogTombstone() {
        publishAvro(doc("doc-1", 1, "soon deleted"));
        publishAvro(doc("doc-2", 1, "stays"));
        catalog.readRecordsToList();
        documents.pipeInput("doc-1", null);

        TestRecord<String, AnchorCacheRecord> tombstone = catalog.readRecord();
        assertEquals("doc-1|" + MODEL, tombstone.key());
        assertNull(tombstone.value());
        assertEquals(List.of(keyOf("doc-2", 1)), List.copyOf(redis.blobs.keySet()));
        assertEquals(1, count("documents.deleted"));

        requestRecompress("doc-1", "{}");
        assertTrue(catalog.isEmpty(), "a deleted document is forgotten, not rebuilt");
        assertEquals(1, count("recompress.requests", "outcome", "unknown-doc"));
    }

    /** One kind of bad input: the record as published and the reason expected in the dead-letter header. */
    record BadInput(String name, String key, byte[] value, String contentType, String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<BadInput> badInputs() {
        byte[] unknownSchema = {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 2, 'x'};
        return List.of(
                new BadInput("malformed bytes", "d", new byte[] {0, 1, 2, (byte) 0xff}, null, "MALFORMED"),
                new BadInput("invalid JSON", "d", utf8("{\"docId\": \"d\", text"), null, "MALFORMED"),
                new BadInput("empty JSON text", "d", utf8("{\"docId\":\"d\",\"text\":\"   \"}"), null, "EMPTY_TEXT"),
                new BadInput("empty Avro text", "d", DocumentCodec.encodeAvro(doc("d", 1, "")),
                        DocumentCodec.AVRO_CONTENT_TYPE, "EMPTY_TEXT"),
                new BadInput("text over the character limit", "d", DocumentCodec.encodeAvro(doc("d", 1, "x".repeat(MAX_CHARS + 1))),
                        DocumentCodec.AVRO_CONTENT_TYPE, "TOO_LARGE"),
                new BadInput("text over the token limit", "d", DocumentCodec.encodeAvro(doc("d", 1, "w ".repeat(MAX_TOKENS))),
                        DocumentCodec.AVRO_CONTENT_TYPE, "TOO_LARGE"),
                new BadInput("value over the byte limit", "d", utf8("{\"docId\":\"d\",\"text\":\"" + "y".repeat(MAX_VALUE_BYTES) + "\"}"),
                        DocumentCodec.JSON_CONTENT_TYPE, "TOO_LARGE"),
                new BadInput("unknown Avro schema", "d", unknownSchema, null, "UNKNOWN_SCHEMA"),
                new BadInput("missing text field", "d", utf8("{\"docId\":\"d\"}"), null, "MISSING_FIELD"),
                new BadInput("missing key", null, utf8("{\"docId\":\"d\",\"text\":\"t\"}"), null, "MISSING_FIELD"),
                new BadInput("key differs from docId", "other", utf8("{\"docId\":\"d\",\"text\":\"t\"}"), null, "INVALID_FIELD"),
                new BadInput("unsupported content type", "d", utf8("hello"), "text/plain", "UNSUPPORTED_CONTENT_TYPE"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInputGoesToTheDeadLetterTopicWithItsReasonAndOriginalBytes(BadInput bad) {
        publish(bad.key(), bad.value(), bad.contentType());

        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertArrayEquals(bad.key() == null ? null : utf8(bad.key()), dead.key());
        assertArrayEquals(bad.value(), dead.value(), "the original bytes, unchanged");
        assertEquals(bad.reason(), header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertTrue(header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE).startsWith(bad.reason()),
                header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE));
        assertEquals("dev.sacrag.schemas.BadDocumentException", header(dead.headers(), DeadLetterHeaders.ERROR_CLASS));
        assertEquals(TOPICS.documents(), header(dead.headers(), DeadLetterHeaders.SOURCE_TOPIC));
        assertEquals("0", header(dead.headers(), DeadLetterHeaders.SOURCE_PARTITION));
        assertEquals("0", header(dead.headers(), DeadLetterHeaders.SOURCE_OFFSET));
        assertEquals(Long.toString(NOW.toEpochMilli()), header(dead.headers(), DeadLetterHeaders.SOURCE_TIMESTAMP));
        assertTrue(dead.timestamp() > NOW.toEpochMilli() + Duration.ofDays(30).toMillis(),
                "stamped when dead-lettered (the driver's wall clock), so the topic's retention counts from then: "
                        + Instant.ofEpochMilli(dead.timestamp()));
        if (bad.contentType() != null) {
            assertEquals(bad.contentType(), header(dead.headers(), DocumentCodec.CONTENT_TYPE_HEADER), "original headers kept");
        }
        // tokens are the model's: only that refusal names the model (another model may take the document)
        assertEquals(bad.name().equals("text over the token limit") ? MODEL : null, header(dead.headers(), DeadLetterHeaders.MODEL));
        // and only that one had the document decoded: its version and text hash, whatever becomes of the value
        assertEquals(bad.name().equals("text over the token limit"), header(dead.headers(), DeadLetterHeaders.DOC_VERSION) != null);
        assertEquals(bad.name().equals("text over the token limit"), header(dead.headers(), DeadLetterHeaders.CONTENT_HASH) != null);
        assertTrue(catalog.isEmpty());
        assertEquals(0, model.compressions());
        assertEquals(1, count("documents.dead.lettered", "reason", bad.reason()));

        publishAvro(doc("good", 1, "the stream keeps going"));
        assertEquals("good", catalog.readValue().getDocId());
    }

    @Test
    void aDeadLetterTooLargeForItsTopicGoesWithoutItsValue() {
        driver.close();
        start(settings(3000));   // the dead-letter topic takes less than the documents topic's largest value
        byte[] large = utf8("{\"docId\":\"d\",\"text\":\"" + "y".repeat(MAX_VALUE_BYTES) + "\"}");
        publish("d", large, DocumentCodec.JSON_CONTENT_TYPE);
        byte[] small = {0, 1, 2, (byte) 0xff};
        publish("e", small, null);

        TestRecord<byte[], byte[]> dropped = deadLetters.readRecord();
        assertEquals("TOO_LARGE", header(dropped.headers(), DeadLetterHeaders.ERROR_REASON));
        assertArrayEquals(new byte[0], dropped.value());
        assertEquals(Integer.toString(large.length), header(dropped.headers(), DeadLetterHeaders.VALUE_DROPPED));
        assertEquals("0", header(dropped.headers(), DeadLetterHeaders.SOURCE_OFFSET), "where the original is");
        TestRecord<byte[], byte[]> kept = deadLetters.readRecord();
        assertArrayEquals(small, kept.value(), "a dead letter that fits keeps its bytes");
        assertEquals(null, kept.headers().lastHeader(DeadLetterHeaders.VALUE_DROPPED));

        publishAvro(doc("good", 1, "the stream keeps going"));
        assertEquals("good", catalog.readValue().getDocId());
    }

    /**
     * A value within the byte limit whose stored JSON form is over the store's changelog limit
     * (control characters are six bytes each in JSON) is a dead letter before any model work,
     * not a store write that fails the task at every replay.
     */
    @Test
    void aDocumentTooLargeForTheLatestDocumentsStoreIsADeadLetterBeforeAnyModelWork() {
        DocumentLimits limits = restartWithValuesOfAMebibyte();
        DocumentEvent controls = doc("ctl", 1, "short text");
        controls.setTitle("\u0001".repeat(600_000));
        byte[] value = DocumentCodec.encodeAvro(controls);
        assertTrue(value.length < limits.maxValueBytes(), "within the value limit: " + value.length);
        publish("ctl", value, DocumentCodec.AVRO_CONTENT_TYPE);

        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals("TOO_LARGE", header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertTrue(header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE).contains("as the JSON the compressor stores"),
                header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE));
        assertEquals(0, model.compressions(), "refused before the model ran");

        DocumentEvent titled = doc("ok", 1, "a normal document");
        titled.setTitle("A normal title");
        publishAvro(titled);
        assertEquals("ok", catalog.readValue().getDocId(), "the stream keeps going");
    }

    /** The producer measures the whole changelog record: a JSON form just under the limit, with its key, is over it. */
    @Test
    void aStoredFormJustUnderTheLimitWhoseRecordIsOverItIsADeadLetter() {
        DocumentLimits limits = restartWithValuesOfAMebibyte();
        int limit = limits.maxStoredBytes();
        DocumentEvent edge = doc("edge", 1, "short text");
        edge.setTitle("");
        int bare = DocumentCodec.encodeJson(edge).getBytes(StandardCharsets.UTF_8).length;
        edge.setTitle("\u0001".repeat((limit - 100 - bare) / 6));   // six JSON bytes each
        int json = DocumentCodec.encodeJson(edge).getBytes(StandardCharsets.UTF_8).length;
        assertTrue(json <= limit - 100 && json > limit - 110, "the JSON alone is within the limit: " + json);
        publishAvro(edge);

        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals("TOO_LARGE", header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertTrue(header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE).contains("with its id and the record's framing"),
                header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE));
        assertEquals(0, model.compressions());
    }

    @Test
    void aDeadLetterWhoseMessageQuotesAHugeValueOrWithHugeHeadersStillFitsItsTopic() {
        driver.close();
        start(settings(3000));
        // the message quotes the bad field ("'text' must be a string, got [...]"): 3,500 characters of it
        byte[] quoted = utf8("{\"docId\":\"d\",\"text\":[\"" + "z".repeat(3500) + "\"]}");
        publish("d", quoted, DocumentCodec.JSON_CONTENT_TYPE);
        // a producer's own header alone is larger than the limit
        RecordHeaders big = new RecordHeaders();
        big.add("trace", new byte[5000]);
        documents.pipeInput(new TestRecord<>("e", new byte[] {0, 1, 2}, big, NOW));

        TestRecord<byte[], byte[]> first = deadLetters.readRecord();
        assertEquals("INVALID_FIELD", header(first.headers(), DeadLetterHeaders.ERROR_REASON));
        assertTrue(header(first.headers(), DeadLetterHeaders.ERROR_MESSAGE).length() <= DeadLetters.MAX_MESSAGE_CHARS + 40,
                "message cut: " + header(first.headers(), DeadLetterHeaders.ERROR_MESSAGE).length());
        assertTrue(deadLetterSize(first) <= 3000, "fits: " + deadLetterSize(first));
        TestRecord<byte[], byte[]> second = deadLetters.readRecord();
        assertEquals("1", header(second.headers(), DeadLetterHeaders.HEADERS_DROPPED));
        assertEquals(null, second.headers().lastHeader("trace"));
        assertEquals("0", header(second.headers(), DeadLetterHeaders.SOURCE_PARTITION), "where the original is");
        assertTrue(deadLetterSize(second) <= 3000, "fits: " + deadLetterSize(second));

        publishAvro(doc("good", 1, "the stream keeps going"));
        assertEquals("good", catalog.readValue().getDocId());
    }

    private static long deadLetterSize(TestRecord<byte[], byte[]> r) {
        long n = DeadLetters.RECORD_OVERHEAD + (r.key() == null ? 0 : r.key().length) + r.value().length;
        for (org.apache.kafka.common.header.Header h : r.headers()) {
            n += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }

    @Test
    void aDocumentTheModelFailsOnGoesToTheDeadLetterTopicAndTheStreamContinues() {
        model.failWith = new ArithmeticException("tensor shape mismatch");
        publishAvro(doc("poison", 1, "the model chokes on this"));
        model.failWith = null;
        assertCompressionFailedDeadLetterThenTheStreamGoesOn("tensor shape mismatch", ArithmeticException.class);
    }

    @Test
    void aModelOutOfMemoryFailsTheTaskInsteadOfDeadLetteringTheDocument() {
        // as DJL reports PyTorch's allocator failing: a native error whose message tells
        model.failWith = new IllegalStateException("PyTorch failed", new RuntimeException("[enforce fail at"
                + " alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to allocate 2147483648 bytes."));
        RuntimeException e = assertThrows(RuntimeException.class, () -> publishAvro(doc("big", 1, "a good document")));

        assertTrue(causes(e).stream().anyMatch(t -> String.valueOf(t.getMessage()).startsWith("compressing document big v1 (")
                && t.getMessage().contains("ran out of memory in the engine (try 1); it is retried")),
                "the task fails, so a replacement thread retries the record: " + e);
        assertTrue(deadLetters.isEmpty(), "the machine's want of memory is not the document's fault");
        assertTrue(catalog.isEmpty());
        assertEquals(1, count("failures", "kind", "engine-oom"));
        model.failWith = null;
        publishAvro(doc("big", 1, "a good document"));   // the replay, with memory to spare
        assertEquals("big", catalog.readValue().getDocId());
        assertTrue(CacheProcessor.outOfMemory(new RuntimeException("CUDA out of memory. Tried to allocate 20.00 MiB")));
        assertFalse(CacheProcessor.outOfMemory(new ArithmeticException("tensor shape mismatch")));
    }

    @Test
    void aDocumentTheModelRunsOutOfMemoryOnWhileOthersCompressIsSetAside() {
        model.failWith = new IllegalStateException("DefaultCPUAllocator: not enough memory: you tried to allocate 8 GB");
        model.failWhen = tokens -> tokens.length > 8;   // the huge one only
        String huge = "too much for this machine by far, many more words than the others";
        for (int i = 1; i <= AnchorCacheWriter.ENGINE_OOM_TRIES; i++) {   // the task fails; a replacement thread replays it
            assertThrows(RuntimeException.class, () -> publishAvro(doc("huge", 1, huge)), "try " + i);
        }
        assertTrue(deadLetters.isEmpty(), "no document compressed since: the machine may be short for a while");
        publishAvro(doc("small", 1, "this one fits"));   // another partition's, say: the machine can compress
        assertEquals("small", catalog.readValue().getDocId());
        publishAvro(doc("huge", 1, huge));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.ENGINE_OOM, header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertTrue(header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE).contains("ran out of memory in the engine, "
                + (AnchorCacheWriter.ENGINE_OOM_TRIES + 1) + " times in a row since"), header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE));
        publishAvro(doc("next", 1, "the partition goes on"));
        assertEquals("next", catalog.readValue().getDocId());
    }

    @Test
    void aShortageOfMemoryForEveryDocumentSetsNoneAsideBeforeItsPatienceRunsOut() {
        java.time.Instant t0 = NOW;
        var three = new AnchorCacheWriter.EngineOoms(AnchorCacheWriter.ENGINE_OOM_TRIES, t0, 5);
        assertFalse(AnchorCacheWriter.setAside(three, t0.plusSeconds(60), 5), "nothing else compressed: wait");
        assertTrue(AnchorCacheWriter.setAside(three, t0.plusSeconds(60), 6), "another compressed since: this one's fault");
        assertTrue(AnchorCacheWriter.setAside(three, t0.plus(AnchorCacheWriter.ENGINE_OOM_PATIENCE), 5),
                "a partition never stalls for good");
        assertFalse(AnchorCacheWriter.setAside(new AnchorCacheWriter.EngineOoms(2, t0, 5), t0.plusSeconds(60), 9),
                "not before its tries");
    }

    /**
     * An error no rule turns into a dead letter fails the stream thread, and the replacement replays
     * the record: after its failures in a row its next try sets it aside, unprocessed, with the
     * headers of a model's refusal, and the partition goes on.
     */
    @Test
    void aRecordThatFailsItsStreamThreadEveryTimeIsSetAsideAfterItsFailuresInARow() {
        model.crashWith = new OutOfMemoryError("Java heap space");
        DocumentEvent poison = doc("poison", 3, "the heap is too small for this one");
        for (int i = 1; i <= CompressorConfig.DEFAULT_MAX_RECORD_FAILURES; i++) {
            if (i > 1) {
                replay();
            }
            Throwable e = assertThrows(Throwable.class, () -> publishAvro(poison), "failure " + i);
            assertTrue(causes(e).stream().anyMatch(OutOfMemoryError.class::isInstance), "the thread fails: " + e);
            assertTrue(deadLetters.isEmpty(), "failure " + i + " of " + CompressorConfig.DEFAULT_MAX_RECORD_FAILURES);
        }
        // nothing else compressed meanwhile (the other way a record shows it is at fault: RecordFailuresTest)
        clock.advance(RecordFailures.PATIENCE);
        replay();
        try {
            publishAvro(poison);   // the model would throw again: set aside without asking it
        } catch (OutOfMemoryError e) {   // JUnit would end the whole run on it
            fail("processed again instead of set aside: " + e);
        }

        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.PROCESSING_FAILED, header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertEquals(OutOfMemoryError.class.getName(), header(dead.headers(), DeadLetterHeaders.ERROR_CLASS));
        assertEquals(MODEL, header(dead.headers(), DeadLetterHeaders.MODEL), "this model's compressor failed on it; another may not");
        assertEquals("3", header(dead.headers(), DeadLetterHeaders.DOC_VERSION));
        assertEquals(ContentHash.of(poison.getText()), header(dead.headers(), DeadLetterHeaders.CONTENT_HASH));
        assertEquals("0", header(dead.headers(), DeadLetterHeaders.SOURCE_OFFSET), "the record that failed, replayed");
        String message = header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE);
        assertTrue(message.startsWith("processing document poison v3 at " + TOPICS.documents() + "-0@0 failed its stream thread "
                + CompressorConfig.DEFAULT_MAX_RECORD_FAILURES + " times in a row, the last with java.lang.OutOfMemoryError:"
                + " Java heap space: set aside unprocessed"), message);
        assertArrayEquals(DocumentCodec.encodeAvro(poison), dead.value(), "the original, to publish again once fixed");
        assertEquals(1, count("documents.dead.lettered", "reason", DeadLetters.PROCESSING_FAILED));

        model.crashWith = null;
        publishAvro(doc("next", 1, "the partition goes on"));
        assertEquals("next", catalog.readValue().getDocId());
        publishAvro(doc("poison", 3, "other text at the refused version"));
        assertTrue(catalog.isEmpty(), "refused as a model's refusal is: the same version with other text is not newer");
        assertEquals(1, count("documents.skipped", "reason", "not-newer"));
    }

    /**
     * A failure that strikes every document (a bad build, a heap too small for any) sets none aside
     * while nothing else compresses: the records fail their threads, which health reports, instead of
     * going to the dead-letter topic one after another with health green.
     */
    @Test
    void aRecordThatFailsWhileNothingElseCompressesIsNotSetAside() {
        model.crashWith = new NoClassDefFoundError("a bad build: a class failed its static initializer");
        DocumentEvent first = doc("first", 1, "any document at all");
        for (int i = 1; i <= CompressorConfig.DEFAULT_MAX_RECORD_FAILURES + 2; i++) {
            if (i > 1) {
                replay();
            }
            assertThrows(NoClassDefFoundError.class, () -> publishAvro(first), "try " + i);
        }
        assertTrue(deadLetters.isEmpty(), "nothing set aside: no other document compressed since its first failure");
    }

    /**
     * A failure after the model has compressed (here the Java heap exhausted writing the blob, too
     * small for any) is no proof that the compressor works: the record's own tries compressed it, and
     * counted as another document's they set every record aside in turn, as a bad build would.
     */
    @Test
    void aRecordThatFailsAfterItsOwnCompressionIsNotSetAsideOnIt() {
        redis.putCrashesWith = new OutOfMemoryError("Java heap space");
        DocumentEvent first = doc("first", 1, "any document at all");
        int tries = CompressorConfig.DEFAULT_MAX_RECORD_FAILURES + 2;
        for (int i = 1; i <= tries; i++) {
            if (i > 1) {
                replay();
            }
            Throwable e = assertThrows(Throwable.class, () -> publishAvro(first), "try " + i);
            assertTrue(causes(e).stream().anyMatch(OutOfMemoryError.class::isInstance), "try " + i + ": " + e);
        }
        assertEquals(tries, model.compressions(), "the model compressed it at every try");
        assertTrue(deadLetters.isEmpty(), "nothing set aside: no other document went through since its first failure");
    }

    /**
     * A Redis outage fails every record alike (nothing may be skipped for it), and the engine's
     * want of memory has its own rule: neither counts against the record, which compresses once
     * they pass, however often it failed meanwhile.
     */
    @Test
    void failuresOfRedisOrOfTheEnginesMemoryDoNotSetARecordAside() {
        DocumentEvent d = doc("doc-1", 1, "a good document");
        redis.failAlways();
        for (int i = 0; i <= CompressorConfig.DEFAULT_MAX_RECORD_FAILURES; i++) {
            assertThrows(RuntimeException.class, () -> publishAvro(d), "Redis down, try " + i);
            replay();
        }
        redis.recover();
        model.failWith = new IllegalStateException("DefaultCPUAllocator: not enough memory: you tried to allocate 8 GB");
        for (int i = 1; i < AnchorCacheWriter.ENGINE_OOM_TRIES; i++) {   // fewer than the engine's rule waits for
            assertThrows(RuntimeException.class, () -> publishAvro(d), "out of memory, try " + i);
            replay();
        }
        model.failWith = null;
        publishAvro(d);

        assertEquals("doc-1", catalog.readValue().getDocId());
        assertTrue(deadLetters.isEmpty(), "nothing set aside");
    }

    /** Failures "in a row": a try that went through in between (its transaction aborted by a later record, say) ends the run. */
    @Test
    void aTryThatSucceedsInBetweenStartsTheFailuresInARowAgain() {
        DocumentEvent d = doc("doc-1", 1, "fails now and then");
        for (int i = 1; i < 2 * CompressorConfig.DEFAULT_MAX_RECORD_FAILURES; i++) {
            model.crashWith = i % 2 == 1 ? new StackOverflowError() : null;
            if (model.crashWith != null) {
                assertThrows(StackOverflowError.class, () -> publishAvro(d), "try " + i);
            } else {
                publishAvro(d);
                assertEquals("doc-1", catalog.readValue().getDocId(), "try " + i);
            }
            replay();
        }
        model.crashWith = null;
        publishAvro(d);

        assertEquals("doc-1", catalog.readValue().getDocId(), "compressed: never two failures in a row");
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void aRecompressRequestThatFailsItsStreamThreadEveryTimeIsSetAsideWithItsDocumentsVersion() {
        DocumentEvent d = doc("doc-1", 7, "rebuild me after eviction");
        publishAvro(d);
        catalog.readValue();
        redis.blobs.clear();
        Runnable replayTheDocument = () -> {
            replay();
            model.crashWith = null;
            publishAvro(d);   // its partition's offset 0 again, and its blob evicted again
            redis.blobs.clear();
        };
        String request = "{\"tenant\":\"acme\",\"reason\":\"blob-evicted\",\"modelId\":\"" + MODEL + "\"}";
        for (int i = 1; i <= CompressorConfig.DEFAULT_MAX_RECORD_FAILURES; i++) {
            if (i > 1) {
                replayTheDocument.run();
            }
            model.crashWith = new StackOverflowError();
            assertThrows(StackOverflowError.class, () -> requestRecompress("doc-1", request), "failure " + i);
        }
        replayTheDocument.run();
        model.crashWith = new StackOverflowError();
        requestRecompress("doc-1", request);

        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.PROCESSING_FAILED, header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertEquals(TOPICS.recompress(), header(dead.headers(), DeadLetterHeaders.SOURCE_TOPIC));
        assertEquals("7", header(dead.headers(), DeadLetterHeaders.DOC_VERSION), "the stored document the request names");
        assertEquals(ContentHash.of(d.getText()), header(dead.headers(), DeadLetterHeaders.CONTENT_HASH));
        assertEquals(1, count("recompress.requests", "outcome", "failed"), "every request has one outcome");
    }

    /** One COMPRESSION_FAILED dead letter naming {@code thrown}, then the next document ("fine") is compressed. */
    private void assertCompressionFailedDeadLetterThenTheStreamGoesOn(String message, Class<?> thrown) {
        publishAvro(doc("fine", 1, "this one works"));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.COMPRESSION_FAILED, header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertTrue(header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE).contains(message),
                header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE));
        assertEquals(thrown.getName(), header(dead.headers(), DeadLetterHeaders.ERROR_CLASS),
                "the class header names what the model threw");
        assertEquals(MODEL, header(dead.headers(), DeadLetterHeaders.MODEL), "this model failed on it; another may not");
        assertEquals("fine", catalog.readValue().getDocId());
        assertTrue(catalog.isEmpty());
    }

    @Test
    void aDocumentTheTokenizerFailsOnGoesToTheDeadLetterTopicAndTheStreamContinues() {
        model.tokenizerFailsWith = new IllegalArgumentException("native tokenizer error");
        publishAvro(doc("poison", 1, "the tokenizer chokes on this"));
        model.tokenizerFailsWith = null;
        assertCompressionFailedDeadLetterThenTheStreamGoesOn("tokenizing document poison v1", IllegalArgumentException.class);
    }

    @Test
    void aRecompressRequestRestoresAMissingBlob() {
        publishAvro(doc("doc-1", 7, "rebuild me after eviction"));
        catalog.readValue();
        redis.blobs.clear();
        requestRecompress("doc-1", "{\"tenant\":\"acme\",\"reason\":\"blob-evicted\",\"modelId\":\"" + MODEL + "\"}");

        AnchorCacheRecord rebuilt = catalog.readValue();
        assertEquals(7, rebuilt.getDocVersion());
        assertTrue(redis.blobs.containsKey(keyOf("doc-1", 7)));
        assertEquals(2, model.compressions());
        assertEquals(1, count("recompress.requests", "outcome", "rebuilt"));
        assertEquals(0, count("blobs.rebuilt.again"), "the first rebuild is no sign of thrashing");

        redis.restart();   // lost with everything else: no sign of a Redis too small either
        requestRecompress("doc-1", "{\"tenant\":\"acme\",\"reason\":\"blob-evicted\",\"modelId\":\"" + MODEL + "\"}");
        catalog.readValue();
        assertEquals(2, count("recompress.requests", "outcome", "rebuilt"));
        assertEquals(0, count("blobs.rebuilt.again"), "Redis restarted in between");

        redis.blobs.put(keyOf("doc-1", 7), "not a blob".getBytes(java.nio.charset.StandardCharsets.UTF_8));   // overwritten
        requestRecompress("doc-1", "{\"tenant\":\"acme\",\"reason\":\"blob-unusable\",\"modelId\":\"" + MODEL + "\"}");
        catalog.readValue();
        assertEquals(3, count("recompress.requests", "outcome", "rebuilt"));
        assertEquals(0, count("blobs.rebuilt.again"), "a corrupt blob rebuilt says nothing of Redis' memory");

        redis.blobs.clear();   // evicted again soon after the rebuild: Redis is too small for what is asked of it
        requestRecompress("doc-1", "{\"tenant\":\"acme\",\"reason\":\"blob-evicted\",\"modelId\":\"" + MODEL + "\"}");
        catalog.readValue();
        assertEquals(4, count("recompress.requests", "outcome", "rebuilt"));
        assertEquals(1, count("blobs.rebuilt.again"));
    }

    /**
     * A rebuild of an unusable blob says nothing of Redis' memory, but it wrote a blob all the same:
     * one evicted soon after it is rebuilt again, where the unusable one's rebuild was not remembered
     * and the eviction went uncounted.
     */
    @Test
    void aBlobEvictedSoonAfterTheRebuildOfAnUnusableOneIsRebuiltAgain() {
        publishAvro(doc("doc-1", 7, "overwritten, rebuilt, then evicted"));
        catalog.readValue();
        redis.blobs.put(keyOf("doc-1", 7), "not a blob".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        requestRecompress("doc-1", "{\"tenant\":\"acme\",\"reason\":\"blob-unusable\",\"modelId\":\"" + MODEL + "\"}");
        catalog.readValue();
        assertEquals(1, count("recompress.requests", "outcome", "rebuilt"));
        assertEquals(0, count("blobs.rebuilt.again"), "a corrupt blob rebuilt says nothing of Redis' memory");

        redis.blobs.clear();   // evicted soon after that rebuild
        requestRecompress("doc-1", "{\"tenant\":\"acme\",\"reason\":\"blob-evicted\",\"modelId\":\"" + MODEL + "\"}");
        catalog.readValue();
        assertEquals(2, count("recompress.requests", "outcome", "rebuilt"));
        assertEquals(1, count("blobs.rebuilt.again"), "the blob the first rebuild wrote was dropped");
    }

    @Test
    void aRecompressRequestForADocumentOverTheTokenLimitIsDeadLetteredNotCompressed() {
        publishAvro(doc("doc-1", 7, "fits the limit when published"));
        catalog.readValue();
        redis.blobs.clear();
        // what a restart with a lower --max-doc-tokens does to a stored document: it no longer fits
        model.extraTokens = MAX_TOKENS;
        requestRecompress("doc-1", "{\"reason\":\"blob-evicted\"}");

        assertTrue(catalog.isEmpty(), "nothing compressed past the limit the timeouts were sized for");
        assertEquals(1, model.compressions());
        assertEquals(1, count("recompress.requests", "outcome", "too-large"));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals("TOO_LARGE", header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        String message = header(dead.headers(), DeadLetterHeaders.ERROR_MESSAGE);
        assertTrue(message.contains("doc-1 v7") && message.contains("limit " + MAX_TOKENS), message);
        assertEquals(MODEL, header(dead.headers(), DeadLetterHeaders.MODEL));
        assertEquals("7", header(dead.headers(), DeadLetterHeaders.DOC_VERSION), "the request's value is not the document");
        assertEquals(ContentHash.of("fits the limit when published"), header(dead.headers(), DeadLetterHeaders.CONTENT_HASH));
    }

    /**
     * A blob that is there is not compressed again; its catalog record is sent again, as it was, so
     * a catalog that lost it (a 'model retire' stopped between its tombstones and its deletes) names it again.
     */
    @Test
    void aRecompressRequestForABlobThatExistsSendsItsCatalogRecordAgainWithoutModelWork() {
        publishAvro(doc("doc-1", 7, "already there"));
        AnchorCacheRecord first = catalog.readValue();
        requestRecompress("doc-1", "{\"reason\":\"warm --rebuild\"}");

        assertEquals(first, catalog.readValue());
        assertTrue(catalog.isEmpty());
        assertEquals(1, model.compressions());
        assertEquals(1, count("recompress.requests", "outcome", "present"));
    }

    @Test
    void aRecompressRequestForABlobThatIsThereButUnusableRebuildsIt() {
        publishAvro(doc("doc-1", 7, "read back wrong"));
        AnchorCacheRecord first = catalog.readValue();
        byte[] blob = redis.blobs.get(keyOf("doc-1", 7));
        // what the query service cannot read: a truncated value (a header of another format or model fails the same way)
        redis.blobs.put(keyOf("doc-1", 7), java.util.Arrays.copyOf(blob, blob.length / 2));
        requestRecompress("doc-1", "{\"reason\":\"unusable blob: truncated\"}");

        AnchorCacheRecord rebuilt = catalog.readValue();
        assertEquals(2, model.compressions(), "the blob is compressed again, not reported present");
        assertEquals(1, count("recompress.requests", "outcome", "rebuilt"));
        assertEquals(first.getChecksum(), rebuilt.getChecksum(), "the same bytes as first written");
        assertArrayEquals(blob, redis.blobs.get(keyOf("doc-1", 7)));
    }

    @Test
    void aRecompressRequestForAnUnknownDocumentOrTenantIsCountedAndIgnored() {
        publishAvro(doc("doc-1", 1, "tenant acme owns this"));
        catalog.readValue();
        redis.blobs.clear();
        requestRecompress("nobody", "{\"reason\":\"blob-evicted\"}");
        requestRecompress("doc-1", "{\"tenant\":\"other-tenant\"}");

        assertTrue(catalog.isEmpty());
        assertEquals(2, count("recompress.requests", "outcome", "unknown-doc"));
        assertEquals(1, model.compressions());
    }

    @Test
    void aRecompressRequestWhoseStoredDocumentIsUnreadableIsCountedNotThrown() {
        publishAvro(doc("doc-1", 1, "stored by another build"));
        catalog.readValue();
        // the bytes under the store's serde, as a build with another stored form would have left them
        org.apache.kafka.streams.state.KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> raw = rawDocuments();
        raw.put(org.apache.kafka.common.utils.Bytes.wrap(utf8("doc-1")), utf8("{\"form\":\"unknown\"}"));
        requestRecompress("doc-1", "{\"reason\":\"blob-evicted\"}");   // must not fail the task

        assertEquals(1, count("recompress.requests", "outcome", "unreadable-doc"));
        assertTrue(catalog.isEmpty());
        publishAvro(doc("doc-2", 1, "the stream goes on"));
        assertEquals("doc-2", catalog.readValue().getDocId());
    }

    @Test
    void aTombstoneOverStoredValuesThisBuildCannotReadDeletesThemInsteadOfFailingTheTask() {
        for (String store : List.of(CompressorTopology.DOCUMENTS_STORE, CompressorTopology.COMPRESSED_STORE)) {
            String doc = "doc-of-" + store;
            publishAvro(doc(doc, 1, "stored by another build"));
            catalog.readValue();
            String key = store.equals(CompressorTopology.DOCUMENTS_STORE) ? doc : CatalogKey.of(doc, MODEL);
            raw(store).put(org.apache.kafka.common.utils.Bytes.wrap(utf8(key)), utf8("{\"form\":\"unknown\"}"));

            documents.pipeInput(doc, (byte[]) null);   // must not fail the task

            assertEquals(null, raw(store).get(org.apache.kafka.common.utils.Bytes.wrap(utf8(key))), store + " kept the value");
            var tombstone = catalog.readKeyValue();
            assertEquals(CatalogKey.of(doc, MODEL), tombstone.key);
            assertEquals(null, tombstone.value, "no catalog tombstone");
            publishAvro(doc("next-" + store, 1, "the stream goes on"));
            assertEquals("next-" + store, catalog.readValue().getDocId());
        }
    }

    /** The innermost (bytes) layer of the documents store: below its serde, where another build's bytes would be. */
    @SuppressWarnings("unchecked")
    private org.apache.kafka.streams.state.KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> rawDocuments() {
        return raw(CompressorTopology.DOCUMENTS_STORE);
    }

    /** The innermost (bytes) layer of a store. */
    @SuppressWarnings("unchecked")
    private org.apache.kafka.streams.state.KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> raw(String store) {
        org.apache.kafka.streams.processor.StateStore s = driver.getKeyValueStore(store);
        while (s instanceof org.apache.kafka.streams.state.internals.WrappedStateStore<?, ?, ?> w) {
            s = w.wrapped();
        }
        return (org.apache.kafka.streams.state.KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]>) s;
    }

    @Test
    void aRecompressRequestForAnotherModelIsIgnored() {
        publishAvro(doc("doc-1", 1, "text"));
        catalog.readValue();
        redis.blobs.clear();
        requestRecompress("doc-1", "{\"modelId\":\"0123456789ab\"}");

        assertTrue(catalog.isEmpty());
        assertEquals(1, count("recompress.requests", "outcome", "other-model"));
    }

    @Test
    void aMalformedRecompressRequestGoesToTheDeadLetterTopic() {
        requestRecompress("doc-1", "{\"tenant\": 42}");

        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals("INVALID_FIELD", header(dead.headers(), DeadLetterHeaders.ERROR_REASON));
        assertEquals(TOPICS.recompress(), header(dead.headers(), DeadLetterHeaders.SOURCE_TOPIC));
        assertEquals(1, count("recompress.requests", "outcome", "malformed"), "every request has an outcome");
    }

    @Test
    void aRecompressRequestTheModelFailsOnIsDeadLetteredAndCountedFailed() {
        publishAvro(doc("doc-1", 7, "rebuild me after eviction"));
        catalog.readValue();
        redis.blobs.clear();
        model.failWith = new ArithmeticException("tensor shape mismatch");
        requestRecompress("doc-1", "{\"tenant\":\"acme\",\"reason\":\"blob-evicted\",\"modelId\":\"" + MODEL + "\"}");
        model.failWith = null;

        assertEquals(DeadLetters.COMPRESSION_FAILED, header(deadLetters.readRecord().headers(), DeadLetterHeaders.ERROR_REASON));
        assertEquals(1, count("recompress.requests", "outcome", "failed"));
        assertEquals(0, count("recompress.requests", "outcome", "rebuilt"));
        assertTrue(catalog.isEmpty());
    }

    @Test
    void aBlobStoreFailingPastTheRetryBudgetFailsTheRecordAndEmitsNothing() {
        redis.failAlways();
        RuntimeException e = assertThrows(RuntimeException.class, () -> publishAvro(doc("doc-1", 1, "redis is down")));

        assertTrue(causes(e).stream().anyMatch(RetriesExhaustedException.class::isInstance),
                "the processing fails with the exhausted retries, so the task would be replaced: " + e);
        assertTrue(catalog.isEmpty(), "no catalog record for a blob that was not written");
        assertTrue(deadLetters.isEmpty(), "a Redis outage is not the document's fault");
        assertEquals(1, count("failures", "kind", "redis-gave-up"));
        assertTrue(count("failures", "kind", "redis") >= 2, "retried before giving up");
        assertEquals(0, model.compressions(), "Redis is asked first: no model work that a replay would repeat");
    }

    @Test
    void aBlobStoreRecoveringWithinTheRetryBudgetIsRetriedTransparently() {
        redis.failNext(3);
        publishAvro(doc("doc-1", 1, "redis blips"));

        assertEquals(keyOf("doc-1", 1), catalog.readValue().getRedisKey());
        assertTrue(redis.blobs.containsKey(keyOf("doc-1", 1)));
        assertEquals(3, count("failures", "kind", "redis"));
        assertEquals(0, count("failures", "kind", "redis-gave-up"));
    }

    @Test
    void everyProcessorStoreAndTopicIsNamed() {
        String described = topology.describe().toString();
        for (String name : List.of(CompressorTopology.DOCUMENTS_SOURCE, CompressorTopology.RECOMPRESS_SOURCE,
                CompressorTopology.COMPRESS_PROCESSOR, CompressorTopology.RECOMPRESS_PROCESSOR,
                CompressorTopology.CATALOG_SINK, CompressorTopology.DEAD_LETTER_SINK,
                CompressorTopology.COMPRESSED_STORE, CompressorTopology.DOCUMENTS_STORE, CompressorTopology.REFUSED_STORE)) {
            assertTrue(described.contains(name), name + " missing in\n" + described);
        }
        assertFalse(described.contains("KSTREAM-") || described.contains("KTABLE-"), "generated names in\n" + described);
        assertEquals(1, topology.describe().subtopologies().size(), "documents and recompress share tasks and stores");
    }

    private static List<Throwable> causes(Throwable t) {
        List<Throwable> all = new java.util.ArrayList<>();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.add(c);
        }
        return all;
    }

    private static String header(Headers headers, String name) {
        Header h = headers.lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
