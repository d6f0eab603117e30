package dev.sacrag.compressor;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentRules;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Serves the recompress topic (a blob was evicted, or {@code sac warm --rebuild}): compresses the
 * latest document again unless its blob is in Redis. Runs in the same task as the document's
 * partition, so it sees the same stores; a request for a document this task never saw (or
 * deleted) is counted and logged, and one for another model is ignored. A document over
 * --max-doc-tokens (stored before a restart with a lower limit) goes to the dead-letter topic
 * with the request instead of being compressed past the timeouts sized for the limit.
 */
final class RecompressProcessor extends CacheProcessor {

    private static final Logger log = LoggerFactory.getLogger(RecompressProcessor.class);

    RecompressProcessor(AnchorCacheWriter writer, CompressorMetrics metrics, RecordFailures failures) {
        super(writer, metrics, failures);
    }

    /** The stored document the request names, as {@link #handle} finds it; empty when it would find none. */
    @Override
    Optional<DocumentEvent> documentOf(Record<byte[], byte[]> record) throws BadDocumentException {
        RecompressRequest request = RecompressRequest.parse(DocumentRules.docIdOfKey(record.key()), record.value());
        return Optional.ofNullable(documents.get(request.docId()))
                .filter(doc -> request.tenant().map(doc.getTenant()::equals).orElse(true));
    }

    @Override
    void countSetAside() {
        metrics.recompress("failed");   // every request has one outcome
    }

    @Override
    void handle(Record<byte[], byte[]> record) {
        RecompressRequest request;
        try {
            request = RecompressRequest.parse(DocumentRules.docIdOfKey(record.key()), record.value());
        } catch (BadDocumentException e) {
            metrics.recompress("malformed");
            deadLetter(record, e.reason().name(), e);
            return;
        }
        if (request.modelId().isPresent() && !request.modelId().get().equals(writer.modelId())) {
            metrics.recompress("other-model");
            return;
        }
        DocumentEvent doc;
        try {
            doc = documents.get(request.docId());
        } catch (SerializationException e) {
            // a stored document this build cannot read (another build's form): counted and logged, not
            // thrown, or the task would fail on this request at every replay and its partition stall
            metrics.recompress("unreadable-doc");
            log.warn("recompress request for {}: its stored document is unreadable ({}); republish the document"
                    + " to compress it again", request.docId(), e.getMessage());
            return;
        }
        if (doc == null || request.tenant().isPresent() && !request.tenant().get().equals(doc.getTenant())) {
            metrics.recompress("unknown-doc");
            log.info("recompress request for unknown document {} (tenant {}, reason {})", request.docId(),
                    request.tenant().orElse("any"), request.reason().orElse("none"));
            return;
        }
        Optional<AnchorCacheRecord> previous = lastCompressed(doc.getDocId());
        RetryPolicy.Budget redis = writer.redisBudget();
        boolean current = previous.isPresent() && previous.get().getDocVersion() == doc.getVersion();
        AnchorCacheWriter.BlobState blob = current ? writer.blobState(doc, previous.get(), redis)
                : AnchorCacheWriter.BlobState.UNUSABLE;   // no blob of this version was written yet
        if (blob == AnchorCacheWriter.BlobState.USABLE) {
            // the blob is there, but the catalog may not name it any more (a 'model retire' stopped
            // between its tombstones and its deletes, a record overwritten since): its record again,
            // the same value under the same key, costs one catalog write and no model work (the stores
            // already hold it)
            metrics.recompress("present");
            announce(previous.get(), record.timestamp());
            return;
        }
        log.info("recompressing document {} v{} ({})", doc.getDocId(), doc.getVersion(), request.reason().orElse("no reason given"));
        Optional<AnchorCacheWriter.Tokens> tokens = tokenize(doc, record);
        if (tokens.isEmpty()) {
            metrics.recompress("failed");   // dead-lettered: the tokenizer threw
            return;
        }
        if (!withinTokenLimit(doc, tokens.get(), record)) {
            metrics.recompress("too-large");
            return;
        }
        if (!compressAndEmit(doc, tokens.get(), previous, redis, record)) {
            metrics.recompress("failed");
            return;
        }
        metrics.recompress("rebuilt");
        // Every rebuild is the one the next is measured from, whatever it replaced: a blob rebuilt
        // because it was corrupt and then evicted within minutes is Redis' memory at work too.
        Optional<java.time.Duration> sinceLast = writer.rebuiltAgain(doc.getDocId());
        if (blob != AnchorCacheWriter.BlobState.ABSENT) {
            return;   // a blob of another format, a corrupt or foreign one: nothing Redis' memory did
        }
        sinceLast.ifPresent(since -> {
            metrics.rebuiltAgain();
            log.warn("rebuilt the blob of {} again, {} s after its last rebuild: Redis dropped it in between (evicted to make"
                    + " room, most likely: its maxmemory may be too small for the documents being asked about; see its"
                    + " evicted_keys)", doc.getDocId(), since.toSeconds());
        });
    }
}
