package dev.sacrag.kvstore;

import java.util.Objects;

import dev.sacrag.core.kv.AnchorKvCodec;

/**
 * The parts of an anchor-KV blob key; {@link RedisKeys} turns it into the Redis key and back.
 *
 * @param format the {@link AnchorKvCodec#FORMAT_VERSION} the blob was written with
 * @param docVersion the document version (monotonic per document, epoch millis by default)
 */
public record BlobKey(String tenant, int format, String modelId, String docId, long docVersion) {

    public BlobKey {
        requireText("tenant", tenant);
        requireText("modelId", modelId);
        // An empty doc id would make "{}" — an empty hash tag, which Redis Cluster ignores.
        requireText("docId", docId);
        if (format < 0) {
            throw new IllegalArgumentException("format must be >= 0, got " + format);
        }
        if (docVersion < 0) {
            throw new IllegalArgumentException("docVersion must be >= 0, got " + docVersion + " for doc " + docId);
        }
    }

    /** A key in the current codec format. */
    public static BlobKey of(String tenant, String modelId, String docId, long docVersion) {
        return new BlobKey(tenant, AnchorKvCodec.FORMAT_VERSION, modelId, docId, docVersion);
    }

    public String redisKey() {
        return RedisKeys.build(this);
    }

    static void requireText(String name, String value) {
        Objects.requireNonNull(value, name);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
    }
}
