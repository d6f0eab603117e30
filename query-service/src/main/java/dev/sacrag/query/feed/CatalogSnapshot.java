package dev.sacrag.query.feed;

import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogRecords;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/** Reads the catalog topic once, to its current end (for {@code sac demo}'s summary and the end-to-end tests). */
public final class CatalogSnapshot {

    private static final Logger log = LoggerFactory.getLogger(CatalogSnapshot.class);

    private CatalogSnapshot() {
    }

    /** @throws TimeoutException when the topic could not be read to its end within {@code timeout} */
    public static Catalog read(String bootstrapServers, String topic, Duration timeout) throws TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Catalog catalog = new Catalog();
        try (Consumer<byte[], byte[]> c = new KafkaConsumer<>(TopicFollower.consumerConfig(bootstrapServers, "sac-docs-list"))) {
            Map<TopicPartition, Long> ends = TopicFollower.assignFromBeginning(c, topic, () -> {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("topic " + topic + " at " + bootstrapServers + " was not found within "
                            + timeout.toSeconds() + "s: is a broker there, and has the topic been created (a compressor"
                            + " writes it; sac demo and docker compose create it)?");
                }
                sleep(Duration.ofMillis(500));
            });
            while (!TopicFollower.reachedEnds(c, ends)) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("topic " + topic + " at " + bootstrapServers + " was not read to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    apply(catalog, r);
                }
            }
        }
        return catalog;
    }

    private static void apply(Catalog catalog, ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            log.warn("skipping catalog record {}-{}@{}: no key", r.topic(), r.partition(), r.offset());
            return;
        }
        try {
            catalog.apply(new String(r.key(), StandardCharsets.UTF_8), CatalogRecords.decode(r.value()));
        } catch (IllegalArgumentException e) {
            log.warn("skipping catalog record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the catalog", e);
        }
    }
}
