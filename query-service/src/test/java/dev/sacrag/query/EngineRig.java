package dev.sacrag.query;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.query.anchors.AnchorFetcher;
import dev.sacrag.query.anchors.WarmCache;
import dev.sacrag.query.ask.QueryEngine;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.decode.InferenceExecutor;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.query.retrieval.DocumentIndex;
import dev.sacrag.query.retrieval.IndexedDoc;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/** A {@link QueryEngine} over in-memory collaborators and a fake answerer: everything but the model and Redis is real. */
public final class EngineRig implements AutoCloseable {

    public static final String MODEL = "0a1b2c3d4e5f";

    public final DocumentIndex index = new DocumentIndex();
    public final Catalog catalog = new Catalog();
    public final FakeBlobSource blobs = new FakeBlobSource();
    public final QueryMetrics metrics = QueryMetrics.inMemory();
    public final RecordingRecompressRequests recompress = new RecordingRecompressRequests();
    public final AtomicBoolean ready = new AtomicBoolean(true);
    public final Refusals refusals = new Refusals();
    public final FakeAnswerer answerer;
    public final WarmCache cache;
    public final InferenceExecutor inference;
    public final QueryEngine engine;
    private final Map<String, AnchorKv> kvs = new ConcurrentHashMap<>();
    private long seed;

    public EngineRig(FakeAnswerer answerer, long cacheBytes) {
        this.answerer = answerer;
        this.cache = new WarmCache(cacheBytes, metrics);
        this.inference = new InferenceExecutor(answerer, 1, 1, 8, metrics);
        this.engine = new QueryEngine(new QueryEngine.Parts(index, catalog, new AnchorFetcher(blobs, cache), inference,
                recompress, metrics, ready::get, answerer, refusals));
    }

    /** A live document whose anchor KV is in the catalog and in the blob store. */
    public CatalogEntry addCompressed(String tenant, String docId, long version, String text) {
        CatalogEntry e = addWithoutBlob(tenant, docId, version, text);
        blobs.blobs.put(e.redisKey(), TestAnchors.blob(kvOf(e)));
        return e;
    }

    /** A live document the catalog calls compressed, but whose blob is gone from the store. */
    public CatalogEntry addWithoutBlob(String tenant, String docId, long version, String text) {
        addUncompressed(tenant, docId, version, text);
        AnchorKv kv = TestAnchors.kv(MODEL, 20 + text.length() / 4, 3 + (int) (seed % 5), seed++);
        CatalogEntry e = TestAnchors.entry(tenant, docId, version, kv);
        catalog.apply(docId + "|" + MODEL, Optional.of(e));
        kvs.put(e.redisKey(), kv);
        return e;
    }

    /** A live document nobody has compressed yet. */
    public void addUncompressed(String tenant, String docId, long version, String text) {
        index.upsert(new IndexedDoc(docId, tenant, version, null), text);
        index.refresh();
    }

    public AnchorKv kvOf(CatalogEntry e) {
        return kvs.get(e.redisKey());
    }

    @Override
    public void close() {
        inference.close();
        index.close();
    }
}
