package dev.sacrag.query;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.schemas.avro.AnchorCacheRecord;

import java.time.Instant;
import java.util.SplittableRandom;

/** Small synthetic anchor KV, blobs and catalog entries: no model needed. */
public final class TestAnchors {

    public static final int LAYERS = 2;
    public static final int KV_HEADS = 1;
    public static final int HEAD_DIM = 4;

    private TestAnchors() {
    }

    /** Seeded values; {@code anchors} in one chunk. */
    public static AnchorKv kv(String modelId, int tokenCount, int anchors, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] keys = new float[LAYERS][KV_HEADS * anchors * HEAD_DIM];
        float[][] values = new float[LAYERS][KV_HEADS * anchors * HEAD_DIM];
        for (int l = 0; l < LAYERS; l++) {
            for (int i = 0; i < keys[l].length; i++) {
                keys[l][i] = (float) rnd.nextDouble(-1, 1);
                values[l][i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        return new AnchorKv(modelId, LAYERS, KV_HEADS, HEAD_DIM, tokenCount, new int[] {anchors}, keys, values);
    }

    public static byte[] blob(AnchorKv kv) {
        return AnchorKvCodec.encode(kv, KvDtype.F32);
    }

    /** The catalog entry the compressor would announce for this blob. */
    public static CatalogEntry entry(String tenant, String docId, long version, AnchorKv kv) {
        return new CatalogEntry(tenant, docId, version, kv.modelId(), 4, kv.tokenCount(), kv.anchorCount(), 1,
                RedisKeys.blobKey(tenant, kv.modelId(), docId, version), blob(kv).length, "f32", AnchorKvCodec.checksum(blob(kv)),
                Instant.ofEpochMilli(1_700_000_000_000L + version), 5L);
    }

    public static AnchorCacheRecord record(CatalogEntry e) {
        return AnchorCacheRecord.newBuilder()
                .setDocId(e.docId()).setTenant(e.tenant()).setDocVersion(e.docVersion()).setModelId(e.modelId())
                .setRatio(e.ratio()).setTokenCount(e.tokenCount()).setAnchorCount(e.anchorCount())
                .setChunkCount(e.chunkCount()).setRedisKey(e.redisKey()).setBytes(e.bytes()).setDtype(e.dtype())
                .setChecksum(e.checksum()).setCompressedAt(e.compressedAt()).setCompressMillis(e.compressMillis())
                .build();
    }
}
