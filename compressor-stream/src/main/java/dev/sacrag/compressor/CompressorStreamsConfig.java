package dev.sacrag.compressor;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

import java.util.Properties;

/** The Kafka Streams properties of a {@link CompressorConfig}; library constants only, no spelled-out names. */
public final class CompressorStreamsConfig {

    /** Kafka's default buffer.memory. */
    private static final long DEFAULT_BUFFER_MEMORY = 32L << 20;

    private CompressorStreamsConfig() {
    }

    /** With the timeouts of the settings alone (tests; the app passes the model's, see the other overload). */
    public static Properties of(CompressorConfig config) {
        return of(config, config.timeouts());
    }

    public static Properties of(CompressorConfig config, SlowRecordTimeouts timeouts) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        // Catalog records, dead letters, store changelogs and consumer offsets commit atomically.
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitInterval().toMillis());
        p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toAbsolutePath().toString());
        // One model per instance: scale out with instances (one task per partition), not threads.
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        // Fail the build of the topology if any processor, store or internal topic were left unnamed.
        p.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
        // the main consumer's only: consumerPrefix reaches the restore consumer too, which would then
        // rebuild the stores after a lost state folder one record per poll
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), config.maxPollRecords());
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG),
                Math.toIntExact(timeouts.maxPollInterval().toMillis()));
        // see CompressorConfig.DEFAULT_SESSION_TIMEOUT; a heartbeat every third of it, as Kafka's defaults
        int session = Math.toIntExact(config.sessionTimeout().toMillis());
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), session);
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), session / 3);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
                Math.toIntExact(timeouts.transactionTimeout().toMillis()));
        // Dead letters carry whole documents and the latest-documents changelog their JSON form.
        int largestRecord = config.limits().maxStoredBytes();
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), largestRecord);
        // The producer also refuses a record larger than its whole buffer (Kafka's default 32 MiB),
        // whatever max.request.size says: room for two of the largest.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG),
                Math.max(DEFAULT_BUFFER_MEMORY, 2L * largestRecord));
        return p;
    }
}
