package dev.sacrag.compressor;

import org.apache.kafka.common.TopicPartition;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Progress that an aborted transaction cannot fake: the offsets this instance's tasks have
 * committed. Under exactly-once a stream thread's records of all its partitions commit in one
 * transaction, so a record finished and then rolled back by a failure (a dead letter ahead of a
 * record that waits for Redis) never moves them. {@link #sample} counts each time a partition's
 * committed offset goes past the highest seen for it; the first offset seen of a partition (a
 * task just assigned) is not progress.
 */
final class CommittedProgress {

    private final Supplier<Map<TopicPartition, Long>> committed;
    private final Map<TopicPartition, Long> highest = new ConcurrentHashMap<>();
    private final AtomicLong advances = new AtomicLong();

    /** @param committed the committed offsets of the active tasks now (the caller's sampler thread asks) */
    CommittedProgress(Supplier<Map<TopicPartition, Long>> committed) {
        this.committed = committed;
    }

    /** Reads the committed offsets and counts the partitions that moved past their highest. */
    void sample() {
        committed.get().forEach((tp, offset) -> {
            Long before = highest.get(tp);
            if (before == null || offset > before) {
                highest.put(tp, offset);
                if (before != null) {
                    advances.incrementAndGet();
                }
            }
        });
    }

    /** Advances counted so far. */
    long advances() {
        return advances.get();
    }
}
