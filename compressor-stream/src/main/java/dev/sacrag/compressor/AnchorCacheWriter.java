package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.metrics.Durations;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a document's anchor KV is computed and its bytes go to Redis: tokenize, compress,
 * encode, write the blob under its {@link RedisKeys} key, retire the previous version's blob,
 * and describe the result as a catalog record. Every Redis call goes through the record's
 * retry budget.
 *
 * <p>Retiring is an expiry, not a delete: the catalog record that points readers at the new key
 * becomes visible only when this record's transaction commits (and after an abort, when the
 * record is processed again). Until then the query service reads the previous record, so the
 * previous blob stays for {@link CompressionSettings#retireGrace()}. A deleted document's blob
 * goes at once: its readers are meant to lose it.
 */
final class AnchorCacheWriter {

    private static final Logger log = LoggerFactory.getLogger(AnchorCacheWriter.class);

    /** Tokens of a document and how long tokenizing took (part of compressMillis). */
    record Tokens(long[] ids, long nanos) {
    }

    /** An encoded blob, before it is written. */
    record Compressed(AnchorKv kv, byte[] blob, Duration took) {
    }

    private final CompressionSettings settings;
    private final Collaborators c;
    /** When each document's blob was last rebuilt on request, per doc id (the most recent 10,000; shared by the tasks). */
    private final java.util.Map<String, Rebuild> rebuilt = recent(10_000);

    /** A rebuild on request, and how many Redis restarts the store had seen by then. */
    private record Rebuild(java.time.Instant at, long storeRestarts) {
    }

    /**
     * Engine out-of-memory failures per document version ({@code "docId vN"}), shared by the tasks:
     * a record's task fails on one and a replacement thread (with a new processor) retries it; a
     * recompress request of the same version counts with it.
     */
    private final java.util.Map<String, EngineOoms> engineOoms = recent(1_000);

    /** A map shared by the stream threads that keeps its {@code max} most recently used entries (RecordFailures too). */
    static <V> java.util.Map<String, V> recent(int max) {
        return java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(java.util.Map.Entry<String, V> eldest) {
                return size() > max;
            }
        });
    }
    /** Documents compressed by this process: one since a document's first OOM shows the machine can. */
    private final java.util.concurrent.atomic.AtomicLong compressions = new java.util.concurrent.atomic.AtomicLong();

    /**
     * A document version's out-of-memory failures in a row.
     *
     * @param compressionsBefore documents compressed by the process before the first of them
     */
    record EngineOoms(int tries, java.time.Instant first, long compressionsBefore) implements FailureRun {
    }

    /** Tries before a document the model runs out of memory on may be set aside. */
    static final int ENGINE_OOM_TRIES = 3;
    /** Out of memory for this long, the document is set aside even with no proof that others compress. */
    static final java.time.Duration ENGINE_OOM_PATIENCE = FailureRun.PATIENCE;

    /**
     * Counts an engine out-of-memory failure on the document version {@code where}; returns its
     * failures so far.
     */
    EngineOoms engineOutOfMemory(String where) {
        java.time.Instant now = c.clock().instant();
        return engineOoms.merge(where, new EngineOoms(1, now, compressions.get()),
                (was, one) -> new EngineOoms(was.tries() + 1, was.first(), was.compressionsBefore()));
    }

    /**
     * Whether a document the model keeps running out of memory on is to be set aside: after
     * {@link #ENGINE_OOM_TRIES} tries, once another document was compressed since its first (the
     * shortage is this document's, not the machine's for a while), or after
     * {@link #ENGINE_OOM_PATIENCE} anyway, so that a partition never stalls for good.
     */
    boolean setAside(EngineOoms h) {
        return setAside(h, c.clock().instant(), compressions.get());
    }

    static boolean setAside(EngineOoms h, java.time.Instant now, long compressionsNow) {
        return h.due(ENGINE_OOM_TRIES, now, compressionsNow);
    }

    /** The document version {@code where} was compressed: its failures are history. */
    void engineRecovered(String where) {
        compressions.incrementAndGet();
        engineOoms.remove(where);
    }

    /** A blob rebuilt again this soon after its last rebuild was evicted or lost in between. */
    static final java.time.Duration REBUILT_AGAIN_WITHIN = java.time.Duration.ofMinutes(10);

    AnchorCacheWriter(CompressionSettings settings, Collaborators collaborators) {
        this.settings = settings;
        this.c = collaborators;
    }

    /** Tokens the compressor may read for one document (--max-doc-tokens). */
    int maxDocumentTokens() {
        return settings.maxDocumentTokens();
    }

    String modelId() {
        return c.compressor().modelId();
    }

    /** The largest dead letter the topic and the producer take (settings). */
    long deadLetterMaxBytes() {
        return settings.deadLetterMaxBytes();
    }

    /**
     * A record's Redis retry budget. Its first failed attempt logs a WARN, the ones after it DEBUG:
     * an outage logs one line per budget (each attempt is counted in the metrics all the same).
     */
    RetryPolicy.Budget redisBudget() {
        boolean[] warned = {false};   // a budget serves one record on one stream thread
        return settings.redisRetry().start(e -> {
            boolean full = outOfMemory(e);
            c.metrics().failure(full ? "redis-oom" : "redis");
            if (warned[0]) {
                log.debug("Redis still unavailable: {}", e.getMessage());
            } else {
                warned[0] = true;
                log.warn("Redis {}, retrying within the budget of {} (further attempts logged at DEBUG): {}",
                        full ? "is out of memory (maxmemory reached: it refused the write)" : "unavailable",
                        Durations.shown(settings.redisRetry().budget()), e.getMessage());
            }
        }, c.closing());
    }

    /**
     * Records that {@code docId}'s blob was rebuilt on request now; returns how long ago the one
     * before was, when within {@link #REBUILT_AGAIN_WITHIN}: Redis dropped the blob again soon
     * after it was written (evicted to make room, most likely), which a question naming it will
     * meet over and over. Not when Redis restarted in between: that lost every blob once, was
     * said at WARN by the store, and a Redis without persistence restarted twice in ten minutes
     * would otherwise be told to raise a maxmemory that never evicted anything.
     */
    java.util.Optional<java.time.Duration> rebuiltAgain(String docId) {
        Rebuild now = new Rebuild(c.clock().instant(), c.blobs().serverRestarts());
        Rebuild before = rebuilt.put(docId, now);
        if (before == null || before.storeRestarts() != now.storeRestarts()) {
            return java.util.Optional.empty();
        }
        java.time.Duration since = java.time.Duration.between(before.at(), now.at());
        return since.compareTo(REBUILT_AGAIN_WITHIN) <= 0 ? java.util.Optional.of(since) : java.util.Optional.empty();
    }

    /** Redis refused a write for its memory ({@code OOM command not allowed when used memory > 'maxmemory'}). */
    static boolean outOfMemory(Throwable e) {
        return anyCauseSays(e, m -> m.contains("OOM command not allowed"));
    }

    /** Whether the message of {@code e} or of one of its causes satisfies {@code says} (messages are all a client shows). */
    static boolean anyCauseSays(Throwable e, java.util.function.Predicate<String> says) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && says.test(t.getMessage())) {
                return true;
            }
        }
        return false;
    }

    Tokens tokenize(String text) {
        long t0 = System.nanoTime();
        long[] ids = c.compressor().tokenize(text);
        return new Tokens(ids, System.nanoTime() - t0);
    }

    /**
     * One cheap Redis call (EXISTS of the key the blob will go to, so in a cluster the node that
     * takes the SET) through the record's retry budget, made before any model work: during an
     * outage the record then fails after the budget alone, not after a compression that every
     * replay would repeat. (A blob found there is not reused: the key names the version, not the
     * text, and a store shared with another deployment may hold the same doc id and version.)
     */
    void requireRedis(DocumentEvent doc, RetryPolicy.Budget redis) {
        String key = keyOf(doc);
        redis.call("checking Redis before compressing " + doc.getDocId() + " v" + doc.getVersion(),
                () -> c.blobs().exists(key));
    }

    /** Model work only, no I/O: a failure here is the document's (dead letter), not Redis's. */
    Compressed compress(DocumentEvent doc, Tokens tokens) {
        long t0 = System.nanoTime();
        AnchorKv kv = c.compressor().compress(tokens.ids());
        byte[] blob = AnchorKvCodec.encode(kv, settings.dtype());
        Duration took = Duration.ofNanos(System.nanoTime() - t0 + tokens.nanos());
        if (took.compareTo(settings.maxCompressTime()) > 0) {
            c.metrics().failure("slow-compression");
            log.warn("compressing document {} v{} ({} tokens) took {} ms, over --max-compress-time {}: the transaction"
                            + " and poll timeouts are sized from it, raise it or lower --max-doc-tokens",
                    doc.getDocId(), doc.getVersion(), tokens.ids().length, took.toMillis(), Durations.shown(settings.maxCompressTime()));
        }
        return new Compressed(kv, blob, took);
    }

    /** Writes the blob, then retires the previous version's (when its key differs); returns the catalog record. */
    AnchorCacheRecord write(DocumentEvent doc, Compressed compressed, Optional<AnchorCacheRecord> previous,
                            RetryPolicy.Budget redis) {
        String key = keyOf(doc);
        redis.run("writing the blob of " + doc.getDocId() + " v" + doc.getVersion() + " to " + key,
                () -> c.blobs().put(key, compressed.blob(), settings.blobTtl()));
        previous.ifPresent(p -> retire(p.getRedisKey(), key, redis));
        c.metrics().compressed(compressed.took(), compressed.blob().length);
        AnchorKv kv = compressed.kv();
        return AnchorCacheRecord.newBuilder()
                .setDocId(doc.getDocId())
                .setTenant(doc.getTenant())
                .setDocVersion(doc.getVersion())
                .setModelId(kv.modelId())
                .setRatio(c.compressor().ratio())
                .setTokenCount(kv.tokenCount())
                .setAnchorCount(kv.anchorCount())
                .setChunkCount(kv.chunkAnchors().length)
                .setRedisKey(key)
                .setBytes(compressed.blob().length)
                .setDtype(settings.dtype().name().toLowerCase(Locale.ROOT))
                .setChecksum(AnchorKvCodec.checksum(compressed.blob()))
                .setCompressedAt(c.clock().instant())
                .setCompressMillis(compressed.took().toMillis())
                .setContentHash(ContentHash.of(doc.getText()))
                .build();
    }

    /**
     * Reuses the blob of {@code previous} (same text, same model) for {@code doc}'s version: moves it
     * to the new version's key, so a catalog record's key always carries its docVersion and an update
     * never leaves two live keys. Empty when the blob is gone (evicted, expired, flushed).
     */
    Optional<AnchorCacheRecord> reuse(DocumentEvent doc, AnchorCacheRecord previous, RetryPolicy.Budget redis) {
        String from = previous.getRedisKey();
        String to = keyOf(doc);
        if (from.equals(to)) {
            return blobState(doc, previous, redis) == BlobState.USABLE ? Optional.of(previous) : Optional.empty();
        }
        // a blob of another format (its key names the format too), other bytes than the catalog's or
        // another dtype than the one configured now is compressed anew, not carried over
        Optional<byte[]> blob = redis.call("reading the blob " + from + " to reuse it", () -> c.blobs().get(from, previous.getBytes()))
                .filter(b -> reusable(b, previous.getChecksum()));
        if (blob.isEmpty()) {
            // An attempt whose transaction aborted (a crash, a fenced producer, a later record of
            // the same transaction out of Redis retries) may have moved it already: Redis keeps
            // what that attempt did while the store rolled back to the previous version.
            Optional<byte[]> moved = redis.call("reading the blob " + to + " to reuse it", () -> c.blobs().get(to, previous.getBytes()))
                    .filter(b -> reusable(b, previous.getChecksum()));
            if (moved.isPresent()) {
                // set again, as a copy is: the key may carry a retire expiry from a move away from it since
                // (a tenant moved there and back), and the record about to name it must not name a key that expires
                redis.run("setting the blob of " + doc.getDocId() + " at " + to + " again",
                        () -> c.blobs().put(to, moved.get(), settings.blobTtl()));
                c.metrics().copied(moved.get().length);
            }
            return moved.map(b -> reused(previous, doc, to, b));
        }
        redis.run("copying the blob of " + doc.getDocId() + " to " + to,
                () -> c.blobs().put(to, blob.get(), settings.blobTtl()));
        c.metrics().copied(blob.get().length);   // Redis holds both until the old one's retire expiry
        retire(from, to, redis);
        return Optional.of(reused(previous, doc, to, blob.get()));
    }

    /** {@code previous}'s record for {@code doc}'s version, its size and checksum those of the blob now at {@code key}. */
    private static AnchorCacheRecord reused(AnchorCacheRecord previous, DocumentEvent doc, String key, byte[] blob) {
        return AnchorCacheRecord.newBuilder(previous)
                .setTenant(doc.getTenant())
                .setDocVersion(doc.getVersion())
                .setRedisKey(key)
                .setBytes(blob.length)
                .setChecksum(AnchorKvCodec.checksum(blob))
                .build();
    }

    /**
     * Whether {@code record}'s blob would serve {@code doc} (USABLE): it is under this build's key for the
     * document's version (the key names the blob format), holds the bytes the catalog record vouches
     * for (CRC32C) and has a header this build reads, for this model. A blob that is there but
     * unusable (an older format after an upgrade, a truncated or overwritten value) is not "present":
     * the query service asks for it to be rebuilt precisely because it cannot read it.
     */
    BlobState blobState(DocumentEvent doc, AnchorCacheRecord record, RetryPolicy.Budget redis) {
        String key = record.getRedisKey();
        if (!key.equals(keyOf(doc))) {
            return BlobState.UNUSABLE;
        }
        Optional<byte[]> blob = redis.call("reading " + key + " to check it", () -> c.blobs().get(key, record.getBytes()));
        if (blob.isEmpty()) {
            return BlobState.ABSENT;
        }
        return AnchorKvCodec.headerIfDescribed(blob.get(), record.getChecksum(), modelId()).isPresent()
                ? BlobState.USABLE : BlobState.UNUSABLE;
    }

    /** What {@link #blobState} found under a catalog record's key. */
    enum BlobState {
        USABLE,
        /** Nothing under the key: Redis dropped it (evicted, expired, lost in a restart). */
        ABSENT,
        /** Under another key than this build's, or bytes that are not the record's blob: no sign of Redis' memory. */
        UNUSABLE
    }

    /** A blob to carry to a new version: the one the catalog describes, for this model, in the dtype configured now. */
    private boolean reusable(byte[] blob, long checksum) {
        return AnchorKvCodec.headerIfDescribed(blob, checksum, modelId())
                .filter(h -> h.dtype() == settings.dtype()).isPresent();
    }

    void delete(String key, RetryPolicy.Budget redis) {
        redis.call("deleting " + key, () -> c.blobs().delete(key));
    }

    private void retire(String oldKey, String newKey, RetryPolicy.Budget redis) {
        if (!oldKey.equals(newKey)) {
            redis.call("retiring " + oldKey, () -> c.blobs().expireWithin(oldKey, settings.retireGrace()));
        }
    }

    private String keyOf(DocumentEvent doc) {
        return RedisKeys.blobKey(doc.getTenant(), modelId(), doc.getDocId(), doc.getVersion());
    }
}
