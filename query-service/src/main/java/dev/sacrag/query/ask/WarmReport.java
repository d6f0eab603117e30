package dev.sacrag.query.ask;

import dev.sacrag.schemas.DeadLetter;
import java.util.List;
import java.util.Objects;

/**
 * What a warm request did.
 *
 * @param loaded documents newly put into the local cache
 * @param bytes their size in the cache (decoded f32 anchor KV, what the byte budget counts)
 * @param misses the documents not in the cache at the end, each with why: a caller told only their
 *     ids cannot tell one to wait for (a blob being rebuilt) from one to fix (a mistyped id, a cache
 *     too small)
 * @param alreadyWarm documents that were in the cache already
 * @param refused of the misses, those a compressor refused at their live version and text
 */
public record WarmReport(int loaded, long bytes, List<Miss> misses, int alreadyWarm, List<DeadLetter> refused) {

    /** Why a document named or retrieved is not in the cache after the request. */
    public enum Why {
        UNKNOWN_DOCUMENT, NOT_COMPRESSED, REFUSED,
        /** Recompression was requested for these two. */
        BLOB_MISSING, BLOB_UNUSABLE,
        LARGER_THAN_CACHE, NO_ROOM,
        /** Updated, deleted or of a model no longer active by the time its blob was read. */
        CHANGED
    }

    /** @param detail the service's words on it, for a person: version, model, sizes */
    public record Miss(String docId, Why why, String detail) {

        public Miss {
            Objects.requireNonNull(docId, "docId");
            Objects.requireNonNull(why, "why");
            Objects.requireNonNull(detail, "detail");
        }
    }

    public WarmReport {
        misses = List.copyOf(misses);
        refused = List.copyOf(refused);
    }

    /** The misses' doc ids, in order. */
    public List<String> missedIds() {
        return misses.stream().map(Miss::docId).toList();
    }
}
