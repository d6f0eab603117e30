package dev.sacrag.query.feed;

import dev.sacrag.metrics.Durations;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Reads a whole compacted topic from its beginning and then follows it, on its own thread.
 * Every query-service replica needs every record (its index, catalog and cache are local), so
 * partitions are assigned, not subscribed: no consumer group, no offsets to commit, a restart
 * simply reads the topic again. "Caught up" = every partition read to the end offset it had
 * at start (read_committed, so the compressor's aborted transactions are never seen).
 */
public final class TopicFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TopicFollower.class);
    private static final Duration POLL = Duration.ofMillis(200);
    static final Duration RETRY = Duration.ofSeconds(1);
    /** How often the topic's partitions are looked up again: partitions an operator added are read too. */
    static final Duration PARTITION_RECHECK = Duration.ofSeconds(30);
    /**
     * How long a failure Kafka calls non-retriable (a revoked ACL, a corrupt record batch, a
     * record the consumer cannot read) may repeat, with nothing read in between, before the
     * follower stops. Retrying it keeps the replica answering from an index and catalog that no
     * longer change, while health says it serves, or never ready when it came before the end of
     * the topic; stopping marks it broken, so it is restarted or taken out of rotation and someone
     * looks. Retriable failures (a broker away) are retried for as long as they last. A topic
     * refused to this service's principal is warned of once ({@link Denial}).
     */
    static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);

    /** Applies one polled batch; must handle bad records itself (count, log, go on). */
    @FunctionalInterface
    public interface Handler {
        void handle(ConsumerRecords<byte[], byte[]> records);

        /**
         * Whether a key's last record replaces its earlier ones (a compacted topic's meaning), so a
         * failed batch need only be applied again with each key's last record (see the follower's applyBatch).
         * A handler that keeps several records of one key (the dead letters of one document from
         * several models) answers false: every record of the batch is applied again.
         */
        default boolean keepsLatestPerKey() {
            return true;
        }
    }

    private final String topic;
    private final boolean optional;
    private final Map<String, Object> config;
    private final Handler handler;
    private final Runnable onCaughtUp;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    /** Counted down by {@link #close()}: ends a wait between tries (30 s for a denied topic), and says the follower is closed. */
    private final CountDownLatch closing = new CountDownLatch(1);
    private final Thread thread;
    private volatile Consumer<byte[], byte[]> consumer;
    private volatile Runnable onStopped = () -> { };
    private Supplier<Consumer<byte[], byte[]>> consumers;
    private Duration partitionRecheck = PARTITION_RECHECK;
    private Duration giveUpAfter = GIVE_UP_AFTER;
    private Optional<String> deniedWayOut = Optional.empty();
    private Duration quietRetry = Denial.QUIET_RETRY;
    private io.micrometer.core.instrument.MeterRegistry registry;

    /** @param onCaughtUp runs once, on the follower's thread, when the topic has been read to its start-time end */
    public TopicFollower(String bootstrapServers, String topic, Handler handler, Runnable onCaughtUp) {
        this(bootstrapServers, topic, false, handler, onCaughtUp);
    }

    /**
     * A follower of a topic that may not exist (yet): while it does not, it counts as read
     * (empty, {@code onCaughtUp} runs), and it is followed from its beginning once it appears.
     * One the broker refuses to say anything of (no Describe ACL) does not count as read, since
     * it may exist: see {@link #deniedMeansEmpty}.
     */
    public static TopicFollower optional(String bootstrapServers, String topic, Handler handler, Runnable onCaughtUp) {
        return new TopicFollower(bootstrapServers, topic, true, handler, onCaughtUp);
    }

    private TopicFollower(String bootstrapServers, String topic, boolean optional, Handler handler, Runnable onCaughtUp) {
        this.topic = topic;
        this.optional = optional;
        this.config = consumerConfig(bootstrapServers, "sac-query-" + topic);
        this.consumers = () -> new KafkaConsumer<>(config);
        this.handler = handler;
        this.onCaughtUp = onCaughtUp;
        this.thread = new Thread(this::run, "sac-follow-" + topic);
        this.thread.setDaemon(true);
    }

    static Map<String, Object> consumerConfig(String bootstrapServers, String clientId) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT));
        c.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        // partitionsFor answers from the consumer's metadata, refreshed this often (5 min by default):
        // the recheck for added partitions sees them within about twice this
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, Math.toIntExact(PARTITION_RECHECK.toMillis()));
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return c;
    }

    /** How often to look for partitions added since the start (tests shorten it); set before {@link #start()}. */
    TopicFollower partitionRecheck(Duration every) {
        this.partitionRecheck = every;
        config.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, Math.toIntExact(every.toMillis()));
        return this;
    }

    /** How long a non-retriable failure may repeat before the follower stops (tests shorten it); set before {@link #start()}. */
    TopicFollower giveUpAfter(Duration after) {
        this.giveUpAfter = after;
        return this;
    }

    /** Consumer settings over the defaults (tests); set before {@link #start()}. */
    TopicFollower consumerSetting(String name, Object value) {
        config.put(name, value);
        return this;
    }

    /** The consumer to follow with instead of a {@link KafkaConsumer} of the settings (tests: a MockConsumer); set before {@link #start()}. */
    TopicFollower consumer(Supplier<Consumer<byte[], byte[]>> make) {
        this.consumers = make;
        return this;
    }

    /** How often a topic refused under {@link #deniedMeansEmpty} is tried again (tests shorten it); set before {@link #start()}. */
    TopicFollower quietRetry(Duration every) {
        this.quietRetry = every;
        return this;
    }

    /**
     * Makes a topic this service's principal may not read (no Describe or Read ACL on it) count as
     * read, as an absent optional topic does, for a topic the replica can do without: it is told
     * once at WARN, with {@code wayOut}, tried again every 30 s and read once it may be. Without
     * this, a refused topic is a failure the follower stops on after {@link #GIVE_UP_AFTER} (see
     * {@link Denial}). Set before {@link #start()}.
     *
     * @param wayOut what doing without it costs and how to stop following it, ending the warning
     */
    public TopicFollower deniedMeansEmpty(String wayOut) {
        this.deniedWayOut = Optional.of(wayOut);
        return this;
    }

    /**
     * Runs {@code action}, on the follower's thread, if it stops by itself (a failure it cannot
     * retry): this replica then no longer applies the topic's records, and should say so
     * (the query service turns health NOT_SERVING). Set before {@link #start()}.
     */
    public TopicFollower onStopped(Runnable action) {
        this.onStopped = action;
        return this;
    }

    /**
     * Publishes the consumer's own metrics (Kafka's, through Micrometer: {@code kafka_consumer_*},
     * tagged with the client id {@code sac-query-<topic>}), so that an unreachable broker shows: with
     * none, a follower polls without error and without records, and health reads SERVING over a feed
     * that has stopped ({@code kafka_consumer_connection_count} 0, {@code
     * kafka_consumer_fetch_manager_records_lag_max}). Set before {@link #start()}.
     */
    public TopicFollower metrics(io.micrometer.core.instrument.MeterRegistry registry) {
        this.registry = registry;
        return this;
    }

    public TopicFollower start() {
        thread.start();
        return this;
    }

    public String topic() {
        return topic;
    }

    public boolean isCaughtUp() {
        return caughtUp.getCount() == 0;
    }

    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run() {
        try (Consumer<byte[], byte[]> c = consumers.get();
             Unbind meters = bindMetrics(c)) {
            consumer = c;
            if (closed()) {
                return;
            }
            Denial denial = new Denial(topic, deniedWayOut, giveUpAfter, quietRetry, this::countAsRead);
            Map<TopicPartition, Long> ends = assignFromBeginning(c, denial);
            long nextRecheck = System.nanoTime() + partitionRecheck.toNanos();
            long failingSince = 0;   // nanoTime of the first of a run of non-retriable failures; 0: none
            while (!closed()) {
                try {
                    if (System.nanoTime() - nextRecheck >= 0) {
                        nextRecheck = System.nanoTime() + partitionRecheck.toNanos();
                        assignAddedPartitions(c);
                    }
                    ConsumerRecords<byte[], byte[]> records = c.poll(POLL);
                    failingSince = 0;
                    denial.polled(!records.isEmpty());
                    if (!records.isEmpty()) {
                        applyBatch(handler, topic, records);
                    }
                    if (!isCaughtUp() && reachedEnds(c, ends)) {
                        caughtUp.countDown();
                        log.info("read topic {} to its end ({} partitions)", topic, ends.size());
                        onCaughtUp.run();
                    }
                } catch (WakeupException e) {
                    return; // close()
                } catch (KafkaException e) {
                    if (Denial.isDenial(e)) {
                        sleepUnlessClosed(denial.refused(e));
                        continue;
                    }
                    if (!(e instanceof RetriableException)) {
                        long now = System.nanoTime();
                        failingSince = failingSince == 0 ? now : failingSince;
                        if (now - failingSince >= giveUpAfter.toNanos()) {
                            throw new KafkaException("following topic " + topic + " has failed for " + Durations.shown(giveUpAfter)
                                    + " with an error Kafka does not retry", e);
                        }
                    }
                    // every RETRY while the broker is away: the message, not a stack trace each time
                    log.warn("following topic {} failed; retrying in {}: {}", topic, Durations.shown(RETRY), e.toString());
                    log.debug("following topic {} failed", topic, e);
                    sleepUnlessClosed(RETRY);
                }
            }
        } catch (WakeupException e) {
            // closed while discovering partitions
        } catch (Denial.GaveUp e) {
            log.error("the follower of topic {} stopped: {}; this replica no longer applies its records", topic,
                    e.getMessage());   // the permission to grant, not a stack trace
            stopped();
        } catch (RuntimeException | Error e) {   // an Error too: the thread would end silently
            log.error("the follower of topic {} stopped: this replica no longer applies its records", topic, e);
            stopped();
        }
    }

    private void stopped() {
        if (!closed()) {
            onStopped.run();
        }
    }

    /** Removes the consumer's meters (they would read a closed consumer) when the follower stops. */
    private interface Unbind extends AutoCloseable {
        @Override
        void close();
    }

    private Unbind bindMetrics(Consumer<byte[], byte[]> c) {
        if (registry == null) {
            return () -> { };
        }
        io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics meters =
                new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(c);
        meters.bindTo(registry);
        return meters::close;
    }

    /**
     * Handlers deal with bad records themselves; anything else is a bug, logged without stopping
     * the follower. An out-of-memory error in a handler (a model loaded beside another) is logged
     * the same way: the follower thread must outlive it, or this replica would never apply another
     * record of the topic (nor become ready, when it happened while catching up).
     *
     * <p>A batch whose handler threw is applied again one record at a time, so that the records
     * after the one it failed on are not lost (the consumer is already past them). For a handler
     * that keeps the latest record per key, only each key's last record of the batch is applied
     * again, in the batch's order: applying the earlier ones again would take a key back to an
     * older version for a moment. A handler that keeps more than one record per key has every
     * record applied again ({@link Handler#keepsLatestPerKey}). After an error (out of memory, a
     * native library), the batch is not tried again: a model load that ran out of memory would
     * only run out again.
     */
    static void applyBatch(Handler handler, String topic, ConsumerRecords<byte[], byte[]> records) {
        try {
            handler.handle(records);
        } catch (RuntimeException e) {
            log.error("applying {} record(s) of topic {} failed; applying them one at a time", records.count(), topic, e);
            Iterable<ConsumerRecord<byte[], byte[]>> again = handler.keepsLatestPerKey() ? lastPerKey(records) : records;
            for (ConsumerRecord<byte[], byte[]> r : again) {
                try {
                    handler.handle(new ConsumerRecords<>(Map.of(new TopicPartition(r.topic(), r.partition()), List.of(r)),
                            Map.of()));
                } catch (RuntimeException | OutOfMemoryError | LinkageError one) {
                    log.error("applying record {}-{}@{} of topic {} failed; skipping it", r.topic(), r.partition(),
                            r.offset(), topic, one);
                }
            }
        } catch (OutOfMemoryError | LinkageError e) {
            log.error("applying {} record(s) of topic {} failed; going on with the next batch", records.count(), topic, e);
        }
    }

    /** Each key's last record of the batch (a record without a key stands alone), in the order of those last records. */
    private static List<ConsumerRecord<byte[], byte[]>> lastPerKey(ConsumerRecords<byte[], byte[]> records) {
        Map<Object, ConsumerRecord<byte[], byte[]>> last = new java.util.LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Object key = r.key() == null ? r : java.util.List.of(r.partition(), java.nio.ByteBuffer.wrap(r.key()));
            last.remove(key);   // re-inserted: the map's order is that of each key's last record
            last.put(key, r);
        }
        return List.copyOf(last.values());
    }

    /**
     * Partitions added to the topic since they were assigned are assigned too, from their beginning;
     * without this their records were never read. (Adding partitions to the keyed documents topic
     * is no way to scale the compressors: see compressor-stream's README.)
     */
    private void assignAddedPartitions(Consumer<byte[], byte[]> c) {
        List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(5));
        if (infos == null) {
            return;
        }
        Set<TopicPartition> assigned = c.assignment();
        List<TopicPartition> added = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition()))
                .filter(tp -> !assigned.contains(tp)).toList();
        if (added.isEmpty()) {
            return;
        }
        Set<TopicPartition> all = new HashSet<>(assigned);
        all.addAll(added);
        c.assign(all);   // the partitions already assigned keep their positions
        c.seekToBeginning(added);
        log.info("topic {} has {} new partition(s) {}: reading them from their beginning", topic, added.size(), added);
    }

    /**
     * Assigns every partition of the topic, waiting (with {@code backoff}) for it to exist, seeks
     * to the beginning and returns each partition's end offset now. A topic the broker refuses to
     * this principal fails at once: waiting would not bring it.
     */
    static Map<TopicPartition, Long> assignFromBeginning(Consumer<byte[], byte[]> c, String topic, Runnable backoff) {
        boolean warned = false;
        while (true) {
            try {
                Optional<Map<TopicPartition, Long>> ends = tryAssignFromBeginning(c, topic);
                if (ends.isPresent()) {
                    return ends.get();
                }
                if (!warned) {
                    log.warn("topic {} does not exist yet; waiting for it", topic);
                }
                warned = true;
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                if (Denial.isDenial(e)) {   // waiting would not bring it, and "not found" would mislead
                    throw new IllegalStateException("the broker refuses topic " + topic + " to this principal: it needs"
                            + " Describe and Read on the topic (" + e.getMessage() + ")", e);
                }
                log.warn("cannot read the partitions of topic {} yet: {}", topic, e.getMessage());
            }
            backoff.run();
        }
    }

    /**
     * As above, for this follower: an optional topic that does not exist counts as read; one that
     * cannot be looked up (no broker answers) does not: it may hold what must be applied first. A
     * refused one is the {@link Denial}'s.
     */
    private Map<TopicPartition, Long> assignFromBeginning(Consumer<byte[], byte[]> c, Denial denial) {
        boolean warned = false;
        while (true) {
            Duration wait = RETRY;
            try {
                Optional<Map<TopicPartition, Long>> ends = tryAssignFromBeginning(c, topic);
                if (ends.isPresent()) {
                    return ends.get();
                }
                denial.absent();
                if (optional) {
                    absentMeansEmpty();
                } else if (!warned) {
                    log.warn("topic {} does not exist yet; waiting for it", topic);
                    warned = true;
                }
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                if (Denial.isDenial(e)) {
                    wait = denial.refused(e);
                } else {
                    log.warn("cannot read the partitions of topic {} yet: {}", topic, e.getMessage());
                }
            }
            sleepUnlessClosed(wait);
        }
    }

    /** Every partition of the topic assigned from its beginning, with its end offset now; empty when the topic does not exist. */
    private static Optional<Map<TopicPartition, Long>> tryAssignFromBeginning(Consumer<byte[], byte[]> c, String topic) {
        List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(5));
        if (infos == null || infos.isEmpty()) {
            return Optional.empty();
        }
        List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        c.assign(partitions);
        c.seekToBeginning(partitions);
        return Optional.of(c.endOffsets(partitions));
    }

    static boolean reachedEnds(Consumer<byte[], byte[]> c, Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (c.position(end.getKey(), Duration.ofSeconds(5)) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void absentMeansEmpty() {
        if (!isCaughtUp()) {
            log.info("optional topic {} does not exist (yet): nothing to read; following it once it does", topic);
            countAsRead();
        }
    }

    /** The topic counts as read without being read (absent, or refused under {@link #deniedMeansEmpty}). */
    private void countAsRead() {
        if (!isCaughtUp()) {
            caughtUp.countDown();
            onCaughtUp.run();
        }
    }

    /** Waits {@code d} between two tries; {@link #close()} ends the wait. */
    private void sleepUnlessClosed(Duration d) {
        try {
            if (closing.await(d.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new WakeupException();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        }
    }

    private boolean closed() {
        return closing.getCount() == 0;
    }

    @Override
    public void close() {
        closing.countDown();
        Consumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
