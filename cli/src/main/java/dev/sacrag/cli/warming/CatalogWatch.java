package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogChange;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.CatalogRecords;
import dev.sacrag.schemas.CatalogKey;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The catalog topic read to its end, then followed: which document versions are compressed for
 * which model now, and each change as it arrives. Undecodable records are skipped, as the query
 * service skips them.
 *
 * <p>It also keeps the keys whose last record is a tombstone, which {@link Catalog} drops: the
 * compacted topic holds a tombstone for delete.retention.ms (24 h by default) after compaction
 * reaches it, and only those tell a model {@code sac model retire} removed (or whose every
 * document was deleted) from an id no compressor ever wrote, in the same pass over the topic.
 */
final class CatalogWatch implements AutoCloseable {

    private final TopicScan scan;
    private final Catalog catalog = new Catalog();
    private final Set<String> tombstoned = new HashSet<>();
    private final Set<String> tenantsNamed = new HashSet<>();

    private CatalogWatch(TopicScan scan) {
        this.scan = scan;
    }

    /** @param brokers where, and how long a broker's answer about the topic is waited for ({@code timeout}: its reading) */
    static CatalogWatch open(Brokers brokers, String topic, Duration timeout) throws TimeoutException {
        return open(new TopicScan(brokers, topic, "sac-warm-catalog"), timeout);
    }

    /** Read once by a listing command: its --timeout bounds the wait for a broker too. */
    static CatalogWatch openWithin(String bootstrapServers, String topic, Duration timeout) throws TimeoutException {
        return open(new TopicScan(new Brokers(bootstrapServers, timeout), topic, "sac-docs-list"), timeout);
    }

    private static CatalogWatch open(TopicScan scan, Duration timeout) throws TimeoutException {
        CatalogWatch watch = new CatalogWatch(scan);
        try {
            watch.scan.readToEnd(r -> watch.apply(r), timeout);
            return watch;
        } catch (TimeoutException | RuntimeException e) {
            watch.close();
            throw e;
        }
    }

    Catalog catalog() {
        return catalog;
    }

    /**
     * How many keys of the model the topic holds a tombstone of, with no entry written under them
     * since: a model {@code sac model retire} removed counts each entry it had, an id never
     * compressed none (nor, once compaction has dropped them, one retired long ago).
     */
    int tombstones(String modelId) {
        int n = 0;
        for (String key : tombstoned) {
            try {
                if (CatalogKey.parse(key).modelId().equals(modelId)) {
                    n++;
                }
            } catch (IllegalArgumentException notACatalogKey) {
                // written by no compressor: the query services skip it too
            }
        }
        return n;
    }

    /**
     * Every tenant a record read names, those of entries replaced or tombstoned since included (while
     * compaction has not dropped their records): this deployment's tenants, where {@link Catalog}
     * names only those with an entry now. A retire that tombstoned a model's entries and was stopped
     * before its blobs went leaves a tenant that held nothing else named by none.
     */
    Set<String> tenantsNamed() {
        return Set.copyOf(tenantsNamed);
    }

    /** Whether the catalog has the document compressed for the model at its live version (or newer). */
    boolean isCompressed(LiveDocuments.Doc doc, String modelId) {
        return catalog.find(doc.tenant(), doc.docId(), modelId).filter(e -> e.docVersion() >= doc.version()).isPresent();
    }

    /**
     * The ids of those of {@code docs} that are compressed for the model ({@link #isCompressed})
     * and whose blob is in Redis: "compressed" is both (architecture.md), and a blob Redis lost or
     * evicted leaves the catalog's entry standing. One pipelined EXISTS for all of them.
     */
    Set<String> withBlob(Collection<LiveDocuments.Doc> docs, String modelId, AnchorKvStore blobs) {
        Map<String, String> keyOf = new HashMap<>();
        for (LiveDocuments.Doc d : docs) {
            if (isCompressed(d, modelId)) {
                catalog.find(d.tenant(), d.docId(), modelId).ifPresent(e -> keyOf.put(d.docId(), e.redisKey()));
            }
        }
        Set<String> there = blobs.existing(List.copyOf(keyOf.values()));
        Set<String> ids = new HashSet<>();
        keyOf.forEach((docId, key) -> {
            if (there.contains(key)) {
                ids.add(docId);
            }
        });
        return ids;
    }

    /** Polls once; {@code changed} sees every change that arrived since. */
    void poll(Consumer<CatalogChange> changed) {
        scan.poll(r -> apply(r).ifPresent(changed));
    }

    /** Applies everything up to the topic's end now; {@code changed} sees each change. */
    void catchUp(Consumer<CatalogChange> changed, Duration timeout) throws TimeoutException {
        scan.readToCurrentEnd(r -> apply(r).ifPresent(changed), timeout);
    }

    private Optional<CatalogChange> apply(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            return Optional.empty();
        }
        String key = new String(r.key(), StandardCharsets.UTF_8);
        Optional<CatalogEntry> entry;
        try {
            entry = CatalogRecords.decode(r.value());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (entry.isEmpty()) {
            tombstoned.add(key);
        } else {
            tombstoned.remove(key);
            tenantsNamed.add(entry.get().tenant());
        }
        return Optional.of(catalog.apply(key, entry));
    }

    @Override
    public void close() {
        scan.close();
    }
}
