package dev.sacrag.query.feed;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Builds polled batches by hand, as a consumer would return them. */
public final class FeedRecords {

    private final String topic;
    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

    public FeedRecords(String topic) {
        this.topic = topic;
    }

    public FeedRecords add(String key, byte[] value) {
        return add(key, value, new RecordHeaders());
    }

    public FeedRecords add(String key, byte[] value, Headers headers) {
        return addOn(0, key, value, headers);
    }

    public FeedRecords addOn(int partition, String key, byte[] value, Headers headers) {
        records.add(new ConsumerRecord<>(topic, partition, records.size(), 1_700_000_000_000L + records.size(),
                TimestampType.CREATE_TIME, -1, -1, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value,
                headers, Optional.empty()));
        return this;
    }

    public ConsumerRecords<byte[], byte[]> batch() {
        Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> byPartition = new java.util.LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            byPartition.computeIfAbsent(new TopicPartition(topic, r.partition()), p -> new ArrayList<>()).add(r);
        }
        ConsumerRecords<byte[], byte[]> batch = new ConsumerRecords<>(byPartition, Map.of());
        records.clear();
        return batch;
    }
}
