package dev.sacrag.query.anchors;

import dev.sacrag.query.catalog.CatalogEntry;

/** What makes a decoded anchor KV reusable: the same document version, compressed by the same model. */
public record CacheKey(String tenant, String docId, long docVersion, String modelId) {

    public static CacheKey of(CatalogEntry e) {
        return new CacheKey(e.tenant(), e.docId(), e.docVersion(), e.modelId());
    }
}
