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
 * retries forever. This watch remembers, per blob, the catalog record it was asked to replace; a
 * blob that is missing again after the catalog announced its rebuild, before any question was
 * answered with it and soon after the request, was lost again, and retrying will not help.
 *
 * <p>The catalog record changing is what shows the rebuild (its {@code compressedAt}, set by the
 * compressor), so no clock of another machine is compared with this one's. Bounded: the most
 * recent {@value #MAX_WATCHED} requests, by Redis key (a rebuilt blob's checksum need not be the old one's).
 */
final class RebuildWatch {

    /** A blob lost again later than this after the request is ordinary eviction, not churn. */
    static final Duration WINDOW = Duration.ofMinutes(2);
    static final int MAX_WATCHED = 10_000;

    /** @param replaced the compressedAt of the catalog record the rebuild was asked to replace */
    private record Requested(Instant replaced, long atNanos) {
    }

    /** A blob rebuilt after a request and gone again. */
    record LostAgain(CatalogEntry entry, Duration sinceRequest) {
    }

    private final LongSupplier nanoTime;
    private final Map<String, Requested> requested = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Requested> eldest) {
            return size() > MAX_WATCHED;
        }
    };

    RebuildWatch() {
        this(System::nanoTime);
    }

    RebuildWatch(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** A rebuild of {@code e}'s blob was requested now. */
    synchronized void requested(CatalogEntry e) {
        String key = e.redisKey();
        requested.remove(key);   // re-inserted last: the bound drops the oldest requests first
        requested.put(key, new Requested(e.compressedAt(), nanoTime.getAsLong()));
    }

    /** A question was answered with these blobs: whatever was rebuilt for them served. */
    synchronized void served(List<CatalogEntry> entries) {
        if (!requested.isEmpty()) {
            entries.forEach(e -> requested.remove(e.redisKey()));
        }
    }

    /**
     * Whether {@code e}'s blob, missing now, was rebuilt after a request of this service within
     * {@link #WINDOW} and lost again before it served a question.
     */
    synchronized Optional<LostAgain> lostAgain(CatalogEntry e) {
        Requested r = requested.get(e.redisKey());
        if (r == null || r.replaced().equals(e.compressedAt())) {
            return Optional.empty();   // never requested, or not rebuilt yet
        }
        Duration since = Duration.ofNanos(nanoTime.getAsLong() - r.atNanos());
        return since.compareTo(WINDOW) <= 0 ? Optional.of(new LostAgain(e, since)) : Optional.empty();
    }
}
