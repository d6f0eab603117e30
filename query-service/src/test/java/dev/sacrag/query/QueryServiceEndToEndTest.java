package dev.sacrag.query;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.KvStoreConfig;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.query.catalog.CatalogRecords;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.UsedDocument;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.query.v1.WarmResponse;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import dev.sacrag.stack.LocalStack;
import dev.sacrag.stack.TopicSpec;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The query service as deployed: a real KRaft broker and a real redis-server (local stack),
 * a tiny random model package on disk, the gRPC server on a real socket. Blobs and catalog
 * records are written here the way the compressor writes them. Random-model answers are
 * gibberish, so the test checks structure, never text.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QueryServiceEndToEndTest {

    private static final String DOCS = "sac.documents";
    private static final String CATALOG = "sac.anchor-caches";
    private static final String RECOMPRESS = "sac.recompress";
    private static final int RATIO = 4;
    private static final Map<String, String> TEXTS = Map.of(
            "ada", "Ada Lovelace wrote the first published program, for the Analytical Engine, in 1843.",
            "babbage", "Charles Babbage designed the Difference Engine and later the Analytical Engine.",
            "turing", "Alan Turing described a universal computing machine in 1936.");

    @TempDir
    static Path tmp;
    static LocalStack stack;
    static SacEngine compressor;
    static String modelId;
    static AnchorKvStore redis;
    static KafkaProducer<byte[], byte[]> producer;
    static QueryServiceApp app;
    static ManagedChannel channel;
    static QueryServiceGrpc.QueryServiceBlockingStub rpc;
    static final Map<String, byte[]> blobs = new HashMap<>();
    static final Map<String, AnchorKv> kvs = new HashMap<>();

    @BeforeAll
    static void startEverything() throws Exception {
        stack = LocalStack.start();
        stack.createTopics(TopicSpec.compacted(DOCS), TopicSpec.compacted(CATALOG), TopicSpec.plain(RECOMPRESS));
        Path pkg = tmp.resolve("model");
        Path base = pkg.resolve("base");
        RandomModelWriter.write(ModelShape.TINY.config, base, RandomModelWriter.Options.defaults(7));
        SacAdapter.writeRandom(pkg.resolve("adapters/sac"),
                SacSpec.paperDefaults("sac", List.of(RATIO, 8), 8, Fingerprints.baseModel(base)), ModelShape.TINY.config, 8);
        compressor = SacEngine.load(base, pkg.resolve("adapters/sac"));
        modelId = compressor.modelId(RATIO);
        redis = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(stack.redisUrl())));
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
        long version = 1;
        for (String doc : List.of("ada", "babbage", "turing")) {
            publishCompressed(doc, version++);
        }

        Map<String, String> flags = new HashMap<>(Map.of("--port", "0", "--bind", "127.0.0.1", "--metrics-port", "0",
                "--bootstrap-servers", stack.bootstrapServers(), "--redis", stack.redisUrl(), "--model", pkg.toString(),
                "--max-new-tokens", "6", "--warm-cache-bytes", "64m"));
        app = QueryServiceApp.start(QueryServiceConfig.parse(flags, Map.of()));
        assertTrue(app.awaitReady(Duration.ofSeconds(60)), "the service read both topics");
        assertEquals(modelId, app.modelId(), "the adapter's smallest ratio is the active model");
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", app.port()).usePlaintext().build();
        rpc = QueryServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : new AutoCloseable[] {app, producer, redis, compressor, stack}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** What the compressor does for one document: blob to Redis, catalog record to the topic (and the document itself). */
    static void publishCompressed(String doc, long version) throws Exception {
        String text = TEXTS.getOrDefault(doc, "Grace Hopper wrote the first compiler, the A-0 system, in 1952.");
        AnchorKv kv = compressor.compress(text, RATIO);
        byte[] blob = AnchorKvCodec.encode(kv, KvDtype.F16);
        String key = RedisKeys.blobKey("default", modelId, doc, version);
        redis.put(key, blob, Optional.empty());
        blobs.put(doc, blob);
        kvs.put(doc, kv);
        publishDocument(doc, version, text);
        publishCatalog(doc, version, kv, blob);
    }

    static void publishDocument(String doc, long version, String text) throws Exception {
        DocumentEvent event = DocumentEvent.newBuilder().setDocId(doc).setVersion(version).setText(text)
                .setMetadata(Map.of()).setPublishedAt(Instant.now()).build();
        producer.send(new ProducerRecord<>(DOCS, null, doc.getBytes(StandardCharsets.UTF_8), DocumentCodec.encodeAvro(event),
                new RecordHeaders().add(DocumentCodec.CONTENT_TYPE_HEADER,
                        DocumentCodec.AVRO_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8)))).get(30, TimeUnit.SECONDS);
    }

    static void publishCatalog(String doc, long version, AnchorKv kv, byte[] blob) throws Exception {
        AnchorCacheRecord record = AnchorCacheRecord.newBuilder().setDocId(doc).setTenant("default").setDocVersion(version)
                .setModelId(modelId).setRatio(RATIO).setTokenCount(kv.tokenCount()).setAnchorCount(kv.anchorCount())
                .setChunkCount(kv.chunkAnchors().length).setRedisKey(RedisKeys.blobKey("default", modelId, doc, version))
                .setBytes(blob.length).setDtype("f16").setChecksum(AnchorKvCodec.checksum(blob)).setCompressedAt(Instant.now())
                .setCompressMillis(3).build();
        producer.send(new ProducerRecord<>(CATALOG, (doc + "|" + modelId).getBytes(StandardCharsets.UTF_8),
                CatalogRecords.encode(record))).get(30, TimeUnit.SECONDS);
    }

    @Test
    @Order(1)
    void servesHealthAndReflectionAndPreloadsTheCatalog() throws Exception {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(QueryServiceGrpc.SERVICE_NAME).build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        assertTrue(ReflectionClient.listServices(channel).contains(QueryServiceGrpc.SERVICE_NAME));
        awaitTrue(Duration.ofSeconds(20), () -> metric("sac_query_cache_entries") == 3.0,
                "the three compressed documents are preloaded into the warm cache");
    }

    @Test
    @Order(2)
    void answersFromSeveralNamedDocumentsTokensFirstThenOneResult() {
        List<AskResponse> stream = ask(AskRequest.newBuilder().setQuestion("Who designed the engine?")
                .addDocIds("babbage").addDocIds("ada").setMaxNewTokens(5).build());
        AskResult result = assertStreamShape(stream, 5);
        assertEquals(modelId, result.getModelId());
        assertEquals(List.of("babbage", "ada"), result.getDocumentsList().stream().map(UsedDocument::getDocId).toList());
        for (UsedDocument d : result.getDocumentsList()) {
            assertEquals(kvs.get(d.getDocId()).anchorCount(), d.getAnchorCount());
            assertEquals(blobs.get(d.getDocId()).length, d.getBytes());
        }
        assertEquals(2, result.getDocuments(0).getVersion());
        assertTrue(result.getTimings().getTotalMs() >= result.getTimings().getTtftMs());
        assertTrue(result.getTimings().getTtftMs() > 0);
    }

    @Test
    @Order(3)
    void retrievesDocumentsByQuestionWithBm25() {
        AskResult result = assertStreamShape(ask(AskRequest.newBuilder()
                .setQuestion("Who designed the Difference Engine?").setTopK(2).build()), 6);
        assertEquals(2, result.getDocumentsCount());
        assertEquals("babbage", result.getDocuments(0).getDocId());
        assertTrue(result.getDocuments(0).getScore() >= result.getDocuments(1).getScore());
        assertTrue(result.getDocuments(1).getScore() > 0);
    }

    @Test
    @Order(4)
    void unknownDocumentIsNotFoundAndWarmReportsWhatItDid() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ask(AskRequest.newBuilder().setQuestion("What?").addDocIds("no-such-doc").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("no-such-doc"), e.getStatus().toString());

        WarmResponse warm = rpc.withDeadlineAfter(30, TimeUnit.SECONDS).warm(WarmRequest.newBuilder()
                .addDocIds("ada").addDocIds("turing").addDocIds("no-such-doc").build());
        assertEquals(2, warm.getAlreadyWarm(), "preloaded");
        assertEquals(0, warm.getLoaded());
        assertEquals(List.of("no-such-doc"), warm.getMissesList());
    }

    @Test
    @Order(5)
    void redisOutageIsUnavailableUntilRedisAndTheBlobAreBack() throws Exception {
        stack.stopRedis();
        try {
            publishDocument("hopper", 4, "Grace Hopper wrote the first compiler, the A-0 system, in 1952.");
            AnchorKv kv = compressor.compress("Grace Hopper wrote the first compiler, the A-0 system, in 1952.", RATIO);
            byte[] blob = AnchorKvCodec.encode(kv, KvDtype.F16);
            publishCatalog("hopper", 4, kv, blob);
            AskRequest hopper = AskRequest.newBuilder().setQuestion("Who wrote the compiler?").addDocIds("hopper").build();
            Status down = awaitStatus(hopper, s -> s.getCode() != Status.Code.NOT_FOUND);
            assertEquals(Status.Code.UNAVAILABLE, down.getCode(), down.toString());
            assertTrue(down.getDescription().contains("anchor KV store unavailable"), down.toString());

            assertStreamShape(ask(AskRequest.newBuilder().setQuestion("Who?").addDocIds("ada").build()), 6);

            stack.startRedis(); // empty: no persistence, like a flushed or replaced Redis
            Status gone = awaitStatus(hopper, s -> s.getDescription() != null && s.getDescription().contains("recompressing"));
            assertEquals(Status.Code.UNAVAILABLE, gone.getCode());
            ConsumerRecord<byte[], byte[]> request = firstRecompressRequest();
            assertEquals("hopper", new String(request.key(), StandardCharsets.UTF_8));
            String json = new String(request.value(), StandardCharsets.UTF_8);
            assertTrue(json.contains("\"tenant\":\"default\"") && json.contains("\"modelId\":\"" + modelId + "\"")
                    && json.contains("\"reason\":"), json);

            redis.put(RedisKeys.blobKey("default", modelId, "hopper", 4), blob, Optional.empty()); // the compressor's answer
            AskResult recovered = assertStreamShape(ask(hopper), 6);
            assertEquals("hopper", recovered.getDocuments(0).getDocId());
        } finally {
            stack.startRedis();
        }
    }

    @Test
    @Order(6)
    void metricsEndpointCountsRequestsByStatus() throws Exception {
        System.gc();   // a gauge whose source only it holds would read NaN once that is collected
        String body = scrape();
        assertTrue(body.lines().anyMatch(l -> l.startsWith("sac_query_documents_compressed ")
                && Double.parseDouble(l.substring(l.indexOf(' ') + 1)) >= 1), "what the active model can answer about: " + body);
        assertTrue(body.lines().anyMatch(l -> l.startsWith("sac_query_documents_stale ")
                && Double.parseDouble(l.substring(l.indexOf(' ') + 1)) >= 0), body);
        assertTrue(body.contains("sac_query_requests_total{rpc=\"Ask\",status=\"OK\"}"), body);
        assertTrue(body.contains("sac_query_requests_total{rpc=\"Ask\",status=\"NOT_FOUND\"}"), body);
        assertTrue(body.contains("sac_query_requests_total{rpc=\"Ask\",status=\"UNAVAILABLE\"}"), body);
        assertTrue(body.contains("sac_query_stage_seconds_count{stage=\"first_token\"}"), body);
        assertTrue(body.contains("sac_query_stage_seconds_bucket{stage=\"first_token\",le=\"0.25\"}")
                && body.contains("sac_query_stage_seconds_bucket{stage=\"total\",le=\"+Inf\"}"),
                "histogram buckets, for percentiles across replicas: " + body);
        assertTrue(body.contains("sac_query_inference_queue_depth"), body);
        assertTrue(body.contains("sac_query_cache_lookups_total{result=\"hit\"}"), body);
        // the outage test's Redis came back as another process (it may restart it more than once)
        assertTrue(body.lines().anyMatch(l -> l.startsWith("sac_query_redis_restarts_total ")
                && Double.parseDouble(l.substring(l.indexOf(' ') + 1)) >= 1), body);
        assertTrue(body.lines().anyMatch(l -> l.startsWith("sac_query_redis_failures_total ")
                && Double.parseDouble(l.substring(l.indexOf(' ') + 1)) >= 1), "the outage's failed reads are counted: " + body);
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + app.metricsPort().getAsInt() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), health.body());
        assertEquals("SERVING\n", health.body(), "the HTTP health probe says what gRPC health says");
    }

    /** Tokens, then exactly one result; the pieces spell the answer. */
    static AskResult assertStreamShape(List<AskResponse> stream, int maxTokens) {
        assertFalse(stream.isEmpty());
        AskResponse last = stream.get(stream.size() - 1);
        assertTrue(last.hasResult(), "the stream ends with the result");
        StringBuilder pieces = new StringBuilder();
        int tokens = 0;
        for (AskResponse r : stream.subList(0, stream.size() - 1)) {
            assertTrue(r.hasToken(), "only tokens before the result");
            pieces.append(r.getToken().getText());
            if (r.getToken().getTokenId() >= 0) {
                tokens++;
            }
        }
        assertTrue(tokens <= maxTokens, tokens + " tokens, limit " + maxTokens);
        assertEquals(pieces.toString(), last.getResult().getAnswer());
        return last.getResult();
    }

    static List<AskResponse> ask(AskRequest request) {
        List<AskResponse> out = new ArrayList<>();
        Iterator<AskResponse> it = rpc.withDeadlineAfter(60, TimeUnit.SECONDS).ask(request);
        it.forEachRemaining(out::add);
        return out;
    }

    static Status awaitStatus(AskRequest request, java.util.function.Predicate<Status> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Status last = null;
        while (System.nanoTime() < deadline) {
            try {
                ask(request);
                last = Status.OK;
            } catch (StatusRuntimeException e) {
                last = e.getStatus();
                if (wanted.test(last)) {
                    return last;
                }
            }
            Thread.sleep(100);
        }
        return fail("no matching status within 30 s; last: " + last);
    }

    static ConsumerRecord<byte[], byte[]> firstRecompressRequest() {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "e2e-recompress-check",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
            c.subscribe(List.of(RECOMPRESS));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    return r;
                }
            }
        }
        return fail("no recompress request on " + RECOMPRESS + " within 30 s");
    }

    static String scrape() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + app.metricsPort().getAsInt() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    static double metric(String name) {
        try {
            for (String line : scrape().split("\n")) {
                if (line.startsWith(name + " ")) {
                    return Double.parseDouble(line.substring(name.length() + 1).trim());
                }
            }
            return Double.NaN;
        } catch (Exception e) {
            throw new IllegalStateException("scraping " + name, e);
        }
    }

    static void awaitTrue(Duration timeout, BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + timeout + ": " + what);
            }
            Thread.sleep(100);
        }
    }
}
