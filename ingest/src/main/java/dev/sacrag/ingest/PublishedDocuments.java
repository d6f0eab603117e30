package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What the documents topic says of each document now, read before {@code sac ingest} publishes,
 * so that a document sent again as it is on the topic is not published again. Without it, every
 * run over a folder gave each unchanged file a new version: a catalog entry per document and
 * model, a copy of each blob under the new key (Redis holding both until the old one's expiry)
 * and a pass of every query replica's index.
 *
 * <p>A document's standing follows the compressor's rule ({@link dev.sacrag.schemas.Succession}):
 * a higher version replaces it, the same version with the same text restates it (a new title or
 * tenant), the same version with other text and a lower version are ignored, a tombstone forgets
 * it. Records are taken in each partition's order; a document keyed into two partitions by a
 * custom partitioner has no order between them, and the later partition read wins.
 *
 * <p>Only digests are kept per document (about 150 bytes with a short id), never the texts: a
 * topic of a million documents costs this run about 150 MB of heap. The read itself costs what
 * the topic holds, every text included, however few documents the run sends: {@code --republish}
 * skips it where that matters more than the copies.
 */
public final class PublishedDocuments {

    /**
     * @param textDigest   the first 128 bits of SHA-256 of the text, for the succession rule
     * @param contentDigest the first 128 bits of SHA-256 of what ingest sends: tenant, title,
     *     text, source and metadata (in key order, so a JSON and an Avro record of one document agree)
     */
    private record Known(long version, long textHigh, long textLow, long contentHigh, long contentLow) {
    }

    private final Map<String, Known> known = new HashMap<>();
    private final DocumentCodec codec;
    private long records;

    /**
     * @param codec decodes records as the compressor does (its limits): a record it refuses is
     *     dead-lettered there and changes nothing here
     */
    PublishedDocuments(DocumentCodec codec) {
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    /** Knows no document: every draft is sent (the {@code --republish} case). */
    public static PublishedDocuments none() {
        return new PublishedDocuments(DocumentCodec.withDefaults());
    }

    /**
     * Whether publishing {@code draft} would tell the topic nothing new: the topic's current record
     * of the document has the same tenant, title, text, source and metadata, and the draft either
     * names no version (ingest would stamp a new one) or names that record's version (a replay).
     * A draft naming another version is always sent: the version is the caller's to choose.
     */
    public boolean unchanged(DocumentDraft draft) {
        Known k = known.get(draft.docId());
        if (k == null || (draft.version().isPresent() && draft.version().getAsLong() != k.version())) {
            return false;
        }
        long[] content = contentDigest(draft.tenant(), draft.title(), draft.text(), draft.source(), draft.metadata());
        return content[0] == k.contentHigh() && content[1] == k.contentLow();
    }

    /** Documents the topic holds (deleted ones not counted). */
    public int documents() {
        return known.size();
    }

    /** Records read, tombstones and refused ones included. */
    public long records() {
        return records;
    }

    /**
     * Takes one record of the topic, in its partition's order.
     *
     * @param key the record key (the doc id, UTF-8); a record without one is not a document
     * @param value null for a tombstone
     */
    void accept(byte[] key, byte[] value, String contentTypeOrNull, long timestamp) {
        records++;
        if (key == null) {
            return;
        }
        String docId = new String(key, UTF_8);
        if (value == null) {
            known.remove(docId);
            return;
        }
        DocumentEvent event;
        try {
            event = codec.decodeRecord(docId, value, contentTypeOrNull, timestamp);
        } catch (BadDocumentException e) {
            return;   // the compressor dead-letters it: the document stands as it was
        }
        long[] text = digest(event.getText());
        Known before = known.get(docId);
        if (before != null && (event.getVersion() < before.version() || (event.getVersion() == before.version()
                && (text[0] != before.textHigh() || text[1] != before.textLow())))) {
            return;   // older, or a conflicting restatement: the first text of a version stands
        }
        long[] content = contentDigest(event.getTenant(), event.getTitle(), event.getText(), event.getSource(),
                event.getMetadata());
        known.put(docId, new Known(event.getVersion(), text[0], text[1], content[0], content[1]));
    }

    /** How often a read that gets nothing looks again. */
    private static final Duration POLL = Duration.ofMillis(200);

    /** Where a read stands: records read of those there were when it started. */
    @FunctionalInterface
    public interface Progress {
        void update(long read, long total);
    }

    /**
     * Reads {@code topic} from its start to where it ended when the read began (committed records
     * only: an aborted transaction's documents were never published).
     *
     * @param timeout how long the broker may take to answer any one request, and how long the read
     *     may go without a record before it fails: a large topic may take longer than that in all
     * @throws IllegalStateException when the broker does not answer or refuses the read; the
     *     message names the topic
     */
    public static PublishedDocuments read(String bootstrapServers, String topic, DocumentLimits limits, Duration timeout,
                                          Progress progress) throws InterruptedException {
        PublishedDocuments published = new PublishedDocuments(DocumentCodec.withLimits(limits));
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "sac-ingest-read");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(millis, 30_000));
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            List<TopicPartition> partitions = new ArrayList<>();
            (infos == null ? List.<PartitionInfo>of() : infos).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long total = 0;
            Set<TopicPartition> left = new HashSet<>();
            for (TopicPartition p : partitions) {
                long there = end.get(p) - begin.get(p);
                if (there > 0) {
                    total += there;
                    left.add(p);
                }
            }
            consumer.seekToBeginning(partitions);
            long lastRecord = System.nanoTime();
            progress.update(0, total);
            while (!left.isEmpty()) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("reading " + topic);
                }
                var batch = consumer.poll(POLL);
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    Header type = r.headers().lastHeader(DocumentCodec.CONTENT_TYPE_HEADER);
                    published.accept(r.key(), r.value(), type == null ? null : new String(type.value(), UTF_8), r.timestamp());
                }
                left.removeIf(p -> consumer.position(p) >= end.get(p));
                progress.update(Math.min(published.records, total), total);
                if (!batch.isEmpty()) {
                    lastRecord = System.nanoTime();
                } else if (System.nanoTime() - lastRecord > timeout.toNanos()) {
                    throw new IllegalStateException("reading the documents topic " + topic + " on " + bootstrapServers
                            + " got nothing for --timeout " + timeout.toSeconds() + "s with " + (total - published.records)
                            + " records left to read");
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new IllegalStateException("no broker at " + bootstrapServers + " answered within --timeout "
                    + timeout.toSeconds() + "s while reading the documents topic " + topic, e);
        } catch (org.apache.kafka.common.errors.AuthorizationException e) {
            throw new IllegalStateException("may not read the documents topic " + topic + " (" + e.getMessage()
                    + "): grant Read on it, or send every document with --republish", e);
        } catch (org.apache.kafka.common.errors.InterruptException e) {
            throw new InterruptedException("reading " + topic);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("cannot read the documents topic " + topic + " on " + bootstrapServers + ": "
                    + e.getMessage(), e);
        }
        return published;
    }

    private static long[] digest(String text) {
        return firstBits(sha256().digest(text.getBytes(UTF_8)));
    }

    /** Every field ingest sends but the version and publish time, each length-prefixed (null apart from empty). */
    static long[] contentDigest(String tenant, CharSequence title, CharSequence text, CharSequence source,
                                Map<? extends CharSequence, ? extends CharSequence> metadata) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + text.length());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            field(out, tenant);
            field(out, title);
            field(out, text);
            field(out, source);
            Map<String, String> sorted = new TreeMap<>();
            if (metadata != null) {
                metadata.forEach((k, v) -> sorted.put(k.toString(), v == null ? null : v.toString()));
            }
            out.writeInt(sorted.size());
            for (Map.Entry<String, String> e : sorted.entrySet()) {
                field(out, e.getKey());
                field(out, e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // a byte array does not fail
        }
        return firstBits(sha256().digest(bytes.toByteArray()));
    }

    private static void field(DataOutputStream out, CharSequence value) throws IOException {
        if (value == null) {
            out.writeInt(-1);
            return;
        }
        byte[] utf8 = value.toString().getBytes(UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static long[] firstBits(byte[] sha) {
        ByteBuffer b = ByteBuffer.wrap(sha);
        return new long[] {b.getLong(), b.getLong()};
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
