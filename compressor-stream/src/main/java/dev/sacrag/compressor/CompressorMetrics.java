package dev.sacrag.compressor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Objects;

/**
 * What the compressor counts, in Micrometer (scraped as Prometheus text by {@link dev.sacrag.metrics.MetricsServer};
 * dots become underscores and counters get {@code _total}). Tags have small fixed value sets
 * (topic, reason, outcome), never doc ids or tenants.
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
 * <li>{@code sac.compressor.documents.dead.lettered{reason}}: records sent to the dead-letter topic</li>
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
 * <li>{@code sac.compressor.compress.time}: tokenize + compress + encode, per document</li>
 * <li>{@code sac.compressor.bytes.written}: blob bytes written to Redis, copies of reused blobs included</li>
 * </ul>
 */
public final class CompressorMetrics {

    static final String PREFIX = "sac.compressor.";

    private final MeterRegistry registry;
    private final Timer compressTime;
    private final Counter bytesWritten;

    public CompressorMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.compressTime = Timer.builder(PREFIX + "compress.time")
                .description("Tokenize + compress + encode time per document")
                .publishPercentileHistogram()
                .register(registry);
        this.bytesWritten = Counter.builder(PREFIX + "bytes.written").baseUnit("bytes")
                .description("Anchor-KV blob bytes written to Redis").register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    void recordIn(String topic) {
        increment("records.in", "Records read, by topic, bad ones included", "topic", topic);
    }

    void compressed(Duration took, long bytes) {
        increment("documents.compressed", "Documents compressed and their blob written to Redis");
        compressTime.record(took);
        bytesWritten.increment(bytes);
    }

    /** A blob written again under a new key (a version of the same text, a tenant move): bytes written, no compression. */
    void copied(long bytes) {
        bytesWritten.increment(bytes);
    }

    void skipped(String reason) {
        increment("documents.skipped", "Versions not newer than the compressed one, by reason (older, not-newer, replayed)",
                "reason", reason);
    }

    void deduplicated() {
        increment("documents.deduplicated", "Versions with the compressed version's text: its blob reused, not compressed again");
    }

    void deadLettered(String reason) {
        increment("documents.dead.lettered", "Records sent to the dead-letter topic, by reason", "reason", reason);
    }

    void deleted() {
        increment("documents.deleted", "Tombstones of documents this model had compressed: blob and catalog entry removed");
    }

    void rebuiltAgain() {
        increment("blobs.rebuilt.again", "Blobs rebuilt on request within 10 minutes of their last rebuild: Redis dropped"
                + " them in between (evicted to make room, most likely; a Redis restart in between does not count)");
    }

    void recompress(String outcome) {
        increment("recompress.requests", "Recompress requests, by outcome (one each)", "outcome", outcome);
    }

    void failure(String kind) {
        increment("failures", "Failed attempts, by kind (redis, redis-oom, redis-gave-up, thread-replaced, slow-compression,"
                + " engine-oom)", "kind", kind);
    }

    /**
     * Every counter is built with its description: Prometheus prints it as the metric's HELP, which
     * {@code registry.counter(name, tags)} leaves empty (the first registration of a name sets it).
     */
    private void increment(String name, String description, String... tags) {
        Counter.builder(PREFIX + name).tags(tags).description(description).register(registry).increment();
    }

    /** Current value of a counter this class writes; 0 when it was never incremented. */
    public double count(String name, String... tags) {
        Counter c = registry.find(PREFIX + name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }
}
