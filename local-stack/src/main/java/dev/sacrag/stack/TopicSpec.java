package dev.sacrag.stack;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/**
 * A topic the local stack should create. Partitions empty = the broker's default
 * ({@code num.partitions}, 6 in the embedded broker). Compacted topics keep the latest record
 * per key (documents, catalog), which is what makes them the source of truth.
 */
public record TopicSpec(String name, OptionalInt partitions, boolean compacted) {

    public TopicSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(partitions, "partitions");
        if (name.isBlank()) {
            throw new IllegalArgumentException("topic name must not be blank");
        }
        if (partitions.isPresent() && partitions.getAsInt() < 1) {
            throw new IllegalArgumentException("topic " + name + " needs at least 1 partition, got " + partitions.getAsInt());
        }
    }

    public static TopicSpec plain(String name) {
        return new TopicSpec(name, OptionalInt.empty(), false);
    }

    public static TopicSpec compacted(String name) {
        return new TopicSpec(name, OptionalInt.empty(), true);
    }

    public TopicSpec withPartitions(int count) {
        return new TopicSpec(name, OptionalInt.of(count), compacted);
    }

    NewTopic toNewTopic() {
        Optional<Integer> count = partitions.isPresent() ? Optional.of(partitions.getAsInt()) : Optional.empty();
        NewTopic topic = new NewTopic(name, count, Optional.empty());
        if (compacted) {
            topic.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        }
        return topic;
    }
}
