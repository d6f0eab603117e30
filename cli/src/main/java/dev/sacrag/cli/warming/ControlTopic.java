package dev.sacrag.cli.warming;

import dev.sacrag.query.activation.ModelActivation;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The control topic seen from the CLI: which model the query services are told to use, and
 * telling them another one ({@link ModelActivation} is the record format; the query service's
 * {@code ControlFeed} follows it). The topic is created on first use: compacted, one partition
 * (one key, strictly ordered), the broker's replication factor.
 */
public final class ControlTopic {

    private ControlTopic() {
    }

    /**
     * The last activation on the topic; empty when there is none or no topic yet. The topic is
     * small (one key, compacted): reading it takes no longer than a broker's answer may.
     */
    public static Optional<ModelActivation> active(Brokers brokers, String topic) throws TimeoutException {
        TopicScan scan;
        try {
            scan = new TopicScan(brokers, topic, "sac-control-read");
        } catch (TopicScan.NoSuchTopic noTopic) {   // no broker is another matter: it propagates
            return Optional.empty();
        }
        AtomicReference<Optional<ModelActivation>> last = new AtomicReference<>(Optional.empty());
        try (scan) {
            scan.readToEnd(r -> {
                if (r.key() != null && ModelActivation.KEY.equals(new String(r.key(), StandardCharsets.UTF_8))) {
                    try {
                        last.set(r.value() == null ? Optional.empty() : Optional.of(ModelActivation.parse(r.value())));
                    } catch (IllegalArgumentException bad) {
                        // the query services skip it too
                    }
                }
            }, brokers.timeout());
        }
        return last.get();
    }

    /**
     * Asks a broker about the topic, reading none of it, and fails as {@link #active} does when
     * none answers within the timeout; a topic not there yet is no failure ({@link #publish}
     * creates it). For a command that needs the broker and another service: with neither there,
     * the broker is the one it names.
     */
    public static void requireBroker(Brokers brokers, String topic) {
        try {
            new TopicScan(brokers, topic, "sac-control-read").close();
        } catch (TopicScan.NoSuchTopic notYet) {
            return;   // a broker answered, that it has no such topic
        }
    }

    /** Publishes the activation (creating the topic if needed) and waits for the broker's acknowledgement. */
    public static void publish(Brokers brokers, String topic, ModelActivation activation)
            throws InterruptedException, TimeoutException {
        ensureExists(brokers, topic);
        Duration timeout = brokers.timeout();
        try (KafkaProducer<String, byte[]> producer = BoundedClients.producer(brokers.bootstrapServers(),
                "sac-model-activate", timeout)) {
            producer.send(new ProducerRecord<>(topic, ModelActivation.KEY, activation.toJson()))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing the activation of model " + activation.modelId() + " to " + topic
                    + " failed", e.getCause());
        }
    }

    private static void ensureExists(Brokers brokers, String topic) throws InterruptedException {
        try (Admin admin = BoundedClients.admin(brokers.bootstrapServers(), brokers.timeout())) {
            NewTopic spec = new NewTopic(topic, Optional.of(1), Optional.empty())
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
            brokers.await(admin.createTopics(List.of(spec)).all(), "when asked to create topic " + topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("creating the control topic " + topic + " failed", e.getCause());
            }
        }
    }
}
