package dev.sacrag.cli;

import dev.sacrag.cli.warming.Brokers;
import dev.sacrag.cli.warming.ControlTopic;
import dev.sacrag.query.activation.ModelActivation;
import dev.sacrag.stack.RedisServer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bad choice is a usage error (exit 2) that lists the allowed values, before anything is written;
 * a broker that is not there ends activate and retire after their --timeout; retire without an active
 * model tells an id the catalog holds nothing of from a held model, counts a running compressor
 * group's members, and with --force warns of each refusal it goes over; a retired model is told from
 * an id never compressed by the tombstones the catalog keeps, and a retire run again finds the
 * tenants of the entries they removed.
 */
class ModelCommandTest {

    @TempDir
    Path tmp;

    @Test
    void badDtypeOrShardsOfRandomIsAUsageErrorListingTheChoices() {
        SacCliTest.Run dtype = SacCliTest.run("model", "random", "--shape", "tiny", "--dtype", "f8", "--out", tmp.resolve("a").toString());
        assertEquals(2, dtype.code(), dtype.err());
        assertTrue(dtype.err().contains("--dtype 'f8' is not one of f32, f16, bf16"), dtype.err());
        assertFalse(dtype.err().contains("No enum constant"), dtype.err());

        SacCliTest.Run shards = SacCliTest.run("model", "random", "--shape", "tiny", "--shards", "0", "--out", tmp.resolve("b").toString());
        assertEquals(2, shards.code(), shards.err());
        assertTrue(shards.err().contains("--shards must be 1 or more, got 0"), shards.err());

        assertFalse(Files.exists(tmp.resolve("a")) || Files.exists(tmp.resolve("b")), "nothing written");
    }

    @Test
    void dtypeIsReadInAnyCase() {
        SacCliTest.Run r = SacCliTest.run("model", "random", "--shape", "tiny", "--dtype", "BF16", "--out", tmp.resolve("m").toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void randomRefusesAFolderThatHoldsAModelUnlessForced() throws Exception {
        Path pkg = tmp.resolve("pkg");
        assertEquals(0, SacCliTest.run("model", "random", "--shape", "tiny", "--out", pkg.toString()).code());
        byte[] weights = Files.readAllBytes(pkg.resolve("base/model.safetensors"));

        SacCliTest.Run again = SacCliTest.run("model", "random", "--shape", "tiny", "--seed", "7", "--out", pkg.toString());
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().contains("already holds a model"), again.err());
        assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(pkg.resolve("base/model.safetensors"))), "overwritten");

        SacCliTest.Run forced = SacCliTest.run("model", "random", "--shape", "tiny", "--seed", "7", "--force", "--out", pkg.toString());
        assertEquals(0, forced.code(), forced.err());
        assertFalse(java.util.Arrays.equals(weights, Files.readAllBytes(pkg.resolve("base/model.safetensors"))), "not rewritten");
    }

    @Test
    void badTypeOfExportGgufIsAUsageErrorListingTheChoices() {
        SacCliTest.Run r = SacCliTest.run("model", "export-gguf", "--model", tmp.toString(), "--type", "q4_0",
                "--out", tmp.resolve("m.gguf").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--type 'q4_0' is not one of f32, f16"), r.err());
    }

    /**
     * No control topic, so no active model: a held model is refused (a query service may serve it
     * from its own --adapter), but an id the catalog holds nothing of is said to be that, with the
     * catalog's models, where it was sent to --force as if it were held.
     */
    @Test
    void retireWithoutAnActiveModelSaysAnIdTheCatalogHoldsNothingOfIsUnknown() throws Exception {
        String held = "3f9a0c1d2e4b";
        String typo = "3f9a0c1d2e4c";
        try (dev.sacrag.stack.EmbeddedKafka kafka = dev.sacrag.stack.EmbeddedKafka.start()) {
            kafka.createTopics(dev.sacrag.stack.TopicSpec.compacted("t.catalog"));
            TopicRecords.catalogEntry(kafka.bootstrapServers(), "t.catalog", "default", "a", 1, held);
            List<String> flags = List.of("--bootstrap-servers", kafka.bootstrapServers(), "--catalog-topic", "t.catalog",
                    "--control-topic", "t.control", "--timeout", "10s");

            SacCliTest.Run unknown = retire(typo, flags);
            assertEquals(1, unknown.code(), unknown.out() + unknown.err());
            assertTrue(unknown.err().contains("refused: the catalog names no entry of model " + typo + " (a mistyped id")
                    && unknown.err().contains("the catalog's models: " + held), unknown.err());
            assertFalse(unknown.err().contains("names no active model"), unknown.err());

            SacCliTest.Run looked = retire(typo, flags, "--dry-run");
            assertEquals(1, looked.code(), looked.out() + looked.err());
            assertTrue(looked.err().contains("the catalog names no entry of model " + typo)
                    && looked.err().contains("the catalog's models: " + held), looked.err());
            assertFalse(looked.err().contains("names no active model"), looked.err());

            SacCliTest.Run refused = retire(held, flags);
            assertEquals(1, refused.code(), refused.out() + refused.err());
            assertTrue(refused.out().contains("the catalog holds 1 entry of model " + held), refused.out());
            assertTrue(refused.err().contains("refused: t.control names no active model") && refused.err().contains(
                    "which may be " + held + "; pass --force if none does"), refused.err());
        }
    }

    /**
     * A compressor group of the model with one member (a consumer standing in for a running
     * compressor): the refusal counts it as one member, where it said "1 members".
     */
    @Test
    void retireWhileACompressorRunsCountsItsMembers() throws Exception {
        String old = "3f9a0c1d2e4b";
        String next = "0c4e1f2a9b7d";
        try (dev.sacrag.stack.EmbeddedKafka kafka = dev.sacrag.stack.EmbeddedKafka.start()) {
            kafka.createTopics(dev.sacrag.stack.TopicSpec.compacted("t.catalog"));
            for (String model : List.of(old, next)) {
                TopicRecords.catalogEntry(kafka.bootstrapServers(), "t.catalog", "default", "a", 1, model);
            }
            publishActivation(kafka.bootstrapServers(), next);
            try (KafkaConsumer<byte[], byte[]> compressor = memberOf(kafka.bootstrapServers(), "sac-compressor-" + old)) {
                SacCliTest.Run refused = retire(old, flags(kafka.bootstrapServers()));
                assertEquals(1, refused.code(), refused.out() + refused.err());
                assertTrue(refused.err().contains("refused: compressors still run (sac-compressor-" + old + ": 1 member)"),
                        refused.err());
            }
        }
    }

    /**
     * Each refusal --force goes over is said, once, with what going on may cost, as activate's
     * --force warns: a forced retire went over all three without a word. With none to go over,
     * --force says nothing.
     */
    @Test
    void retireWithForceWarnsOfEachRefusalItWentOver() throws Exception {
        String old = "3f9a0c1d2e4b";
        String next = "0c4e1f2a9b7d";
        try (dev.sacrag.stack.EmbeddedKafka kafka = dev.sacrag.stack.EmbeddedKafka.start();
             RedisServer redis = RedisServer.launch()) {
            kafka.createTopics(dev.sacrag.stack.TopicSpec.compacted("t.catalog"));
            String bootstrap = kafka.bootstrapServers();
            List<String> flags = new java.util.ArrayList<>(flags(bootstrap));
            flags.addAll(List.of("--redis", redis.url()));

            TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "a", 1, old);
            SacCliTest.Run noActive = retire(old, flags, "--force");
            assertEquals(0, noActive.code(), noActive.out() + noActive.err());
            assertEquals(1, warnings(noActive).size(), noActive.err());
            assertTrue(warnings(noActive).get(0).contains("t.control names no active model") && warnings(noActive).get(0)
                    .contains("one whose adapter is of model " + old + " answers NOT_FOUND"), noActive.err());

            TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "a", 1, old);
            publishActivation(bootstrap, "deadbeef0000");
            try (KafkaConsumer<byte[], byte[]> compressor = memberOf(bootstrap, "sac-compressor-" + old)) {
                SacCliTest.Run both = retire(old, flags, "--force");
                assertEquals(0, both.code(), both.out() + both.err());
                List<String> said = warnings(both);
                assertEquals(2, said.size(), both.err());
                assertTrue(said.get(0).contains("compressors still run (sac-compressor-" + old + ": 1 member); retiring it"
                        + " all the same: one of model " + old + " that still runs writes the catalog entries and blobs"), both.err());
                assertTrue(said.get(1).contains("the active model deadbeef0000 (t.control) has no entry in the catalog")
                        && said.get(1).contains("if that is " + old + " it answers NOT_FOUND"), both.err());
            }

            TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "a", 1, old);
            TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "a", 1, next);
            publishActivation(bootstrap, next);
            SacCliTest.Run clear = retire(old, flags, "--force");
            assertEquals(0, clear.code(), clear.out() + clear.err());
            assertTrue(clear.out().contains("model " + old + ": 1 catalog entry removed"), clear.out());
            assertEquals(List.of(), warnings(clear), "nothing to go over");
        }
    }

    /**
     * The catalog topic keeps a retire's tombstones for a day or more: a retire run again says the
     * model was retired already (exit 0), where it exited 1 'nothing names model', and activating it
     * says the catalog holds only its tombstones and a rollout must run again, where it said 'a
     * mistyped id, or no sac warm --model for it yet'. Those words count tombstones and name both
     * retire and deletes (which leave the same), where they said 'retired' and counted entries. An id
     * never compressed keeps its words; an entry written again under a tombstoned key is held again.
     */
    @Test
    void aRetiredModelIsToldFromAnIdNeverCompressed() throws Exception {
        String old = "3f9a0c1d2e4b";
        String next = "0c4e1f2a9b7d";
        String never = "3f9a0c1d2e4c";
        try (dev.sacrag.stack.EmbeddedKafka kafka = dev.sacrag.stack.EmbeddedKafka.start();
             RedisServer redis = RedisServer.launch()) {
            kafka.createTopics(dev.sacrag.stack.TopicSpec.compacted("t.documents"),
                    dev.sacrag.stack.TopicSpec.compacted("t.catalog"), dev.sacrag.stack.TopicSpec.plain("t.dead-letter"));
            String bootstrap = kafka.bootstrapServers();
            TopicRecords.document(bootstrap, "t.documents", "default", "a", 1);
            for (String model : List.of(old, next)) {
                TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "a", 1, model);
            }
            publishActivation(bootstrap, next);
            List<String> flags = new java.util.ArrayList<>(flags(bootstrap));
            flags.addAll(List.of("--redis", redis.url()));
            SacCliTest.Run retired = retire(old, flags);
            assertEquals(0, retired.code(), retired.out() + retired.err());

            SacCliTest.Run again = retire(old, flags);
            assertEquals(0, again.code(), again.out() + again.err());
            assertTrue(again.out().contains("model " + old + " was retired already (or every document of it deleted): the"
                    + " catalog holds nothing of it but 1 tombstone, and Redis no blob of it in the catalog's tenants"),
                    again.out());
            // with no active model too: nothing of it is held, so no query service can be serving it
            List<String> noControl = flags.stream().map(f -> f.equals("t.control") ? "t.no-control" : f).toList();
            SacCliTest.Run noActive = retire(old, noControl);
            assertEquals(0, noActive.code(), noActive.out() + noActive.err());
            assertTrue(noActive.out().contains("model " + old + " was retired already"), noActive.out());
            SacCliTest.Run looked = retire(old, flags, "--dry-run");
            assertEquals(0, looked.code(), looked.out() + looked.err());
            assertTrue(looked.out().contains("model " + old + " was retired already"), looked.out());
            SacCliTest.Run typo = retire(never, flags);
            assertEquals(1, typo.code(), typo.out() + typo.err());
            assertTrue(typo.err().contains("nothing names model " + never), typo.err());

            List<String> activateFlags = new java.util.ArrayList<>(flags);
            activateFlags.addAll(List.of("--documents-topic", "t.documents", "--dead-letter-topic", "t.dead-letter"));
            SacCliTest.Run back = activate(old, activateFlags);
            assertEquals(1, back.code(), back.out() + back.err());
            assertTrue(back.err().contains("refused: the catalog holds nothing of model " + old + " but 1 tombstone ('sac"
                    + " model retire' removed it, or every document compressed for it was deleted since); run 'sac warm"
                    + " --model ADAPTER_DIR' again, with the --ratio it was rolled out with"), back.err());
            // the only document of a model deleted while its compressor ran leaves what a retire leaves: the
            // words do not say it was retired
            String emptied = "0c4e1f2a9b7e";
            TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "b", 1, emptied);
            TopicRecords.catalogTombstone(bootstrap, "t.catalog", "b", emptied);
            SacCliTest.Run deleted = activate(emptied, activateFlags);
            assertEquals(1, deleted.code(), deleted.out() + deleted.err());
            assertTrue(deleted.err().contains("refused: the catalog holds nothing of model " + emptied + " but 1 tombstone"
                    + " ('sac model retire' removed it, or every document compressed for it was deleted since)"),
                    deleted.err());
            SacCliTest.Run unknown = activate(never, activateFlags);
            assertEquals(1, unknown.code(), unknown.out() + unknown.err());
            assertTrue(unknown.err().contains("refused: no catalog entry names model " + never + " (a mistyped id"),
                    unknown.err());

            TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "a", 1, old);
            SacCliTest.Run heldAgain = retire(old, flags);
            assertEquals(0, heldAgain.code(), heldAgain.out() + heldAgain.err());
            assertTrue(heldAgain.out().contains("model " + old + ": 1 catalog entry removed"), heldAgain.out());
        }
    }

    /**
     * A retire stopped after its tombstones (Redis went away before the blobs did) leaves the blobs
     * of a tenant that held only the model's entries, which the catalog then names no entry in: a run
     * again deletes them, found in the records the tombstones removed, where it said 'retired already'
     * (exit 0) and left them. Another deployment's tenant, which this catalog never named, keeps its own.
     */
    @Test
    void aRetireRunAgainDeletesTheBlobsOfATenantOnlyItsTombstonedEntriesNamed() throws Exception {
        String old = "3f9a0c1d2e4b";
        String next = "0c4e1f2a9b7d";
        try (dev.sacrag.stack.EmbeddedKafka kafka = dev.sacrag.stack.EmbeddedKafka.start();
             RedisServer redis = RedisServer.launch()) {
            kafka.createTopics(dev.sacrag.stack.TopicSpec.compacted("t.catalog"));
            String bootstrap = kafka.bootstrapServers();
            TopicRecords.catalogEntry(bootstrap, "t.catalog", "default", "a", 1, next);
            TopicRecords.catalogEntry(bootstrap, "t.catalog", "archive", "b", 1, old);   // deleted since old stopped
            TopicRecords.catalogTombstone(bootstrap, "t.catalog", "b", old);   // the stopped retire's
            publishActivation(bootstrap, next);
            String left = dev.sacrag.kvstore.RedisKeys.blobKey("archive", old, "b", 1);
            String others = dev.sacrag.kvstore.RedisKeys.blobKey("elsewhere", old, "b", 1);
            io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
            try (var c = client.connect()) {
                c.sync().set(left, "blob");
                c.sync().set(others, "another deployment's");
                List<String> flags = new java.util.ArrayList<>(flags(bootstrap));
                flags.addAll(List.of("--redis", redis.url()));

                SacCliTest.Run again = retire(old, flags);
                assertEquals(0, again.code(), again.out() + again.err());
                assertTrue(again.out().contains("model " + old + ": 0 catalog entries removed, 1 blob deleted"), again.out());
                assertEquals(0, c.sync().exists(left), "the stopped retire's blob is left");
                assertEquals(1, c.sync().exists(others), "another deployment's blob was deleted");
            } finally {
                client.shutdown();
            }
        }
    }

    private static SacCliTest.Run activate(String modelId, List<String> flags) {
        List<String> args = new java.util.ArrayList<>(List.of("model", "activate", modelId));
        args.addAll(flags);
        return SacCliTest.run(args.toArray(String[]::new));
    }

    private static List<String> warnings(SacCliTest.Run run) {
        return run.err().lines().filter(l -> l.startsWith("model retire: warning (--force): ")).toList();
    }

    private static List<String> flags(String bootstrapServers) {
        return List.of("--bootstrap-servers", bootstrapServers, "--catalog-topic", "t.catalog", "--control-topic",
                "t.control", "--timeout", "10s");
    }

    /** What 'sac model activate ID --force' publishes, put on the control topic. */
    private static void publishActivation(String bootstrapServers, String modelId) throws Exception {
        ControlTopic.publish(new Brokers(bootstrapServers, Duration.ofSeconds(10)), "t.control",
                new ModelActivation(modelId, Optional.empty()));
    }

    /** A consumer that has joined {@code group}: the member a running compressor of that application id shows. */
    private static KafkaConsumer<byte[], byte[]> memberOf(String bootstrapServers, String group) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ConsumerConfig.GROUP_ID_CONFIG, group),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of("t.catalog"));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (consumer.assignment().isEmpty()) {
            if (System.nanoTime() > deadline) {
                consumer.close();
                throw new AssertionError("the consumer did not join group " + group + " within 30s");
            }
            consumer.poll(Duration.ofMillis(200));
        }
        return consumer;
    }

    private static SacCliTest.Run retire(String modelId, List<String> flags, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("model", "retire", modelId));
        args.addAll(flags);
        args.addAll(List.of(more));
        return SacCliTest.run(args.toArray(String[]::new));
    }

    /** Nothing listens at 127.0.0.1:1 for either: activate names the broker, whose control topic it writes. */
    @Test
    void activateWithNeitherBrokerNorRedisNamesTheBroker() {
        String[] neither = {"--bootstrap-servers", "127.0.0.1:1", "--redis", "redis://127.0.0.1:1", "--timeout", "2s"};
        PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered about topic sac.control within 2s",
                List.of("model", "activate", "m1"), neither);
        PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered about topic sac.control within 2s",
                List.of("model", "activate", "m1", "--force"), neither);
    }

    /** Nothing listens at 127.0.0.1:1: each wait for a broker ends at --timeout, where a topic's lookup took 30 s. */
    @Test
    void activateAndRetireWithNoBrokerFailWithinTheirTimeout() {
        String[] noBroker = {"--bootstrap-servers", "127.0.0.1:1", "--timeout", "2s"};
        PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered about topic sac.control within 2s",
                List.of("model", "retire", "m1"), noBroker);
        try (RedisServer redis = RedisServer.launch()) {
            PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered about topic sac.control within 2s",
                    List.of("model", "activate", "m1", "--redis", redis.url()), noBroker);
        }

        SacCliTest.Run zero = SacCliTest.run("model", "retire", "m1", "--timeout", "0s");
        assertEquals(2, zero.code(), zero.err());
        assertTrue(zero.err().contains("--timeout must be at least 1s, got 0s"), zero.err());
    }
}
