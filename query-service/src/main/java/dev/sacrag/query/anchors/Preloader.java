package dev.sacrag.query.anchors;

import dev.sacrag.query.catalog.CatalogEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Loads newly compressed documents of the active model into the warm cache before anyone asks
 * about them ("cache warming on publish"), on its own thread so the catalog consumer never
 * waits for Redis. Preloading only fills free room: it never evicts what questions use. A
 * failed preload (Redis down, blob gone) is logged and left to the question path.
 */
public final class Preloader implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Preloader.class);
    private static final int BATCH = 32;

    private final Supplier<String> activeModel;
    private final BlobSource source;
    private final WarmCache cache;
    private final Predicate<CatalogEntry> stillWanted;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sac-preload");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param activeModel the model questions are answered with now (it may be switched)
     * @param stillWanted re-checked just before loading: the entry is still current and its document not deleted
     */
    public Preloader(Supplier<String> activeModel, BlobSource source, WarmCache cache, Predicate<CatalogEntry> stillWanted) {
        this.activeModel = activeModel;
        this.source = source;
        this.cache = cache;
        this.stillWanted = stillWanted;
    }

    /** Queues entries for loading, in the given order; entries of models other than the active one are ignored. */
    public void offer(List<CatalogEntry> entries) {
        String modelId = activeModel.get();
        List<CatalogEntry> ours = entries.stream().filter(e -> e.modelId().equals(modelId)).toList();
        for (int from = 0; from < ours.size(); from += BATCH) {
            List<CatalogEntry> batch = ours.subList(from, Math.min(ours.size(), from + BATCH));
            thread.execute(() -> load(batch));
        }
    }

    private void load(List<CatalogEntry> batch) {
        List<CatalogEntry> todo = new ArrayList<>();
        long room = cache.budgetBytes() - cache.usedBytes();
        for (CatalogEntry e : batch) {
            long estimate = estimatedSize(e);
            if (estimate <= room && !cache.contains(CacheKey.of(e)) && e.modelId().equals(activeModel.get())
                    && stillWanted.test(e)) {
                todo.add(e);
                room -= estimate;
            }
        }
        if (todo.isEmpty()) {
            return;
        }
        Map<String, CatalogEntry> entryOfKey = new HashMap<>();
        Map<String, Long> bytesOfKey = new HashMap<>();
        todo.forEach(e -> {
            entryOfKey.put(e.redisKey(), e);
            bytesOfKey.put(e.redisKey(), e.bytes());
        });
        Map<String, DecodedBlob> blobs;
        try {
            blobs = source.readAll(todo.stream().map(CatalogEntry::redisKey).toList(), bytesOfKey::get,
                    (key, blob) -> DecodedBlob.decode(blob, entryOfKey.get(key)));
        } catch (BlobStoreDownException e) {
            log.warn("preloading {} document(s) of model {} skipped: {}", todo.size(), todo.get(0).modelId(), e.getMessage());
            return;
        }
        for (CatalogEntry e : todo) {
            DecodedBlob blob = blobs.get(e.redisKey());
            if (blob == null) {
                log.info("preloading doc {} v{} skipped: its blob {} is not in Redis", e.docId(), e.docVersion(), e.redisKey());
            } else if (blob.kv() == null) {
                log.warn("preloading doc {} v{} skipped: unusable blob {}: {}", e.docId(), e.docVersion(), e.redisKey(),
                        blob.problem());
            } else {
                // checked again under the cache's lock: an update, delete or switch may have come during the read
                cache.put(CacheKey.of(e), blob.kv(), WarmCache.Admission.IF_ROOM,
                        () -> e.modelId().equals(activeModel.get()) && stillWanted.test(e));
            }
        }
    }

    /** Decoded f32 size from the blob size: f16 doubles, int8 (plus scales) about quadruples. */
    static long estimatedSize(CatalogEntry e) {
        return switch (e.dtype().toLowerCase(Locale.ROOT)) {
            case "f16" -> 2 * e.bytes();
            case "int8", "int8_f32_scales" -> 4 * e.bytes();
            default -> e.bytes();
        };
    }

    /** Waits until everything offered so far was tried; false if that took longer than {@code timeout}. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        try {
            thread.submit(() -> { }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("the preload thread failed", e.getCause());
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
