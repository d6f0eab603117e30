package dev.sacrag.compressor;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentRules;
import dev.sacrag.schemas.Succession;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Where a document is compressed: one record of the documents topic at a time.
 *
 * <ol>
 * <li>Tombstone (null value): delete this model's blob of the document, forget it, emit a catalog
 * tombstone.</li>
 * <li>Decode and validate (Avro or JSON, limits, key = docId); bad input goes to the dead-letter
 * topic with its reason and the stream goes on.</li>
 * <li>Versions: older than the compressed one → skipped; the same version with other text →
 * skipped ("not newer", the producer reused a version); the same version and text → skipped
 * ("replayed"). A version this model refused since (too large to store, tokens, a failure, out
 * of memory) counts as the document's in these rules as a compressed one does, as it does for the
 * query service's index, which never learns of the refusal: the refused version with other text
 * is skipped, where it was compressed into a catalog entry of that version whose text was not the
 * one the index searches; a lower version is skipped too. The refused version with the same text
 * is tried again (a retry after ENGINE_OOM).</li>
 * <li>Same text as the compressed version and its blob still usable in Redis → no model work: the
 * blob moves to the new version's key and the catalog gets the new version ("already compressed"
 * means the store says so <em>and</em> the blob checks out). Otherwise → tokenize (over the
 * token limit: dead letter), compress, write, retire the previous blob, emit the catalog
 * record.</li>
 * </ol>
 */
final class DocumentProcessor extends CacheProcessor {

    private static final Logger log = LoggerFactory.getLogger(DocumentProcessor.class);

    private final DocumentCodec codec;
    /** docId → "version:contentHash" of the version this model refused last ({@link #update}). */
    private KeyValueStore<String, String> refusedVersions;

    DocumentProcessor(AnchorCacheWriter writer, CompressorMetrics metrics, RecordFailures failures, DocumentCodec codec) {
        super(writer, metrics, failures);
        this.codec = codec;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        super.init(context);
        this.refusedVersions = context.getStateStore(CompressorTopology.REFUSED_STORE);
    }

    /** The version and text hash this model refused last; empty when none, or unreadable. */
    private Optional<Refused> lastRefused(String docId) {
        String v = refusedVersions.get(docId);
        int at = v == null ? -1 : v.indexOf(':');
        if (at <= 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Refused(Long.parseLong(v.substring(0, at)), v.substring(at + 1)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private record Refused(long version, String contentHash) {
    }

    @Override
    void refused(DocumentEvent doc) {
        // only a version that passed the rules is refused, so never lower than a marker in force; said anyway
        if (lastRefused(doc.getDocId()).map(r -> r.version() <= doc.getVersion()).orElse(true)) {
            refusedVersions.put(doc.getDocId(), doc.getVersion() + ":" + ContentHash.of(doc.getText()));
        }
    }

    @Override
    void emit(DocumentEvent doc, AnchorCacheRecord catalog, long timestamp) {
        super.emit(doc, catalog, timestamp);
        forgetRefusal(doc.getDocId());   // compressed at a version at least as new: the refusal is history
    }

    /** Drops the document's refusal marker, writing to the changelog only where there is one. */
    private void forgetRefusal(String docId) {
        if (refusedVersions.get(docId) != null) {
            refusedVersions.put(docId, null);
        }
    }

    @Override
    void handle(Record<byte[], byte[]> record) {
        DocumentEvent doc;
        try {
            String docId = DocumentRules.docIdOfKey(record.key());
            if (record.value() == null) {
                delete(docId, record.timestamp());
                return;
            }
            doc = decode(docId, record);
        } catch (BadDocumentException e) {
            deadLetter(record, e.reason().name(), e);
            return;
        }
        update(doc, record);
    }

    /** The document as {@link #handle} decodes it; empty for a tombstone. */
    @Override
    Optional<DocumentEvent> documentOf(Record<byte[], byte[]> record) throws BadDocumentException {
        return record.value() == null ? Optional.empty() : Optional.of(decode(DocumentRules.docIdOfKey(record.key()), record));
    }

    private DocumentEvent decode(String docId, Record<byte[], byte[]> record) throws BadDocumentException {
        Header contentType = record.headers().lastHeader(DocumentCodec.CONTENT_TYPE_HEADER);
        String type = contentType == null || contentType.value() == null
                ? null : new String(contentType.value(), StandardCharsets.UTF_8);
        return codec.decodeRecord(docId, record.value(), type, record.timestamp());
    }

    /**
     * The version and content rules first, then the tokenizer: an older version, a replay or the
     * same text again costs no tokenizing, and is skipped (or reused) rather than dead-lettered
     * for a token limit lowered since its version was compressed.
     */
    private void update(DocumentEvent doc, Record<byte[], byte[]> record) {
        Optional<AnchorCacheRecord> previous = lastCompressed(doc.getDocId());
        String hash = ContentHash.of(doc.getText());
        Optional<Refused> refused = lastRefused(doc.getDocId());
        if (refused.isPresent() && previous.map(p -> p.getDocVersion() < refused.get().version()).orElse(true)) {
            Succession s = Succession.of(doc.getVersion(), hash, refused.get().version(), refused.get().contentHash());
            if (s == Succession.OLDER || s == Succession.CONFLICTING) {
                metrics.skipped(s == Succession.OLDER ? "older" : "not-newer");
                log.info("skipping document {} v{}: {} than the refused v{} (publish a higher version)", doc.getDocId(),
                        doc.getVersion(), s == Succession.OLDER ? "older" : "not newer", refused.get().version());
                return;
            }
        }
        RetryPolicy.Budget redis = writer.redisBudget();
        if (previous.isPresent()) {
            AnchorCacheRecord prev = previous.get();
            Succession succession = Succession.of(doc.getVersion(), hash, prev.getDocVersion(), prev.getContentHash());
            if (succession == Succession.OLDER) {
                skip("older", doc, prev);
                return;
            }
            if (succession == Succession.CONFLICTING) {
                skip("not-newer", doc, prev);
                return;
            }
        }
        try {
            // after the version rules (an older version is skipped, not dead-lettered) and before the
            // store is written (a reuse writes it too); the index takes a document this refuses (the
            // check is the compressor's own), so the refusal counts as above
            DocumentRules.checkStorable(doc, codec.limits());
        } catch (BadDocumentException e) {
            deadLetter(record, e.reason().name(), e);
            refused(doc);
            return;
        }
        if (previous.isPresent() && hash.equals(previous.get().getContentHash())) {   // restated, or a newer version of the same text
            AnchorCacheRecord prev = previous.get();
            Optional<AnchorCacheRecord> reused = writer.reuse(doc, prev, redis);
            if (reused.isPresent()) {
                if (reused.get().equals(prev)) {
                    metrics.skipped("replayed");   // this very version again (a restart): nothing to do
                } else {
                    metrics.deduplicated();
                    emit(doc, reused.get(), record.timestamp());
                }
                return;
            }
            log.info("blob {} of {} is gone from Redis or cannot be carried over (another format, dtype or bytes than its"
                    + " record's), compressing again", prev.getRedisKey(), doc.getDocId());
        }
        Optional<AnchorCacheWriter.Tokens> t = tokenize(doc, record);
        if (t.isEmpty() || !withinTokenLimit(doc, t.get(), record)) {
            return;
        }
        compressAndEmit(doc, t.get(), previous, redis, record);
    }

    private void skip(String reason, DocumentEvent doc, AnchorCacheRecord prev) {
        metrics.skipped(reason);
        log.info("skipping document {} v{}: {} than the compressed v{}", doc.getDocId(), doc.getVersion(),
                reason.equals("older") ? "older" : "not newer", prev.getDocVersion());
    }

    private void delete(String docId, long timestamp) {
        Optional<AnchorCacheRecord> previous = lastCompressed(docId);
        if (previous.isPresent()) {
            writer.delete(previous.get().getRedisKey(), writer.redisBudget());
        }
        // put(key, null), not delete: delete returns the old value, so it decodes it, and a value another
        // build wrote that this one cannot read would fail the task at every replay of this tombstone
        compressed.put(catalogKey(docId), null);
        documents.put(docId, null);
        forgetRefusal(docId);
        emitTombstone(docId, timestamp);
        if (previous.isPresent()) {   // a tombstone for a document this model never compressed deletes nothing
            metrics.deleted();
        }
        log.info("deleted document {} ({})", docId, previous.map(AnchorCacheRecord::getRedisKey).orElse("no blob known"));
    }
}
