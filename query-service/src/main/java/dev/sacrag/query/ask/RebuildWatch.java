package dev.sacrag.query.ask;

import dev.sacrag.query.catalog.CatalogEntry;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Tells a blob Redis keeps losing from one not rebuilt yet. The query service asks the compressor
 * to rebuild a missing blob and answers "recompressing: retry shortly"; when Redis is too small for
 * the documents a question needs at once, each rebuild evicts another of them and the caller
 * retries for ever. This watch remembers, per blob, the catalog record its last rebuild request
 * replaced. A blob missing again after the catalog announced its rebuild, within {@link #WINDOW} of
 * the request and before any question of this replica was answered with it, is a loss;
 * {@value #LOSSES} losses in a row say Redis cannot keep it, and retrying will not help. One loss
 * alone is not enough: a Redis restart or FLUSHALL right after a rebuild loses it once, and so
 * does an eviction after another replica's question used it.
 *
 * <p>Once reached, the verdict stands (while rebuilds go on) until a question is answered with
 * the blob or {@link #WINDOW} passes without a loss. The catalog record changing is what shows a
 * rebuild (its {@code compressedAt}, set by the compressor), so no clock of another machine is
 * compared with this one's. Bounded: the most recent {@value #MAX_WATCHED} blobs, by Redis key (a
 * rebuilt blob's checksum need not be the old one's).
 */
final class RebuildWatch {

    /** A blob lost later than this after its rebuild request is ordinary eviction, not churn. */
    static final Duration WINDOW = Duration.ofMinutes(2);
    /** Losses in a row that make the verdict. */
    static final int LOSSES = 2;
    static final int MAX_WATCHED = 10_000;

    /** A blob Redis keeps losing. */
    record LostAgain(CatalogEntry entry, int losses) {
    }

    private static final class Watched {
        /** The compressedAt of the catalog record the last rebuild request was to replace. */
        Instant replaced;
        long requestedAt;
        int losses;
        long lastLossAt;
    }

    private final LongSupplier nanoTime;
    private final Map<String, Watched> watched = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Watched> eldest) {
            return size() > MAX_WATCHED;
        }
    };

    RebuildWatch() {
        this(System::nanoTime);
    }

    RebuildWatch(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /**
     * {@code e}'s blob was missing from Redis now: counts a loss when it had been rebuilt on this
     * replica's request within the window, and says whether Redis keeps losing it.
     */
    synchronized Optional<LostAgain> missing(CatalogEntry e) {
        Watched w = watched.get(e.redisKey());
        if (w == null) {
            return Optional.empty();
        }
        long now = nanoTime.getAsLong();
        if (w.losses > 0 && now - w.lastLossAt > WINDOW.toNanos()) {
            w.losses = 0;   // quiet for a while: losses an hour apart are not "in a row"
        }
        if (!w.replaced.equals(e.compressedAt()) && now - w.requestedAt <= WINDOW.toNanos()) {
            w.losses++;   // rebuilt since the request, and gone again
            w.lastLossAt = now;
            w.replaced = e.compressedAt();   // this rebuild's loss is counted once
        }
        return w.losses >= LOSSES ? Optional.of(new LostAgain(e, w.losses)) : Optional.empty();
    }

    /** A rebuild of {@code e}'s blob was requested now (its losses so far are kept). */
    synchronized void requested(CatalogEntry e) {
        String key = e.redisKey();
        Watched w = watched.remove(key);   // re-inserted last: the bound drops the oldest first
        if (w == null) {
            w = new Watched();
        }
        w.replaced = e.compressedAt();
        w.requestedAt = nanoTime.getAsLong();
        watched.put(key, w);
    }

    /** A question was answered with these blobs: whatever was rebuilt for them served. */
    synchronized void served(List<CatalogEntry> entries) {
        if (!watched.isEmpty()) {
            entries.forEach(e -> watched.remove(e.redisKey()));
        }
    }
}
