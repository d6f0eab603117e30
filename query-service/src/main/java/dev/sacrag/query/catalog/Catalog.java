package dev.sacrag.query.catalog;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The in-memory view of the catalog topic: which document versions are compressed for which
 * model, and under which Redis key. Thread-safe.
 *
 * <p>The topic is compacted and keyed per (document, model) by the compressor; this class does
 * not parse that key: a record replaces whatever its key held, and a tombstone (null value)
 * removes exactly the entry that its key held. Entries are also found by (tenant, doc, model).
 */
public final class Catalog {

    private record DocModel(String tenant, String docId, String modelId) {
        static DocModel of(CatalogEntry e) {
            return new DocModel(e.tenant(), e.docId(), e.modelId());
        }
    }

    private final Map<String, CatalogEntry> byRecordKey = new HashMap<>();
    private final Map<DocModel, CatalogEntry> current = new HashMap<>();

    /** Applies a record: {@code entry} is its value, empty for a tombstone. */
    public synchronized CatalogChange apply(String recordKey, Optional<CatalogEntry> entry) {
        CatalogEntry replaced = entry.isPresent() ? byRecordKey.put(recordKey, entry.get()) : byRecordKey.remove(recordKey);
        if (entry.isEmpty()) {
            if (replaced == null) {
                return new CatalogChange(Optional.empty(), Optional.empty());
            }
            current.remove(DocModel.of(replaced), replaced);
            return new CatalogChange(Optional.of(replaced), Optional.empty());
        }
        CatalogEntry e = entry.get();
        CatalogEntry previous = current.put(DocModel.of(e), e);
        if (replaced != null && !DocModel.of(replaced).equals(DocModel.of(e))) {
            current.remove(DocModel.of(replaced), replaced); // the key now describes another document
            if (previous == null) {
                previous = replaced;   // e.g. the document moved to another tenant: its old entry is what went
            }
        }
        return new CatalogChange(Optional.ofNullable(previous), entry);
    }

    public synchronized Optional<CatalogEntry> find(String tenant, String docId, String modelId) {
        return Optional.ofNullable(current.get(new DocModel(tenant, docId, modelId)));
    }

    /** Current entries of one model (all when {@code modelId} is empty), newest compression first. */
    public synchronized List<CatalogEntry> entries(Optional<String> modelId) {
        List<CatalogEntry> out = new ArrayList<>();
        for (CatalogEntry e : current.values()) {
            if (modelId.isEmpty() || modelId.get().equals(e.modelId())) {
                out.add(e);
            }
        }
        out.sort(Comparator.comparing(CatalogEntry::compressedAt).reversed().thenComparing(CatalogEntry::docId));
        return out;
    }

    /**
     * Every current entry, unsorted and unfiltered: the lock is held only for the copy, so a reader
     * that walks them all (a metrics scrape) keeps questions and the catalog feed waiting the least.
     */
    public List<CatalogEntry> snapshot() {
        synchronized (this) {
            return new ArrayList<>(current.values());
        }
    }

    /** The record keys whose entry is of {@code modelId}: the keys tombstones remove that model from the topic with. */
    public synchronized List<String> recordKeys(String modelId) {
        return byRecordKey.entrySet().stream().filter(e -> e.getValue().modelId().equals(modelId))
                .map(Map.Entry::getKey).sorted().toList();
    }

    public synchronized int size() {
        return current.size();
    }
}
