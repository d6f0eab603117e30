package dev.sacrag.cli.warming;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Reads a whole topic (every partition, no consumer group, committed records only) to the end
 * offsets it had when the scan opened, and can then go on following it: what the warming tools
 * need to know "what is there now" and then "what arrived since".
 */
final class TopicScan implements AutoCloseable {

    private static final Duration POLL = Duration.ofMillis(200);
    /** Reading a topic to its end may take this long, or the caller's --timeout when that is longer (large topics). */
    static final Duration READ_TIMEOUT = Duration.ofMinutes(2);

    private final String topic;
    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final Map<TopicPartition, Long> ends;

    /**
     * Waiting {@code brokers.timeout()} for the topic's partitions, a broker's answer.
     *
     * @throws NoSuchTopic when the topic does not exist
     * @throws IllegalStateException when no broker answers at {@code brokers.bootstrapServers()}
     */
    TopicScan(Brokers brokers, String topic, String clientId) {
        this(brokers.bootstrapServers(), topic, clientId, brokers.timeout());
    }

    /** @param metadataTimeout how long to wait for the topic's partitions (a broker's answer) */
    private TopicScan(String bootstrapServers, String topic, String clientId, Duration metadataTimeout) {
        this(topic, new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.CLIENT_ID_CONFIG, clientId,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT),
                ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class)), bootstrapServers,
                metadataTimeout);
    }

    /** Over a given consumer (tests); {@code where} names the cluster in errors. */
    TopicScan(String topic, org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer, String where) {
        this(topic, consumer, where, METADATA_TIMEOUT);
    }

    private TopicScan(String topic, org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer, String where,
                      Duration metadataTimeout) {
        this.topic = topic;
        this.consumer = consumer;
        try {
            List<PartitionInfo> infos;
            try {
                infos = consumer.partitionsFor(topic, metadataTimeout);
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                throw BoundedClients.noBroker(where, "about topic " + topic + " within "
                        + dev.sacrag.metrics.Durations.shown(metadataTimeout), e);
            }
            if (infos == null || infos.isEmpty()) {
                throw new NoSuchTopic("topic " + topic + " does not exist on " + where);
            }
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            this.ends = consumer.endOffsets(partitions);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {   // the broker answered the lookup, not this
            consumer.close();
            throw new IllegalStateException("the brokers at " + where + " did not give the end offsets of topic " + topic
                    + " in time: is each partition's leader reachable at the address it advertises (a container's"
                    + " host name seen from outside it, say), and does every partition have a leader?", e);
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    /** The topic is not there (the broker said so): for readers to which that means "nothing yet". */
    static final class NoSuchTopic extends IllegalStateException {
        NoSuchTopic(String message) {
            super(message);
        }
    }

    /** How long looking a topic up may take: a broker that is there answers in milliseconds. */
    static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);

    /** How long reading a topic to its end may take under a run's {@code timeout}. */
    static Duration readTimeout(Duration timeout) {
        return timeout.compareTo(READ_TIMEOUT) > 0 ? timeout : READ_TIMEOUT;
    }

    /** Applies every record up to the end offsets the topic had when the scan opened. */
    void readToEnd(Consumer<ConsumerRecord<byte[], byte[]>> apply, Duration timeout) throws TimeoutException {
        readTo(ends, apply, timeout);
    }

    /** Applies every record up to the topic's end offsets now. */
    void readToCurrentEnd(Consumer<ConsumerRecord<byte[], byte[]>> apply, Duration timeout) throws TimeoutException {
        readTo(consumer.endOffsets(ends.keySet()), apply, timeout);
    }

    /**
     * Applies the records below {@code ends} only: a poll may return records published after the
     * ends were taken, and applying them would let a caller that compares against those ends
     * (e.g. "has the compressor committed past them?") count a document it never waited for.
     * The consumer is moved back to the ends afterwards, so the next {@link #poll} returns them.
     */
    private void readTo(Map<TopicPartition, Long> ends, Consumer<ConsumerRecord<byte[], byte[]>> apply, Duration timeout)
            throws TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!reached(ends)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("topic " + topic + " was not read to its end within " + timeout);
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                if (r.offset() < ends.get(new TopicPartition(r.topic(), r.partition()))) {
                    apply.accept(r);
                }
            }
        }
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (consumer.position(end.getKey(), Duration.ofSeconds(30)) > end.getValue()) {
                consumer.seek(end.getKey(), end.getValue());
            }
        }
    }

    /** Applies what one poll returns (after {@link #readToEnd}: records that arrived since). */
    void poll(Consumer<ConsumerRecord<byte[], byte[]>> apply) {
        consumer.poll(POLL).forEach(apply);
    }

    /** End offset per partition when the scan opened. */
    Map<TopicPartition, Long> ends() {
        return ends;
    }

    private boolean reached(Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (consumer.position(end.getKey(), Duration.ofSeconds(30)) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
