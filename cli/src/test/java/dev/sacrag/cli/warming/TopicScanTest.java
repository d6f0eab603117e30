package dev.sacrag.cli.warming;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TopicScanTest {

    private static final String TOPIC = "sac.documents";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);

    private static ConsumerRecord<byte[], byte[]> record(long offset) {
        return new ConsumerRecord<>(TOPIC, 0, offset, ("d" + offset).getBytes(), new byte[] {1});
    }

    /** Kafka's own message ("Timeout expired while fetching topic metadata") names neither broker nor topic. */
    @Test
    void noBrokerIsNamedWithTheTopicAndTheFlag() {
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest") {
            @Override
            public synchronized List<PartitionInfo> partitionsFor(String topic, Duration timeout) {
                throw new org.apache.kafka.common.errors.TimeoutException("Timeout expired while fetching topic metadata");
            }
        };
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new TopicScan(TOPIC, consumer, "localhost:9092"));
        assertEquals("no broker at localhost:9092 answered about topic sac.documents within 30s (is it running, and is"
                + " that its address? --bootstrap-servers)", e.getMessage());
        org.junit.jupiter.api.Assertions.assertTrue(consumer.closed(), "the consumer is closed");
        org.junit.jupiter.api.Assertions.assertFalse(e instanceof TopicScan.NoSuchTopic,
                "no broker is not 'no topic', which the control topic's reader takes for 'no active model'");

        MockConsumer<byte[], byte[]> leaderless = new MockConsumer<>("earliest") {
            @Override
            public synchronized Map<TopicPartition, Long> endOffsets(java.util.Collection<TopicPartition> partitions) {
                throw new org.apache.kafka.common.errors.TimeoutException("Failed to get offsets by times in 60000ms");
            }
        };
        leaderless.updatePartitions(TOPIC, List.of(new PartitionInfo(TOPIC, 0, null, null, null)));
        leaderless.updateBeginningOffsets(Map.of(P0, 0L));
        IllegalStateException noLeader = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new TopicScan(TOPIC, leaderless, "localhost:9092"));
        org.junit.jupiter.api.Assertions.assertTrue(noLeader.getMessage().startsWith(
                "the brokers at localhost:9092 did not give the end offsets of topic sac.documents"), noLeader.getMessage());

        MockConsumer<byte[], byte[]> none = new MockConsumer<>("earliest");   // a broker that has no such topic
        org.junit.jupiter.api.Assertions.assertThrows(TopicScan.NoSuchTopic.class, () -> new TopicScan(TOPIC, none, "b:9092"));
    }

    @Test
    void readingToTheEndAppliesOnlyWhatWasThereAndFollowingReturnsWhatCameSince() throws Exception {
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
        consumer.updatePartitions(TOPIC, List.of(new PartitionInfo(TOPIC, 0, null, null, null)));
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.updateEndOffsets(Map.of(P0, 10L));
        TopicScan scan = new TopicScan(TOPIC, consumer, "test");
        // the first poll already holds 5 records published after the scan opened
        consumer.schedulePollTask(() -> {
            for (long o = 0; o < 15; o++) {
                consumer.addRecord(record(o));
            }
        });
        List<Long> applied = new ArrayList<>();
        scan.readToEnd(r -> applied.add(r.offset()), Duration.ofSeconds(5));
        assertEquals(10, applied.size(), "records past the scan's end offsets were applied: " + applied);
        assertEquals(9L, applied.get(9));

        consumer.schedulePollTask(() -> {
            for (long o = 10; o < 15; o++) {
                consumer.addRecord(record(o));   // the broker delivers them again from the position moved back
            }
        });
        List<Long> since = new ArrayList<>();
        scan.poll(r -> since.add(r.offset()));
        assertEquals(List.of(10L, 11L, 12L, 13L, 14L), since);
        scan.close();
    }

    @Test
    void topicsAreReadWithinTwoMinutesOrTheLongerTimeoutGiven() {
        assertEquals(Duration.ofMinutes(2), TopicScan.readTimeout(Duration.ofSeconds(60)));
        assertEquals(Duration.ofMinutes(30), TopicScan.readTimeout(Duration.ofMinutes(30)));
    }
}
