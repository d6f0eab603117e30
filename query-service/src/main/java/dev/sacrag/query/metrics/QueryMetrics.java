package dev.sacrag.query.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Every meter of the query service, by name, in one place. Counters and timers are scraped from
 * start-up, at 0, with each value of their labels (the RPCs and gRPC codes, the followed topics,
 * once told them), so that increase() counts their first event. Prometheus names (as scraped):
 * <ul>
 * <li>{@code sac_query_requests_total{rpc,status}}: finished RPCs by gRPC status code;</li>
 * <li>{@code sac_query_stage_seconds{stage}}: retrieve, fetch, queue, decode, first_token, total;</li>
 * <li>{@code sac_query_cache_lookups_total{result=hit|miss}}, {@code sac_query_cache_evictions_total},
 * gauges {@code sac_query_cache_bytes}, {@code sac_query_cache_entries}, {@code sac_query_cache_budget_bytes};</li>
 * <li>{@code sac_query_inference_queue_depth}, {@code sac_query_inference_wait_seconds},
 * {@code sac_query_inference_rejected_total}, {@code sac_query_inference_batch_size} (questions decoded together);</li>
 * <li>{@code sac_query_recompress_requests_total}, {@code sac_query_blobs_lost_again_total} (blobs rebuilt on
 * request and evicted again before a question used them: Redis too small for the documents in use);</li>
 * <li>{@code sac_query_feed_records_total{topic,result=applied|bad}}; gauges
 * {@code sac_query_documents}, {@code sac_query_catalog_entries}, {@code sac_query_documents_compressed},
 * {@code sac_query_documents_stale} (registered by the app: they read the index and catalog);</li>
 * <li>{@code sac_query_model_activations_total{result=switched|unchanged|no-adapter|failed}}, gauges
 * {@code sac_query_model_active{model_id}} (1 for the model answering now, 0 for earlier ones) and
 * {@code sac_query_model_mismatch} (1 while the control topic names a model this replica cannot load).</li>
 * </ul>
 */
public final class QueryMetrics {

    /** Stages of one question, timed separately. */
    public enum Stage { RETRIEVE, FETCH, QUEUE, DECODE, FIRST_TOKEN, TOTAL }

    private final MeterRegistry registry;
    private final Counter cacheHits;
    private final Counter cacheMisses;
    private final Counter cacheEvictions;
    private final Counter recompressRequests;
    private final Counter recompressDropped;
    private final Counter blobsLostAgain;
    private final Counter inferenceRejected;
    private final Timer inferenceWait;
    private final DistributionSummary inferenceBatch;
    private final Counter inferenceJoined;

    public QueryMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.cacheHits = Counter.builder("sac.query.cache.lookups").tag("result", "hit")
                .description("Anchor-KV lookups in the local warm cache").register(registry);
        this.cacheMisses = Counter.builder("sac.query.cache.lookups").tag("result", "miss")
                .description("Anchor-KV lookups in the local warm cache").register(registry);
        this.cacheEvictions = Counter.builder("sac.query.cache.evictions")
                .description("Entries dropped from the warm cache (budget, update or delete)").register(registry);
        this.recompressRequests = Counter.builder("sac.query.recompress.requests")
                .description("Recompress requests made for blobs missing from Redis, those dropped included (sac_query_recompress_dropped_total counts them)")
                .register(registry);
        this.recompressDropped = Counter.builder("sac.query.recompress.dropped")
                .description("Recompress requests dropped because too many already waited to be sent").register(registry);
        this.blobsLostAgain = Counter.builder("sac.query.blobs.lost.again")
                .description("Blobs rebuilt on this replica's requests and gone from Redis again before a question used"
                        + " them, in a row, each question answered RESOURCE_EXHAUSTED counting its own").register(registry);
        this.inferenceRejected = Counter.builder("sac.query.inference.rejected")
                .description("Questions refused because the inference queue was full").register(registry);
        this.inferenceWait = Timer.builder("sac.query.inference.wait").serviceLevelObjectives(LATENCY_BUCKETS)
                .description("Time questions waited for the inference executor").register(registry);
        this.inferenceBatch = DistributionSummary.builder("sac.query.inference.batch.size")
                .description("Questions a batch started with (more may join it while it decodes)").register(registry);
        this.inferenceJoined = Counter.builder("sac.query.inference.joined")
                .description("Questions that joined a batch already decoding (continuous batching; one the model then refuses, e.g. of another model, counts too)").register(registry);
        // at 0 before their first event, as the counters above (see requestsAtZero)
        for (Stage stage : Stage.values()) {
            stageTimer(stage);
        }
        ACTIVATION_RESULTS.forEach(this::activations);
    }

    /** What {@link #modelActivation} is told: every value its counter is scraped with from the start. */
    static final List<String> ACTIVATION_RESULTS = List.of("switched", "unchanged", "no-adapter", "failed");

    /** Meters kept in memory only: for tests and tools. */
    public static QueryMetrics inMemory() {
        return new QueryMetrics(new SimpleMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void request(String rpc, String status) {
        requests(rpc, status).increment();
    }

    /**
     * Registers {@code sac_query_requests_total} at 0 for each of these RPCs and statuses, before any
     * call: a series that appears with its first call has no sample before it, so Prometheus's
     * increase() and rate() take that call for the series' start and count nothing of it (the first
     * UNAVAILABLE of a replica would raise no alert). The gRPC service names its RPCs and gRPC's codes.
     */
    public void requestsAtZero(List<String> rpcs, List<String> statuses) {
        rpcs.forEach(rpc -> statuses.forEach(status -> requests(rpc, status)));
    }

    private Counter requests(String rpc, String status) {
        return Counter.builder("sac.query.requests").tags("rpc", rpc, "status", status)
                .description("Ask and Warm calls, by the gRPC status their caller got (those the transport ended before"
                        + " the service read them included)").register(registry);
    }

    public void stage(Stage stage, Duration duration) {
        stageTimer(stage).record(duration);
    }

    private Timer stageTimer(Stage stage) {
        return Timer.builder("sac.query.stage").tag("stage", stage.name().toLowerCase(Locale.ROOT))
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .description("Wall-clock time of each stage of a question").register(registry);
    }

    /**
     * Bucket bounds of the latency histograms ({@code _bucket{le=...}}), so that Prometheus can
     * compute percentiles across replicas (histogram_quantile); a fixed, short set rather than
     * Micrometer's ~70 percentile buckets per series: six stages times a replica count adds up.
     */
    static final Duration[] LATENCY_BUCKETS = java.util.stream.LongStream.of(5, 10, 25, 50, 100, 250, 500, 1_000, 2_500,
            5_000, 10_000, 30_000, 60_000, 120_000).mapToObj(Duration::ofMillis).toArray(Duration[]::new);

    public void cacheHit() {
        cacheHits.increment();
    }

    public void cacheMiss() {
        cacheMisses.increment();
    }

    public void cacheEvictions(int count) {
        cacheEvictions.increment(count);
    }

    public void recompressRequested() {
        recompressRequests.increment();
    }

    public void blobsLostAgain(int count) {
        blobsLostAgain.increment(count);
    }

    public void recompressDropped() {
        recompressDropped.increment();
    }

    public void inferenceRejected() {
        inferenceRejected.increment();
    }

    public void inferenceWait(Duration waited) {
        inferenceWait.record(waited);
    }

    public void inferenceBatch(int questions) {
        inferenceBatch.record(questions);
    }

    public void inferenceJoined(int questions) {
        inferenceJoined.increment(questions);
    }

    /** Questions that joined a running batch so far. */
    public long joinedQuestions() {
        return (long) inferenceJoined.count();
    }

    public double meanBatchSize() {
        return inferenceBatch.mean();
    }

    public void feedRecord(String topic, boolean applied) {
        feedRecords(topic, applied).increment();
    }

    /**
     * Registers {@code sac_query_feed_records_total} of a followed topic at 0, applied and, where the
     * topic's feed can find a record bad ({@code mayBeBad}), bad (see {@link #requestsAtZero}): the
     * dead-letter topic's passes over what it cannot read, so a series of its bad ones would stay 0.
     */
    public void following(String topic, boolean mayBeBad) {
        feedRecords(topic, true);
        if (mayBeBad) {
            feedRecords(topic, false);
        }
    }

    private Counter feedRecords(String topic, boolean applied) {
        return Counter.builder("sac.query.feed.records").tags("topic", topic, "result", applied ? "applied" : "bad")
                .description("Records read from the followed topics, by topic and whether they were applied or bad")
                .register(registry);
    }

    /** @param result one of {@link #ACTIVATION_RESULTS} */
    public void modelActivation(String result) {
        activations(result).increment();
    }

    private Counter activations(String result) {
        return Counter.builder("sac.query.model.activations").tag("result", result)
                .description("Activations read from the control topic, by result (" + String.join(", ", ACTIVATION_RESULTS)
                        + ")")
                .register(registry);
    }

    /** Registers {@code sac_query_model_active{model_id}}: 1 while {@code current} names {@code modelId}. */
    public void activeModel(String modelId, Supplier<String> current) {
        if (registry.find("sac.query.model.active").tag("model_id", modelId).gauge() != null) {
            return;   // switched back to a model served before: its gauge reads the current model already
        }
        Gauge.builder("sac.query.model.active", current, c -> modelId.equals(c.get()) ? 1 : 0).tag("model_id", modelId)
                .description("1 for the model that answers questions now").strongReference(true).register(registry);
    }

    /**
     * Registers a counter that reads {@code source} when scraped ({@code <name>_total}): a count
     * that only grows, except that it may start again from 0 (Prometheus's rate() takes that as a
     * counter reset).
     */
    public <T> void counter(String name, String description, T source, ToDoubleFunction<T> value) {
        io.micrometer.core.instrument.FunctionCounter.builder(name, source, value).description(description).register(registry);
    }

    /** Registers a gauge that reads {@code source} when scraped (Micrometer holds it weakly). */
    public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
        // held strongly: Micrometer's default weak reference reads NaN once a source only the gauge knows is collected
        Gauge.builder(name, source, value).description(description).strongReference(true).register(registry);
    }
}
