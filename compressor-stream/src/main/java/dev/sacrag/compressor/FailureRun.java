package dev.sacrag.compressor;

import java.time.Duration;
import java.time.Instant;

/**
 * A run of failures of one document version or record, as the rules that set one aside read it:
 * how many, since when, and how many documents the process had compressed before the first. Both
 * rules (the engine out of memory, {@link AnchorCacheWriter#setAside}, and any other failure of
 * the stream thread, {@link RecordFailures}) set it aside after enough failures once another
 * document has been compressed since the first (the fault is its own, not the machine's or the
 * build's), or once {@link #PATIENCE} has passed (a partition never stalls for good).
 */
interface FailureRun {

    /** How long a run may last with no other document compressed before it is set aside all the same. */
    Duration PATIENCE = Duration.ofMinutes(30);

    int tries();

    Instant first();

    long compressionsBefore();

    /** Whether the run is to be set aside: {@code limit} tries, and the proof or the patience. */
    default boolean due(int limit, Instant now, long compressionsNow) {
        return tries() >= limit && (compressionsNow > compressionsBefore() || !now.isBefore(first().plus(PATIENCE)));
    }
}
