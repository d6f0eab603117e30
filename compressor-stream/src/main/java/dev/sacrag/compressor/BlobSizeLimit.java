package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.sac.AnchorPositions;

import java.util.Locale;

/**
 * The largest document whose anchor-KV blob Redis will take. Redis refuses a string over
 * {@code proto-max-bulk-len} (512 MiB unless raised), and a refused SET would be retried as an
 * outage, fail the task and come back at every replay: a document that long must be a dead
 * letter instead, so the token limit is capped at what fits.
 *
 * @param layers,kvHeads,headDim the base model's KV shape
 * @param chunkSize the adapter's chunk size
 * @param ratio tokens per anchor
 * @param modelIdBytes the model id's length in the blob header
 */
record BlobSizeLimit(int layers, int kvHeads, int headDim, int chunkSize, int ratio, int modelIdBytes, KvDtype dtype) {

    /** Redis's default {@code proto-max-bulk-len}: no string value can be larger. */
    static final long REDIS_MAX_STRING_BYTES = 512L << 20;

    static BlobSizeLimit of(ModelConfig model, int chunkSize, int ratio, String modelId, KvDtype dtype) {
        return new BlobSizeLimit(model.layers(), model.kvHeads(), model.headDim(), chunkSize, ratio,
                modelId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, dtype);
    }

    /** The blob's bytes for a document of {@code tokens} tokens (the codec's own size rule). */
    long blobBytes(int tokens) {
        int chunks = (tokens + chunkSize - 1) / chunkSize;
        return AnchorKvCodec.encodedSize(layers, kvHeads, headDim, AnchorPositions.total(tokens, chunkSize, ratio),
                chunks, modelIdBytes, dtype);
    }

    /** The most tokens, at most {@code upTo}, whose blob is at most {@code maxBytes} (0 when not even one token fits). */
    int maxTokens(long maxBytes, int upTo) {
        int lo = 0;
        int hi = upTo;
        while (lo < hi) {   // the blob grows with the tokens: the last count that fits
            int mid = (int) ((lo + (long) hi + 1) / 2);
            if (blobBytes(mid) <= maxBytes) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /**
     * The compressor's token limit: {@code configured} when its blobs fit Redis (refused otherwise,
     * naming the size), else the model's maximum positions cut to what fits. Redis takes at most
     * {@link #REDIS_MAX_STRING_BYTES} in one value, less where the server says so
     * ({@code serverLargest}: a lowered {@code proto-max-bulk-len}, or {@code maxmemory}).
     */
    int tokenLimit(java.util.OptionalInt configured, int maxPositions, java.util.OptionalLong serverLargest) {
        long largest = Math.min(REDIS_MAX_STRING_BYTES, serverLargest.orElse(Long.MAX_VALUE));
        String which = largest < REDIS_MAX_STRING_BYTES ? "this Redis server takes in one value (its proto-max-bulk-len"
                + " or maxmemory)" : "Redis takes in one value (proto-max-bulk-len)";
        int fits = maxTokens(largest, Math.max(maxPositions, configured.orElse(0)));
        if (configured.isPresent() && configured.getAsInt() > fits) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s %d: a document that long makes a blob of"
                    + " %,d bytes at %s in %s, over the %,d bytes %s; at most %d tokens fit",
                    CompressorConfig.Flags.MAX_DOC_TOKENS, configured.getAsInt(),
                    blobBytes(configured.getAsInt()), ratio == 1 ? "one anchor per token" : "ratio " + ratio,
                    dtype.name().toLowerCase(Locale.ROOT), largest, which, fits));
        }
        if (fits == 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "not even a one-token document's blob (%,d bytes)"
                    + " fits the %,d bytes %s: raise it", blobBytes(1), largest, which));
        }
        return configured.orElse(Math.min(maxPositions, fits));
    }
}
