package dev.sacrag.cli.warming;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.Succession;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * The live documents of the documents topic, the source of truth: each document not deleted
 * since, at the version the compressor holds, decoded and versioned the way the compressor does
 * it (a JSON document without a version takes its record's timestamp) and chosen by its rule
 * ({@link Succession}: an older version or a conflicting restatement does not replace the one
 * taken). Records the compressor would dead-letter, or did ({@link #dropDeadLettered}), are
 * counted in {@link #invalid()} and left out; a document whose newest record was dead-lettered
 * is live at the version before that (what the compressor keeps serving), when the topic still
 * holds it.
 */
final class LiveDocuments {

    /** A document as the documents topic has it now, and where the record of that version is. */
    record Doc(String docId, String tenant, long version, Position position, String contentHash) {
    }

    /** A record of the documents topic. */
    record Position(int partition, long offset) {
    }

    private final DocumentCodec codec;
    /**
     * Each document's valid records since its last tombstone, in log order; which one is live is
     * decided once the dead letters are known ({@link #byId}), by the compressor's rule.
     */
    private final Map<String, List<Doc>> versions = new HashMap<>();
    /** Each document's newest record, valid or not: true for a tombstone (deleted, not published again since). */
    private final Map<String, Boolean> newestIsTombstone = new HashMap<>();
    private Map<TopicPartition, Long> ends = Map.of();
    /** Documents every valid record of which a dead letter refused ({@link #dropDeadLettered}). */
    private final Set<String> refusedIds = new HashSet<>();
    private int invalid;

    /** @param limits the running compressors' document limits: a document over them is not live (it was dead-lettered) */
    LiveDocuments(DocumentLimits limits) {
        this.codec = DocumentCodec.withLimits(limits);
    }

    /**
     * The documents the compressor of {@code modelId} can compress: the documents topic read to
     * its end, less the versions the dead-letter topic holds for every model or for this one
     * ({@link #dropDeadLettered}; a document too long for one model's tokens may fit another's).
     * What every warming command starts from.
     */
    static LiveDocuments readCompressible(Brokers brokers, String documentsTopic, String deadLetterTopic,
                                          DocumentLimits limits, String modelId, Duration timeout)
            throws TimeoutException {
        LiveDocuments docs = read(brokers, documentsTopic, limits, timeout);
        docs.dropDeadLettered(deadLettered(brokers, deadLetterTopic, documentsTopic, modelId, timeout));
        return docs;
    }

    private static LiveDocuments read(Brokers brokers, String topic, DocumentLimits limits, Duration timeout)
            throws TimeoutException {
        return read(new TopicScan(brokers, topic, "sac-warm-documents"), limits, timeout);
    }

    /** The documents topic read to its end through {@code scan}, which is closed then. */
    static LiveDocuments read(TopicScan scan, DocumentLimits limits, Duration timeout) throws TimeoutException {
        LiveDocuments docs = new LiveDocuments(limits);
        try (scan) {
            scan.readToEnd(docs::apply, timeout);
            docs.ends = Map.copyOf(scan.ends());
        }
        return docs;
    }

    void apply(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            invalid++;
            return;
        }
        String docId = new String(r.key(), StandardCharsets.UTF_8);
        newestIsTombstone.put(docId, r.value() == null);
        if (r.value() == null) {
            versions.remove(docId);
            return;
        }
        try {
            DocumentEvent doc = decode(codec, docId, r);
            versions.computeIfAbsent(docId, k -> new ArrayList<>()).add(new Doc(docId, doc.getTenant(), doc.getVersion(),
                    new Position(r.partition(), r.offset()), ContentHash.of(doc.getText())));
        } catch (BadDocumentException e) {
            invalid++;
        }
    }

    /** A documents-topic record decoded as the compressor decodes it: its content-type header, its timestamp. */
    static DocumentEvent decode(DocumentCodec codec, String docId, ConsumerRecord<byte[], byte[]> r)
            throws BadDocumentException {
        Header type = r.headers().lastHeader(DocumentCodec.CONTENT_TYPE_HEADER);
        return codec.decodeRecord(docId, r.value(), type == null || type.value() == null ? null
                : new String(type.value(), StandardCharsets.UTF_8), r.timestamp());
    }

    /**
     * Leaves out the versions the compressor dead-lettered (too many tokens, the model failed):
     * a document is then live at the version its records left give ({@link #byId}), and left out
     * when none is left (nothing to wait for).
     *
     * @return how many documents were left out
     */
    int dropDeadLettered(Set<Position> deadLettered) {
        int before = versions.size();
        versions.values().forEach(valid -> valid.removeIf(d -> deadLettered.contains(d.position())));
        versions.entrySet().removeIf(e -> e.getValue().isEmpty() && refusedIds.add(e.getKey()));
        invalid += before - versions.size();
        return before - versions.size();
    }

    /**
     * Positions in {@code documentsTopic} of the records the dead-letter topic holds for every
     * model (no {@value DeadLetterHeaders#MODEL} header) or for {@code modelId}; none when the topic
     * does not exist.
     */
    private static Set<Position> deadLettered(Brokers brokers, String deadLetterTopic, String documentsTopic,
                                              String modelId, Duration timeout) throws TimeoutException {
        Set<Position> positions = new HashSet<>();
        TopicScan scan;
        try {
            scan = new TopicScan(brokers, deadLetterTopic, "sac-warm-dead-letters");
        } catch (TopicScan.NoSuchTopic noTopic) {   // no broker is another matter: it propagates
            return positions;
        }
        try (scan) {
            scan.readToEnd(r -> {
                if (!refusedFor(r, modelId)) {
                    return;
                }
                String topic = header(r, DeadLetterHeaders.SOURCE_TOPIC);
                String partition = header(r, DeadLetterHeaders.SOURCE_PARTITION);
                String offset = header(r, DeadLetterHeaders.SOURCE_OFFSET);
                if (documentsTopic.equals(topic) && partition != null && offset != null) {
                    try {
                        positions.add(new Position(Integer.parseInt(partition), Long.parseLong(offset)));
                    } catch (NumberFormatException ignored) {
                        // not written by the compressor: says nothing about the documents topic
                    }
                }
            }, timeout);
        }
        return positions;
    }

    /** Whether a dead letter stands for {@code modelId}: it names no model (bad for all) or this one. */
    static boolean refusedFor(ConsumerRecord<byte[], byte[]> deadLetter, String modelId) {
        return DeadLetter.standsFor(DeadLetterList.header(deadLetter, DeadLetterHeaders.MODEL), modelId);
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return DeadLetterList.header(r, name).orElse(null);
    }

    /** End offset of each partition of the documents topic when it was read. */
    Map<TopicPartition, Long> ends() {
        return ends;
    }

    /**
     * Each document at the version the compressor holds: its records in log order, each taking
     * the place of the one before when {@link Succession} says it replaces it (a newer version, or
     * the same version and text restated); an older version, or the same version with other text,
     * does not.
     */
    Map<String, Doc> byId() {
        Map<String, Doc> live = new HashMap<>();
        versions.forEach((docId, valid) -> {
            Doc current = valid.get(0);
            for (Doc next : valid.subList(1, valid.size())) {
                if (Succession.of(next.version(), next.contentHash(), current.version(), current.contentHash()).replaces()) {
                    current = next;
                }
            }
            live.put(docId, current);
        });
        return live;
    }

    int size() {
        return versions.size();
    }

    /**
     * The documents on the topic, not deleted, with no version left to compress because a dead
     * letter refused every valid record of them, for the model or for all (too many tokens, the
     * model failed). Sorted. Not live for the warming commands, which have nothing to wait for of
     * them, but named beside what they count: without them "12/12 live documents" reads as every
     * document published compressed, where a thirteenth never will be. Records that do not decode
     * here (malformed, over the limits) are not among them: no model's compressor took them, and
     * counted as the model's refusals a topic of bad records would read as a broken adapter.
     */
    List<String> refused() {
        return refusedIds.stream().filter(id -> !deleted(id, false)).sorted().toList();
    }

    /**
     * What follows a count of live documents when {@code refused} more were left out of it (e.g. "; 1
     * more refused for the model by a compressor, not compressed until published again ('sac docs
     * refused --model M')"); empty when none was.
     */
    static String refusedNote(int refused, String modelId) {
        return refused == 0 ? "" : "; " + refused + " more refused for the model by a compressor, not compressed until"
                + " published again ('sac docs refused --model " + modelId + "')";
    }

    /**
     * Whether the document is deleted now: its newest record is a tombstone, or, where
     * {@code recordWasHere} (a record of it was read from this topic), no record of it is left: a
     * compacted topic drops a document's last record only for a tombstone after it, and that
     * tombstone in turn after the topic's delete.retention.ms (24 hours by default).
     */
    boolean deleted(String docId, boolean recordWasHere) {
        Boolean tombstone = newestIsTombstone.get(docId);
        return tombstone == null ? recordWasHere : tombstone;
    }

    int invalid() {
        return invalid;
    }
}
