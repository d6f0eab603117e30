package dev.sacrag.cli;

import dev.sacrag.compressor.CompressionSettings;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.compressor.CompressorApp;
import dev.sacrag.compressor.SlowRecordTimeouts;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.query.QueryServiceApp;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.feed.CatalogSnapshot;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.UsedDocument;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipeline end to end on the real stack (in-process KRaft broker, redis-server process, tiny
 * random models): Kafka's console producer as a separate process, a compressor killed mid-stream,
 * {@code sac warm --rebuild} after a Redis flush, and a model rollout ({@code sac warm --model},
 * {@code sac model activate}). Random-model answers are gibberish: the tests check which
 * documents and which model answered, never the text.
 */
class PipelineEndToEndTest {

    @TempDir
    static Path tmp;
    static PipelineRig rig;

    @BeforeAll
    static void startStack() throws Exception {
        rig = new PipelineRig(tmp);
    }

    @AfterAll
    static void stopStack() {
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void aJsonDocumentFromKafkasConsoleProducerInAnotherProcessBecomesAnswerable() throws Exception {
        PipelineRig.Topics topics = rig.createTopics("console");
        try (CompressorApp compressor = rig.startCompressor(topics); QueryServiceApp query = rig.startQueryService(topics)) {
            assertEquals(rig.modelId, compressor.modelId());
            Process producer = ChildJava.of("org.apache.kafka.tools.ConsoleProducer", List.of(
                    "--bootstrap-server", rig.stack.bootstrapServers(), "--topic", topics.compressor().documents(),
                    "--property", "parse.key=true", "--property", "key.separator=\t"))
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("console-producer.log").toFile()).start();
            try (OutputStream in = producer.getOutputStream()) {
                in.write(("console-doc\t{\"docId\":\"console-doc\",\"tenant\":\"console\",\"title\":\"Lighthouses\","
                        + "\"text\":\"The lighthouse of Pharos was one of the seven wonders of the ancient world.\"}\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            assertTrue(producer.waitFor(60, TimeUnit.SECONDS), "the console producer exits when its input ends");
            assertEquals(0, producer.exitValue(), Files.readString(tmp.resolve("console-producer.log")));

            rig.awaitCatalog(topics, c -> c.find("console", "console-doc", rig.modelId).isPresent());
            AskResult answer = awaitAnswer(query, "console", "Which lighthouse was a wonder?", "console-doc");
            assertEquals(List.of("console-doc"), answer.getDocumentsList().stream().map(UsedDocument::getDocId).toList());
            assertEquals(rig.modelId, answer.getModelId());
        }
    }

    /**
     * The compressor runs as a child process and is killed (SIGKILL: no commit, no clean shutdown)
     * while it works through the documents; a new instance with the same application id finishes.
     * Exactly-once: each document ends as one blob under its latest version's key, nothing missing,
     * no stale version left behind.
     */
    @Test
    void aCompressorKilledMidStreamAndRestartedLeavesEveryDocumentInRedisExactlyOnce() throws Exception {
        PipelineRig.Topics topics = rig.createTopics("crash");
        int n = 60;
        Map<String, Long> latest = new HashMap<>();
        Path log = tmp.resolve("crash-compressor.log");
        Process child = ChildJava.of("dev.sacrag.cli.Sac", Stream.concat(Stream.of("compressor",
                "--bootstrap-servers", rig.stack.bootstrapServers(), "--redis", rig.stack.redisUrl(),
                "--application-id", "crash-compressor", "--model", rig.pkg.toString(),
                "--documents-topic", topics.compressor().documents(), "--catalog-topic", topics.compressor().catalog(),
                "--dead-letter-topic", topics.compressor().deadLetter(), "--recompress-topic", topics.compressor().recompress(),
                "--state-dir", tmp.resolve("crash-state").toString(), "--metrics-port", "off",
                "--max-compress-time", "5s", "--redis-retry-budget", "2s"), Stream.empty()).toList())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try (DocumentPublisher publisher = rig.publisher(topics)) {
            for (int i = 0; i < n; i++) {
                publisher.publish(doc("crash", id(i), 1, text(i, 1)));
                latest.put(id(i), 1L);
            }
            publisher.flush();
            awaitSomeCompressed(topics, child, log);
            // Redis takes no more writes: whatever record the child works on from here stays inside its
            // transaction, so the kill below lands mid-record, whatever the speed of this machine
            rig.pauseRedisWrites(Duration.ofMinutes(5));
            for (int i = 0; i < n; i += 3) {
                publisher.publish(doc("crash", id(i), 2, text(i, 2)));
                latest.put(id(i), 2L);
            }
            publisher.flush();
            awaitLogLine(log, "Redis unavailable", child);   // its write of a record timed out: it is mid-record
        } finally {
            child.destroyForcibly();
            rig.unpauseRedis();   // first: the tests after this one share the Redis
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the compressor process was killed");
        }
        Catalog atKill = CatalogSnapshot.read(rig.stack.bootstrapServers(), topics.compressor().catalog(), PipelineRig.WAIT);
        assertTrue(atKill.entries(Optional.of(rig.modelId)).stream().noneMatch(e -> e.docVersion() == 2),
                "no update was committed before the kill");

        try (CompressorApp restarted = CompressorApp.start(rig.compressorConfig(topics)
                .applicationId("crash-compressor").stateDir(tmp.resolve("crash-state")).build())) {
            Catalog catalog = rig.awaitCatalog(topics, c -> latest.entrySet().stream().allMatch(e ->
                    c.find("crash", e.getKey(), rig.modelId).filter(x -> x.docVersion() == e.getValue()).isPresent()));
            List<String> expected = latest.entrySet().stream()
                    .map(e -> RedisKeys.blobKey("crash", rig.modelId, e.getKey(), e.getValue())).sorted().toList();
            // an update retires the old version's blob with an expiry (readers of the catalog before
            // the update committed still find it); what lives on is one blob per document
            List<String> keys = rig.blobKeys("crash");
            assertEquals(expected, keys.stream().filter(k -> rig.pttl(k) == -1).sorted().toList(),
                    "one live blob per document, under its latest version's key (child log: " + log + ")");
            long longestGrace = CompressionSettings.retireGraceFor(SlowRecordTimeouts.BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT)
                    .toMillis();
            for (String retired : keys.stream().filter(k -> !expected.contains(k)).toList()) {
                long pttl = rig.pttl(retired);
                assertTrue(pttl > 0 && pttl <= longestGrace, retired + " is neither live nor retired: PTTL " + pttl);
                assertTrue(expected.stream().anyMatch(k -> k.substring(0, k.lastIndexOf(':')).equals(
                        retired.substring(0, retired.lastIndexOf(':')))) && !retired.endsWith(":2"),
                        retired + " is not an older version of a live document");
            }
            for (Map.Entry<String, Long> e : latest.entrySet()) {
                assertEquals(RedisKeys.blobKey("crash", rig.modelId, e.getKey(), e.getValue()),
                        catalog.find("crash", e.getKey(), rig.modelId).orElseThrow().redisKey());
            }
            assertEquals(n, catalog.entries(Optional.of(rig.modelId)).size());
            assertTrue(restarted.metrics().count("documents.compressed") >= latest.values().stream().filter(v -> v == 2).count(),
                    "the restarted instance compressed every update the killed one left uncommitted");
        }
    }

    /** Waits until the child's log has {@code line}; fails with its log if it dies or 90 s pass first. */
    private static void awaitLogLine(Path log, String line, Process child) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!Files.readString(log).contains(line)) {
            if (!child.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the compressor process " + (child.isAlive() ? "logged no '" + line + "' in 90 s"
                        : "exited with " + child.exitValue()) + "; its log:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    /** Waits until the child compressor has committed a few documents; fails with its log if it dies first. */
    private static int awaitSomeCompressed(PipelineRig.Topics topics, Process child, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            int compressed = CatalogSnapshot.read(rig.stack.bootstrapServers(), topics.compressor().catalog(), PipelineRig.WAIT).size();
            if (compressed >= 5) {
                return compressed;
            }
            if (!child.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the compressor process " + (child.isAlive() ? "compressed " + compressed
                        + " documents in 90 s" : "exited with " + child.exitValue()) + "; its log:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    @Test
    void docsSweepLetsExpireOnlyTheBlobsNoCatalogEntryWillNameAgain() throws Exception {
        PipelineRig.Topics topics = rig.createTopics("sweep");
        try (CompressorApp compressor = rig.startCompressor(topics); DocumentPublisher publisher = rig.publisher(topics)) {
            for (String d : List.of("a", "b", "c")) {
                publisher.publish(doc("sweep", d, 1, text(d.charAt(0), 1)));
            }
            publisher.publish(doc("sweep", "d", 5, text('d', 5)));
            publisher.flush();
            rig.awaitCatalog(topics, c -> Stream.of("a", "b", "c", "d").allMatch(d -> c.find("sweep", d, rig.modelId).isPresent()));
            publisher.publish(doc("sweep", "a", 2, text('a', 2)));
            publisher.delete("c");
            publisher.flush();
            rig.awaitCatalog(topics, c -> c.find("sweep", "a", rig.modelId).filter(e -> e.docVersion() == 2).isPresent()
                    && c.find("sweep", "c", rig.modelId).isEmpty());
        }
        // with the compressor stopped, d is deleted and published again at a lower version: as if a
        // compressor were inside the transaction that takes both, its blob of d v3 written, the
        // catalog's d v5 entry not yet removed
        try (DocumentPublisher publisher = rig.publisher(topics)) {
            publisher.delete("d");
            publisher.publish(doc("sweep", "d", 3, text('d', 3)));
            publisher.flush();
        }
        // what the compressor's bookkeeping missed: late writes of a fenced instance (no expiry) ...
        String superseded = RedisKeys.blobKey("sweep", rig.modelId, "a", 1);   // it had retired this one with an expiry
        String ofDeleted = RedisKeys.blobKey("sweep", rig.modelId, "c", 1);     // and deleted this one
        String neverPublished = RedisKeys.blobKey("sweep", rig.modelId, "x", 1);
        // ... and what the sweep must leave alone
        List<String> live = List.of(RedisKeys.blobKey("sweep", rig.modelId, "b", 1), RedisKeys.blobKey("sweep", rig.modelId, "a", 2),
                RedisKeys.blobKey("sweep", rig.modelId, "d", 5));
        String newer = RedisKeys.blobKey("sweep", rig.modelId, "a", 3);         // a transaction not committed yet
        String newLife = RedisKeys.blobKey("sweep", rig.modelId, "d", 3);       // older than the catalog's, of d's new life
        String otherModel = RedisKeys.blobKey("sweep", "0ddba11", "x", 1);     // another deployment's
        String unparsable = "sac:sweep:kv:v1:" + rig.modelId + ":{b}:latest";
        for (String k : List.of(superseded, ofDeleted, neverPublished, newer, newLife, otherModel, unparsable)) {
            rig.plant(k, "not compressed by this test");
        }
        List<String> untouched = Stream.concat(live.stream(), Stream.of(newer, newLife, otherModel, unparsable)).toList();
        List<String> args = new ArrayList<>(List.of("docs", "sweep", "--redis", rig.stack.redisUrl()));
        args.addAll(topics.flags(rig.stack.bootstrapServers()));
        List<String> sweptLines = Stream.of("document gone  " + neverPublished, "document gone  " + ofDeleted,
                "superseded  " + superseded).sorted().toList();

        // every tenant of the shared Redis: the other tests' blobs are of tenants these topics never name
        PipelineRig.Run everyTenant = PipelineRig.sac(Stream.concat(args.stream(), Stream.of("--dry-run")).toList());
        assertEquals(0, everyTenant.code(), everyTenant.out() + everyTenant.err());
        assertEquals(sweptLines, everyTenant.out().lines().filter(l -> !l.startsWith("docs sweep:")).sorted().toList());

        args.addAll(List.of("--tenant", "sweep"));
        PipelineRig.Run dry = PipelineRig.sac(Stream.concat(args.stream(), Stream.of("--dry-run")).toList());
        assertEquals(0, dry.code(), dry.out() + dry.err());
        String counts = "scanned 10 blob keys: 3 live, 1 superseded, 2 of documents gone, 2 pending, 1 not this"
                + " deployment's, 1 unparsable; 3 ";
        assertTrue(dry.out().contains(counts + "would be set to expire (--dry-run)"), dry.out());
        assertEquals(sweptLines, dry.out().lines().filter(l -> !l.startsWith("docs sweep:")).sorted().toList());
        for (String k : List.of(superseded, ofDeleted, neverPublished)) {
            assertEquals(-1, rig.pttl(k), "--dry-run changes nothing: " + k);
        }

        // a documents topic that is not the compressors' would make every blob without an entry look deleted
        List<String> wrongTopic = new ArrayList<>(args);
        wrongTopic.set(wrongTopic.indexOf(topics.compressor().documents()), topics.compressor().deadLetter());
        PipelineRig.Run refused = PipelineRig.sac(wrongTopic);
        assertEquals(1, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().contains("docs sweep: refused: 3 of the 3 catalog entries"), refused.err());
        for (String k : List.of(superseded, ofDeleted, neverPublished)) {
            assertEquals(-1, rig.pttl(k), "a refused sweep changes nothing: " + k);
        }

        args.addAll(List.of("--grace", "5m"));
        PipelineRig.Run run = PipelineRig.sac(args);
        assertEquals(0, run.code(), run.out() + run.err());
        assertTrue(run.out().contains(counts + "set to expire"), run.out());
        assertEquals(sweptLines, run.out().lines().filter(l -> !l.startsWith("docs sweep:")).sorted().toList());
        for (String k : List.of(superseded, ofDeleted, neverPublished)) {
            long pttl = rig.pttl(k);
            assertTrue(pttl > 0 && pttl <= Duration.ofMinutes(5).toMillis(), k + " expires within the grace: PTTL " + pttl);
        }
        for (String k : untouched) {
            assertEquals(-1, rig.pttl(k), k + " keeps no expiry");
        }
    }

    @Test
    void warmRebuildAfterARedisFlushRestoresEveryBlobAndAskAnswersAgain() throws Exception {
        PipelineRig.Topics topics = rig.createTopics("rebuild");
        int n = 8;
        try (CompressorApp compressor = rig.startCompressor(topics);
             QueryServiceApp query = rig.startQueryService(topics, "--warm-cache-bytes", "0");
             DocumentPublisher publisher = rig.publisher(topics)) {
            assertEquals(rig.modelId, compressor.modelId());
            for (int i = 0; i < n - 1; i++) {
                publisher.publish(doc("rebuild", id(i), 1, text(i, 1)));
            }
            publisher.flush();
            // The last one as a non-Java client may publish it: on another partition than Java's
            // murmur2 hash of its key (librdkafka hashes with CRC32). Its recompress request must
            // still reach the task holding it.
            publishOffHashPartition(topics.compressor().documents(), doc("rebuild", id(n - 1), 1, text(n - 1, 1)));
            rig.awaitCatalog(topics, c -> IntStream.range(0, n).allMatch(i -> c.find("rebuild", id(i), rig.modelId).isPresent()));
            awaitAnswer(query, "rebuild", "When was the lighthouse built?", id(0));

            rig.stack.flushRedis();
            assertEquals(List.of(), rig.blobKeys("rebuild"));
            // a mistyped id: refused before any request, naming the catalog's models
            List<String> typo = new ArrayList<>(List.of("warm", "--rebuild", "--model-id", "ffffffffffff", "--no-wait",
                    "--redis", rig.stack.redisUrl()));
            typo.addAll(topics.flags(rig.stack.bootstrapServers()));
            PipelineRig.Run mistyped = PipelineRig.sac(typo);
            assertEquals(1, mistyped.code(), mistyped.out() + mistyped.err());
            assertTrue(mistyped.err().contains("the catalog holds no entry of model ffffffffffff but does of ")
                    && mistyped.err().contains(rig.modelId) && mistyped.err().contains("a mistyped --model-id?"), mistyped.err());
            assertEquals("", mistyped.out(), "refused before it starts: no start line before the refusal");
            typo.add("--force");
            PipelineRig.Run forced = PipelineRig.sac(typo);
            assertEquals(0, forced.code(), "--force requests them all the same: " + forced.out() + forced.err());
            assertTrue(forced.out().startsWith("warm --rebuild: model ffffffffffff, compressors of application id "),
                    "a run that goes ahead says what it starts: " + forced.out());
            assertTrue(forced.out().contains(n + " recompress requests"), forced.out());
            List<String> args = new ArrayList<>(List.of("warm", "--rebuild", "--model-id", rig.modelId,
                    "--redis", rig.stack.redisUrl(), "--timeout", "60s"));
            args.addAll(topics.flags(rig.stack.bootstrapServers()));
            PipelineRig.Run run = PipelineRig.sac(args);
            assertEquals(0, run.code(), run.out() + run.err());
            assertTrue(run.out().contains("checked " + n + " live documents, " + n + " missing, " + n
                    + " recompress requests, " + n + " restored"), run.out());
            assertTrue(run.err().contains("restored [##############################] " + n + "/" + n), "progress: " + run.err());

            Catalog catalog = rig.awaitCatalog(topics, c -> true);
            List<String> expected = IntStream.range(0, n).mapToObj(i ->
                    catalog.find("rebuild", id(i), rig.modelId).orElseThrow().redisKey()).sorted().toList();
            assertEquals(expected, rig.blobKeys("rebuild").stream().sorted().toList(), "every blob is back, once");
            for (int i : new int[] {0, n - 1}) {
                AskResult answer = PipelineRig.ask(query, "rebuild", "When was the lighthouse built?", id(i));
                assertEquals(id(i), answer.getDocuments(0).getDocId());
            }

            PipelineRig.Run again = PipelineRig.sac(args);
            assertEquals(0, again.code(), again.out() + again.err());
            assertTrue(again.out().contains("checked " + n + " live documents, 0 missing, 0 recompress requests"), again.out());

            // a blob that is there but unusable: EXISTS finds nothing to do, --verify rebuilds it
            String bad = catalog.find("rebuild", id(1), rig.modelId).orElseThrow().redisKey();
            rig.overwrite(bad, "not an anchor blob");
            PipelineRig.Run unverified = PipelineRig.sac(args);
            assertTrue(unverified.out().contains("0 missing, 0 recompress requests"), unverified.out());
            List<String> verifyArgs = new ArrayList<>(args);
            verifyArgs.add("--verify");
            PipelineRig.Run verified = PipelineRig.sac(verifyArgs);
            assertEquals(0, verified.code(), verified.out() + verified.err());
            assertTrue(verified.out().contains("checked " + n + " live documents, 1 missing or unusable, 1 recompress"
                    + " requests, 1 restored"), verified.out());
            assertEquals(id(1), PipelineRig.ask(query, "rebuild", "When was the lighthouse built?", id(1))
                    .getDocuments(0).getDocId());

            PipelineRig.Run miss = PipelineRig.sac(List.of("warm", "--docs", "no-such-doc", "--tenant", "rebuild",
                    "--target", "127.0.0.1:" + query.port()));
            assertEquals(1, miss.code(), "a replica without a warm cache warms nothing: " + miss.out() + miss.err());
            assertTrue(miss.err().contains("FAILED_PRECONDITION: this query service replica has no warm cache (it was started"
                    + " with --warm-cache-bytes 0)"), "said so, not a miss of every document: " + miss.out() + miss.err());
        }
    }

    @Test
    void warmRebuildReportsADocumentTheCompressorRefusesWithoutWaitingOutItsTimeout() throws Exception {
        PipelineRig.Topics topics = rig.createTopics("refused");
        String dlq = topics.compressor().deadLetter();
        try (CompressorApp compressor = CompressorApp.start(rig.compressorConfig(topics)
                     .maxDocumentTokens(java.util.OptionalInt.of(1000)).build());
             DocumentPublisher publisher = rig.publisher(topics);
             org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                     Map.of("bootstrap.servers", rig.stack.bootstrapServers()))) {
            publisher.publish(doc("refused", "short", 1, text(0, 1)));
            publisher.publish(doc("refused", "long", 1, "word ".repeat(1600)));   // over --max-doc-tokens: dead-lettered
            publisher.publish(doc("refused", "gone", 1, "word ".repeat(1600)));   // the same, then deleted
            publisher.delete("gone");
            publisher.flush();
            rig.awaitCatalog(topics, c -> c.find("refused", "short", rig.modelId).isPresent());
            // what an ingest that exited 0 cannot show: the compressor refused the document; one deleted
            // since no longer matters, and is listed only when asked for
            List<String> refusedArgs = List.of("docs", "refused", "--bootstrap-servers", rig.stack.bootstrapServers(),
                    "--dead-letter-topic", dlq, "--documents-topic", topics.compressor().documents(), "--catalog-topic",
                    topics.compressor().catalog(), "--model", rig.modelId);
            List<String> allArgs = new ArrayList<>(refusedArgs);
            allArgs.add("--all");
            PipelineRig.Run all = PipelineRig.sac(allArgs);
            for (long until = System.nanoTime() + PipelineRig.WAIT.toNanos();
                 !all.out().contains("2 refusal(s)") && System.nanoTime() < until; all = PipelineRig.sac(allArgs)) {
                Thread.sleep(300);
            }
            assertEquals(0, all.code(), all.out() + all.err());
            assertTrue(all.out().lines().anyMatch(l -> l.startsWith("gone ") && l.contains("TOO_LARGE")
                    && l.contains("(deleted since) ")), all.out());
            assertTrue(all.out().lines().anyMatch(l -> l.startsWith("long ") && !l.contains("(deleted since)")), all.out());
            assertTrue(all.out().contains("2 refusal(s) in " + dlq) && all.out().contains(
                    "; 1 of them of documents deleted since, marked (deleted since)"), all.out());
            // a question about it is told why, not "not compressed yet" (a client would wait on that for ever)
            try (QueryServiceApp query = rig.startQueryService(topics)) {
                String told = "";
                for (long until = System.nanoTime() + PipelineRig.WAIT.toNanos(); !told.contains("was refused")
                        && System.nanoTime() < until; Thread.sleep(200)) {
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                            () -> PipelineRig.ask(query, "refused", "How many words?", "long"));
                    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getMessage());
                    told = e.getStatus().getDescription();
                }
                assertTrue(told.startsWith("document 'long' v1 was refused by the compressor of model " + rig.modelId
                        + ": TOO_LARGE (document long v1 has") && told.contains("split it into smaller documents"), told);
            }
            // the dead letter expires (the topic's retention), as deleteRecords does here: the document
            // now looks live and missing to warm --rebuild, and the compressor will refuse it again
            List<org.apache.kafka.common.TopicPartition> parts = admin.describeTopics(List.of(dlq)).allTopicNames().get()
                    .get(dlq).partitions().stream().map(p -> new org.apache.kafka.common.TopicPartition(dlq, p.partition())).toList();
            Map<org.apache.kafka.common.TopicPartition, Long> ends = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ends.values().stream().mapToLong(Long::longValue).sum() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(100);
                for (var e : admin.listOffsets(parts.stream().collect(java.util.stream.Collectors.toMap(tp -> tp,
                        tp -> org.apache.kafka.clients.admin.OffsetSpec.latest())), new org.apache.kafka.clients.admin.ListOffsetsOptions(
                        org.apache.kafka.common.IsolationLevel.READ_COMMITTED)).all().get().entrySet()) {   // committed: the dead letter is there
                    ends.put(e.getKey(), e.getValue().offset());
                }
            }
            assertTrue(ends.values().stream().mapToLong(Long::longValue).sum() >= 1, "the long document was dead-lettered");
            PipelineRig.Run refused = PipelineRig.sac(refusedArgs);
            assertEquals(0, refused.code(), refused.out() + refused.err());
            assertTrue(refused.out().lines().anyMatch(l -> l.startsWith("long ") && l.contains(rig.modelId)
                    && l.contains("TOO_LARGE") && l.contains("tokens, limit 1000")), refused.out());
            assertTrue(refused.out().lines().noneMatch(l -> l.startsWith("gone ")), refused.out());
            assertTrue(refused.out().contains("1 refusal(s) in " + dlq) && refused.out().contains(
                    "; 1 refusal(s) of documents deleted since are not listed (--all lists them)"), refused.out());
            PipelineRig.Run listed = PipelineRig.sac(List.of("docs", "list", "--bootstrap-servers",
                    rig.stack.bootstrapServers(), "--catalog-topic", topics.compressor().catalog()));
            assertEquals(0, listed.code(), listed.out() + listed.err());
            assertTrue(listed.out().lines().anyMatch(l -> l.startsWith("short ")) && listed.out().contains(
                    "1 compressed document version(s)"), listed.out());
            PipelineRig.Run noTopic = PipelineRig.sac(List.of("docs", "list", "--bootstrap-servers",
                    rig.stack.bootstrapServers(), "--catalog-topic", "no-such-catalog"));
            assertEquals(1, noTopic.code());
            assertTrue(noTopic.err().contains("topic no-such-catalog does not exist on " + rig.stack.bootstrapServers()),
                    "said as such, not 'is a broker there?': " + noTopic.err());
            PipelineRig.Run otherModel = PipelineRig.sac(List.of("docs", "refused", "--bootstrap-servers",
                    rig.stack.bootstrapServers(), "--dead-letter-topic", dlq, "--documents-topic",
                    topics.compressor().documents(), "--catalog-topic", topics.compressor().catalog(),
                    "--model", "ffffffffffff"));
            assertEquals(2, otherModel.code(), "a mistyped id is not '0 refusal(s)': " + otherModel.out() + otherModel.err());
            assertTrue(otherModel.err().contains("--model ffffffffffff: no dead letter in " + dlq + " and no catalog entry in "
                    + topics.compressor().catalog() + " names this model id (mistyped?); the model ids they name: "
                    + rig.modelId + System.lineSeparator()), otherModel.err());
            PipelineRig.Run noDeadLetters = PipelineRig.sac(List.of("docs", "refused", "--bootstrap-servers",
                    rig.stack.bootstrapServers(), "--dead-letter-topic", "no-such.dlq"));
            assertEquals(0, noDeadLetters.code(), noDeadLetters.out() + noDeadLetters.err());
            assertTrue(noDeadLetters.out().contains("the dead-letter topic no-such.dlq does not exist"),
                    "a mistyped name is not 'nothing refused': " + noDeadLetters.out());
            PipelineRig.Run noDocuments = PipelineRig.sac(List.of("docs", "refused", "--bootstrap-servers",
                    rig.stack.bootstrapServers(), "--dead-letter-topic", dlq, "--documents-topic", "no-such.documents"));
            assertEquals(1, noDocuments.code(), noDocuments.out() + noDocuments.err());
            assertTrue(noDocuments.err().contains("topic no-such.documents does not exist on " + rig.stack.bootstrapServers())
                    && noDocuments.err().contains("--documents-topic"), noDocuments.err());
            List<String> args = new ArrayList<>(List.of("warm", "--rebuild", "--model-id", rig.modelId,
                    "--redis", rig.stack.redisUrl(), "--timeout", "10m", "--application-id", topics.prefix() + "-compressor"));
            args.addAll(topics.flags(rig.stack.bootstrapServers()));
            // while its dead letter is there, the long document is not live for the model: not requested, and not
            // counted, but named beside the count ('gone', refused too, is deleted); activation's rule is unchanged
            String note = " more refused for the model by a compressor, not compressed until published again ('sac docs"
                    + " refused --model " + rig.modelId + "')";
            PipelineRig.Run counted = PipelineRig.sac(args);
            assertEquals(0, counted.code(), counted.out() + counted.err());
            assertTrue(counted.out().contains("checked 1 live documents, ") && counted.out().contains(" s; 1" + note),
                    counted.out());
            List<String> activate = new ArrayList<>(List.of("model", "activate", rig.modelId, "--redis", rig.stack.redisUrl()));
            activate.addAll(topics.flags(rig.stack.bootstrapServers()));
            PipelineRig.Run activated = PipelineRig.sac(activate);
            assertEquals(0, activated.code(), activated.out() + activated.err());
            assertTrue(activated.out().contains("1/1 live documents are compressed for model " + rig.modelId
                    + " (1 catalog entry); 1" + note), activated.out());
            admin.deleteRecords(ends.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                    e -> org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(e.getValue())))).all().get();

            long t0 = System.nanoTime();
            PipelineRig.Run run = PipelineRig.sac(args);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(1, run.code(), run.out() + run.err());
            assertTrue(run.out().contains("checked 2 live documents, 1 missing, 1 recompress requests, 0 restored")
                    && !run.out().contains(note), "no dead letter names it now: " + run.out());
            // its dead letter is gone (deleted above, as retention would): the compressor went past the request, and
            // nothing names a refusal any more
            assertTrue(run.out().contains("warm --rebuild: the compressor processed their requests without rebuilding"
                    + " them, and no dead letter names them (expired under the dead-letter topic's retention")
                    && run.out().contains(": long"), run.out());
            assertTrue(seconds < 120, "ended when the compressor had processed the request, not at --timeout 10m: "
                    + seconds + " s");
        }
    }

    /** sac ingest and sac delete look at the documents topic first: missing is an error, not compacted or too small a warning. */
    @Test
    void ingestAndDeleteNameAMissingDocumentsTopicAndWarnOfOneNotAsTheProductExpects() throws Exception {
        Path docs = Files.createDirectories(tmp.resolve("topic-check"));
        Files.writeString(docs.resolve("a.txt"), "The lighthouse of Pharos.");
        PipelineRig.Run missing = PipelineRig.sac(List.of("ingest", "--bootstrap-servers", rig.stack.bootstrapServers(),
                "--documents-topic", "no-such.documents", "--timeout", "20s", docs.toString()));
        assertEquals(1, missing.code(), missing.out() + missing.err());
        assertTrue(missing.err().contains("the documents topic no-such.documents does not exist on "
                + rig.stack.bootstrapServers()) && missing.err().contains("--documents-topic"), missing.err());
        PipelineRig.Run deleteMissing = PipelineRig.sac(List.of("delete", "--bootstrap-servers", rig.stack.bootstrapServers(),
                "--documents-topic", "no-such.documents", "--timeout", "20s", "a"));
        assertEquals(1, deleteMissing.code(), deleteMissing.out() + deleteMissing.err());
        assertTrue(deleteMissing.err().contains("does not exist"), deleteMissing.err());

        rig.stack.createTopics(dev.sacrag.stack.TopicSpec.plain("plain.documents"));
        List<String> warnings = dev.sacrag.ingest.DocumentsTopic.check(rig.stack.bootstrapServers(), "plain.documents",
                64L << 20, Duration.ofSeconds(20));
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("is not compacted"), warnings.get(0));
        assertTrue(warnings.get(1).contains("takes records of at most") && warnings.get(1).contains("67108864"),
                warnings.get(1));
        PipelineRig.Topics good = rig.createTopics("checked");
        assertEquals(List.of(), dev.sacrag.ingest.DocumentsTopic.check(rig.stack.bootstrapServers(),
                good.compressor().documents(), 1000, Duration.ofSeconds(20)), "a compacted topic that takes the records");
        PipelineRig.Run published = PipelineRig.sac(List.of("ingest", "--bootstrap-servers", rig.stack.bootstrapServers(),
                "--documents-topic", good.compressor().documents(), "--timeout", "30s", docs.toString()));
        assertEquals(0, published.code(), published.out() + published.err());
        assertTrue(published.out().startsWith("ingest: published 1 documents"), published.out());
        assertTrue(published.err().contains("warning: the documents topic checked.documents takes records of at most"),
                "the rig's topic keeps Kafka's 1 MiB record limit: " + published.err());
    }

    /**
     * A second ingest over the same folder sends what changed, what was deleted since and what the
     * compressor refused (publishing it again is how it is retried); --republish sends all.
     */
    @Test
    void ingestAgainSendsOnlyWhatIsNotPublishedAndCompressedAsItIs() throws Exception {
        Path docs = Files.createDirectories(tmp.resolve("again"));
        for (int i = 0; i < 4; i++) {
            Files.writeString(docs.resolve("d" + i + ".txt"), "Document " + i + " of the ingest-again test.");
        }
        Files.writeString(docs.resolve("long.txt"), "word ".repeat(1600));   // over --max-doc-tokens: refused
        PipelineRig.Topics topics = rig.createTopics("again");
        List<String> target = List.of("--bootstrap-servers", rig.stack.bootstrapServers(), "--documents-topic",
                topics.compressor().documents(), "--timeout", "30s");
        List<String> ingest = new ArrayList<>(List.of("ingest", "--catalog-topic", topics.compressor().catalog(),
                "--dead-letter-topic", topics.compressor().deadLetter()));
        ingest.addAll(target);
        ingest.add(docs.toString());
        try (CompressorApp compressor = CompressorApp.start(rig.compressorConfig(topics)
                .maxDocumentTokens(java.util.OptionalInt.of(1000)).build())) {
            PipelineRig.Run first = PipelineRig.sac(ingest);
            assertEquals(0, first.code(), first.out() + first.err());
            assertTrue(first.out().startsWith("ingest: published 5 documents") && !first.out().contains("unchanged"),
                    first.out());
            assertTrue(first.err().contains("0 of the run's 5 documents are on the topic"), first.err());
            rig.awaitCatalog(topics, c -> IntStream.range(0, 4).allMatch(i -> c.find("default", "d" + i, rig.modelId).isPresent()));

            PipelineRig.Run same = PipelineRig.sac(ingest);
            assertEquals(0, same.code(), same.out() + same.err());
            assertTrue(same.out().startsWith("ingest: published 1 documents") && same.out().contains("; 4 unchanged"),
                    "only the refused one again: " + same.out());

            Files.writeString(docs.resolve("d1.txt"), "Document 1 of the ingest-again test, amended.");
            List<String> delete = new ArrayList<>(List.of("delete"));
            delete.addAll(target);
            delete.add("d2");
            assertEquals(0, PipelineRig.sac(delete).code());
            PipelineRig.Run changed = PipelineRig.sac(ingest);
            assertEquals(0, changed.code(), changed.out() + changed.err());
            assertTrue(changed.out().startsWith("ingest: published 3 documents") && changed.out().contains("; 2 unchanged"),
                    "d1 amended, d2 deleted since, long refused: " + changed.out());

            List<String> republish = new ArrayList<>(ingest);
            republish.add(1, "--republish");
            PipelineRig.Run all = PipelineRig.sac(republish);
            assertEquals(0, all.code(), all.out() + all.err());
            assertTrue(all.out().startsWith("ingest: published 5 documents") && !all.out().contains("unchanged"), all.out());

            // the documents topic named as the catalog and the dead-letter topic: every document is sent, and said why
            List<String> misnamed = new ArrayList<>(List.of("ingest", "--catalog-topic", topics.compressor().documents(),
                    "--dead-letter-topic", topics.compressor().documents()));
            misnamed.addAll(target);
            misnamed.add(docs.toString());
            PipelineRig.Run wrong = PipelineRig.sac(misnamed);
            assertEquals(0, wrong.code(), wrong.out() + wrong.err());
            assertTrue(wrong.out().startsWith("ingest: published 5 documents"), wrong.out());
            assertTrue(wrong.err().contains("ingest: warning: none of the ") && wrong.err().contains(" records of the catalog"
                    + " topic " + topics.compressor().documents() + " reads as a catalog entry"), wrong.err());
            assertTrue(wrong.err().contains(" records of the dead-letter topic " + topics.compressor().documents()
                    + " is a dead letter"), wrong.err());
            assertEquals(5 + 1 + 3 + 5 + 5, countValues(topics.compressor().documents()),
                    "what each run sent, the tombstone apart");
        }
    }

    /** Records with a value (not tombstones) on {@code topic}, read to its end. */
    private static int countValues(String topic) {
        java.util.Map<String, Object> config = java.util.Map.of(
                org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, rig.stack.bootstrapServers(),
                org.apache.kafka.clients.consumer.ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                org.apache.kafka.common.serialization.ByteArrayDeserializer.class,
                org.apache.kafka.clients.consumer.ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                org.apache.kafka.common.serialization.ByteArrayDeserializer.class);
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(config)) {
            List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            int values = 0;
            long deadline = System.nanoTime() + PipelineRig.WAIT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertTrue(System.nanoTime() < deadline, "reading " + topic + " to its end");
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    values += r.value() == null ? 0 : 1;
                }
            }
            return values;
        }
    }

    @Test
    void modelRolloutFillsTheCatalogForTheNewModelWhileTheOldServesAndActivateSwitchesAsk() throws Exception {
        PipelineRig.Topics topics = rig.createTopics("rollout");
        int n = 6;
        try (CompressorApp compressor = rig.startCompressor(topics);
             QueryServiceApp query = rig.startQueryService(topics);
             DocumentPublisher publisher = rig.publisher(topics)) {
            assertEquals(rig.modelId, compressor.modelId(), "the running compressor keeps the old model throughout");
            for (int i = 0; i < n; i++) {
                publisher.publish(doc("rollout", id(i), 1, text(i, 1)));
            }
            publisher.flush();
            rig.awaitCatalog(topics, c -> IntStream.range(0, n).allMatch(i -> c.find("rollout", id(i), rig.modelId).isPresent()));
            assertEquals(rig.modelId, awaitAnswer(query, "rollout", "Which colour?", id(1)).getModelId());

            List<String> activate = new ArrayList<>(List.of("model", "activate", rig.modelIdV2, "--redis", rig.stack.redisUrl()));
            activate.addAll(topics.flags(rig.stack.bootstrapServers()));
            PipelineRig.Run refused = PipelineRig.sac(activate);
            assertEquals(1, refused.code(), refused.out() + refused.err());
            assertTrue(refused.err().contains("refused: no catalog entry names model " + rig.modelIdV2),
                    refused.err());
            List<String> forced = new ArrayList<>(List.of("model", "activate", "0123456789ab", "--force", "--redis",
                    rig.stack.redisUrl()));
            forced.addAll(topics.flags(rig.stack.bootstrapServers()));
            assertEquals(0, PipelineRig.sac(forced).code());
            awaitTrue(() -> query.unavailableModel().equals(Optional.of("0123456789ab")), "the replica reports the mismatch");
            assertEquals(rig.modelId, PipelineRig.ask(query, "rollout", "Which colour?", id(1)).getModelId(),
                    "a model no adapter here gives leaves the old one serving");

            List<String> answeredBy = new CopyOnWriteArrayList<>();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            AtomicBoolean rollingOut = new AtomicBoolean(true);
            Thread asker = new Thread(() -> {
                while (rollingOut.get()) {
                    try {
                        answeredBy.add(PipelineRig.ask(query, "rollout", "Which colour?", id(2)).getModelId());
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }
            }, "asker");
            asker.start();
            List<String> warm = new ArrayList<>(List.of("warm", "--model", rig.adapterV2.toString(),
                    "--model-package", rig.pkg.toString(), "--redis", rig.stack.redisUrl(),
                    "--state-dir", tmp.resolve("rollout-v2-state").toString(), "--timeout", "60s", "--blob-ttl", "1h"));
            warm.addAll(topics.flags(rig.stack.bootstrapServers()));
            PipelineRig.Run rollout;
            try {
                rollout = PipelineRig.sac(warm);
            } finally {
                rollingOut.set(false);
                asker.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertEquals(0, rollout.code(), rollout.out() + rollout.err());
            assertTrue(rollout.out().startsWith("warm --model: compressing every live document for model " + rig.modelIdV2),
                    rollout.out());
            assertTrue(rollout.out().contains("model " + rig.modelIdV2 + ": " + n + "/" + n + " live documents compressed"),
                    rollout.out());
            assertTrue(rollout.out().contains("next: sac model activate " + rig.modelIdV2), rollout.out());
            // the first model, compressed under sac-compressor: a rollout of it would replay the documents
            // topic over its catalog records (older versions over current ones), so it is refused
            List<String> firstAgain = new ArrayList<>(List.of("warm", "--model", rig.pkg.resolve("adapters/sac").toString(),
                    "--model-package", rig.pkg.toString(), "--redis", rig.stack.redisUrl(),
                    "--state-dir", tmp.resolve("rollout-v1-state").toString(), "--timeout", "60s"));
            firstAgain.addAll(topics.flags(rig.stack.bootstrapServers()));
            PipelineRig.Run refusedRollout = PipelineRig.sac(firstAgain);
            assertNotEquals(0, refusedRollout.code(), refusedRollout.out());
            assertTrue(refusedRollout.err().contains("model " + rig.modelId + " already has") && refusedRollout.err()
                    .contains("warm --rebuild --model-id " + rig.modelId), refusedRollout.err());
            assertFalse(refusedRollout.out().contains("compressing every live document"),
                    "a refused rollout does not say it started: " + refusedRollout.out());
            // the same with every blob of it gone from Redis: its catalog entries are still there to be written over
            List<String> firstModelBlobs = rig.blobKeys("rollout").stream().filter(k -> k.contains(":" + rig.modelId + ":")).toList();
            firstModelBlobs.forEach(k -> rig.rename(k, k + ".aside"));
            try {
                PipelineRig.Run blobsGone = PipelineRig.sac(firstAgain);
                assertNotEquals(0, blobsGone.code(), blobsGone.out());
                assertTrue(blobsGone.err().contains("model " + rig.modelId + " already has " + n + " live document(s) in the"
                        + " catalog"), "refused by its catalog entries, not its blobs: " + blobsGone.err());
            } finally {
                firstModelBlobs.forEach(k -> rig.rename(k + ".aside", k));
            }
            // warm --rebuild watches the model's own compressors when that group exists (after a switch,
            // the first model's may still run and would skip, and commit past, this model's requests)
            for (String model : List.of(rig.modelIdV2, rig.modelId)) {
                List<String> rebuild = new ArrayList<>(List.of("warm", "--rebuild", "--model-id", model, "--no-wait",
                        "--redis", rig.stack.redisUrl()));
                rebuild.addAll(topics.flags(rig.stack.bootstrapServers()));
                PipelineRig.Run watched = PipelineRig.sac(rebuild);
                assertEquals(0, watched.code(), watched.out() + watched.err());
                String group = model.equals(rig.modelIdV2) ? "sac-compressor-" + rig.modelIdV2 : "sac-compressor";
                assertTrue(watched.out().contains("model " + model + ", compressors of application id " + group + "\n")
                        || watched.out().contains("model " + model + ", compressors of application id " + group
                        + System.lineSeparator()), watched.out());
            }
            assertEquals(List.of(), failures, "Ask kept working during the rollout");
            assertFalse(answeredBy.isEmpty());
            assertTrue(answeredBy.stream().allMatch(rig.modelId::equals), "the old model answered meanwhile: " + answeredBy);
            Catalog both = rig.awaitCatalog(topics, c -> true);
            for (int i = 0; i < n; i++) {
                assertTrue(both.find("rollout", id(i), rig.modelId).isPresent(), "old model's entry of " + id(i) + " kept");
                CatalogEntry fresh = both.find("rollout", id(i), rig.modelIdV2).orElseThrow();
                assertEquals(RedisKeys.blobKey("rollout", rig.modelIdV2, id(i), 1), fresh.redisKey());
                long ttl = rig.pttl(fresh.redisKey());
                assertTrue(ttl > 0 && ttl <= 3_600_000, "the rollout's blobs take --blob-ttl like a compressor's: " + ttl);
            }

            // a blob Redis lost since the rollout: its document is not compressed for the model, and
            // activating now would have its questions wait for a recompression
            String lost = RedisKeys.blobKey("rollout", rig.modelIdV2, id(4), 1);
            rig.rename(lost, lost + ".aside");
            PipelineRig.Run blobGone = PipelineRig.sac(activate);
            assertEquals(1, blobGone.code(), blobGone.out() + blobGone.err());
            assertTrue(blobGone.out().contains((n - 1) + "/" + n + " live documents are compressed for model " + rig.modelIdV2)
                    && blobGone.out().contains("1 live document(s) in the catalog have no blob in Redis"), blobGone.out());
            assertTrue(blobGone.err().contains("refused: 1 of " + n + " live documents are not compressed")
                    && blobGone.err().contains("1 of them in the catalog, their blob gone from Redis")
                    && blobGone.err().contains("run 'sac warm --rebuild --model-id " + rig.modelIdV2 + "'"),
                    "a blob gone is rebuilt, not rolled out again: " + blobGone.err());
            rig.rename(lost + ".aside", lost);

            PipelineRig.Run activated = PipelineRig.sac(activate);
            assertEquals(0, activated.code(), activated.out() + activated.err());
            assertTrue(activated.out().contains(n + "/" + n + " live documents are compressed for model " + rig.modelIdV2),
                    activated.out());
            AskResult after = awaitModel(query, rig.modelIdV2, id(3));
            assertEquals(id(3), after.getDocuments(0).getDocId());
            assertEquals(rig.modelIdV2, query.modelId());
            assertEquals(Optional.empty(), query.unavailableModel());

            // the old model is retired: its catalog entries and blobs go, the new model's stay and answer
            List<String> retireActive = new ArrayList<>(List.of("model", "retire", rig.modelIdV2, "--redis", rig.stack.redisUrl()));
            retireActive.addAll(topics.flags(rig.stack.bootstrapServers()));
            PipelineRig.Run refusedRetire = PipelineRig.sac(retireActive);
            assertEquals(1, refusedRetire.code(), refusedRetire.out() + refusedRetire.err());
            assertTrue(refusedRetire.err().contains(rig.modelIdV2 + " is the active model"), refusedRetire.err());
            List<String> retire = new ArrayList<>(List.of("model", "retire", rig.modelId, "--redis", rig.stack.redisUrl()));
            retire.addAll(topics.flags(rig.stack.bootstrapServers()));
            List<String> dryRun = new ArrayList<>(retire);
            dryRun.add("--dry-run");
            PipelineRig.Run looked = PipelineRig.sac(dryRun);
            assertEquals(0, looked.code(), looked.out() + looked.err());
            assertTrue(looked.out().contains("the catalog holds " + n + " entries of model " + rig.modelId), looked.out());
            Predicate<String> oldModel = k -> k.contains(":" + rig.modelId + ":");
            assertEquals(n, rig.blobKeys("rollout").stream().filter(oldModel).count(), "--dry-run deletes nothing");
            List<String> whileRunning = new ArrayList<>(retire);
            whileRunning.addAll(List.of("--application-id", topics.prefix() + "-compressor"));
            PipelineRig.Run stillRunning = PipelineRig.sac(whileRunning);
            assertEquals(1, stillRunning.code(), stillRunning.out() + stillRunning.err());
            assertTrue(stillRunning.err().contains("compressors still run (" + topics.prefix() + "-compressor: 1 member)"),
                    stillRunning.err());
            List<String> lookWhileRunning = new ArrayList<>(whileRunning);
            lookWhileRunning.add("--dry-run");
            PipelineRig.Run lookedWhileRunning = PipelineRig.sac(lookWhileRunning);
            assertEquals(0, lookedWhileRunning.code(), "a dry run changes nothing: " + lookedWhileRunning.err());
            assertTrue(lookedWhileRunning.err().contains("note: compressors still run") && lookedWhileRunning.out()
                    .contains("the catalog holds " + n + " entries"), lookedWhileRunning.out() + lookedWhileRunning.err());
            // a mistyped id activated with --force: every replica refuses it and stays on its model, which
            // a retire must then not take for one traffic has left
            List<String> typo = new ArrayList<>(List.of("model", "activate", "deadbeef0000", "--force", "--redis",
                    rig.stack.redisUrl()));
            typo.addAll(topics.flags(rig.stack.bootstrapServers()));
            assertEquals(0, PipelineRig.sac(typo).code());
            PipelineRig.Run blind = PipelineRig.sac(retireActive);
            assertEquals(1, blind.code(), blind.out() + blind.err());
            assertTrue(blind.err().contains("refused: the active model deadbeef0000 (") && blind.err().contains(
                    "has no entry in the catalog, so query services may not be serving it"), blind.err());
            assertEquals(n, rig.blobKeys("rollout").stream().filter(k -> k.contains(":" + rig.modelIdV2 + ":")).count(),
                    "nothing of the model still served was deleted");
            assertEquals(0, PipelineRig.sac(activate).code(), "back to the model the catalog holds");
            // another deployment sharing the Redis, with a tenant of its own, has a blob of the same model
            String elsewhere = RedisKeys.blobKey("elsewhere", rig.modelId, "x", 1);
            rig.plant(elsewhere, "another deployment's");
            PipelineRig.Run retired = PipelineRig.sac(retire);
            assertEquals(0, retired.code(), retired.out() + retired.err());
            // the model's blobs in this deployment's tenants go (the catalog names "rollout"), the other's stays
            assertTrue(retired.out().contains("model " + rig.modelId + ": " + n + " catalog entries removed, " + n
                    + " blobs deleted"), retired.out());
            rig.awaitCatalog(topics, c -> c.entries(Optional.of(rig.modelId)).isEmpty());
            assertEquals(n, rig.awaitCatalog(topics, c -> true).entries(Optional.of(rig.modelIdV2)).size());
            assertEquals(List.of(), rig.blobKeys("rollout").stream().filter(oldModel).toList());
            assertEquals(List.of(elsewhere), rig.blobKeys("elsewhere"), "another deployment's blob was deleted");
            assertEquals(n, rig.blobKeys("rollout").stream().filter(k -> k.contains(":" + rig.modelIdV2 + ":")).count());
            assertEquals(id(4), PipelineRig.ask(query, "rollout", "Which colour?", id(4)).getDocuments(0).getDocId());
            // the catalog keeps the tombstones: a second run finds the model retired, not a mistyped id
            PipelineRig.Run again = PipelineRig.sac(retire);
            assertEquals(0, again.code(), "a second run finds it retired: " + again.out() + again.err());
            assertTrue(again.out().contains("model " + rig.modelId + " was retired already (or every document of it"
                    + " deleted): the catalog holds nothing of it but " + n + " tombstones") && again.out()
                    .contains("--all-tenants"), again.out());
            // --all-tenants: every tenant's (this class's other tests may have left some of the same model too)
            List<String> everywhere = new ArrayList<>(retire);
            everywhere.add("--all-tenants");
            PipelineRig.Run wiped = PipelineRig.sac(everywhere);
            assertEquals(0, wiped.code(), wiped.out() + wiped.err());
            assertEquals(List.of(), rig.blobKeys("*").stream().filter(oldModel).toList());

            // Redis loses everything: the catalog still lists the new model's documents, but a rollout
            // run again must not call them compressed; it has their blobs made again
            rig.stack.flushRedis();
            PipelineRig.Run rewarmed = PipelineRig.sac(warm);
            assertEquals(0, rewarmed.code(), rewarmed.out() + rewarmed.err());
            assertTrue(rewarmed.out().contains(n + "/" + n + " live documents compressed (0 already were)"), rewarmed.out());
            List<String> v2Keys = rig.blobKeys("rollout").stream().filter(k -> k.contains(":" + rig.modelIdV2 + ":")).toList();
            assertEquals(n, v2Keys.size(), "the new model's blobs are back: " + v2Keys);

            // the new model retired in turn, then rolled out again: its compressors' application id
            // committed past every document in the first rollout, so this one has them recompressed
            List<String> back = new ArrayList<>(List.of("model", "activate", rig.modelId, "--force", "--redis",
                    rig.stack.redisUrl()));
            back.addAll(topics.flags(rig.stack.bootstrapServers()));
            assertEquals(0, PipelineRig.sac(back).code());
            // --force: the rollout's compressor has stopped, but Streams does not leave its group on
            // close, so the group shows its member until the session times out
            List<String> retireV2 = new ArrayList<>(retireActive);
            retireV2.add("--force");
            PipelineRig.Run retiredV2 = PipelineRig.sac(retireV2);
            assertEquals(0, retiredV2.code(), retiredV2.out() + retiredV2.err());
            assertTrue(retiredV2.err().contains("model retire: warning (--force): the active model " + rig.modelId + " ("),
                    "the model activated back was retired above: " + retiredV2.err());
            rig.awaitCatalog(topics, c -> c.entries(Optional.of(rig.modelIdV2)).isEmpty());
            PipelineRig.Run retiredActivated = PipelineRig.sac(activate);
            assertEquals(1, retiredActivated.code(), retiredActivated.out() + retiredActivated.err());
            assertTrue(retiredActivated.err().contains("refused: the catalog holds nothing of model " + rig.modelIdV2
                    + " but ") && retiredActivated.err().contains("('sac model retire' removed it, or every document")
                    && retiredActivated.err().contains("run 'sac warm --model ADAPTER_DIR' again"),
                    "a retired model is not called a mistyped id: " + retiredActivated.err());
            PipelineRig.Run rolledOutAgain = PipelineRig.sac(warm);
            assertEquals(0, rolledOutAgain.code(), rolledOutAgain.out() + rolledOutAgain.err());
            assertTrue(rolledOutAgain.out().contains(n + "/" + n + " live documents compressed (0 already were)")
                    && !rolledOutAgain.out().contains("not compressible"), rolledOutAgain.out());
            assertEquals(n, rig.awaitCatalog(topics, c -> true).entries(Optional.of(rig.modelIdV2)).size());
        }
    }

    /**
     * Ctrl-C or SIGTERM part way through {@code sac warm --model} stops its compressor as {@code sac
     * compressor} stops: what it compressed is committed, no transaction is left open on the catalog
     * (read_committed readers, the query services among them, would read nothing past it until the
     * transaction timed out), the command says so and what to do, and the same command run again
     * compresses the rest. A long commit interval keeps the run's records inside an open
     * transaction when the signal comes, whatever the speed of this machine.
     */
    @Test
    void aRolloutStoppedBySignalCommitsWhatItCompressedAndARunAgainFinishes() throws Exception {
        PipelineRig.Topics topics = rig.createTopics("stopped");
        int n = 12;
        // ratio 8: a model id of its own, so its group (sac-compressor-ID) is no other test's
        String model = Fingerprints.modelId(Fingerprints.baseModel(rig.base), Fingerprints.adapter(rig.adapterV2), 8);
        try (DocumentPublisher publisher = rig.publisher(topics)) {
            for (int i = 0; i < n; i++) {
                publisher.publish(doc("stopped", id(i), 1, text(i, 1)));
            }
            publisher.flush();
        }
        List<String> warm = new ArrayList<>(List.of("warm", "--model", rig.adapterV2.toString(), "--ratio", "8",
                "--model-package", rig.pkg.toString(), "--redis", rig.stack.redisUrl(), "--timeout", "5m",
                "--state-dir", tmp.resolve("stopped-state").toString(), "--session-timeout", "6s"));
        warm.addAll(topics.flags(rig.stack.bootstrapServers()));
        List<String> slowCommits = new ArrayList<>(warm);
        slowCommits.addAll(List.of("--commit-interval", "2m"));
        Path log = tmp.resolve("stopped-warm.log");
        Process child = ChildJava.of("dev.sacrag.cli.Sac", slowCommits).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            // two blobs: the first document's catalog record was sent, inside a transaction not committed
            long deadline = System.nanoTime() + PipelineRig.WAIT.toNanos();
            while (rig.blobKeys("stopped").size() < 2) {
                if (!child.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("the rollout wrote no 2 blobs " + (child.isAlive() ? "in " + PipelineRig.WAIT
                            : "before it exited with " + child.exitValue()) + "; its output:\n" + Files.readString(log));
                }
                Thread.sleep(100);
            }
            child.destroy();   // SIGTERM: the JVM runs its shutdown hooks, as on Ctrl-C
            assertTrue(child.waitFor(90, TimeUnit.SECONDS), "the stopped rollout exits");
        } finally {
            child.destroyForcibly();
        }
        String output = Files.readString(log);
        assertTrue(output.contains("warm --model: stopped: what it compressed for model " + model + " is committed and"
                + " kept") && output.contains("run the same command again to compress the rest"), output);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, rig.stack.bootstrapServers()))) {
            List<String> open = admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                    .filter(t -> t.transactionalId().startsWith("sac-compressor-" + model + "-"))
                    .filter(t -> t.state() == TransactionState.ONGOING).map(TransactionListing::transactionalId).toList();
            assertEquals(List.of(), open, "no transaction of the stopped rollout is left open; its output:\n" + output);
        }
        Catalog committed = CatalogSnapshot.read(rig.stack.bootstrapServers(), topics.compressor().catalog(), PipelineRig.WAIT);
        int kept = committed.entries(Optional.of(model)).size();
        assertTrue(kept >= 1, "what the stopped rollout compressed was committed: " + output);

        PipelineRig.Run again = PipelineRig.sac(warm);
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("model " + model + ": " + n + "/" + n + " live documents compressed (" + kept
                + " already were)"), again.out());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + PipelineRig.WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + PipelineRig.WAIT + ": " + what);
            }
            Thread.sleep(100);
        }
    }

    /** Asks until the answer comes from {@code modelId} (the query service switches when it reads the control topic). */
    private static AskResult awaitModel(QueryServiceApp query, String modelId, String docId) throws InterruptedException {
        long deadline = System.nanoTime() + PipelineRig.WAIT.toNanos();
        while (true) {
            try {
                AskResult r = PipelineRig.ask(query, "rollout", "Which colour?", docId);
                if (r.getModelId().equals(modelId)) {
                    return r;
                }
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) { // a question caught by the switch may be retried
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Ask did not switch to model " + modelId + " within " + PipelineRig.WAIT);
            }
            Thread.sleep(200);
        }
    }

    /** The query service learns of a catalog record a moment after it is committed: retry NOT_FOUND briefly. */
    private static AskResult awaitAnswer(QueryServiceApp query, String tenant, String question, String... docIds)
            throws InterruptedException {
        long deadline = System.nanoTime() + PipelineRig.WAIT.toNanos();
        while (true) {
            try {
                return PipelineRig.ask(query, tenant, question, docIds);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.NOT_FOUND || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    /** Publishes {@code e} (Avro, key = docId) on a partition other than the one Java's partitioner would pick. */
    private static void publishOffHashPartition(String topic, DocumentEvent e) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, rig.stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            byte[] key = e.getDocId().getBytes(StandardCharsets.UTF_8);
            int partitions = producer.partitionsFor(topic).size();
            int hashed = Utils.toPositive(Utils.murmur2(key)) % partitions;
            producer.send(new ProducerRecord<>(topic, (hashed + 1) % partitions, key, DocumentCodec.encodeAvro(e))).get();
        }
    }

    private static String id(int i) {
        return String.format("doc-%02d", i);
    }

    private static DocumentEvent doc(String tenant, String docId, long version, String text) {
        return DocumentEvent.newBuilder().setDocId(docId).setTenant(tenant).setVersion(version).setText(text)
                .setMetadata(Map.of()).setPublishedAt(Instant.now()).build();
    }

    private static String text(int i, long version) {
        return "Report " + i + " (revision " + version + ") on the harbour of town " + i + ": the lighthouse was built in "
                + (1800 + i) + ", painted " + (i % 2 == 0 ? "red" : "white") + " and rebuilt after the storm of "
                + (1900 + i) + ". Ships entering at night steer by its light, which turns every " + (5 + i % 7) + " seconds.";
    }
}
