package dev.sacrag.query.catalog;

import dev.sacrag.kvstore.BlobKey;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.schemas.avro.AnchorCacheRecord;

import java.time.Instant;
import java.util.Objects;

/**
 * One compressed document version of one model, as the catalog topic announced it: where its
 * anchor-KV blob is in Redis and what it holds.
 *
 * @param bytes size of the blob in Redis
 * @param checksum the blob's own CRC32C (unsigned 32-bit, {@code AnchorKvCodec.checksum}); a record of an earlier
 *     build carries {@code AnchorKvCodec.WHOLE_BLOB_RESIDUE}, the same for every blob
 */
public record CatalogEntry(String tenant, String docId, long docVersion, String modelId, int ratio, int tokenCount,
                           int anchorCount, int chunkCount, String redisKey, long bytes, String dtype, long checksum,
                           Instant compressedAt, long compressMillis) {

    public CatalogEntry {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(docId, "docId");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(redisKey, "redisKey");
        Objects.requireNonNull(compressedAt, "compressedAt");
    }

    /**
     * Reads a catalog record, checking that its Redis key is the one the key class builds for
     * its tenant, model, document and version: a record pointing elsewhere would make the
     * service read (or evict) the wrong blob.
     *
     * @throws IllegalArgumentException naming the document when the key does not match
     */
    public static CatalogEntry of(AnchorCacheRecord r) {
        BlobKey key = RedisKeys.parse(r.getRedisKey());
        if (!key.tenant().equals(r.getTenant()) || !key.modelId().equals(r.getModelId())
                || !key.docId().equals(r.getDocId()) || key.docVersion() != r.getDocVersion()) {
            throw new IllegalArgumentException("catalog record of doc " + r.getDocId() + " v" + r.getDocVersion()
                    + " (tenant " + r.getTenant() + ", model " + r.getModelId() + ") names Redis key "
                    + r.getRedisKey() + ", which belongs to another document, version, tenant or model");
        }
        return new CatalogEntry(r.getTenant(), r.getDocId(), r.getDocVersion(), r.getModelId(), r.getRatio(),
                r.getTokenCount(), r.getAnchorCount(), r.getChunkCount(), r.getRedisKey(), r.getBytes(),
                r.getDtype(), r.getChecksum(), r.getCompressedAt(), r.getCompressMillis());
    }
}
