package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.KvStoreConfig;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.schemas.CatalogKey;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import dev.sacrag.stack.LocalStack;
import dev.sacrag.stack.TopicSpec;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end on the real stack ({@code -Dsac.stack}, default embedded: an in-process KRaft broker
 * and a redis-server process) with a tiny random SAC model. Each test has its own topics and
 * application id.
 */
class CompressorIntegrationTest {

    static final Duration WAIT = Duration.ofSeconds(90);
    static final int MAX_DOC_CHARS = 2000;

    @TempDir
    static Path tmp;
    static LocalStack stack;
    static Path base;
    static Path adapter;
    static String modelId;

    @BeforeAll
    static void startStackAndWriteModel() throws Exception {
        stack = LocalStack.start();
        base = tmp.resolve("model/base");
        RandomModelWriter.write(ModelShape.TINY.config, base,
                new RandomModelWriter.Options(21, 0.08f, Safetensors.DType.F32, 1));
        adapter = tmp.resolve("model/adapters/sac");
        SacAdapter.writeRandom(adapter, SacSpec.paperDefaults("sac", List.of(4, 8, 16), 8, Fingerprints.baseModel(base)),
                ModelShape.TINY.config, 22);
        modelId = Fingerprints.modelId(Fingerprints.baseModel(base), Fingerprints.adapter(adapter), 4);
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void goodDocumentsEndInTheCatalogAndRedisAndBadOnesInTheDeadLetterTopic() throws Exception {
        CompressorTopics topics = createTopics("e2e");
        stack.flushRedis();   // the key count below is this test's alone, whichever tests ran before it
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("bad-malformed", new byte[] {0x00, 0x13, 0x37, (byte) 0xfe});
        bad.put("bad-empty", json("bad-empty", "   "));
        bad.put("bad-oversized", json("bad-oversized", "x".repeat(MAX_DOC_CHARS + 500)));
        try (CompressorApp app = CompressorApp.start(config("e2e").build());
             DocumentPublisher publisher = publisher(topics);
             KafkaProducer<byte[], byte[]> raw = rawProducer()) {
            for (int i = 0; i < 20; i++) {
                publisher.publish(doc(id(i), 1, text(i)));
            }
            publisher.publish(doc(id(3), 2, "Document three was rewritten: it now talks about lighthouses."));
            publisher.delete(id(5));
            publisher.flush();
            raw.send(new ProducerRecord<>(topics.documents(), utf8("doc-json"), json("doc-json", "Published as plain JSON.")));
            bad.forEach((key, value) -> raw.send(new ProducerRecord<>(topics.documents(), utf8(key), value)));
            raw.flush();

            Set<String> good = new HashSet<>();
            IntStream.range(0, 20).filter(i -> i != 5).forEach(i -> good.add(id(i)));
            good.add("doc-json");
            Map<String, AnchorCacheRecord> catalog = awaitCatalog(topics, latest -> good.stream().allMatch(d ->
                    latest.get(key(d)) != null && (!d.equals(id(3)) || latest.get(key(d)).getDocVersion() == 2))
                    && latest.containsKey(key(id(5))) && latest.get(key(id(5))) == null);

            try (AnchorKvStore redis = redisStore()) {
                for (String d : good) {
                    AnchorCacheRecord r = catalog.get(key(d));
                    byte[] blob = redis.get(r.getRedisKey()).orElseThrow(() -> new AssertionError("no blob for " + d));
                    AnchorKv kv = AnchorKvCodec.decode(blob, modelId);
                    assertEquals(r.getAnchorCount(), kv.anchorCount(), d);
                    assertEquals(r.getBytes(), blob.length, d);
                }
                assertFalse(redis.exists(RedisKeys.blobKey("acme", modelId, id(5), 1)), "the delete removed the blob");
            }
            // the update retired the old blob: readable until the catalog's v2 record is seen, then expired
            String retired = RedisKeys.blobKey("acme", modelId, id(3), 1);
            long pttl = pttl(retired);
            Duration grace = CompressionSettings.retireGraceFor(config("e2e").build().timeouts().transactionTimeout());
            assertTrue(pttl > 0 && pttl <= grace.toMillis(), "the update gave the old blob an expiry within " + grace
                    + ", PTTL " + pttl);
            assertEquals(good.size() + 1, redisKeyCount(), "one blob per live document and the retired one, nothing else");
            assertEquals(22, app.metrics().count("documents.compressed"), "20 documents, one update, one JSON document");

            try (TopicReader<byte[], byte[]> dlq = new TopicReader<>(stack.bootstrapServers(), topics.deadLetter(),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<ConsumerRecord<byte[], byte[]>> dead = dlq.awaitUntil(r -> r.size() >= 3, WAIT, "3 dead letters");
                Map<String, String> reasons = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : dead) {
                    String k = new String(r.key(), StandardCharsets.UTF_8);
                    reasons.put(k, header(r, DeadLetterHeaders.ERROR_REASON));
                    assertArrayEquals(bad.get(k), r.value(), "original bytes of " + k);
                    assertEquals(topics.documents(), header(r, DeadLetterHeaders.SOURCE_TOPIC));
                }
                assertEquals(Map.of("bad-malformed", "MALFORMED", "bad-empty", "EMPTY_TEXT", "bad-oversized", "TOO_LARGE"),
                        reasons);
            }
        }
    }

    @Test
    void aRedisOutageLongerThanTheTransactionTimeoutLosesNothing() throws Exception {
        CompressorTopics topics = createTopics("outage");
        CompressorConfig config = config("outage").metricsBind("127.0.0.1").metricsPort(0).build();
        Duration transactionTimeout = config.timeouts().transactionTimeout();
        assertTrue(transactionTimeout.compareTo(Duration.ofSeconds(10)) < 0, "test-shortened: " + transactionTimeout);
        try (CompressorApp app = CompressorApp.start(config); DocumentPublisher publisher = publisher(topics)) {
            int port = app.metricsPort().orElseThrow();   // 0: any free port, as the query service's
            for (int i = 0; i < 4; i++) {
                publisher.publish(doc(id(i), 1, text(i)));
            }
            publisher.flush();
            awaitCatalog(topics, latest -> IntStream.range(0, 4).allMatch(i -> latest.get(key(id(i))) != null));

            stack.stopRedis();
            for (int i = 4; i < 8; i++) {
                publisher.publish(doc(id(i), 1, text(i)));
            }
            publisher.flush();
            Thread.sleep(transactionTimeout.plusSeconds(3).toMillis());   // an outage longer than the transaction timeout
            awaitTrue(() -> app.metrics().count("failures", "kind", "redis-gave-up") >= 1, "the retry budget ran out");
            awaitTrue(() -> app.metrics().count("failures", "kind", "thread-replaced") >= StreamThreadFailures.THRESHOLD,
                    "the stream thread was replaced, again and again");
            assertTrue(app.state().isRunningOrRebalancing(), "still alive during the outage: " + app.state());
            String health = get(port, "/health");
            assertTrue(health.matches("(?s)503 (RUNNING|REBALANCING), failing: .*") && health.contains("RetriesExhaustedException"),
                    "Kafka Streams says RUNNING but no record gets through: not ready, and why: " + health);
            assertTrue(get(port, "/health/live").startsWith("200 "), "a replaced thread is a restart already: live");
            Map<String, AnchorCacheRecord> during = awaitCatalog(topics,
                    latest -> IntStream.range(0, 4).allMatch(i -> latest.get(key(id(i))) != null));
            assertTrue(IntStream.range(4, 8).noneMatch(i -> during.containsKey(key(id(i)))),
                    "no catalog record for a blob that could not be written: " + during.keySet());
            stack.startRedis(); // back empty: the blobs of docs 0-3 are gone, their catalog records stay

            try (KafkaProducer<byte[], byte[]> raw = rawProducer()) {
                for (int i = 0; i < 4; i++) {
                    raw.send(new ProducerRecord<>(topics.recompress(), utf8(id(i)),
                            new RecompressRequest(id(i), Optional.of("acme"), Optional.of("redis-flushed"), Optional.empty()).toJson()));
                }
            }
            Map<String, AnchorCacheRecord> catalog = awaitCatalog(topics,
                    latest -> IntStream.range(0, 8).allMatch(i -> latest.get(key(id(i))) != null)
                            && app.metrics().count("recompress.requests", "outcome", "rebuilt") == 4);
            try (AnchorKvStore redis = redisStore()) {
                for (int i = 0; i < 8; i++) {
                    AnchorCacheRecord r = catalog.get(key(id(i)));
                    assertTrue(redis.exists(r.getRedisKey()), "blob of " + id(i) + " is in Redis after the outage");
                }
            }
            app.awaitRunning(WAIT);
            awaitTrue(() -> {
                try {
                    return get(port, "/health").startsWith("200 ");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "records get through again and are committed: ready");
            assertTrue(get(port, "/metrics").contains("sac_compressor_redis_restarts_total 1.0"),
                    "Redis came back as another process, empty: counted");
        }
    }

    /** A full Redis that does not evict refuses writes with OOM: counted as such, retried, and nothing is lost. */
    @Test
    void aFullRedisThatDoesNotEvictIsCountedAsOutOfMemoryAndTheDocumentWaits() throws Exception {
        CompressorTopics topics = createTopics("full");
        String policy = redis(c -> c.configGet("maxmemory-policy").get("maxmemory-policy"));
        String maxmemory = redis(c -> c.configGet("maxmemory").get("maxmemory"));
        try (CompressorApp app = CompressorApp.start(config("full").build());
             DocumentPublisher publisher = publisher(topics)) {
            redis(c -> c.configSet("maxmemory-policy", "noeviction"));
            redis(c -> c.configSet("maxmemory", "1"));   // below what it uses: every write is refused
            publisher.publish(doc("full-doc", 1, text(3)));
            publisher.flush();
            awaitTrue(() -> app.metrics().count("failures", "kind", "redis-oom") >= 1, "the write refused for memory");
            assertEquals(0, app.metrics().count("failures", "kind", "redis"), "not an outage: Redis answered");
            redis(c -> c.configSet("maxmemory", maxmemory));
            awaitCatalog(topics, latest -> latest.get(key("full-doc")) != null);
        } finally {
            redis(c -> c.configSet("maxmemory", maxmemory));
            redis(c -> c.configSet("maxmemory-policy", policy));
        }
    }

    @Test
    void twoInstancesWithOneApplicationIdSplitThePartitionsAndCompressEveryDocumentOnce() throws Exception {
        CompressorTopics topics = createTopics("pair");
        CompressorConfig.Builder builder = config("pair");
        try (CompressorApp a = CompressorApp.start(builder.stateDir(tmp.resolve("pair-a")).build());
             CompressorApp b = CompressorApp.start(builder.stateDir(tmp.resolve("pair-b")).build());
             DocumentPublisher publisher = publisher(topics)) {
            awaitSplit(a, b, 6);
            int n = 24;
            for (int i = 0; i < n; i++) {
                publisher.publish(doc(id(i), 1, text(i)));
            }
            publisher.flush();
            Map<String, AnchorCacheRecord> catalog = awaitCatalog(topics,
                    latest -> IntStream.range(0, n).allMatch(i -> latest.get(key(id(i))) != null));

            double byA = a.metrics().count("documents.compressed");
            double byB = b.metrics().count("documents.compressed");
            assertTrue(byA > 0 && byB > 0, "both instances compressed: " + byA + " + " + byB);
            assertEquals(n, byA + byB, "every document compressed exactly once");
            try (AnchorKvStore redis = redisStore()) {
                for (int i = 0; i < n; i++) {
                    assertTrue(redis.exists(catalog.get(key(id(i))).getRedisKey()), id(i));
                }
            }

            // an instance that stops without leaving the group (Kafka Streams' close, a kill -9, a replaced
            // thread) holds its partitions until its session times out: 45 s by Kafka's default
            long closed = System.nanoTime();
            a.close();
            while (b.documentPartitions().size() < 6 || b.state() != KafkaStreams.State.RUNNING) {
                assertTrue(System.nanoTime() - closed < Duration.ofSeconds(35).toNanos(),
                        "the other instance took over " + b.documentPartitions() + " of 6 partitions in 35 s");
                Thread.sleep(100);
            }
            System.out.printf("takeover after a close without leaving the group: %.1f s%n", (System.nanoTime() - closed) / 1e9);
        }
    }

    /**
     * architecture.md "Slow records": a document that takes longer than Streams' default
     * transaction timeout (10 s) is compressed once, without the broker aborting the transaction,
     * because the timeouts are sized from --max-compress-time. A fast document goes first and the
     * commit interval is long, so the slow one runs inside the transaction the fast one opened
     * (a transaction opens with a record's first write, after its compression); the broker sweeps
     * timed-out transactions every second (EmbeddedKafka). With Streams' default timeout the
     * broker aborts it, the thread is fenced and both documents are compressed again.
     */
    @Test
    void aDocumentSlowerThanStreamsDefaultTransactionTimeoutIsCompressedOnce() throws Exception {
        CompressorTopics topics = createTopics("slow");
        Duration slow = Duration.ofSeconds(12);
        CompressorConfig config = config("slow").maxCompressTime(slow.plusSeconds(3))
                .commitInterval(Duration.ofSeconds(5)).build();
        try (CompressorApp app = CompressorApp.start(config, model -> new SlowCompressor(model, slow));
             DocumentPublisher publisher = publisher(topics)) {
            publisher.publish(doc("fast-doc", 1, text(2)));
            publisher.publish(doc("slow-doc", 1, text(1)));
            publisher.flush();
            awaitCatalog(topics, latest -> latest.get(key("slow-doc")) != null && latest.get(key("fast-doc")) != null);

            assertEquals(2, app.metrics().count("documents.compressed"), "each compressed once, none redone");
            assertEquals(0, app.metrics().count("failures", "kind", "thread-replaced"));
            assertEquals(0, app.metrics().count("failures", "kind", "slow-compression"), "within --max-compress-time");
        }
    }

    /**
     * A record that fails every stream thread by itself (here its tokenizing exhausts the Java heap)
     * is replayed by each replacement. With nothing else compressed since its first failure it is
     * not known to be the record's fault (a bad build fails them all), so it is tried until the
     * patience has passed (the clock is moved on), then set aside; the records after it go on.
     */
    @Test
    void aRecordThatFailsEveryStreamThreadIsSetAsideAndThePartitionGoesOn() throws Exception {
        CompressorTopics topics = createTopics("poison", 1);   // the record after it waits behind it
        CompressorConfig config = config("poison").metricsBind("127.0.0.1").metricsPort(0).build();
        String poison = "This document exhausts the heap of every thread that reads it.";
        java.util.concurrent.atomic.AtomicReference<Duration> ahead = new java.util.concurrent.atomic.AtomicReference<>(Duration.ZERO);
        java.time.Clock clock = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return java.time.Clock.fixed(instant(), zone);
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.now().plus(ahead.get());
            }
        };
        try (CompressorApp app = CompressorApp.start(config, model -> new HeapExhaustingTokenizer(model, poison), clock);
             DocumentPublisher publisher = publisher(topics)) {
            publisher.publish(doc("poison-doc", 1, poison));
            publisher.publish(doc("after-doc", 1, text(2)));
            publisher.flush();
            awaitTrue(() -> app.metrics().count("failures", "kind", "thread-replaced") > config.maxRecordFailures(),
                    "tried past --max-record-failures: nothing else compressed since its first failure");
            assertEquals(0, app.metrics().count("documents.dead.lettered", "reason", DeadLetters.PROCESSING_FAILED),
                    "not set aside yet");
            ahead.set(RecordFailures.PATIENCE);
            awaitCatalog(topics, latest -> latest.get(key("after-doc")) != null);

            try (TopicReader<byte[], byte[]> dlq = new TopicReader<>(stack.bootstrapServers(), topics.deadLetter(),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                ConsumerRecord<byte[], byte[]> dead = dlq.awaitUntil(r -> !r.isEmpty(), WAIT, "the poison set aside").get(0);
                assertEquals("poison-doc", new String(dead.key(), StandardCharsets.UTF_8));
                assertEquals(DeadLetters.PROCESSING_FAILED, header(dead, DeadLetterHeaders.ERROR_REASON));
                assertEquals(OutOfMemoryError.class.getName(), header(dead, DeadLetterHeaders.ERROR_CLASS));
                assertEquals(modelId, header(dead, DeadLetterHeaders.MODEL));
                assertEquals("1", header(dead, DeadLetterHeaders.DOC_VERSION));
                assertEquals("0", header(dead, DeadLetterHeaders.SOURCE_OFFSET));
            }
            awaitTrue(() -> {
                try {
                    return get(app.metricsPort().orElseThrow(), "/health").startsWith("200 ");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "ready again once the set-aside committed");
        }
    }

    /** Throws the Java heap's error on tokenizing {@code poison}, as a document too large for the heap would. */
    private record HeapExhaustingTokenizer(DocumentCompressor model, String poison) implements ForwardingCompressor {
        @Override
        public long[] tokenize(String text) {
            if (text.equals(poison)) {
                throw new OutOfMemoryError("Java heap space");
            }
            return model.tokenize(text);
        }
    }

    /** While the stream drains a record at shutdown, health answers: not ready, still live; then the port closes. */
    @Test
    void healthAnswersNotReadyButLiveWhileTheStreamDrainsAtShutdown() throws Exception {
        CompressorTopics topics = createTopics("drain");
        int port = freePort();
        CompressorConfig config = config("drain").metricsBind("127.0.0.1").metricsPort(port)
                .maxCompressTime(Duration.ofSeconds(20)).build();
        java.util.concurrent.CountDownLatch compressing = new java.util.concurrent.CountDownLatch(1);
        CompressorApp app = CompressorApp.start(config, model -> new SlowCompressor(model, Duration.ofSeconds(8), compressing));
        Thread closer;
        try (DocumentPublisher publisher = publisher(topics)) {
            publisher.publish(doc("slow-doc", 1, text(1)));
            publisher.flush();
        }
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.util.function.Function<String, Integer> status = path -> {
            try {
                return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (java.io.IOException e) {
                return -1;   // refused: the server is closed
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        assertTrue(compressing.await(60, java.util.concurrent.TimeUnit.SECONDS), "the record was never compressed");
        closer = new Thread(app::close, "closer");
        closer.start();
        Thread.sleep(1000);   // the stream is draining that record
        assertTrue(closer.isAlive(), "the drain ended before health was asked");
        assertEquals(503, status.apply("/health"), "draining: not ready");
        assertEquals(200, status.apply("/health/live"), "draining: still live (was: connection refused)");
        closer.join(java.util.concurrent.TimeUnit.SECONDS.toMillis(120));
        assertEquals(-1, status.apply("/health"), "the metrics server closes once the stream has stopped");
    }

    /** Delays only the document whose text is text(1), counting {@code started} down as it begins. */
    private record SlowCompressor(DocumentCompressor model, Duration delay, java.util.concurrent.CountDownLatch started)
            implements ForwardingCompressor {
        SlowCompressor(DocumentCompressor model, Duration delay) {
            this(model, delay, new java.util.concurrent.CountDownLatch(1));
        }

        @Override
        public AnchorKv compress(long[] tokens) {
            if (Arrays.equals(tokens, model.tokenize(text(1)))) {
                started.countDown();
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            return model.compress(tokens);
        }
    }

    @Test
    void startFailsNamingMissingOrMisconfiguredTopics() throws Exception {
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> CompressorApp.start(config("absent").build()));
        assertTrue(missing.getMessage().startsWith("topics [absent.documents, absent.anchor-caches, absent.documents.dlq,"
                + " absent.recompress] do not exist"), missing.getMessage());

        stack.createTopics(TopicSpec.compacted("skew.documents"), TopicSpec.compacted("skew.anchor-caches"),
                TopicSpec.plain("skew.documents.dlq"), TopicSpec.plain("skew.recompress").withPartitions(2));
        IllegalStateException skewed = assertThrows(IllegalStateException.class,
                () -> CompressorApp.start(config("skew").build()));
        assertTrue(skewed.getMessage().startsWith("skew.recompress has 2 partitions but skew.documents has 6"),
                skewed.getMessage());

        stack.createTopics(TopicSpec.compacted("narrow.documents"), TopicSpec.compacted("narrow.anchor-caches"),
                TopicSpec.plain("narrow.recompress"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("narrow.documents.dlq", Optional.empty(), Optional.empty())
                    .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "1000")))).all().get();
        }
        IllegalStateException narrow = assertThrows(IllegalStateException.class,
                () -> CompressorApp.start(config("narrow").build()));
        assertTrue(narrow.getMessage().startsWith("narrow.documents.dlq accepts records of 1000 bytes"), narrow.getMessage());

        // a documents topic made with the broker's defaults (e.g. auto-created): deleted after 7 days
        stack.createTopics(TopicSpec.plain("kept.documents"), TopicSpec.compacted("kept.anchor-caches"),
                TopicSpec.plain("kept.documents.dlq"), TopicSpec.plain("kept.recompress"));
        IllegalStateException deleted = assertThrows(IllegalStateException.class,
                () -> CompressorApp.start(config("kept").build()));
        assertTrue(deleted.getMessage().startsWith("kept.documents has cleanup.policy=delete (retention.ms=604800000,"
                + " retention.bytes=-1): it must be compacted"), deleted.getMessage());

        stack.createTopics(TopicSpec.compacted("both.documents"), TopicSpec.plain("both.documents.dlq"),
                TopicSpec.plain("both.recompress"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("both.anchor-caches", Optional.empty(), Optional.empty())
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact,delete",
                            TopicConfig.RETENTION_MS_CONFIG, "3600000")))).all().get();
        }
        IllegalStateException expiring = assertThrows(IllegalStateException.class,
                () -> CompressorApp.start(config("both").build()));
        assertTrue(expiring.getMessage().startsWith("both.anchor-caches has cleanup.policy=compact,delete"
                + " (retention.ms=3600000, retention.bytes=-1)"), expiring.getMessage());

        // the broker's group.min.session.timeout.ms is 6 s: every join of the group would be refused
        createTopics("brief");
        IllegalStateException brief = assertThrows(IllegalStateException.class,
                () -> CompressorApp.start(config("brief").sessionTimeout(Duration.ofSeconds(2)).build()));
        assertTrue(brief.getMessage().startsWith("--session-timeout 2s is outside the brokers'"
                + " group.min.session.timeout.ms=6000"), brief.getMessage());
    }

    /**
     * A model rolled out under its own application id ('sac warm --model') keeps its compressors'
     * state there: a compressor of it under another id would leak the rollout's blobs on updates
     * and deletes, so it is refused at start, naming the id to use.
     */
    @Test
    void aRolledOutModelsCompressorUnderAnotherApplicationIdIsRefused() throws Exception {
        CompressorTopics topics = createTopics("guard");
        Path rolled = tmp.resolve("model/adapters/sac-rolled");
        SacAdapter.writeRandom(rolled, SacSpec.paperDefaults("sac", List.of(4, 8, 16), 8, Fingerprints.baseModel(base)),
                ModelShape.TINY.config, 29);
        String rolledId = Fingerprints.modelId(Fingerprints.baseModel(base), Fingerprints.adapter(rolled), 4);
        String own = CompressorConfig.modelApplicationId(rolledId);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            // what the rollout's compressor left: offsets committed on the documents topic
            admin.alterConsumerGroupOffsets(own, Map.of(new org.apache.kafka.common.TopicPartition(topics.documents(), 0),
                    new org.apache.kafka.clients.consumer.OffsetAndMetadata(0))).all().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> CompressorApp.start(config("guard").model(base, rolled).build()));
        assertTrue(refused.getMessage().startsWith("model " + rolledId + " was compressed under application id " + own)
                && refused.getMessage().contains("--application-id " + own), refused.getMessage());

        // an application id whose state is another model's (the first deployment's, after a switch): refused too
        String changelog = "guard-compressor-" + CompressorTopology.COMPRESSED_STORE + "-changelog";
        stack.createTopics(TopicSpec.compacted(changelog).withPartitions(1));
        try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> producer = new org.apache.kafka.clients.producer
                .KafkaProducer<>(Map.of(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        stack.bootstrapServers()), new org.apache.kafka.common.serialization.StringSerializer(),
                        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(changelog, CatalogKey.of("d1", modelId),
                    new byte[] {1})).get(30, java.util.concurrent.TimeUnit.SECONDS);
            IllegalStateException other = assertThrows(IllegalStateException.class,
                    () -> CompressorApp.start(config("guard").model(base, rolled).build()));
            assertTrue(other.getMessage().contains("holds entries of model(s) [" + modelId + "]"), other.getMessage());

            // a deployment whose compressors have run this model under their id (its state holds the model's
            // entries) keeps starting, even after a warm --model of its own model made the model's group
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(changelog, CatalogKey.of("d2", rolledId),
                    new byte[] {1})).get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        try (CompressorApp app = CompressorApp.start(config("guard").model(base, rolled).build())) {
            assertEquals(rolledId, app.modelId());
        }
    }

    /**
     * An application id that ran a build from before the refused-versions store gets that store's
     * changelog before Streams starts (a rolling upgrade's leader on the old build would not create
     * it), and this build runs on it; a new application id is left to Streams.
     */
    @Test
    void anApplicationIdFromBeforeTheRefusedStoreGetsItsChangelogAtStart() throws Exception {
        CompressorTopics topics = createTopics("upgrade");
        String refused = "upgrade-compressor-" + CompressorTopology.REFUSED_STORE + "-changelog";
        int partitions;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            partitions = admin.describeTopics(List.of(topics.documents())).allTopicNames().get(30, java.util.concurrent.TimeUnit.SECONDS)
                    .get(topics.documents()).partitions().size();
            // what the old build left: its stores' changelogs, not this one
            stack.createTopics(TopicSpec.compacted("upgrade-compressor-" + CompressorTopology.DOCUMENTS_STORE + "-changelog")
                    .withPartitions(partitions).withMaxMessageBytes(config("upgrade").build().limits().maxStoredBytes()), TopicSpec.compacted("upgrade-compressor-"
                    + CompressorTopology.COMPRESSED_STORE + "-changelog").withPartitions(partitions));
            int storedBytes = config("upgrade").build().limits().maxStoredBytes();
            TopicPreflight.check(stack.bootstrapServers(), topics, "upgrade-compressor", storedBytes, Duration.ofSeconds(45));
            // made by the check, before any Streams instance of this build could
            var described = admin.describeTopics(List.of(refused)).allTopicNames().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(partitions, described.get(refused).partitions().size());
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, refused);
            assertEquals("compact", cleanupPolicy(admin, resource));
            TopicPreflight.check(stack.bootstrapServers(), topics, "upgrade-compressor", storedBytes, Duration.ofSeconds(45));
            // and Streams runs on it
            try (CompressorApp app = CompressorApp.start(config("upgrade").build());
                 DocumentPublisher publisher = publisher(topics)) {
                publisher.publish(doc("upgraded", 1, text(2)));
                publisher.flush();
                awaitCatalog(topics, latest -> latest.get(key("upgraded")) != null);
            }
            // an application id that never ran: nothing made here, Streams makes its changelogs as it does the others
            TopicPreflight.check(stack.bootstrapServers(), topics, "fresh-compressor", storedBytes, Duration.ofSeconds(45));
            assertFalse(admin.listTopics().names().get(30, java.util.concurrent.TimeUnit.SECONDS)
                    .contains("fresh-compressor-" + CompressorTopology.REFUSED_STORE + "-changelog"));
        }
    }

    /** An adapter trained with capitalised words' tokens as anchors too gets them in its blobs, sized for them. */
    @Test
    void aNamesAdapterKeepsCapitalisedWordsAsAnchors() throws Exception {
        CompressorTopics topics = createTopics("names");
        Path names = tmp.resolve("model/adapters/sac-names");
        SacAdapter.writeRandom(names, SacSpec.paperDefaults(SacSpec.NAMES_VARIANT, List.of(4, 8, 16), 8,
                Fingerprints.baseModel(base)), ModelShape.TINY.config, 23);
        String namesModelId = Fingerprints.modelId(Fingerprints.baseModel(base), Fingerprints.adapter(names), 4);
        String text = "Mara Olen lives in Tessby and works at Hemlock Foods, which Dov Arkel founded in Quillon.";
        int expected;
        int uniform;
        try (dev.sacrag.core.sac.SacEngine engine = dev.sacrag.core.sac.SacEngine.load(base, names)) {
            expected = engine.compressKeepingCapitalisedWords(text, 4).anchorCount();
            uniform = dev.sacrag.core.sac.AnchorPositions.total(engine.contextTokens(text).length,
                    engine.adapter().spec().chunkSize(), 4);
        }
        assertTrue(expected > uniform, "the names must add anchors, or this shows nothing");
        try (CompressorApp app = CompressorApp.start(config("names").model(base, names).build());
             DocumentPublisher publisher = publisher(topics)) {
            publisher.publish(doc("doc-names", 1, text));
            publisher.flush();
            String key = CatalogKey.of("doc-names", namesModelId);
            AnchorCacheRecord r = awaitCatalog(topics, latest -> latest.get(key) != null).get(key);
            assertEquals(namesModelId, r.getModelId());
            assertEquals(expected, r.getAnchorCount());
            try (AnchorKvStore redis = redisStore()) {
                AnchorKv kv = AnchorKvCodec.decode(redis.get(r.getRedisKey()).orElseThrow(), namesModelId);
                assertEquals(expected, kv.anchorCount());
            }
        }
    }

    /** Waits until both instances are RUNNING and own disjoint, non-empty sets of all partitions. */
    private static void awaitSplit(CompressorApp a, CompressorApp b, int partitions) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Set<TopicPartition> pa = a.documentPartitions();
            Set<TopicPartition> pb = b.documentPartitions();
            Set<TopicPartition> union = new HashSet<>(pa);
            union.addAll(pb);
            boolean split = !pa.isEmpty() && !pb.isEmpty() && union.size() == partitions && union.size() == pa.size() + pb.size();
            if (split && a.state() == KafkaStreams.State.RUNNING && b.state() == KafkaStreams.State.RUNNING) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("partitions not split between the instances: " + pa + " / " + pb);
            }
            Thread.sleep(100);
        }
    }

    private static CompressorTopics createTopics(String name) {
        CompressorTopics t = topicsNamed(name);
        stack.createTopics(TopicSpec.compacted(t.documents()), TopicSpec.compacted(t.catalog()),
                TopicSpec.plain(t.deadLetter()), TopicSpec.plain(t.recompress()));
        return t;
    }

    /** With {@code partitions} partitions of the documents and recompress topics. */
    private static CompressorTopics createTopics(String name, int partitions) {
        CompressorTopics t = topicsNamed(name);
        stack.createTopics(TopicSpec.compacted(t.documents()).withPartitions(partitions), TopicSpec.compacted(t.catalog()),
                TopicSpec.plain(t.deadLetter()), TopicSpec.plain(t.recompress()).withPartitions(partitions));
        return t;
    }

    private static CompressorTopics topicsNamed(String name) {
        return new CompressorTopics(name + ".documents", name + ".anchor-caches", name + ".documents.dlq",
                name + ".recompress");
    }

    /** Timeouts shortened so an outage longer than the transaction timeout fits in a test. */
    private static CompressorConfig.Builder config(String name) {
        return CompressorConfig.builder()
                .bootstrapServers(stack.bootstrapServers())
                .redis(RedisTarget.parse(stack.redisUrl()))
                .applicationId(name + "-compressor")
                .model(base, adapter)
                .topics(new CompressorTopics(name + ".documents", name + ".anchor-caches", name + ".documents.dlq",
                        name + ".recompress"))
                .maxDocChars(MAX_DOC_CHARS)
                .stateDir(tmp.resolve(name + "-state"))
                .commitInterval(Duration.ofMillis(100))
                .maxPollRecords(1)
                .maxCompressTime(Duration.ofSeconds(1))
                .redisRetryBudget(Duration.ofSeconds(2));
    }

    private static Map<String, AnchorCacheRecord> awaitCatalog(CompressorTopics topics,
                                                               java.util.function.Predicate<Map<String, AnchorCacheRecord>> done) {
        try (TopicReader<String, AnchorCacheRecord> reader = new TopicReader<>(stack.bootstrapServers(), topics.catalog(),
                new StringDeserializer(), CompressorSerdes.anchorCacheRecord().deserializer())) {
            return latest(reader.awaitUntil(records -> done.test(latest(records)), WAIT, "the catalog"));
        }
    }

    /** Latest value per key; a tombstone is a present key with a null value. */
    private static Map<String, AnchorCacheRecord> latest(List<ConsumerRecord<String, AnchorCacheRecord>> records) {
        Map<String, AnchorCacheRecord> latest = new HashMap<>();
        records.forEach(r -> latest.put(r.key(), r.value()));
        return latest;
    }

    private static DocumentPublisher publisher(CompressorTopics topics) {
        return DocumentPublisher.connect(stack.bootstrapServers(), DocumentPublisher.Options.defaults().withTopic(topics.documents()));
    }

    private static KafkaProducer<byte[], byte[]> rawProducer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static AnchorKvStore redisStore() {
        return AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(stack.redisUrl())));
    }

    private static long pttl(String key) {
        return redis(c -> c.pttl(key));
    }

    /** Polls {@code condition} until it holds, failing with {@code what} after {@link #WAIT}. */
    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            return free.getLocalPort();
        }
    }

    /** The status code and body of a GET on the metrics server. */
    private static String get(int port, String path) throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT + ": " + what);
            }
            Thread.sleep(100);
        }
    }

    private static long redisKeyCount() {
        return redis(c -> c.dbsize());
    }

    /** One command on the stack's Redis over a short-lived connection. */
    /**
     * The topic's cleanup.policy, asked again while the broker says it does not host the topic: a
     * topic just created is in the metadata (describeTopics finds it) a moment before the broker
     * answers for its configuration.
     */
    private static String cleanupPolicy(Admin admin, org.apache.kafka.common.config.ConfigResource topic) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                return admin.describeConfigs(List.of(topic)).all().get(30, java.util.concurrent.TimeUnit.SECONDS)
                        .get(topic).get("cleanup.policy").value();
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private static <T> T redis(java.util.function.Function<io.lettuce.core.api.sync.RedisCommands<String, String>, T> command) {
        RedisClient client = RedisClient.create(stack.redisUrl());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return command.apply(c.sync());
        } finally {
            client.shutdown();
        }
    }

    private static DocumentEvent doc(String docId, long version, String text) {
        return DocumentEvent.newBuilder().setDocId(docId).setTenant("acme").setVersion(version).setText(text)
                .setMetadata(Map.of()).setPublishedAt(Instant.now()).build();
    }

    private static byte[] json(String docId, String text) {
        DocumentEvent d = doc(docId, 1, text.isBlank() ? "placeholder" : text);
        d.setText(text);
        return DocumentCodec.encodeJson(d).getBytes(StandardCharsets.UTF_8);
    }

    private static String id(int i) {
        return String.format("doc-%02d", i);
    }

    private static String text(int i) {
        return "Document " + i + " describes the harbour of town " + i + ". Its lighthouse was built in year "
                + (1800 + i) + " and painted " + (i % 2 == 0 ? "red" : "white") + ".";
    }

    private static String key(String docId) {
        return CatalogKey.of(docId, modelId);
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
