package dev.sacrag.query.feed;

import dev.sacrag.query.activation.ModelActivation;
import dev.sacrag.query.activation.ModelSwitch;
import dev.sacrag.query.metrics.QueryMetrics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Applies the control topic ({@link ModelActivation}): of each polled batch only the last
 * activation counts (the topic is compacted; earlier ones are history). A tombstone returns to
 * the model this replica was started with. Records under other keys are ignored.
 */
public final class ControlFeed implements TopicFollower.Handler {

    private static final Logger log = LoggerFactory.getLogger(ControlFeed.class);

    private final ModelSwitch models;
    private final String startupModelId;
    private final QueryMetrics metrics;

    public ControlFeed(ModelSwitch models, String startupModelId, QueryMetrics metrics) {
        this.models = models;
        this.startupModelId = startupModelId;
        this.metrics = metrics;
    }

    @Override
    public void handle(ConsumerRecords<byte[], byte[]> records) {
        Optional<ModelActivation> last = Optional.empty();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            if (r.key() == null || !ModelActivation.KEY.equals(new String(r.key(), StandardCharsets.UTF_8))) {
                continue;
            }
            try {
                last = Optional.of(r.value() == null ? new ModelActivation(startupModelId, Optional.empty())
                        : ModelActivation.parse(r.value()));
                metrics.feedRecord(r.topic(), true);
            } catch (IllegalArgumentException e) {
                metrics.feedRecord(r.topic(), false);
                log.warn("skipping control record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            }
        }
        last.ifPresent(models::activate);
    }
}
