package dev.sacrag.compressor;

import dev.sacrag.metrics.Durations;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.CatalogKey;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What the document and recompress processors share: the two state stores, compressing a
 * document into a blob plus catalog record, and dead-lettering. Both read raw bytes, so a
 * record that cannot be decoded is still forwarded to the dead-letter topic byte for byte.
 *
 * <p>State kept per task (every store changelogged, restored under exactly-once):
 * <ul>
 * <li>{@value CompressorTopology#COMPRESSED_STORE}: catalog key → the last catalog record
 * emitted (docVersion, contentHash, redisKey, ...), i.e. what this model has compressed;</li>
 * <li>{@value CompressorTopology#DOCUMENTS_STORE}: docId → the latest valid document, so a
 * recompress request can rebuild a blob without re-reading the documents topic.</li>
 * <li>{@value CompressorTopology#REFUSED_STORE} (documents only): docId → the version and text
 * hash this model refused last, newer than what it compressed ({@link DocumentProcessor}).</li>
 * </ul>
 *
 * <p>What a processor throws fails the task, and the record is replayed from the last commit: a
 * Redis outage, the engine short of memory, or anything else. A record that keeps failing for
 * reasons of its own is set aside unprocessed once {@link RecordFailures} has counted enough.
 */
abstract class CacheProcessor implements Processor<byte[], byte[], Object, Object> {

    private static final Logger log = LoggerFactory.getLogger(CacheProcessor.class);
    private static final byte[] AVRO = DocumentCodec.AVRO_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8);

    protected final AnchorCacheWriter writer;
    protected final CompressorMetrics metrics;
    private final RecordFailures failures;
    protected ProcessorContext<Object, Object> context;
    protected KeyValueStore<String, AnchorCacheRecord> compressed;
    protected KeyValueStore<String, DocumentEvent> documents;
    /** Whether the record in hand had its document compressed ({@link #compressAndEmit}): told once it has gone through. */
    private boolean compressedInHand;

    CacheProcessor(AnchorCacheWriter writer, CompressorMetrics metrics, RecordFailures failures) {
        this.writer = writer;
        this.metrics = metrics;
        this.failures = failures;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.compressed = context.getStateStore(CompressorTopology.COMPRESSED_STORE);
        this.documents = context.getStateStore(CompressorTopology.DOCUMENTS_STORE);
    }

    @Override
    public final void process(Record<byte[], byte[]> record) {
        context.recordMetadata().ifPresent(m -> metrics.recordIn(m.topic()));
        Optional<String> where = context.recordMetadata().map(RecordFailures::where);
        Optional<RecordFailures.Failed> failedBefore = where.flatMap(failures::toSetAside);
        if (failedBefore.isPresent()) {
            setAside(record, where.get(), failedBefore.get());
            return;
        }
        compressedInHand = false;
        try {
            handle(record);
        } catch (RetriesExhaustedException e) {
            // Rethrown: the task fails and restarts from the last commit; skipping would lose the document.
            metrics.failure("redis-gave-up");
            throw e;
        } catch (RuntimeException | Error e) {
            // Rethrown as well (the task fails, its transaction aborts, the record is replayed), but counted
            // against the record when it is the record's: one that fails every time is set aside above.
            where.ifPresent(w -> failures.failed(w, e).ifPresent(f ->
                    log.warn("processing the record at {} failed its stream thread ({} failure(s) in a row; set aside as {}"
                            + " after {}, once another document has been compressed and written since the first, or after"
                            + " {}): {}", w, f.tries(), DeadLetters.PROCESSING_FAILED, failures.limit(),
                            Durations.shown(RecordFailures.PATIENCE),
                            e.toString())));
            throw e;
        }
        where.ifPresent(failures::succeeded);
        if (compressedInHand) {
            failures.compressed();   // only now: a failure after the model's work must not count as the proof
        }
    }

    abstract void handle(Record<byte[], byte[]> record);

    /**
     * The document {@code record} is about, for the headers of its dead letter when it is set
     * aside (its version and text hash, as a model's refusal carries them); empty when there is none
     * (a tombstone, a request for a document this task does not hold). May throw: the failure it
     * repeats may be the very one that set the record aside.
     */
    abstract Optional<DocumentEvent> documentOf(Record<byte[], byte[]> record) throws BadDocumentException;

    /** What a processor counts of a record it set aside, beyond the dead letter (a recompress request's outcome). */
    void countSetAside() {
    }

    /**
     * Sends a record that failed its stream thread {@link RecordFailures#limit} times in a row to the
     * dead-letter topic as {@value DeadLetters#PROCESSING_FAILED}, unprocessed, so that its partition
     * goes on. This model's compressor failed on it, another may not: the dead letter names the
     * model, and the document's version and text hash where it can be told.
     */
    private void setAside(Record<byte[], byte[]> source, String where, RecordFailures.Failed failed) {
        DocumentEvent doc;
        try {
            doc = documentOf(source).orElse(null);
        } catch (BadDocumentException | RuntimeException | Error e) {
            log.warn("setting aside the record at {} without its document's version: {}", where, e.toString());
            doc = null;
        }
        String message = "processing " + (doc == null ? "the record" : "document " + doc.getDocId() + " v" + doc.getVersion())
                + " at " + where + " failed its stream thread " + failed.tries() + " times in a row, the last with "
                + failed.last() + ": set aside unprocessed so that its partition goes on (the compressor's log has each"
                + " failure's stack trace); publish it again (or ask for it again, for a recompress request) once that is fixed";
        if (doc == null) {
            deadLetter(source, DeadLetters.PROCESSING_FAILED, message, failed.last(), writer.modelId(), null);
        } else {
            deadLetterForModel(source, doc, DeadLetters.PROCESSING_FAILED, message, failed.last());
        }
        countSetAside();
    }

    /** Catalog key of {@code docId} for this compressor's model. */
    String catalogKey(String docId) {
        return CatalogKey.of(docId, writer.modelId());
    }

    /**
     * What this model has compressed for the document. An entry this build cannot decode (written
     * by a build with another catalog schema) counts as nothing: the document is compressed again.
     */
    Optional<AnchorCacheRecord> lastCompressed(String docId) {
        try {
            return Optional.ofNullable(compressed.get(catalogKey(docId)));
        } catch (SerializationException e) {
            log.warn("stored state of {} is unreadable, compressing it again: {}", docId, e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Refuses a document over --max-doc-tokens: the transaction and poll timeouts are sized for
     * that many. Checked again on a recompress request, since a document stored under a higher
     * limit (before a restart with a lower one) would otherwise be compressed past the timeouts.
     * Tokens are the model's, so the dead letter names the model.
     *
     * @return false when {@code source} went to the dead-letter topic instead
     */
    boolean withinTokenLimit(DocumentEvent doc, AnchorCacheWriter.Tokens tokens, Record<byte[], byte[]> source) {
        if (tokens.ids().length <= writer.maxDocumentTokens()) {
            return true;
        }
        BadDocumentException e = new BadDocumentException(BadDocumentException.Reason.TOO_LARGE, "document "
                + doc.getDocId() + " v" + doc.getVersion() + " has " + tokens.ids().length + " tokens, limit "
                + writer.maxDocumentTokens() + " (--max-doc-tokens)");
        deadLetterForModel(source, doc, e.reason().name(), e.getMessage(), e);
        return false;
    }

    /**
     * Compresses, writes the blob, updates the stores and emits the catalog record.
     *
     * @return false when the model failed and {@code source} went to the dead-letter topic instead
     */
    boolean compressAndEmit(DocumentEvent doc, AnchorCacheWriter.Tokens tokens, Optional<AnchorCacheRecord> previous,
                         RetryPolicy.Budget redis, Record<byte[], byte[]> source) {
        writer.requireRedis(doc, redis);
        AnchorCacheWriter.Compressed result;
        try {
            result = writer.compress(doc, tokens);
        } catch (RuntimeException e) {
            if (outOfMemory(e)) {
                // Not the document's fault: the machine's, most likely. Dead-lettering it at once would
                // lose a good document; failing the task retries it from the last commit on a replacement
                // thread (health reports the failures if they go on). One that runs out of memory while
                // others compress, or for half an hour, is set aside: its partition must not stall for good.
                metrics.failure("engine-oom");
                AnchorCacheWriter.EngineOoms h = writer.engineOutOfMemory(doc.getDocId() + " v" + doc.getVersion());
                String what = "compressing document " + doc.getDocId() + " v" + doc.getVersion() + " (" + tokens.ids().length
                        + " tokens) ran out of memory in the engine";
                if (writer.setAside(h)) {
                    // the count stays: a recompress request of this version is set aside at once too
                    deadLetterForModel(source, doc, DeadLetters.ENGINE_OOM, what + ", " + h.tries() + " times in a row"
                            + " since " + h.first() + ": set aside so that its partition goes on; give the compressor more"
                            + " memory (or lower --max-doc-tokens or its stream threads), then publish the document again"
                            + " (or ask for it again, for a recompress request): " + e.getMessage(), e);
                    return false;
                }
                throw new EngineOutOfMemoryException(what + " (try " + h.tries() + "); it is retried. If it goes on, give the"
                        + " compressor more memory, or lower --max-doc-tokens or its stream threads: " + e.getMessage(), e);
            }
            deadLetterForModel(source, doc, DeadLetters.COMPRESSION_FAILED, "compressing document " + doc.getDocId() + " v"
                    + doc.getVersion() + " with model " + writer.modelId() + " failed: " + e, e);
            return false;
        }
        writer.engineRecovered(doc.getDocId() + " v" + doc.getVersion());
        emit(doc, writer.write(doc, result, previous, redis), source.timestamp());
        compressedInHand = true;
        return true;
    }

    /**
     * Whether the engine failed for want of memory: PyTorch's allocators ("DefaultCPUAllocator: not
     * enough memory", "CUDA out of memory"), a C++ {@code std::bad_alloc}, the OS refusing a mapping.
     * DJL reports them as an {@code EngineException} like any other native error, so the message tells.
     */
    static boolean outOfMemory(Throwable e) {
        return AnchorCacheWriter.anyCauseSays(e, message -> {
            String m = message.toLowerCase(java.util.Locale.ROOT);
            return m.contains("not enough memory") || m.contains("out of memory") || m.contains("bad_alloc")
                    || m.contains("cannot allocate memory");
        });
    }

    /**
     * The document's tokens; empty when the tokenizer failed on it and {@code source} went to
     * the dead-letter topic (a native tokenizer error must not fail the task on every replay).
     */
    Optional<AnchorCacheWriter.Tokens> tokenize(DocumentEvent doc, Record<byte[], byte[]> source) {
        try {
            return Optional.of(writer.tokenize(doc.getText()));
        } catch (RuntimeException e) {
            deadLetterForModel(source, doc, DeadLetters.COMPRESSION_FAILED, "tokenizing document " + doc.getDocId() + " v"
                    + doc.getVersion() + " failed: " + e, e);
            return Optional.empty();
        }
    }

    void emit(DocumentEvent doc, AnchorCacheRecord catalog, long timestamp) {
        String key = catalogKey(doc.getDocId());
        compressed.put(key, catalog);
        documents.put(doc.getDocId(), doc);
        announce(catalog, timestamp);
    }

    /** Sends a record the stores already hold to the catalog again. */
    void announce(AnchorCacheRecord catalog, long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DocumentCodec.CONTENT_TYPE_HEADER, AVRO);
        context.forward(new Record<Object, Object>(catalogKey(catalog.getDocId()), catalog, timestamp, headers),
                CompressorTopology.CATALOG_SINK);
    }

    void emitTombstone(String docId, long timestamp) {
        context.forward(new Record<Object, Object>(catalogKey(docId), null, timestamp), CompressorTopology.CATALOG_SINK);
    }

    /** A record bad for every model (malformed, empty, over the byte limit): no model header. */
    void deadLetter(Record<byte[], byte[]> source, String reason, BadDocumentException error) {
        deadLetter(source, reason, error.getMessage(), error, null, null);
    }

    /**
     * A record this model's tokenizer or compressor refused (too many tokens, a failure): the
     * dead letter names the model ({@value dev.sacrag.schemas.DeadLetterHeaders#MODEL}), since another model may take it.
     */
    void deadLetterForModel(Record<byte[], byte[]> source, DocumentEvent doc, String reason, String message,
                            Throwable error) {
        deadLetter(source, reason, message, error, writer.modelId(), doc);
        refused(doc);
    }

    /** This model refused {@code doc} (tokens, a failure, out of memory): the documents processor remembers it. */
    void refused(DocumentEvent doc) {
    }

    private void deadLetter(Record<byte[], byte[]> source, String reason, String message, Throwable error,
                            String modelId, DocumentEvent refused) {
        metrics.deadLettered(reason);
        log.warn("dead-lettering {} record at {}: {}", reason, context.recordMetadata()
                .map(m -> m.topic() + "-" + m.partition() + "@" + m.offset()).orElse("?"), message);
        Record<byte[], byte[]> dead = DeadLetters.of(source, context.recordMetadata(), reason, message, error, modelId,
                refused, writer.deadLetterMaxBytes(), context.currentSystemTimeMs());
        context.forward(new Record<Object, Object>(dead.key(), dead.value(), dead.timestamp(), dead.headers()),
                CompressorTopology.DEAD_LETTER_SINK);
    }
}
