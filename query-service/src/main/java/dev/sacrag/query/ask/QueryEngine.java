package dev.sacrag.query.ask;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.query.anchors.AnchorFetcher;
import dev.sacrag.query.anchors.BlobStoreDownException;
import dev.sacrag.query.anchors.CacheKey;
import dev.sacrag.query.anchors.WarmCache;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.decode.Answerer;
import dev.sacrag.query.decode.DecodeRequest;
import dev.sacrag.query.decode.Decoded;
import dev.sacrag.query.decode.InferenceExecutor;
import dev.sacrag.query.decode.InferenceOverloadedException;
import dev.sacrag.query.decode.InferenceShutdownException;
import dev.sacrag.query.decode.TokenSink;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.query.metrics.QueryMetrics.Stage;
import dev.sacrag.query.metrics.WarnThrottle;
import dev.sacrag.query.recompress.RecompressRequests;
import dev.sacrag.query.retrieval.DocumentIndex;

import dev.sacrag.schemas.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static dev.sacrag.query.ask.QueryException.Reason.CATALOG_LOADING;
import static dev.sacrag.query.ask.QueryException.Reason.CONTEXT_TOO_LONG;
import static dev.sacrag.query.ask.QueryException.Reason.NOT_COMPRESSED;
import static dev.sacrag.query.ask.QueryException.Reason.OVERLOADED;
import static dev.sacrag.query.ask.QueryException.Reason.RECOMPRESSING;
import static dev.sacrag.query.ask.QueryException.Reason.SHUTTING_DOWN;
import static dev.sacrag.query.ask.QueryException.Reason.STORE_TOO_SMALL;
import static dev.sacrag.query.ask.QueryException.Reason.STORE_UNAVAILABLE;
import static dev.sacrag.query.ask.QueryException.Reason.UNKNOWN_DOCUMENT;

/**
 * Where a question is answered: choose the documents (the caller's, or BM25 over the tenant's
 * documents), get their anchor KV (warm cache, else one pipelined Redis read), and decode the
 * answer on the inference executor, streaming its pieces. No RPC types here; failures are
 * {@link QueryException}s with a reason the RPC layer maps to a status.
 */
public final class QueryEngine {

    /** Documents fetched and decoded at a time by Warm. */
    static final int WARM_SLICE = 16;

    /**
     * Warm calls run at once; more wait for one to end, within their deadline. Each holds a slice of
     * decoded blobs outside the cache's budget while it reads, and gRPC runs calls on an unbounded
     * pool, so a burst of Warm calls (a deploy script run per tenant) would otherwise hold as many
     * slices at once. Ask is bounded by the inference queue instead.
     */
    static final int MAX_CONCURRENT_WARMS = 4;

    private final java.util.concurrent.Semaphore warms = new java.util.concurrent.Semaphore(MAX_CONCURRENT_WARMS);

    /** Prompt tokens around the question ([LM], question and answer prompts), with a margin. */
    private static final int PROMPT_RESERVE = 64;

    /**
     * @param model the active model (read once per request: it may be switched while the service
     *              runs): only its anchor KV is used, and composed documents + question + answer
     *              must fit its positions
     * @param ready whether the topics were read to their end since start-up
     * @param refusals what the compressors refused, told to questions about documents that are not compressed
     */
    public record Parts(DocumentIndex index, Catalog catalog, AnchorFetcher fetcher, InferenceExecutor inference,
                        RecompressRequests recompress, QueryMetrics metrics, BooleanSupplier ready, Answerer model,
                        Refusals refusals) {
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(QueryEngine.class);

    private final Parts p;
    private final RebuildWatch rebuilds = new RebuildWatch();
    /** One WARN per 30 s for blobs lost again: a retrying client meets them every second. */
    private final WarnThrottle lostAgainWarnings = new WarnThrottle(Duration.ofSeconds(30));

    public QueryEngine(Parts parts) {
        this.p = parts;
    }

    /** The model questions are answered with now. */
    public String modelId() {
        return p.model().modelId();
    }

    public AskAnswer ask(AskQuery q, TokenSink sink, CallControl control) {
        long start = System.nanoTime();
        requireReady();
        String modelId = p.model().modelId();
        int maxPositions = p.model().maxPositions();
        DocumentChooser chooser = new DocumentChooser(p.index(), p.catalog(), modelId, p.refusals());
        int budget = maxPositions - q.maxNewTokens() - p.model().questionTokens(q.question()) - PROMPT_RESERVE;
        // Retrieval composes no more than the adapter was trained on; documents the caller names are
        // decoded as asked, within the model's positions.
        DocumentChooser.Choice choice = q.docIds().isEmpty()
                ? chooser.retrieve(q.tenant(), q.question(), q.topK(), Math.min(budget, p.model().maxComposedTokens()))
                        .orThrow(q.tenant())
                : new DocumentChooser.Choice(chooser.named(q.tenant(), q.docIds(), budget), List.of());
        long retrieved = System.nanoTime();
        control.check();

        // a place in the inference queue before the fetch: a full queue refuses the question before
        // its Redis read and decode, and before the warm cache makes room for what it fetched
        try (InferenceExecutor.Place place = reservePlace()) {
            return answer(q, sink, control, place, choice, budget, start, retrieved, modelId, maxPositions);
        }
    }

    private InferenceExecutor.Place reservePlace() {
        try {
            return p.inference().reserve();
        } catch (InferenceOverloadedException e) {
            throw new QueryException(OVERLOADED, e.getMessage(), e);
        } catch (InferenceShutdownException e) {
            throw new QueryException(SHUTTING_DOWN, e.getMessage(), e);
        }
    }

    private AskAnswer answer(AskQuery q, TokenSink sink, CallControl control, InferenceExecutor.Place place,
                             DocumentChooser.Choice choice, int budget, long start, long retrieved, String modelId,
                             int maxPositions) {
        List<DocumentChooser.Chosen> docs = choice.chosen();
        List<AnchorFetcher.Loaded> loaded = fetchAll(q.tenant(), docs.stream().map(DocumentChooser.Chosen::entry).toList(),
                control);
        List<AnchorKv> kvs = loaded.stream().map(AnchorFetcher.Loaded::kv).toList();
        int composed = kvs.stream().mapToInt(AnchorKv::tokenCount).sum();
        if (composed > budget) {
            throw new QueryException(CONTEXT_TOO_LONG, "the documents hold " + composed + " tokens; with the question and "
                    + q.maxNewTokens() + " answer tokens that exceeds the model's " + maxPositions + " positions");
        }
        long fetched = System.nanoTime();
        control.check();

        AtomicLong firstToken = new AtomicLong();
        // names the composition for the engine's prompt cache: which blobs, in which order
        String contextKey = loaded.stream().map(l -> l.entry().redisKey() + "#" + Long.toHexString(l.entry().checksum()))
                .collect(java.util.stream.Collectors.joining("|"));
        DecodeRequest request = new DecodeRequest(kvs, contextKey, q.question(), q.maxNewTokens(), (id, text) -> {
            control.check();
            firstToken.compareAndSet(0, System.nanoTime());
            sink.accept(id, text);
        });
        Decoded decoded = new DecodeWait(p.inference().submit(place, request), control).await();
        long end = System.nanoTime();

        StageTimings timings = new StageTimings(nanos(retrieved - start), nanos(fetched - retrieved), decoded.queued(),
                decoded.decoding(), nanos((firstToken.get() == 0 ? end : firstToken.get()) - start), nanos(end - start));
        record(timings);
        List<UsedDoc> used = new ArrayList<>(docs.size());
        for (int i = 0; i < docs.size(); i++) {
            CatalogEntry e = docs.get(i).entry();
            used.add(new UsedDoc(e.docId(), e.docVersion(), docs.get(i).score(), loaded.get(i).kv().anchorCount(),
                    e.bytes(), loaded.get(i).fromCache()));
        }
        return new AskAnswer(decoded.answer().text(), used, choice.refused(), timings, modelId, decoded.answer().tokens(),
                decoded.answer().stopped());
    }

    /**
     * @throws QueryException NO_WARM_CACHE on a replica without a warm cache, first: every document
     *     would be a miss, and none will ever load there, whatever the caller waits or retries
     */
    public WarmReport warm(WarmQuery q, CallControl control) {
        if (p.fetcher().cacheBudgetBytes() == 0) {
            throw new QueryException(QueryException.Reason.NO_WARM_CACHE, "this query service replica has no warm cache"
                    + " (it was started with --warm-cache-bytes 0), so there is nothing to warm: its questions read"
                    + " every document's anchor KV from Redis. Warm a replica with a cache, or restart this one with"
                    + " --warm-cache-bytes above 0");
        }
        requireReady();
        try {
            while (!warms.tryAcquire(50, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                control.check();   // a caller that leaves or runs out of time while it waits gets its status
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueryException(QueryException.Reason.CANCELLED, "interrupted while waiting to warm", e);
        }
        try {
            return warmAdmitted(q, control);
        } finally {
            warms.release();
        }
    }

    private WarmReport warmAdmitted(WarmQuery q, CallControl control) {
        DocumentChooser chooser = new DocumentChooser(p.index(), p.catalog(), p.model().modelId(), p.refusals());
        List<WarmReport.Miss> misses = new ArrayList<>();
        List<DeadLetter> refused = new ArrayList<>();
        List<CatalogEntry> wanted = new ArrayList<>();
        if (!q.docIds().isEmpty()) {
            for (String id : new LinkedHashSet<>(q.docIds())) {
                chooser.compressed(q.tenant(), id).ifPresentOrElse(wanted::add, () -> chooser.uncompressed(q.tenant(), id)
                        .ifPresentOrElse(u -> {
                            misses.add(WarmMisses.uncompressed(u));
                            u.refusal().ifPresent(refused::add);
                        }, () -> misses.add(WarmMisses.unknown(q.tenant(), id))));
            }
        } else {
            DocumentChooser.Retrieval r = chooser.retrieve(q.tenant(), q.query().orElseThrow(), q.topK(), Integer.MAX_VALUE);
            if (!r.hits()) {   // as Ask says it: a warm of nothing is not a success
                throw new QueryException(QueryException.Reason.NO_MATCH, "no document of tenant '" + q.tenant()
                        + "' matches the query", List.of(new QueryException.NoMatch(q.tenant())));
            }
            r.chosen().forEach(c -> wanted.add(c.entry()));
            r.skipped().forEach(u -> misses.add(WarmMisses.uncompressed(u)));
            refused.addAll(r.refused());
        }
        // Documents already warm are marked recently used, so loading the others evicts something
        // this request did not name first, and their bytes count against the budget below.
        Map<CacheKey, CatalogEntry> warmBefore = new LinkedHashMap<>();
        List<CatalogEntry> toLoad = new ArrayList<>();
        long planned = 0;
        for (CatalogEntry e : wanted) {
            CacheKey key = CacheKey.of(e);
            long size = p.fetcher().touchIfCached(key);
            if (size >= 0) {
                warmBefore.put(key, e);
                planned += size;
            } else {
                toLoad.add(e);
            }
        }
        // In slices, so that decoding a thousand named documents never holds them all at once, and
        // only until the cache's budget is used: past that each one would evict another of the same
        // request. What did not fit is reported as a miss.
        long budget = p.fetcher().cacheBudgetBytes();
        Map<CacheKey, Put> put = new LinkedHashMap<>();
        for (int from = 0; from < toLoad.size(); from += WARM_SLICE) {
            List<CatalogEntry> slice = toLoad.subList(from, Math.min(toLoad.size(), from + WARM_SLICE));
            if (planned >= budget) {
                slice.forEach(e -> misses.add(WarmMisses.noRoom(e.docId(), budget)));
                continue;
            }
            control.check();
            AnchorFetcher.Fetch fetch = fetch(q.tenant(), slice, AnchorFetcher.Lookup.UNCOUNTED, control);
            requestRecompression(fetch.misses());
            fetch.misses().forEach(m -> misses.add(WarmMisses.unusable(m)));
            for (AnchorFetcher.Loaded l : fetch.loaded()) {
                long size = WarmCache.sizeOf(l.kv());
                if (l.cached()) {
                    put.put(CacheKey.of(l.entry()), new Put(l.entry(), size));
                    planned += size;
                } else {   // the cache refuses only these two
                    misses.add(size > budget ? WarmMisses.largerThanCache(l.entry(), size, budget) : WarmMisses.changed(l.entry()));
                }
            }
        }
        int alreadyWarm = 0;
        for (Map.Entry<CacheKey, CatalogEntry> e : warmBefore.entrySet()) {   // still there: a slice that overshot the budget may have evicted one
            if (p.fetcher().isCached(e.getKey())) {
                alreadyWarm++;
            } else {
                misses.add(gone(e.getValue(), budget));
            }
        }
        int loaded = 0;
        long bytes = 0;
        for (Map.Entry<CacheKey, Put> e : put.entrySet()) {   // what is in the cache now, not what went in
            if (p.fetcher().isCached(e.getKey())) {
                loaded++;
                bytes += e.getValue().size();
            } else {
                misses.add(gone(e.getValue().entry(), budget));
            }
        }
        return new WarmReport(loaded, bytes, misses, alreadyWarm, refused);
    }

    /** A catalog entry a Warm put into the cache, and its size there. */
    private record Put(CatalogEntry entry, long size) {
    }

    /**
     * A document in the cache during the Warm and not at its end: the cache evicts for two causes,
     * room and a change of the document (an update, a delete, a model switch), and only the second
     * leaves the entry no longer current, so that one is CHANGED, not a cache too small.
     */
    private WarmReport.Miss gone(CatalogEntry e, long budget) {
        boolean current = DocumentChooser.isCurrent(e, p.model().modelId(), p.index(), p.catalog());
        return current ? WarmMisses.evicted(e.docId(), budget) : WarmMisses.changed(e);
    }

    /**
     * Anchor KV of every entry, in order; a missing blob triggers recompression and fails the
     * question: UNAVAILABLE (retry shortly), or RESOURCE_EXHAUSTED when a blob rebuilt on this
     * service's request was lost again before a question could use it (retrying would only evict
     * another; see {@link RebuildWatch}).
     */
    private List<AnchorFetcher.Loaded> fetchAll(String tenant, List<CatalogEntry> entries, CallControl control) {
        AnchorFetcher.Fetch fetch = fetch(tenant, entries, AnchorFetcher.Lookup.COUNTED, control);
        if (fetch.misses().isEmpty()) {
            rebuilds.served(entries);
            return fetch.loaded();
        }
        // only blobs Redis did not have: a corrupt or foreign one is not a matter of memory
        List<RebuildWatch.LostAgain> lostAgain = fetch.misses().stream().filter(AnchorFetcher.Miss::absent)
                .flatMap(m -> rebuilds.missing(m.entry()).stream()).toList();
        requestRecompression(fetch.misses());   // again all the same: Redis may have room by the next question
        if (!lostAgain.isEmpty()) {
            p.metrics().blobsLostAgain(lostAgain.size());
            RebuildWatch.LostAgain first = lostAgain.get(0);
            String message = "anchor KV of " + lostAgain.stream().map(l -> "doc " + l.entry().docId() + " v"
                    + l.entry().docVersion()).toList() + " (model " + first.entry().modelId() + ") was rebuilt on this"
                    + " service's requests and gone from Redis again before a question could use it, " + first.losses()
                    + " times in a row: Redis evicts these blobs faster than they are read, so its maxmemory is most likely"
                    + " too small for the " + (entries.size() > 1 ? entries.size() + " documents this question needs at once"
                    : "documents in use") + " (see its evicted_keys). Raise maxmemory, or ask about fewer documents;"
                    + " retrying as is evicts another";
            lostAgainWarnings.occurred().ifPresent(n -> log.warn("{} ({} question(s) met this since the last warning)", message, n));
            throw new QueryException(STORE_TOO_SMALL, message);
        }
        AnchorFetcher.Miss first = fetch.misses().get(0);
        throw new QueryException(RECOMPRESSING, "anchor KV of " + describe(fetch.misses()) + " is not usable ("
                + first.reason() + "); recompressing: retry shortly");
    }

    private AnchorFetcher.Fetch fetch(String tenant, List<CatalogEntry> entries, AnchorFetcher.Lookup lookup,
                                      CallControl control) {
        try {
            return p.fetcher().fetch(entries, WarmCache.Admission.EVICT_LRU, lookup);
        } catch (BlobStoreDownException e) {
            // A read can outlast the call (it is bounded by the Redis timeout, not the deadline): a
            // caller gone meanwhile gets DEADLINE_EXCEEDED or CANCELLED, as the contract says, not UNAVAILABLE.
            try {
                control.check();
            } catch (QueryException gone) {
                gone.addSuppressed(e);   // why the read failed, for the log
                throw gone;
            }
            throw new QueryException(STORE_UNAVAILABLE, "anchor KV store unavailable while fetching "
                    + entries.size() + " document(s) of tenant " + tenant + ": " + e.getMessage(), e);
        }
    }

    private void requestRecompression(List<AnchorFetcher.Miss> misses) {
        for (AnchorFetcher.Miss m : misses) {
            CatalogEntry e = m.entry();
            p.recompress().request(e.tenant(), e.docId(), e.modelId(), m.reason());
            rebuilds.requested(e);
        }
    }

    private void requireReady() {
        if (!p.ready().getAsBoolean()) {
            throw new QueryException(CATALOG_LOADING,
                    "the service is still reading the documents and catalog topics; retry shortly");
        }
    }

    private void record(StageTimings t) {
        p.metrics().stage(Stage.RETRIEVE, t.retrieve());
        p.metrics().stage(Stage.FETCH, t.fetch());
        p.metrics().stage(Stage.QUEUE, t.queued());
        p.metrics().stage(Stage.DECODE, t.decode());
        p.metrics().stage(Stage.FIRST_TOKEN, t.firstToken());
        p.metrics().stage(Stage.TOTAL, t.total());
    }

    private static String describe(List<AnchorFetcher.Miss> misses) {
        return misses.stream().map(m -> "doc " + m.entry().docId() + " v" + m.entry().docVersion()).toList()
                + " (model " + misses.get(0).entry().modelId() + ")";
    }

    private static Duration nanos(long n) {
        return Duration.ofNanos(n);
    }

    static QueryException unknown(String tenant, String docId) {
        return new QueryException(UNKNOWN_DOCUMENT, "document '" + docId + "' is unknown in tenant '" + tenant + "'",
                List.of(new QueryException.UnknownDocument(tenant, docId)));
    }

    static QueryException notCompressed(QueryException.Uncompressed doc) {
        if (doc.refusal().isPresent()) {
            DeadLetter refusal = doc.refusal().get();
            return new QueryException(NOT_COMPRESSED, "document '" + doc.docId() + "' v" + doc.version() + " was "
                    + Refusals.why(refusal) + "; it is not compressed for model " + doc.modelId() + ": "
                    + Refusals.remedy(refusal) + " ('sac docs refused' lists the refusals)", List.of(doc));
        }
        return new QueryException(NOT_COMPRESSED, "document '" + doc.docId() + "' v" + doc.version()
                + " is not compressed for model " + doc.modelId() + " yet (if it stays so: the compressor may have refused"
                + " it, e.g. over its token limit, which 'sac docs refused' lists; or no compressor runs this model)",
                List.of(doc));
    }
}
