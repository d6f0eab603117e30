package dev.sacrag.query.recompress;

import dev.sacrag.query.metrics.QueryMetrics;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KafkaRecompressRequestsTest {

    /** A clock the test moves. */
    private static final class TestClock extends Clock {
        long millis = 1_000_000;

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    private final TestClock clock = new TestClock();
    private static final Node BROKER = new Node(0, "localhost", 9092);
    /** The recompress topic with 6 partitions, as the producer's metadata has it. */
    private static final Cluster CLUSTER = new Cluster("c", List.of(BROKER), IntStream.range(0, 6)
            .mapToObj(p -> new PartitionInfo("sac.recompress", p, BROKER, new Node[] {BROKER}, new Node[] {BROKER})).toList(),
            Set.of(), Set.of());
    private final MockProducer<byte[], byte[]> producer =
            new MockProducer<>(CLUSTER, true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final KafkaRecompressRequests requests = new KafkaRecompressRequests(producer, "sac.recompress",
            Duration.ofSeconds(30), clock, QueryMetrics.inMemory(), docId -> docId.equals("doc-on-5") ? OptionalInt.of(5) : docId.equals("doc-on-7") ? OptionalInt.of(7) : OptionalInt.empty(),
            Runnable::run);

    @Test
    void oneRequestPerDocumentAndIntervalInTheCompressorsFormat() {
        requests.request("acme", "doc-1", "m1", "blob-missing");
        requests.request("acme", "doc-1", "m1", "blob-missing");
        requests.request("acme", "doc-2", "m1", "blob-missing");
        assertEquals(2, producer.history().size());
        assertEquals("doc-1", new String(producer.history().get(0).key(), StandardCharsets.UTF_8));
        String value = new String(producer.history().get(0).value(), StandardCharsets.UTF_8);
        assertTrue(value.contains("\"tenant\":\"acme\"") && value.contains("\"modelId\":\"m1\"")
                && value.contains("\"reason\":\"blob-missing\""), value);
        clock.millis += 30_000;
        requests.request("acme", "doc-1", "m1", "blob-missing");
        assertEquals(3, producer.history().size(), "asked again once the interval passed");
    }

    @Test
    void concurrentQuestionsAboutOneMissingBlobSendOneRequest() throws Exception {
        int threads = 4;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 300; round++) {
                String docId = "doc-" + round;
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
                List<java.util.concurrent.Future<?>> asks = IntStream.range(0, threads).<java.util.concurrent.Future<?>>mapToObj(
                        t -> pool.submit(() -> {
                            start.await();
                            requests.request("acme", docId, "m1", "blob-missing");
                            return null;
                        })).toList();
                for (java.util.concurrent.Future<?> ask : asks) {
                    ask.get(10, java.util.concurrent.TimeUnit.SECONDS);
                }
                long sent = producer.history().stream()
                        .filter(r -> docId.equals(new String(r.key(), StandardCharsets.UTF_8))).count();
                assertEquals(1, sent, "round " + round + ": one request per document and interval");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSendThatCannotStartIsRetriedOnlyAfterTheInterval() {
        producer.sendException = new TimeoutException("no broker reachable within max.block.ms");
        requests.request("acme", "doc-1", "m1", "blob-missing");
        producer.sendException = null;
        requests.request("acme", "doc-1", "m1", "blob-missing");   // another question a moment later
        assertEquals(0, producer.history().size(), "every question would block the RPC thread during an outage");
        clock.millis += 30_000;
        requests.request("acme", "doc-1", "m1", "blob-missing");
        assertEquals(1, producer.history().size());
    }

    /**
     * A document from a non-Java producer may sit on another partition than Java's hash of its
     * key; the compressor task holding it only sees requests on that partition.
     */
    @Test
    void aRequestGoesToItsDocumentsPartitionWhereKnown() {
        requests.request("acme", "doc-on-5", "m1", "blob-missing");
        requests.request("acme", "doc-1", "m1", "blob-missing");
        requests.request("acme", "doc-on-7", "m1", "blob-missing");
        assertEquals(5, producer.history().get(0).partition());
        assertEquals(null, producer.history().get(1).partition(), "unknown: the producer's partitioner decides");
        assertEquals(null, producer.history().get(2).partition(),
                "a partition the recompress topic lacks would block the send for max.block.ms");
    }

    /** The real producer reports a metadata timeout to the callback, after blocking the caller for max.block.ms. */
    @Test
    void aSendThatTimedOutIsRetriedOnlyAfterTheInterval() {
        MockProducer<byte[], byte[]> manual = new MockProducer<>(CLUSTER, false, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        KafkaRecompressRequests r = new KafkaRecompressRequests(manual, "sac.recompress", Duration.ofSeconds(30), clock,
                QueryMetrics.inMemory(), docId -> OptionalInt.empty(), Runnable::run);
        r.request("acme", "doc-1", "m1", "blob-missing");
        assertTrue(manual.errorNext(new TimeoutException("topic metadata not available after 2000 ms")));
        r.request("acme", "doc-1", "m1", "blob-missing");
        assertEquals(1, manual.history().size(), "every question would block an RPC thread again");
        clock.millis += 30_000;
        r.request("acme", "doc-1", "m1", "blob-missing");
        assertEquals(2, manual.history().size());
    }

    /** A send blocked on metadata (max.block.ms) must not hold the question's thread: k documents, k blocks. */
    @Test
    void sendsBlockedOnMetadataDoNotHoldTheCaller() throws Exception {
        java.util.concurrent.CountDownLatch sent = new java.util.concurrent.CountDownLatch(3);
        java.util.concurrent.CountDownLatch metadata = new java.util.concurrent.CountDownLatch(1);
        MockProducer<byte[], byte[]> slow = new MockProducer<>(CLUSTER, true, null, new ByteArraySerializer(),
                new ByteArraySerializer()) {
            @Override
            public java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                    org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> record,
                    org.apache.kafka.clients.producer.Callback callback) {
                try {
                    metadata.await(3, java.util.concurrent.TimeUnit.SECONDS);   // as a real send waits for metadata
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                var f = super.send(record, callback);
                sent.countDown();
                return f;
            }
        };
        try (KafkaRecompressRequests r = new KafkaRecompressRequests(slow, "sac.recompress", Duration.ofSeconds(30),
                clock, QueryMetrics.inMemory(), docId -> OptionalInt.empty())) {
            for (String doc : List.of("a", "b", "c")) {
                r.request("acme", doc, "m1", "blob-missing");
            }
            assertEquals(List.of(), slow.history(), "the caller returned only after the sends (it waited for metadata)");
            metadata.countDown();   // the broker answers
            assertTrue(sent.await(10, java.util.concurrent.TimeUnit.SECONDS), "the requests are still sent");
            assertEquals(List.of("a", "b", "c"), slow.history().stream()
                    .map(rec -> new String(rec.key(), StandardCharsets.UTF_8)).toList());
        }
    }
}
