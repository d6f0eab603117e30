package dev.sacrag.query.feed;

import dev.sacrag.query.anchors.CacheKey;
import dev.sacrag.query.anchors.WarmCache;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogChange;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.CatalogRecords;
import dev.sacrag.query.metrics.QueryMetrics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Applies the catalog topic: the catalog learns which document versions are compressed; the
 * warm cache drops versions an update or delete made stale; entries that are new are handed to
 * {@code onFresh} (the preloader, once the topic has been read to its end).
 */
public final class CatalogFeed implements TopicFollower.Handler {

    private static final Logger log = LoggerFactory.getLogger(CatalogFeed.class);

    private final Catalog catalog;
    private final WarmCache cache;
    private final Consumer<List<CatalogEntry>> onFresh;
    private final QueryMetrics metrics;

    public CatalogFeed(Catalog catalog, WarmCache cache, Consumer<List<CatalogEntry>> onFresh, QueryMetrics metrics) {
        this.catalog = catalog;
        this.cache = cache;
        this.onFresh = onFresh;
        this.metrics = metrics;
    }

    @Override
    public void handle(ConsumerRecords<byte[], byte[]> records) {
        List<CatalogEntry> fresh = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            apply(r).ifPresent(fresh::add);
        }
        if (!fresh.isEmpty()) {
            onFresh.accept(fresh);
        }
    }

    private Optional<CatalogEntry> apply(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            skip(r, "no key");
            return Optional.empty();
        }
        Optional<CatalogEntry> entry;
        try {
            entry = CatalogRecords.decode(r.value());
        } catch (IllegalArgumentException e) {
            skip(r, e.getMessage());
            return Optional.empty();
        }
        CatalogChange change = catalog.apply(new String(r.key(), StandardCharsets.UTF_8), entry);
        metrics.feedRecord(r.topic(), true);
        change.previous().filter(prev -> !change.current().equals(Optional.of(prev)))
                .ifPresent(prev -> cache.evict(CacheKey.of(prev)));
        change.current().ifPresent(now -> cache.evictOlderVersions(now.tenant(), now.docId(), now.modelId(), now.docVersion()));
        return change.current().filter(now -> !change.previous().equals(change.current()));
    }

    private void skip(ConsumerRecord<byte[], byte[]> r, String why) {
        metrics.feedRecord(r.topic(), false);
        log.warn("skipping catalog record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), why);
    }
}
