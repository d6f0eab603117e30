package dev.sacrag.compressor;

import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.schemas.CatalogKey;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompressorConfigTest {

    static CompressorConfig.Builder valid() {
        return CompressorConfig.builder().model(Path.of("models/sac-demo/base"), Path.of("models/sac-demo/adapters/sac"));
    }

    @Test
    void defaultsAreValidAndMatchTheContracts() {
        CompressorConfig c = valid().build();
        assertEquals("sac-compressor", c.applicationId());
        assertEquals(CompressorTopics.defaults(), c.topics());
        assertEquals(List.of("sac.documents", "sac.anchor-caches", "sac.documents.dlq", "sac.recompress"), c.topics().all());
        assertEquals(KvDtype.F16, c.blobDtype());
        assertEquals(1, c.maxPollRecords());
        assertTrue(c.maxRecordFailures() < StreamThreadFailures.THRESHOLD,
                "one poison record is set aside before its failures make health report the compressor failing");
        assertEquals(java.util.OptionalInt.empty(), c.metricsPort(), "the builder starts no endpoint unless asked");
        assertEquals("0.0.0.0", c.metricsBind());
    }

    @Test
    void timeoutsAreSizedFromTheWorstCaseRecordAndExceedTheRedisRetryBudget() {
        CompressorConfig c = valid().maxCompressTime(Duration.ofSeconds(30)).redisRetryBudget(Duration.ofSeconds(10))
                .maxPollRecords(2).commitInterval(Duration.ofMillis(100)).build();
        // 100 ms + 2 x (2 records x (30 s + 10 s))
        Duration expected = Duration.ofMillis(100).plusSeconds(160);
        assertEquals(expected, c.timeouts().transactionTimeout());
        assertEquals(expected, c.timeouts().maxPollInterval());
        assertTrue(c.redisRetryBudget().compareTo(c.timeouts().transactionTimeout()) < 0);
    }

    @Test
    void theLargestBlobsTransferCountsInEachRecordAndTooLongOneIsRefused() {
        CompressorConfig c = valid().maxCompressTime(Duration.ofSeconds(30)).redisRetryBudget(Duration.ofSeconds(10))
                .maxPollRecords(2).commitInterval(Duration.ofMillis(100)).build();
        // 100 ms + 2 x (2 records x (30 s + 10 s + 2 x 32 s: a 512 MiB blob read and written at 16 MiB/s))
        Duration transfer = dev.sacrag.kvstore.AnchorKvStore.transferAllowance(512L << 20);
        assertEquals(Duration.ofSeconds(32), transfer);
        assertEquals(Duration.ofMillis(100).plusSeconds(416), c.timeouts(transfer, "the largest").transactionTimeout());
        CompressorConfig slow = valid().maxCompressTime(Duration.ofMinutes(1)).maxPollRecords(5).build();   // 13.3 min, 24 with 2 x 32 s more
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> slow.timeouts(Duration.ofSeconds(32), "8192 tokens, a blob of 536,870,912 bytes"));
        assertTrue(e.getMessage().startsWith(CompressorConfig.Flags.MAX_DOC_TOKENS + " allows 8192 tokens, a blob of"),
                e.getMessage());
    }

    @Test
    void streamsPropertiesUseExactlyOnceV2AndTheSizedTimeouts() {
        CompressorConfig c = valid().bootstrapServers("kafka:9092").applicationId("app-1").maxPollRecords(3).build();
        Properties p = CompressorStreamsConfig.of(c);
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, p.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals("app-1", p.get(StreamsConfig.APPLICATION_ID_CONFIG));
        assertEquals("kafka:9092", p.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        assertEquals(3, p.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG)));
        assertEquals(null, p.get(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG)),
                "the restore consumer reads the changelogs at Kafka's default");
        assertEquals("3", String.valueOf(new StreamsConfig(p).getMainConsumerConfigs("g", "c", 0).get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG)));
        assertEquals("1000", String.valueOf(new StreamsConfig(p).getRestoreConsumerConfigs("c").get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG)));
        int timeout = Math.toIntExact(c.timeouts().transactionTimeout().toMillis());
        assertEquals(timeout, p.get(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)));
        assertEquals(timeout, p.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG)));
        assertEquals(10_000, p.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)),
                "not Kafka's 45 s: a stopped instance's partitions wait this long");
        assertEquals(3_333, p.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG)));
        assertEquals(30_000, CompressorStreamsConfig.of(valid().sessionTimeout(Duration.ofSeconds(30)).build())
                .get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)));
        assertTrue((int) p.get(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG)) > c.limits().maxValueBytes(),
                "a dead letter of the largest accepted value must fit a request");
        assertEquals(34L << 20, p.get(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG)),
                "room for two records of 17 MiB, the largest the default 8 MiB documents make");
        // a 20 MiB document limit: records of up to 41 MiB, which Kafka's default 32 MiB buffer
        // refuses whatever max.request.size allows
        Properties large = CompressorStreamsConfig.of(valid().maxDocBytes(20 << 20).build());
        int largest = (int) large.get(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        assertEquals(41 << 20, largest);
        assertEquals(2L * largest, large.get(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG)));
    }

    record Invalid(String flag, UnaryOperator<CompressorConfig.Builder> change) {
        @Override
        public String toString() {
            return flag;
        }
    }

    static List<Invalid> invalidValues() {
        return List.of(
                new Invalid("--bootstrap-servers", b -> b.bootstrapServers(" ")),
                new Invalid("--application-id", b -> b.applicationId("has space")),
                new Invalid("--model", b -> b.model(null, Path.of("a"))),
                new Invalid("--ratio", b -> b.ratio(OptionalInt.of(0))),
                new Invalid("--blob-ttl", b -> b.blobTtl(Optional.of(Duration.ZERO))),
                new Invalid("--max-doc-bytes", b -> b.maxDocBytes(0)),
                new Invalid("--max-doc-chars", b -> b.maxDocChars(-1)),
                new Invalid("--max-doc-tokens", b -> b.maxDocumentTokens(OptionalInt.of(0))),
                new Invalid("--commit-interval", b -> b.commitInterval(Duration.ZERO)),
                new Invalid("--max-poll-records", b -> b.maxPollRecords(0)),
                new Invalid("--max-poll-records", b -> b.maxPollRecords(101)),
                new Invalid("--max-compress-time", b -> b.maxCompressTime(Duration.ofSeconds(-1))),
                new Invalid("--redis-retry-budget", b -> b.redisRetryBudget(Duration.ZERO)),
                new Invalid("--metrics-port", b -> b.metricsPort(70000)),
                new Invalid("--session-timeout", b -> b.sessionTimeout(Duration.ofMillis(500))),
                new Invalid("--max-record-failures", b -> b.maxRecordFailures(0)),
                new Invalid("--metrics-bind", b -> b.metricsBind(" ")),
                new Invalid("--max-compress-time", b -> b.maxCompressTime(Duration.ofMinutes(10)).maxPollRecords(4)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidValues")
    void anInvalidValueFailsNamingItsFlag(Invalid invalid) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> invalid.change().apply(valid()).build());
        assertTrue(e.getMessage().startsWith(invalid.flag() + " "), e.getMessage());
    }

    @Test
    void messagesShowValuesAsTheFlagsTakeThemNotAsJavaPrintsThem() {
        String ttl = assertThrows(IllegalArgumentException.class,
                () -> valid().blobTtl(java.util.Optional.of(java.time.Duration.ZERO)).build()).getMessage();
        assertEquals("--blob-ttl must be at least 1 ms, got 0s", ttl);
        String session = assertThrows(IllegalArgumentException.class,
                () -> valid().sessionTimeout(java.time.Duration.ofMillis(500)).build()).getMessage();
        assertTrue(session.endsWith("got 500ms"), session);
        String commit = assertThrows(IllegalArgumentException.class,
                () -> valid().commitInterval(java.time.Duration.ofMinutes(-2)).build()).getMessage();
        assertTrue(commit.endsWith("must be a positive duration, got -2m"), commit);
    }

    @Test
    void catalogKeysSplitAtTheLastSeparatorSoDocIdsMayContainIt() {
        CatalogKey key = new CatalogKey("reports|2024/q1.md", "3f9a0c1d2e4b");
        assertEquals("reports|2024/q1.md|3f9a0c1d2e4b", key.toString());
        assertEquals(key, CatalogKey.parse(key.toString()));
        assertThrows(IllegalArgumentException.class, () -> CatalogKey.parse("no-separator"));
        assertThrows(IllegalArgumentException.class, () -> CatalogKey.parse("doc|"));
    }
}
