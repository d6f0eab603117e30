package dev.sacrag.query.anchors;

import dev.sacrag.query.catalog.CatalogEntry;

/**
 * What makes a decoded anchor KV reusable: the same document version, compressed by the same
 * model into the same blob (its checksum). The checksum keeps an entry that a fetch in flight
 * put back after its eviction (document deleted, then republished under the same explicit
 * version) from answering for different content.
 */
public record CacheKey(String tenant, String docId, long docVersion, String modelId, long checksum) {

    public static CacheKey of(CatalogEntry e) {
        return new CacheKey(e.tenant(), e.docId(), e.docVersion(), e.modelId(), e.checksum());
    }
}
