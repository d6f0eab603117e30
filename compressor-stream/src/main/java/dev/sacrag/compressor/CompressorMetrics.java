package dev.sacrag.compressor;

import dev.sacrag.schemas.BadDocumentException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * What the compressor counts, in Micrometer (scraped as Prometheus text by {@link dev.sacrag.metrics.MetricsServer};
 * dots become underscores and counters get {@code _total}). Tags have small fixed value sets
 * (topic, reason, outcome), never doc ids or tenants, and each counter is registered at 0 with every
 * value of its set when the compressor starts (see {@code Family}).
 *
 * <p>Counters count attempts: a record whose transaction aborted (a Redis outage that failed the
 * task, a crash) is processed again after the restart and counted again. The topics (the catalog,
 * the dead-letter topic) hold the committed totals.
 *
 * <ul>
 * <li>{@code sac.compressor.records.in{topic}}: records read, bad ones included</li>
 * <li>{@code sac.compressor.documents.compressed}: blobs computed and written</li>
 * <li>{@code sac.compressor.documents.skipped{reason=older|not-newer|replayed}}: versions not newer than the
 *     compressed one (replayed: that very version and text again)</li>
 * <li>{@code sac.compressor.documents.deduplicated}: same content as the compressed version, blob reused</li>
 * <li>{@code sac.compressor.documents.dead.lettered{reason}}: records sent to the dead-letter topic (reasons: a bad
 *     record's, {@link BadDocumentException.Reason}, and COMPRESSION_FAILED, ENGINE_OOM, PROCESSING_FAILED)</li>
 * <li>{@code sac.compressor.documents.deleted}: tombstones of documents this model had compressed</li>
 * <li>{@code sac.compressor.recompress.requests{outcome}}: rebuilt, present, unknown-doc, unreadable-doc, other-model,
 *     too-large, failed (the tokenizer or the model threw, or the request failed its stream thread until it was
 *     set aside: dead-lettered), malformed (a request that does not
 *     parse: dead-lettered); every request has one outcome</li>
 * <li>{@code sac.compressor.blobs.rebuilt.again}: blobs rebuilt on request within 10 minutes of their last
 *     rebuild: Redis dropped them in between (evicting to make room, most likely); not across a Redis restart</li>
 * <li>{@code sac.compressor.failures{kind}}: redis (one failed attempt), redis-oom (one attempt Redis refused for
 *     its memory: maxmemory reached), redis-gave-up (budget spent,
 *     task failed), thread-replaced, slow-compression (over --max-compress-time), engine-oom (the model ran out of
 *     memory on a document: the task failed and retries it, nothing dead-lettered)</li>
 * <li>{@code sac.compressor.compress.time}: tokenize + compress + encode, per document (buckets:
 *     {@link #compressTimeBuckets})</li>
 * <li>{@code sac.compressor.bytes.written}: blob bytes written to Redis, copies of reused blobs included</li>
 * </ul>
 */
public final class CompressorMetrics {

    static final String PREFIX = "sac.compressor.";

    /** The skip reasons, recompress outcomes and failure kinds: every value each counter is tagged with. */
    private static final List<String> SKIP_REASONS = List.of("older", "not-newer", "replayed");
    private static final List<String> RECOMPRESS_OUTCOMES = List.of("rebuilt", "present", "unknown-doc", "unreadable-doc",
            "other-model", "too-large", "failed", "malformed");
    private static final List<String> FAILURE_KINDS = List.of("redis", "redis-oom", "redis-gave-up", "thread-replaced",
            "slow-compression", "engine-oom");
    /** A bad record's reasons, and a model's refusals of a document. */
    private static final List<String> DEAD_LETTER_REASONS = Stream.concat(
            Arrays.stream(BadDocumentException.Reason.values()).map(Enum::name),
            Stream.of(DeadLetters.COMPRESSION_FAILED, DeadLetters.ENGINE_OOM, DeadLetters.PROCESSING_FAILED)).toList();

    /**
     * A counter's name, HELP text and tag; {@code values} are those it is registered with at 0 (none:
     * untagged). Registered at start-up, so that each is scraped before its first event: a series that
     * appears at its first increment has no earlier sample, and Prometheus's increase() and rate()
     * take that first event for the series' start, counting nothing.
     */
    private record Family(String name, String description, String tag, List<String> values) {

        static Family untagged(String name, String description) {
            return new Family(name, description, null, List.of());
        }

        Counter counter(MeterRegistry registry, String value) {
            Counter.Builder b = Counter.builder(PREFIX + name).description(description);
            return (tag == null ? b : b.tag(tag, value)).register(registry);
        }

        void registerAtZero(MeterRegistry registry) {
            if (tag == null) {
                counter(registry, null);
            } else {
                values.forEach(v -> counter(registry, v));
            }
        }
    }

    private static final Family COMPRESSED = Family.untagged("documents.compressed",
            "Documents compressed and their blob written to Redis");
    private static final Family SKIPPED = new Family("documents.skipped",
            "Versions not newer than the compressed one, by reason (" + String.join(", ", SKIP_REASONS) + ")", "reason",
            SKIP_REASONS);
    private static final Family DEDUPLICATED = Family.untagged("documents.deduplicated",
            "Versions with the compressed version's text: its blob reused, not compressed again");
    private static final Family DEAD_LETTERED = new Family("documents.dead.lettered",
            "Records sent to the dead-letter topic, by reason", "reason", DEAD_LETTER_REASONS);
    private static final Family DELETED = Family.untagged("documents.deleted",
            "Tombstones of documents this model had compressed: blob and catalog entry removed");
    private static final Family REBUILT_AGAIN = Family.untagged("blobs.rebuilt.again",
            "Blobs rebuilt on request within 10 minutes of their last rebuild: Redis dropped them in between (evicted to"
                    + " make room, most likely; a Redis restart in between does not count)");
    private static final Family RECOMPRESS = new Family("recompress.requests",
            "Recompress requests, by outcome (one each)", "outcome", RECOMPRESS_OUTCOMES);
    private static final Family FAILURES = new Family("failures", "Failed attempts, by kind ("
            + String.join(", ", FAILURE_KINDS) + ")", "kind", FAILURE_KINDS);

    private final MeterRegistry registry;
    private final Family recordsIn;
    private final Timer compressTime;
    private final Counter bytesWritten;

    /**
     * @param topics the documents and recompress topics are the ones records are read from, counted by topic
     * @param maxCompressTime {@code --max-compress-time}: the compress-time buckets reach past it
     */
    public CompressorMetrics(MeterRegistry registry, CompressorTopics topics, Duration maxCompressTime) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.recordsIn = new Family("records.in", "Records read, by topic, bad ones included", "topic",
                List.of(topics.documents(), topics.recompress()));
        for (Family f : List.of(recordsIn, COMPRESSED, SKIPPED, DEDUPLICATED, DEAD_LETTERED, DELETED, REBUILT_AGAIN,
                RECOMPRESS, FAILURES)) {
            f.registerAtZero(registry);
        }
        this.compressTime = Timer.builder(PREFIX + "compress.time")
                .description("Tokenize + compress + encode time per document")
                .serviceLevelObjectives(compressTimeBuckets(maxCompressTime))
                .register(registry);
        this.bytesWritten = Counter.builder(PREFIX + "bytes.written").baseUnit("bytes")
                .description("Anchor-KV blob bytes written to Redis").register(registry);
    }

    /** Bounds of the compress-time buckets under {@code --max-compress-time}, which is a bound itself. */
    private static final List<Duration> COMPRESS_TIME_BOUNDS = LongStream.of(50, 100, 250, 500, 1_000, 2_500, 5_000,
            10_000, 30_000).mapToObj(Duration::ofMillis).toList();

    /**
     * The compress-time histogram's bucket bounds ({@code _bucket{le=...}}): those of
     * {@link #COMPRESS_TIME_BOUNDS} below {@code --max-compress-time}, that time itself (so the share
     * of compressions over it reads off one bucket, as {@code failures{kind="slow-compression"}}
     * counts them) and twice it, then +Inf. Micrometer's percentile histogram had ~70 buckets per
     * series, and none past 30 s where the limit defaults to 60 s: every slow compression was +Inf.
     */
    static Duration[] compressTimeBuckets(Duration maxCompressTime) {
        Stream<Duration> below = COMPRESS_TIME_BOUNDS.stream().filter(b -> b.compareTo(maxCompressTime) < 0);
        return Stream.concat(below, Stream.of(maxCompressTime, maxCompressTime.multipliedBy(2))).toArray(Duration[]::new);
    }

    public MeterRegistry registry() {
        return registry;
    }

    void recordIn(String topic) {
        recordsIn.counter(registry, topic).increment();
    }

    void compressed(Duration took, long bytes) {
        COMPRESSED.counter(registry, null).increment();
        compressTime.record(took);
        bytesWritten.increment(bytes);
    }

    /** A blob written again under a new key (a version of the same text, a tenant move): bytes written, no compression. */
    void copied(long bytes) {
        bytesWritten.increment(bytes);
    }

    void skipped(String reason) {
        SKIPPED.counter(registry, reason).increment();
    }

    void deduplicated() {
        DEDUPLICATED.counter(registry, null).increment();
    }

    void deadLettered(String reason) {
        DEAD_LETTERED.counter(registry, reason).increment();
    }

    void deleted() {
        DELETED.counter(registry, null).increment();
    }

    void rebuiltAgain() {
        REBUILT_AGAIN.counter(registry, null).increment();
    }

    void recompress(String outcome) {
        RECOMPRESS.counter(registry, outcome).increment();
    }

    void failure(String kind) {
        FAILURES.counter(registry, kind).increment();
    }

    /**
     * Current value of a counter this class writes, summed over the label values {@code tags} leaves
     * open (every one is registered, at 0 until it counts); 0 when it was never incremented.
     */
    public double count(String name, String... tags) {
        return registry.find(PREFIX + name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }
}
