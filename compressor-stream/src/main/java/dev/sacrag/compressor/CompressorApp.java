package dev.sacrag.compressor;

import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.KvStoreConfig;
import dev.sacrag.metrics.Durations;
import dev.sacrag.metrics.MetricsServer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * The compressor deployable: loads the model, connects Redis, checks the topics, builds the
 * topology and runs it in Kafka Streams until closed. Everything is wired here by hand; the
 * behaviour lives in {@link CompressorTopology}.
 *
 * <p>A stream thread that dies (Redis down past the retry budget, a broker error) is replaced
 * ({@link StreamThreadExceptionResponse#REPLACE_THREAD}); under exactly-once its open
 * transaction aborts and the new thread resumes from the last commit, so no record is skipped
 * for it (a record that fails every thread by itself is set aside after
 * {@code --max-record-failures}: {@link RecordFailures}). Kafka Streams reads RUNNING throughout,
 * so health also asks {@link StreamThreadFailures} whether the replacements keep failing with
 * nothing committed.
 */
public final class CompressorApp implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CompressorApp.class);

    private final CompressorConfig config;
    private final List<AutoCloseable> resources;
    private final CompressorMetrics metrics;
    private final String modelId;
    private final int ratio;
    private final KafkaStreams streams;
    private final Optional<MetricsServer> metricsServer;
    private final StreamThreadFailures threadFailures;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private CompressorApp(CompressorConfig config, List<AutoCloseable> resources, CompressorMetrics metrics,
                          DocumentCompressor compressor, KafkaStreams streams, Optional<MetricsServer> metricsServer,
                          StreamThreadFailures threadFailures) {
        this.config = config;
        this.threadFailures = threadFailures;
        this.resources = resources;
        this.metrics = metrics;
        this.modelId = compressor.modelId();
        this.ratio = compressor.ratio();
        this.streams = streams;
        this.metricsServer = metricsServer;
    }

    /** Starts everything; fails fast (model missing, Redis or Kafka unreachable, topics wrong) with the cause. */
    public static CompressorApp start(CompressorConfig config) throws IOException {
        return start(config, UnaryOperator.identity());
    }

    /** As {@link #start(CompressorConfig)}, with the model wrapped (tests slow it down). */
    static CompressorApp start(CompressorConfig config, UnaryOperator<DocumentCompressor> wrap) throws IOException {
        return start(config, wrap, Clock.systemUTC());
    }

    /** As above, with the processors' clock (tests move it on past a patience). */
    static CompressorApp start(CompressorConfig config, UnaryOperator<DocumentCompressor> wrap, Clock clock)
            throws IOException {
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            return start(config, wrap, clock, opened);
        } catch (IOException | RuntimeException e) {
            closeAll(opened);
            throw e;
        }
    }

    private static CompressorApp start(CompressorConfig config, UnaryOperator<DocumentCompressor> wrap, Clock clock,
                                       List<AutoCloseable> opened) throws IOException {
        if (!Files.isDirectory(config.modelDir())) {
            throw new NoSuchFileException(config.modelDir().toString(), null, CompressorConfig.Flags.MODEL + ": no model folder there");
        }
        long deadLetterTopicBytes = TopicPreflight.check(config.bootstrapServers(), config.topics(), config.applicationId(),
                config.limits().maxStoredBytes(), config.sessionTimeout());
        SacEngine engine = SacEngine.load(config.modelDir(), config.adapterDir());
        opened.add(engine);
        DocumentCompressor compressor = wrap.apply(new SacDocumentCompressor(engine,
                config.ratio().orElse(SacDocumentCompressor.defaultRatio(engine))));
        TopicPreflight.requireModelsOwnApplicationId(config.bootstrapServers(), config.applicationId(), compressor.modelId());
        AnchorKvStore store = AnchorKvStore.connect(KvStoreConfig.of(config.redis()));
        opened.add(store);
        // Retiring a replaced blob is PEXPIRE ... LT (7.0): on an older server the first update of a
        // document would fail on every retry and stall its partition, so refuse to start instead.
        store.requireVersion(7, 0, "retiring replaced blobs (PEXPIRE ... LT)");
        PrometheusMeterRegistry registry = registry(opened);
        io.micrometer.core.instrument.FunctionCounter.builder(CompressorMetrics.PREFIX + "redis.restarts", store,
                AnchorKvStore::serverRestarts).description("Times Redis came back as another process (run_id changed) since start")
                .register(registry);
        CompressorMetrics metrics = new CompressorMetrics(registry, config.topics(), config.maxCompressTime());
        SacSpec spec = engine.adapter().spec();
        BlobSizeLimit blobLimit = blobLimit(spec, engine.config(), compressor.ratio(), compressor.modelId(), config.blobDtype());
        int maxTokens = blobLimit.tokenLimit(config.maxDocumentTokens(), engine.config().maxPositions(),
                store.largestValueBytes());
        store.memoryPolicy().flatMap(m -> evictionWarning(m, config.blobTtl().isPresent())).ifPresent(log::warn);
        long largestBlob = blobLimit.blobBytes(maxTokens);
        SlowRecordTimeouts timeouts = config.timeouts(AnchorKvStore.transferAllowance(largestBlob),
                String.format(java.util.Locale.ROOT, "%d tokens, a blob of %,d bytes", maxTokens, largestBlob));
        CompressionSettings settings = new CompressionSettings(config.limits(), maxTokens, config.blobDtype(), config.blobTtl(),
                config.redisRetry(), config.maxCompressTime(),
                Math.min(deadLetterTopicBytes, config.limits().maxStoredBytes()),
                CompressionSettings.retireGraceFor(timeouts.transactionTimeout()), config.maxRecordFailures());
        AtomicBoolean closing = new AtomicBoolean();
        Topology topology = CompressorTopology.build(config.topics(), settings,
                new Collaborators(compressor, new RedisBlobStore(store), metrics, clock, closing::get));
        KafkaStreams streams = new KafkaStreams(topology, CompressorStreamsConfig.of(config, timeouts));
        // the metrics server's close is registered before the stream's, so it runs after it: health
        // and metrics answer through the drain (not ready, still live), which may take the max poll interval
        java.util.concurrent.atomic.AtomicReference<MetricsServer> serving = new java.util.concurrent.atomic.AtomicReference<>();
        opened.add(() -> {
            MetricsServer m = serving.get();
            if (m != null) {
                m.close();
            }
        });
        // A stream thread finishes the record in hand before it stops, and one record may take the
        // compress time plus the Redis retry budget: wait as long as the consumer group would.
        Duration closeTimeout = timeouts.maxPollInterval();
        opened.add(() -> {
            if (!streams.close(closeTimeout)) {
                throw new StreamStillRunning(closeTimeout);
            }
        });
        opened.add(() -> closing.set(true));   // closed before the stream: a record in a Redis outage stops retrying
        KafkaStreamsMetrics streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        opened.add(streamsMetrics);
        // progress for health: committed offsets, sampled every second on a thread of its own (not from the
        // stream thread's failure handler, which should not call back into KafkaStreams)
        CommittedProgress progress = new CommittedProgress(() -> committedOffsets(streams));
        java.util.concurrent.ScheduledExecutorService sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "compressor-progress");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(progress::sample, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        opened.add(sampler::shutdownNow);
        StreamThreadFailures threadFailures = new StreamThreadFailures(Clock.systemUTC(), progress::advances);
        Optional<MetricsServer> server = Optional.empty();
        if (config.metricsPort().isPresent()) {
            server = Optional.of(MetricsServer.start(registry, new InetSocketAddress(config.metricsBind(), config.metricsPort().getAsInt()),
                    "--metrics-bind, --metrics-port", () -> health(streams.state(), threadFailures.failing())));
            serving.set(server.get());
        }
        CompressorApp app = new CompressorApp(config, opened, metrics, compressor, streams, server, threadFailures);
        app.wire();
        streams.start();
        log.info("compressor {} started: model {} (ratio {}{}), documents {} -> catalog {}, Redis {}, transaction timeout {}",
                config.applicationId(), compressor.modelId(), compressor.ratio(),
                spec.keepsCapitalisedWords() ? ", capitalised words' tokens kept as anchors too" : "", config.topics().documents(),
                config.topics().catalog(), config.redis(), Durations.shown(timeouts.transactionTimeout()));
        return app;
    }

    /** The committed offsets of the stream's active tasks now; none while it is not running. */
    private static java.util.Map<org.apache.kafka.common.TopicPartition, Long> committedOffsets(KafkaStreams streams) {
        java.util.Map<org.apache.kafka.common.TopicPartition, Long> offsets = new java.util.HashMap<>();
        try {
            streams.metadataForLocalThreads().forEach(thread -> thread.activeTasks()
                    .forEach(task -> offsets.putAll(task.committedOffsets())));
        } catch (RuntimeException notRunning) {   // starting, stopping, failed: nothing committed to read
            return java.util.Map.of();
        }
        return offsets;
    }

    /**
     * What a full Redis will do to compression, where it cannot make room for blobs: with {@code
     * noeviction}, or a {@code volatile-*} policy while blobs have no expiry (no --blob-ttl), every
     * blob write fails once memory is full (an OOM error, retried as an outage: the stream stops
     * until memory is freed). With an {@code allkeys-*} policy Redis evicts blobs instead, and the
     * query services have an evicted one recompressed when it is next asked for.
     */
    static Optional<String> evictionWarning(AnchorKvStore.MemoryPolicy memory, boolean blobsExpire) {
        if (memory.maxMemory() == 0) {
            return Optional.empty();
        }
        String policy = memory.policy();
        boolean neverEvicted = policy.equals("noeviction") || policy.startsWith("volatile-") && !blobsExpire;
        if (!neverEvicted) {
            return Optional.empty();
        }
        return Optional.of(String.format(java.util.Locale.ROOT, "Redis has maxmemory %,d bytes and maxmemory-policy %s,"
                + " under which blobs are never evicted%s: once it is full every blob write fails and compression stops"
                + " (retried as an outage) until memory is freed; allkeys-lru lets Redis evict the least used blobs, which"
                + " the query services have recompressed when next asked for", memory.maxMemory(), policy,
                policy.equals("noeviction") ? "" : " (a volatile policy evicts keys with an expiry, and blobs have none"
                        + " without " + CompressorConfig.Flags.BLOB_TTL + ")"));
    }

    /**
     * The blob-size rule for this adapter at {@code ratio}. An adapter that keeps capitalised words' tokens as anchors
     * too ({@link SacSpec#keepsCapitalisedWords}) may keep every token of a document: its limits are sized for one
     * anchor per token, the worst case (so the default token limit is up to {@code ratio} times lower than a sac
     * adapter's with a large model; the demo model's blobs are far under Redis's limit either way).
     */
    static BlobSizeLimit blobLimit(SacSpec spec, dev.sacrag.core.model.ModelConfig model, int ratio, String modelId,
                                   dev.sacrag.core.kv.KvDtype dtype) {
        return BlobSizeLimit.of(model, spec.chunkSize(), spec.keepsCapitalisedWords() ? 1 : ratio, modelId, dtype);
    }

    /**
     * Ready while the stream runs or rebalances, unless its threads keep failing ({@code failing}:
     * why, from {@link StreamThreadFailures}; the stream then runs but does no work, and a replaced
     * thread is a restart already, so liveness stays up); live until it has failed or stopped (the
     * process then ends, so a probe rarely sees it); its Kafka Streams state in the body.
     */
    static MetricsServer.Health health(KafkaStreams.State state, Optional<String> failing) {
        boolean running = state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
        boolean live = state != KafkaStreams.State.ERROR && state != KafkaStreams.State.NOT_RUNNING
                && state != KafkaStreams.State.PENDING_ERROR;
        if (running && failing.isPresent()) {
            return new MetricsServer.Health(false, live, state.name() + ", failing: " + failing.get());
        }
        return new MetricsServer.Health(running, live, state.name());
    }

    private static PrometheusMeterRegistry registry(List<AutoCloseable> opened) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        opened.add(registry::close);
        new JvmMemoryMetrics().bindTo(registry);
        // the same JVM meters as the query service's
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        opened.add(gc);
        return registry;
    }

    private void wire() {
        streams.setUncaughtExceptionHandler(e -> {
            metrics.failure("thread-replaced");
            threadFailures.record(e);
            Optional<RetriesExhaustedException> redis = redisCause(e);
            if (redis.isPresent()) {   // once per budget during an outage: its message says it all, no stack trace
                log.error("stream thread of {} failed; replacing it, processing resumes from the last commit: {} ({})",
                        config.applicationId(), redis.get().getMessage(),
                        String.valueOf(redis.get().getCause()));   // a Throwable last would be logged as the exception, trace and all
            } else {
                log.error("stream thread of {} failed; replacing it, processing resumes from the last commit",
                        config.applicationId(), e);
            }
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.setStateListener((now, before) -> {
            log.info("compressor {}: {} -> {}", config.applicationId(), before, now);
            if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
                stopped.countDown();
            }
        });
    }

    /** The Redis retry budget that ran out behind {@code e}, if that is why the thread failed. */
    private static Optional<RetriesExhaustedException> redisCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RetriesExhaustedException r) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /**
     * Blocks until the stream stops: after {@link #close()} (e.g. from a shutdown hook on SIGTERM)
     * or by itself in ERROR.
     *
     * @return 0 after a requested shutdown, 1 when the stream ended in ERROR
     */
    public int awaitStopped() throws InterruptedException {
        stopped.await();
        return streams.state() == KafkaStreams.State.ERROR ? 1 : 0;
    }

    /** Blocks until the stream is RUNNING (tasks assigned, stores restored). */
    public void awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long start = System.nanoTime();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline || !streams.state().isRunningOrRebalancing()
                    && streams.state() != KafkaStreams.State.CREATED) {
                throw new IllegalStateException(String.format(java.util.Locale.ROOT, "compressor %s is %s, not RUNNING,"
                        + " after %.1f s (of %d s allowed)", config.applicationId(), streams.state(),
                        (System.nanoTime() - start) / 1e9, timeout.toSeconds()));
            }
            Thread.sleep(50);
        }
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    public CompressorMetrics metrics() {
        return metrics;
    }

    public String modelId() {
        return modelId;
    }

    public int ratio() {
        return ratio;
    }

    /** Documents-topic partitions whose tasks run on this instance now. */
    public Set<TopicPartition> documentPartitions() {
        Set<TopicPartition> owned = new HashSet<>();
        streams.metadataForLocalThreads().forEach(thread -> thread.activeTasks().forEach(task ->
                task.topicPartitions().stream().filter(tp -> tp.topic().equals(config.topics().documents()))
                        .forEach(owned::add)));
        return owned;
    }

    public Optional<Integer> metricsPort() {
        return metricsServer.map(MetricsServer::port);
    }

    /** Idempotent, so a shutdown hook and the owner may both call it. */
    @Override
    public synchronized void close() {
        closeAll(resources);
    }

    /**
     * In reverse order of opening: the stream stops before the store and engine it uses are
     * closed. When it has not stopped in time, they are left open (freeing the model's native
     * memory under a running compression could crash the process); the process exit frees them.
     */
    private static void closeAll(List<AutoCloseable> resources) {
        List<AutoCloseable> reversed = new ArrayList<>(resources);
        Collections.reverse(reversed);
        resources.clear();
        for (AutoCloseable r : reversed) {
            try {
                r.close();
            } catch (StreamStillRunning e) {
                log.error("{}; leaving the model and the Redis connection open", e.getMessage());
                return;
            } catch (Exception e) {
                log.warn("closing {} failed", r, e);
            }
        }
    }

    /** Kafka Streams did not stop within its close timeout: a record is still being processed. */
    private static final class StreamStillRunning extends RuntimeException {
        StreamStillRunning(Duration timeout) {
            super("Kafka Streams did not stop within " + timeout + " (a record is still being processed)");
        }
    }
}
