package dev.sacrag.stack;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/**
 * A topic the local stack should create. Partitions empty = the broker's default
 * ({@code num.partitions}, 6 in the embedded broker). Compacted topics keep the latest record
 * per key (documents, catalog), which is what makes them the source of truth. Max message
 * bytes empty = the broker's {@code message.max.bytes} (about 1 MiB), smaller than the
 * documents the compressor takes by default (8 MiB): the documents and dead-letter topics set it.
 */
public record TopicSpec(String name, OptionalInt partitions, boolean compacted, OptionalInt maxMessageBytes) {

    public TopicSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(partitions, "partitions");
        if (name.isBlank()) {
            throw new IllegalArgumentException("topic name must not be blank");
        }
        if (partitions.isPresent() && partitions.getAsInt() < 1) {
            throw new IllegalArgumentException("topic " + name + " needs at least 1 partition, got " + partitions.getAsInt());
        }
        Objects.requireNonNull(maxMessageBytes, "maxMessageBytes");
        if (maxMessageBytes.isPresent() && maxMessageBytes.getAsInt() < 1) {
            throw new IllegalArgumentException("topic " + name + ": max message bytes must be >= 1, got "
                    + maxMessageBytes.getAsInt());
        }
    }

    public static TopicSpec plain(String name) {
        return new TopicSpec(name, OptionalInt.empty(), false, OptionalInt.empty());
    }

    public static TopicSpec compacted(String name) {
        return new TopicSpec(name, OptionalInt.empty(), true, OptionalInt.empty());
    }

    public TopicSpec withPartitions(int count) {
        return new TopicSpec(name, OptionalInt.of(count), compacted, maxMessageBytes);
    }

    /** The topic's {@code max.message.bytes}: the largest record batch it accepts. */
    public TopicSpec withMaxMessageBytes(int bytes) {
        return new TopicSpec(name, partitions, compacted, OptionalInt.of(bytes));
    }

    NewTopic toNewTopic() {
        Optional<Integer> count = partitions.isPresent() ? Optional.of(partitions.getAsInt()) : Optional.empty();
        NewTopic topic = new NewTopic(name, count, Optional.empty());
        Map<String, String> configs = new HashMap<>();
        if (compacted) {
            configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        }
        maxMessageBytes.ifPresent(bytes -> configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(bytes)));
        return configs.isEmpty() ? topic : topic.configs(configs);
    }
}
