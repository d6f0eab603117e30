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

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private ControlTopic() {
    }

    /** The last activation on the topic; empty when there is none or no topic yet. */
    public static Optional<ModelActivation> active(String bootstrapServers, String topic) throws TimeoutException {
        TopicScan scan;
        try {
            scan = new TopicScan(bootstrapServers, topic, "sac-control-read");
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
            }, TIMEOUT);
        }
        return last.get();
    }

    /** Publishes the activation (creating the topic if needed) and waits for the broker's acknowledgement. */
    public static void publish(String bootstrapServers, String topic, ModelActivation activation)
            throws InterruptedException, TimeoutException {
        ensureExists(bootstrapServers, topic);
        try (KafkaProducer<String, byte[]> producer = BoundedClients.producer(bootstrapServers, "sac-model-activate", TIMEOUT)) {
            producer.send(new ProducerRecord<>(topic, ModelActivation.KEY, activation.toJson()))
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing the activation of model " + activation.modelId() + " to " + topic
                    + " failed", e.getCause());
        }
    }

    private static void ensureExists(String bootstrapServers, String topic) throws InterruptedException, TimeoutException {
        try (Admin admin = BoundedClients.admin(bootstrapServers, TIMEOUT)) {
            NewTopic spec = new NewTopic(topic, Optional.of(1), Optional.empty())
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
            admin.createTopics(List.of(spec)).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("creating the control topic " + topic + " failed", e.getCause());
            }
        }
    }
}
