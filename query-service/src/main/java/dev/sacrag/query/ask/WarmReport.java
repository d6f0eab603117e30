package dev.sacrag.query.ask;

import dev.sacrag.schemas.DeadLetter;
import java.util.List;

/**
 * What a warm request did.
 *
 * @param loaded documents newly put into the local cache
 * @param bytes their size in the cache (decoded f32 anchor KV, what the byte budget counts)
 * @param misses doc ids that are unknown, not compressed, missing from Redis (recompression
 *     requested) or larger than the whole cache
 * @param alreadyWarm documents that were in the cache already
 * @param refused of the misses, those a compressor refused at their live version and text
 */
public record WarmReport(int loaded, long bytes, List<String> misses, int alreadyWarm, List<DeadLetter> refused) {

    public WarmReport {
        misses = List.copyOf(misses);
        refused = List.copyOf(refused);
    }
}
