package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.CatalogKey;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.SchemaHistory;
import dev.sacrag.schemas.Succession;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What the documents topic and the catalog say of the documents of one {@code sac ingest} run,
 * read before it publishes, so that a document sent again as it is, and compressed as it is, is
 * not published again. Without it, every run over a folder gave each unchanged file a new
 * version: a catalog entry per document and model, a copy of each blob under the new key (Redis
 * holding both until the old one's expiry) and a pass of every query replica's index.
 *
 * <p>A draft is left out only when both agree that sending it changes nothing:
 * <ul>
 * <li>the documents topic's standing record of the document has the same tenant, title, text,
 * source and metadata, and the draft names no version or that record's. The standing record
 * follows the compressor's rule ({@link dev.sacrag.schemas.Succession}): a higher version
 * replaces it, the same version with the same text restates it, a lower version or the same
 * version with other text is ignored, a tombstone forgets it. A record this reader cannot decode
 * (other limits or a newer schema than this build's) forgets it too: sent, never wrongly kept;</li>
 * <li>the catalog holds that version and text for at least one model, and no other version or
 * text for any. This is what the topic alone cannot show: a version a compressor refused (too
 * many tokens, out of memory: publishing it again is how it is retried), one not compressed yet,
 * and a compressor that kept another version than the one left last on the topic (compaction
 * keeps the last record by offset, the compressor the highest version).</li>
 * </ul>
 * Sending a document that would have been left out costs a blob copy; leaving out one that
 * should have been sent loses an update, so every doubt sends.
 *
 * <p>Only the run's own documents are decoded and kept (the version, tenant, text hash and a
 * digest: a few hundred bytes each), but the read costs what the topics hold: {@code --republish}
 * skips it.
 *
 * <p>The catalog's and the dead-letter topic's records that are not of their kind are counted
 * ({@link Tally}): a {@code --catalog-topic} naming the documents topic reads as a catalog that
 * holds nothing, and sends every document without a word otherwise.
 */
public final class PublishedDocuments {

    /**
     * A document's standing record: its version and tenant, the {@link ContentHash} of its text (what
     * the catalog and dead letters name), and a digest (the first 128 bits of SHA-256) of all it says.
     */
    private record Known(long version, String tenant, String textHash, long contentHigh, long contentLow) {
    }

    /**
     * A version and text (its {@link ContentHash}) a catalog entry holds, with its tenant, or a dead
     * letter refused (tenant null); version -1 and no hash for an entry this build cannot read.
     */
    private record Held(long version, String tenant, String textHash) {

        boolean holds(Known k) {
            return version == k.version() && k.textHash().equals(textHash);
        }
    }

    /** Disagrees with any version: the document is sent. */
    private static final Held UNREADABLE = new Held(-1, null, null);

    private final Map<String, Known> known = new HashMap<>();
    /** docId, then modelId: the catalog's entries of the run's documents. */
    private final Map<String, Map<String, Held>> held = new HashMap<>();
    /** docId: the versions and texts a dead letter refused, for any model. */
    private final Map<String, List<Held>> refused = new HashMap<>();
    private final DocumentCodec codec;
    private final BinaryMessageDecoder<AnchorCacheRecord> catalogDecoder = SchemaHistory.anchorCacheRecordDecoder();
    private final Predicate<String> wanted;
    private boolean catalogFound;
    private boolean deadLetterFound;
    /** Records the catalog read held, and of them those that are no catalog entry this build reads. */
    private long catalogRecords;
    private long catalogUnreadable;
    /** Records the dead-letter read held, and of them those without the header every dead letter has. */
    private long deadLetterRecords;
    private long notDeadLetters;

    /**
     * @param codec decodes documents as the compressor does (its limits)
     * @param wanted the doc ids of the run: records of other documents are not decoded or kept
     */
    PublishedDocuments(DocumentCodec codec, Predicate<String> wanted) {
        this.codec = Objects.requireNonNull(codec, "codec");
        this.wanted = Objects.requireNonNull(wanted, "wanted");
    }

    /** Knows no document: every draft is sent (the {@code --republish} case). */
    public static PublishedDocuments none() {
        return new PublishedDocuments(DocumentCodec.withDefaults(), id -> false);
    }

    /** Whether publishing {@code draft} would change nothing (see the class comment); false when in doubt. */
    public boolean unchanged(DocumentDraft draft) {
        Known k = known.get(draft.docId());
        if (k == null || (draft.version().isPresent() && draft.version().getAsLong() != k.version())) {
            return false;
        }
        long[] content = contentDigest(draft.tenant(), draft.title(), ContentHash.of(draft.text()), draft.source(),
                draft.metadata());
        if (content[0] != k.contentHigh() || content[1] != k.contentLow()) {
            return false;
        }
        Map<String, Held> models = held.get(draft.docId());
        if (models == null || models.isEmpty()) {
            return false;   // no compressor holds it: refused, or not compressed yet
        }
        for (Held h : models.values()) {
            if (!h.holds(k) || !k.tenant().equals(h.tenant())) {
                return false;
            }
        }
        // a model that refused it has no entry to disagree: publishing it again is how it retries
        return refused.getOrDefault(draft.docId(), List.of()).stream().noneMatch(r -> r.holds(k));
    }

    /**
     * Why sending {@code draft} would change nothing but the topic, when the version it names is below
     * the topic's standing one, or that one with other text: the compressors and the query services'
     * index take the record as {@link Succession#OLDER} or {@link Succession#CONFLICTING} and ignore it,
     * so the run would count it published while every question still reads the standing text; and as
     * the last record of its key, it is the one compaction keeps. Empty when it may be sent: a draft
     * naming no version (the publisher stamps the time), or one of a document this read does not know.
     */
    public Optional<String> ignored(DocumentDraft draft) {
        Known k = known.get(draft.docId());
        if (k == null) {
            return Optional.empty();
        }
        if (draft.version().isEmpty()) {   // stamped above the standing one (DocumentPublisher), unless there is none
            return k.version() < Long.MAX_VALUE ? Optional.empty() : Optional.of("the topic's v" + k.version()
                    + " is the highest version a document can have, so no version can follow it: delete the document"
                    + " ('sac delete'), then publish it again");
        }
        long version = draft.version().getAsLong();
        return switch (Succession.of(version, ContentHash.of(draft.text()), k.version(), k.textHash())) {
            case OLDER -> Optional.of("v" + version + " is older than the topic's v" + k.version()
                    + ": the compressors and the query services would ignore it, so it is not sent (publish a version"
                    + " above " + k.version() + ", or name none)");
            case CONFLICTING -> Optional.of("v" + version + " is on the topic with other text, and the first text of a"
                    + " version stands: the compressors and the query services would ignore this one, so it is not sent"
                    + " (publish a version above " + k.version() + ", or name none)");
            case NEWER, RESTATED -> Optional.empty();
        };
    }

    /**
     * The version the documents topic holds for {@code docId}, if this read knows one: a draft naming
     * no version must be stamped above it, or its readers ignore it as older (a clock behind the one
     * that stamped the standing version, or a producer that numbers its own versions).
     */
    public java.util.OptionalLong standingVersion(String docId) {
        Known k = known.get(docId);
        return k == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(k.version());
    }

    /** The run's documents the documents topic holds (deleted ones not counted). */
    public int documents() {
        return known.size();
    }

    /**
     * What a read found of the catalog or the dead-letter topic, so that a name that is not the topic
     * in use can be told from a topic that holds nothing of the run's documents.
     *
     * @param found whether the topic exists: without the catalog no document counts as compressed
     *     and all are sent; without the dead-letter topic no refusal is known
     * @param records the records read
     * @param unreadable those of them that are not what the topic holds: for the catalog, a key that
     *     is no {@code <docId>|<modelId>}, or an entry of one of the run's documents this build cannot
     *     decode (other entries are not decoded); for the dead-letter topic, a record without the
     *     {@value DeadLetterHeaders#ERROR_REASON} header every compressor's dead letter carries
     */
    public record Tally(boolean found, long records, long unreadable) {

        /** Whether every record read was unreadable: the topic named is not of the kind (the documents topic, say). */
        public boolean noneReadable() {
            return records > 0 && unreadable == records;
        }
    }

    /** The catalog as read (see {@link Tally}). */
    public Tally catalog() {
        return new Tally(catalogFound, catalogRecords, catalogUnreadable);
    }

    /** The dead-letter topic as read (see {@link Tally}). */
    public Tally deadLetters() {
        return new Tally(deadLetterFound, deadLetterRecords, notDeadLetters);
    }

    /** Takes one record of the documents topic, in its partition's order; {@code value} null for a tombstone. */
    void accept(byte[] key, byte[] value, String contentTypeOrNull, long timestamp) {
        if (key == null) {
            return;
        }
        String docId = new String(key, UTF_8);
        if (!wanted.test(docId)) {
            return;
        }
        if (value == null) {
            known.remove(docId);
            return;
        }
        DocumentEvent event;
        try {
            event = codec.decodeRecord(docId, value, contentTypeOrNull, timestamp);
        } catch (BadDocumentException e) {
            // dead-lettered, or a record the compressor took under other limits or a newer schema than
            // this reader's: which it is, is not known here, so the document is sent
            known.remove(docId);
            return;
        }
        String text = ContentHash.of(event.getText());
        Known before = known.get(docId);
        if (before != null && !Succession.of(event.getVersion(), text, before.version(), before.textHash()).replaces()) {
            return;   // older, or a conflicting restatement: the first text of a version stands
        }
        long[] content = contentDigest(event.getTenant(), event.getTitle(), text, event.getSource(), event.getMetadata());
        known.put(docId, new Known(event.getVersion(), event.getTenant(), text, content[0], content[1]));
    }

    /** Takes one record of the catalog topic (key {@code <docId>|<modelId>}); {@code value} null for a tombstone. */
    void acceptCatalog(byte[] key, byte[] value) {
        catalogRecords++;
        CatalogKey k;
        try {
            k = CatalogKey.parse(key == null ? "" : new String(key, UTF_8));
        } catch (IllegalArgumentException e) {
            catalogUnreadable++;
            return;   // not a catalog entry (the query services skip it too)
        }
        if (!wanted.test(k.docId())) {
            return;
        }
        if (value == null) {
            Map<String, Held> models = held.get(k.docId());
            if (models != null) {
                models.remove(k.modelId());
            }
            return;
        }
        Held h = UNREADABLE;
        try {
            AnchorCacheRecord r = catalogDecoder.decode(value);
            h = new Held(r.getDocVersion(), r.getTenant(), r.getContentHash());
        } catch (IOException | RuntimeException e) {
            catalogUnreadable++;   // an entry this build cannot read: the document is sent
        }
        held.computeIfAbsent(k.docId(), id -> new HashMap<>()).put(k.modelId(), h);
    }

    /**
     * Takes one record of the dead-letter topic: the version and text it refused, for whichever
     * model ({@link DeadLetter#read}); one that names none changes nothing.
     */
    void acceptDeadLetter(byte[] key, byte[] value, long timestamp, java.util.function.Function<String, String> header,
                          String documentsTopic) {
        deadLetterRecords++;
        if (header.apply(DeadLetterHeaders.ERROR_REASON) == null) {
            notDeadLetters++;   // counted only: what it refused is still DeadLetter.read's to say
        }
        DeadLetter.read(key, value, timestamp, header, documentsTopic, codec)
                .filter(d -> wanted.test(d.docId()))
                .ifPresent(d -> refused.computeIfAbsent(d.docId(), id -> new ArrayList<>())
                        .add(new Held(d.version(), null, d.contentHash())));
    }

    /** How often a read that gets nothing looks again. */
    private static final Duration POLL = Duration.ofMillis(200);

    /** Where a read stands: offsets read of those the topics held when it started. */
    @FunctionalInterface
    public interface Progress {
        void update(long read, long total);
    }

    /** A topic this principal may not read: the caller may send every document instead. */
    public static final class NotReadable extends IllegalStateException {
        NotReadable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The topics read: the documents topic (what is published), the catalog (what compressors
     * hold) and the dead-letter topic (what they refused).
     */
    public record Topics(String documents, String catalog, String deadLetter) {

        public Topics {
            java.util.Objects.requireNonNull(documents, "documents");
            java.util.Objects.requireNonNull(catalog, "catalog");
            java.util.Objects.requireNonNull(deadLetter, "deadLetter");
        }

        @Override
        public String toString() {
            return documents + ", " + catalog + " and " + deadLetter;
        }
    }

    /**
     * Reads the three topics, each from its start to where it ended when the read began (committed
     * records only), keeping what concerns {@code docIds}.
     *
     * @param timeout how long the broker may take to answer a request (at most 30 s of it for one
     *     fetch), and how long the read may go without moving before it fails: a large topic may take
     *     longer than that in all
     * @throws NotReadable when the principal may not read one of them
     * @throws IllegalStateException when the broker does not answer, or a topic's records went
     *     (deleted, or expired by retention) while it was read; the message names the topic
     */
    public static PublishedDocuments read(String bootstrapServers, Topics topics, DocumentLimits limits, Set<String> docIds,
                                          Duration timeout, Progress progress) throws InterruptedException {
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "sac-ingest-read");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // records gone under the read (DeleteRecords, retention) fail it, rather than jump to the end as read
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(millis, 30_000));
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
            return read(consumer, bootstrapServers, topics, limits, docIds, timeout, progress);
        }
    }

    /** As above, with the caller's consumer (tests: a MockConsumer); it is left open. */
    static PublishedDocuments read(Consumer<byte[], byte[]> consumer, String bootstrapServers, Topics topics,
                                   DocumentLimits limits, Set<String> docIds, Duration timeout, Progress progress)
            throws InterruptedException {
        PublishedDocuments published = new PublishedDocuments(DocumentCodec.withLimits(limits), docIds::contains);
        String reading = topics.documents();
        try {
            // a set: one topic named twice (--catalog-topic naming the documents topic) is read once, in each role
            Set<TopicPartition> all = new LinkedHashSet<>(partitions(consumer, topics.documents(), timeout));
            reading = topics.catalog();
            List<TopicPartition> catalog = partitions(consumer, topics.catalog(), timeout);
            published.catalogFound = !catalog.isEmpty();
            all.addAll(catalog);
            reading = topics.deadLetter();
            List<TopicPartition> deadLetters = partitions(consumer, topics.deadLetter(), timeout);   // none yet: nothing refused
            published.deadLetterFound = !deadLetters.isEmpty();
            all.addAll(deadLetters);
            reading = topics.toString();
            readToEnd(consumer, List.copyOf(all), timeout, progress, r -> {
                if (r.topic().equals(topics.documents())) {
                    published.accept(r.key(), r.value(), header(r, DocumentCodec.CONTENT_TYPE_HEADER), r.timestamp());
                }
                if (r.topic().equals(topics.catalog())) {
                    published.acceptCatalog(r.key(), r.value());
                }
                if (r.topic().equals(topics.deadLetter())) {
                    published.acceptDeadLetter(r.key(), r.value(), r.timestamp(), name -> header(r, name),
                            topics.documents());
                }
            });
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new IllegalStateException("no broker at " + bootstrapServers + " answered within --timeout "
                    + timeout.toSeconds() + "s while reading " + reading, e);
        } catch (org.apache.kafka.common.errors.AuthorizationException e) {
            throw new NotReadable("may not read " + reading + " (" + e.getMessage() + ")", e);
        } catch (org.apache.kafka.common.errors.InterruptException e) {
            Thread.interrupted();   // Kafka set the flag again; the exception thrown instead says it
            InterruptedException stop = new InterruptedException("interrupted while reading " + reading);
            stop.initCause(e);
            throw stop;
        } catch (org.apache.kafka.clients.consumer.InvalidOffsetException e) {
            throw new IllegalStateException("records of " + reading + " went while they were read (deleted, or expired"
                    + " by retention): run ingest again", e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("cannot read " + reading + " on " + bootstrapServers + ": " + e.getMessage(), e);
        }
        return published;
    }

    /** A header of {@code r} as text; null when absent. */
    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : DeadLetter.text(h.value());
    }

    /** A topic's partitions; none when it does not exist (the caller's earlier check said whether that matters). */
    private static List<TopicPartition> partitions(Consumer<byte[], byte[]> consumer, String topic, Duration timeout) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        List<TopicPartition> out = new ArrayList<>();
        (infos == null ? List.<PartitionInfo>of() : infos).forEach(p -> out.add(new TopicPartition(topic, p.partition())));
        return out;
    }

    /**
     * Reads {@code partitions} from their beginning to their end as of now, handing each record
     * over in its partition's order. Fails when no position moves for {@code timeout}: positions
     * move past compacted gaps, aborted transactions and control records too, without a record.
     */
    static void readToEnd(Consumer<byte[], byte[]> consumer, List<TopicPartition> partitions, Duration timeout,
                          Progress progress, java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> handler)
            throws InterruptedException {
        consumer.assign(partitions);
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        long total = 0;
        Map<TopicPartition, Long> left = new HashMap<>();
        for (TopicPartition p : partitions) {
            long there = end.get(p) - begin.get(p);
            if (there > 0) {
                total += there;
                left.put(p, begin.get(p));
            }
        }
        consumer.seekToBeginning(partitions);
        long moved = System.nanoTime();
        long done = 0;
        progress.update(0, total);
        while (!left.isEmpty()) {
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while reading " + left.keySet());
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                handler.accept(r);
            }
            boolean any = false;
            for (var it = left.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<TopicPartition, Long> e = it.next();
                long position = Math.min(consumer.position(e.getKey(), timeout), end.get(e.getKey()));
                if (position > e.getValue()) {
                    done += position - e.getValue();
                    e.setValue(position);
                    any = true;
                }
                if (position >= end.get(e.getKey())) {
                    it.remove();
                }
            }
            progress.update(done, total);
            if (any) {
                moved = System.nanoTime();
            } else if (System.nanoTime() - moved > timeout.toNanos()) {
                throw new IllegalStateException("reading " + left.keySet() + " moved no further for --timeout "
                        + timeout.toSeconds() + "s with " + (total - done) + " offsets left to read");
            }
        }
    }

    /**
     * Every field ingest sends but the version and publish time, each length-prefixed (null apart
     * from empty); the text as its {@link ContentHash}, which the caller has already (the text is
     * the long field: hashed once, not twice).
     */
    static long[] contentDigest(String tenant, CharSequence title, String textHash, CharSequence source,
                                Map<? extends CharSequence, ? extends CharSequence> metadata) {
        MessageDigest sha = sha256();
        try (DataOutputStream out = new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), sha))) {
            field(out, tenant);
            field(out, title);
            field(out, textHash);
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
            throw new UncheckedIOException(e);   // a digest does not fail
        }
        return firstBits(sha.digest());
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
