package dev.sacrag.query;

import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.metrics.MetricsServer;
import dev.sacrag.query.activation.AdapterLocator;
import dev.sacrag.query.activation.ModelSwitch;
import dev.sacrag.query.anchors.AnchorFetcher;
import dev.sacrag.query.anchors.BlobSource;
import dev.sacrag.query.anchors.Preloader;
import dev.sacrag.query.anchors.RedisBlobSource;
import dev.sacrag.query.anchors.WarmCache;
import dev.sacrag.query.ask.Coverage;
import dev.sacrag.query.ask.DocumentChooser;
import dev.sacrag.query.ask.QueryEngine;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.decode.ActiveAnswerer;
import dev.sacrag.query.decode.InferenceExecutor;
import dev.sacrag.query.decode.SacAnswerer;
import dev.sacrag.query.feed.CatalogFeed;
import dev.sacrag.query.feed.ControlFeed;
import dev.sacrag.query.feed.DocumentFeed;
import dev.sacrag.query.feed.DocumentPartitions;
import dev.sacrag.query.feed.RefusalFeed;
import dev.sacrag.query.feed.TopicFollower;
import dev.sacrag.query.grpc.QueryGrpcService;
import dev.sacrag.query.grpc.QueryServer;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.query.recompress.KafkaRecompressRequests;
import dev.sacrag.query.retrieval.DocumentIndex;
import dev.sacrag.schemas.DocumentCodec;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Wires and runs one query service: model, Redis store, topic followers, warm cache, inference
 * executor, gRPC server and metrics endpoint. {@link #start} returns once the server listens;
 * health turns SERVING when the documents, catalog and control topics have been read to their end
 * (the control topic may be absent: then there is nothing to read).
 */
public final class QueryServiceApp implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(QueryServiceApp.class);

    private final Deque<AutoCloseable> opened;
    private final QueryServer server;
    private final OptionalInt metricsPort;
    private final ActiveAnswerer model;
    private final ModelSwitch models;
    private final CountDownLatch ready;

    private record Parts(QueryServer server, OptionalInt metricsPort, ActiveAnswerer model, ModelSwitch models,
                         CountDownLatch ready) {
    }

    private QueryServiceApp(Deque<AutoCloseable> opened, Parts parts) {
        this.opened = opened;
        this.server = parts.server();
        this.metricsPort = parts.metricsPort();
        this.model = parts.model();
        this.models = parts.models();
        this.ready = parts.ready();
    }

    public static QueryServiceApp start(QueryServiceConfig config) throws IOException {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            return start(config, opened);
        } catch (IOException | RuntimeException e) {
            closeAll(opened);
            throw e;
        }
    }

    private static QueryServiceApp start(QueryServiceConfig config, Deque<AutoCloseable> opened) throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        opened.push(registry::close);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);   // the same JVM meters as the compressor's (its GC too)
        opened.push(gc);
        QueryMetrics metrics = new QueryMetrics(registry);
        DocumentCodec codec = DocumentCodec.withLimits(config.documentLimits()); // fails now if Avro may not read the generated classes

        SacEngine engine = SacEngine.load(config.model().baseDir(), config.model().adapterDir());
        ActiveAnswerer model;
        try {
            enablePromptCache(engine, config.inference().promptCacheBytes());
            model = new ActiveAnswerer(new ActiveAnswerer.Loaded(new SacAnswerer(engine, activeRatio(config.model(), engine)), engine));
        } catch (Throwable e) {
            engine.close();
            throw e;
        }
        opened.push(model);
        String startupModelId = model.modelId();
        AnchorKvStore store = AnchorKvStore.connect(config.redis());
        opened.push(store);
        io.micrometer.core.instrument.FunctionCounter.builder("sac.query.redis.restarts", store, AnchorKvStore::serverRestarts)
                .description("Times Redis came back as another process (run_id changed) since start").register(registry);

        DocumentIndex index = new DocumentIndex();
        opened.push(index);
        Catalog catalog = new Catalog();
        metrics.gauge("sac.query.documents", "Live documents in the retrieval index", index, DocumentIndex::size);
        metrics.gauge("sac.query.catalog.entries", "Compressed document versions known from the catalog", catalog, Catalog::size);
        // one pass over the catalog's entries at most every 10 s, shared by both gauges (a pass is
        // O(entries), and Prometheus may scrape several times a second)
        Refusals refusals = new Refusals();
        Coverage.Memo coverage = new Coverage.Memo(() -> Coverage.of(index, catalog, refusals, model.modelId()),
                java.time.Duration.ofSeconds(10));
        metrics.gauge("sac.query.documents.compressed", "Live documents the active model has anchor KV of (questions about"
                + " the others get NOT_FOUND)", coverage, c -> c.get().compressed());
        metrics.gauge("sac.query.documents.stale", "Live documents the active model answers from an older version than the"
                + " newest published", coverage, c -> c.get().stale());
        metrics.gauge("sac.query.documents.refused", "Live documents without anchor KV of the active model whose version a"
                + " compressor refused (the dead-letter topic): uncompressed until published again", coverage,
                c -> c.get().refused());
        WarmCache cache = new WarmCache(config.cache().budgetBytes(), metrics);
        io.micrometer.core.instrument.Counter redisFailures = io.micrometer.core.instrument.Counter
                .builder("sac.query.redis.failures").description("Blob reads Redis failed (unreachable, timed out, refused)")
                .register(registry);
        BlobSource blobs = new RedisBlobSource(store, redisFailures::increment, System::nanoTime);
        Preloader preloader = new Preloader(model::modelId, blobs, cache, e -> DocumentChooser.isCurrent(e, index, catalog));
        opened.push(preloader);
        QueryServiceConfig.Topics topics = config.topics();
        DocumentPartitions partitions = new DocumentPartitions();
        KafkaRecompressRequests recompress = KafkaRecompressRequests.connect(topics.bootstrapServers(),
                topics.recompress(), topics.recompressInterval(), metrics, partitions::of);
        opened.push(recompress);
        metrics.counter("sac.query.prompt.cache.hits", "Questions whose prompt head came from the prompt cache, since the active model was loaded (a switch starts at 0: a counter reset)",
                model, m -> m.promptCacheStats().hits());
        metrics.counter("sac.query.prompt.cache.misses", "Questions whose prompt head was prefilled, since the active model was loaded (a switch starts at 0: a counter reset)",
                model, m -> m.promptCacheStats().misses());
        metrics.gauge("sac.query.prompt.cache.bytes", "Bytes of K/V in the prompt cache", model,
                m -> m.promptCacheStats().bytes());
        QueryServiceConfig.Inference inf = config.inference();
        InferenceExecutor inference = new InferenceExecutor(model, inf.workers(), inf.maxBatch(), inf.maxQueued(),
                inf.batchWait(), inf.joinWait(), metrics);
        opened.push(inference);

        CountDownLatch ready = new CountDownLatch(3); // documents, catalog and control topics read
        QueryEngine engineOfQuestions = new QueryEngine(new QueryEngine.Parts(index, catalog, new AnchorFetcher(blobs, cache,
                e -> DocumentChooser.isCurrent(e, model.modelId(), index, catalog)),
                inference, recompress, metrics, () -> ready.getCount() == 0, model, refusals));
        QueryServer server = QueryServer.start(config.listen().host(), config.listen().port(),
                new QueryGrpcService(engineOfQuestions, config.limits(), metrics), config.listen().shutdownDrain(),
                config.listen().shutdownGrace());
        opened.push(server);
        if (config.listen().exitWhenBroken()) {
            // a broken replica answers from stale data: stop it, so that whatever restarts exited processes starts a fresh one
            server.onBroken(() -> {
                log.error("stopping the gRPC server: --exit-when-broken");
                server.close();
            });
        }
        OptionalInt metricsPort = OptionalInt.empty();
        if (config.listen().metricsPort().isPresent()) {
            MetricsServer endpoint = MetricsServer.start(registry,
                    new InetSocketAddress(config.listen().host(), config.listen().metricsPort().getAsInt()), "--bind, --metrics-port",
                    () -> {
                        QueryServer.Status status = server.status();   // ready while SERVING; live unless broken
                        return new MetricsServer.Health(status.serving(), !status.broken(), status.words());
                    });
            opened.push(endpoint);
            metricsPort = OptionalInt.of(endpoint.port());
        }

        boolean preload = config.cache().preload() && config.cache().budgetBytes() > 0;
        AtomicBoolean live = new AtomicBoolean();
        Runnable arrived = () -> {
            ready.countDown();
            if (ready.getCount() == 0 && live.compareAndSet(false, true)) {
                server.markServing();
                if (preload) {
                    preloader.offer(catalog.entries(Optional.of(model.modelId())));
                }
                logCoverage(model.modelId(), Coverage.of(index, catalog, refusals, model.modelId()));
            }
        };
        CatalogFeed catalogFeed = new CatalogFeed(catalog, cache, fresh -> {
            if (preload && live.get()) {
                preloader.offer(fresh);
            }
        }, metrics);
        DocumentFeed documentFeed = new DocumentFeed(codec, index, docId -> {
            cache.evictDoc(docId);
            refusals.forget(docId);
        }, metrics, partitions);
        metrics.following(topics.catalog(), true);
        metrics.following(topics.documents(), true);
        metrics.following(topics.control(), true);
        opened.push(new TopicFollower(topics.bootstrapServers(), topics.catalog(), catalogFeed, arrived).metrics(registry)
                .onStopped(() -> server.markBroken("the catalog topic " + topics.catalog() + " is no longer followed")).start());
        opened.push(new TopicFollower(topics.bootstrapServers(), topics.documents(), documentFeed, arrived).metrics(registry)
                .onStopped(() -> server.markBroken("the documents topic " + topics.documents() + " is no longer followed"))
                .start());
        ModelSwitch models = new ModelSwitch(new AdapterLocator(config.model().baseDir(), config.model().adapterDir()),
                match -> load(config.model().baseDir(), match, config.inference().promptCacheBytes()), model, switched -> {
                    cache.retainModel(switched);
                    if (live.get()) {
                        logCoverage(switched, Coverage.of(index, catalog, refusals, switched));
                    }
                    if (preload && live.get()) {
                        preloader.offer(catalog.entries(Optional.of(switched)));
                    }
                }, metrics);
        opened.push(TopicFollower.optional(topics.bootstrapServers(), topics.control(),
                new ControlFeed(models, startupModelId, metrics), arrived).metrics(registry)
                .onStopped(() -> server.markBroken("the control topic " + topics.control() + " is no longer followed"))
                .start());
        // not waited for: refusals explain a NOT_FOUND, questions do not depend on them; read after the
        // others caught up, the coverage is said again with them. A principal that may not read it is
        // told once and goes on without it ('off': not followed, and not warned of)
        if (!topics.deadLetter().equals(QueryServiceConfig.Topics.OFF)) {
            metrics.following(topics.deadLetter(), false);   // RefusalFeed counts every record applied
            opened.push(TopicFollower.optional(topics.bootstrapServers(), topics.deadLetter(),
                    new RefusalFeed(codec, refusals, topics.documents(), metrics), () -> {
                        if (live.get()) {
                            Coverage c = Coverage.of(index, catalog, refusals, model.modelId());
                            if (c.refused() > 0) {
                                logCoverage(model.modelId(), c);
                            }
                        }
                    }).metrics(registry)
                    .deniedMeansEmpty("until it may be read, questions about documents a compressor refused are told 'not compressed"
                            + " yet'; " + QuerySetting.DEAD_LETTER_TOPIC.flag() + " " + QueryServiceConfig.Topics.OFF + " ("
                            + QuerySetting.DEAD_LETTER_TOPIC.env() + "=" + QueryServiceConfig.Topics.OFF
                            + ") stops following it")
                    .onStopped(() -> log.warn("the dead-letter topic {} is no longer followed: questions about documents a"
                            + " compressor refused since are told 'not compressed yet'", topics.deadLetter()))
                    .start());
        }
        return new QueryServiceApp(opened, new Parts(server, metricsPort, model, models, ready));
    }

    /** What the model serves of the documents; a WARN when it can answer about fewer than nine in ten. */
    private static void logCoverage(String modelId, Coverage c) {
        if (c.poor()) {
            log.warn("serving model {}: {}. Is a compressor of this model running (and sac warm --model run for it)?"
                    + " See sac_query_documents_compressed", modelId, c.line());
        } else {
            log.info("serving model {}: {}", modelId, c.line());
        }
    }

    /**
     * Turns the engine's prompt cache on with {@code --prompt-cache-bytes}. An entry's size depends
     * on the model (layers, K/V heads, prompt length), so a budget that fits no entry of this one
     * turns its cache off with a warning instead of refusing a model that is fine: at start-up, and
     * above all on a switch, where refusing would leave the old model serving for a cache setting.
     */
    static void enablePromptCache(SacEngine engine, long budgetBytes) {
        long entry = engine.promptCacheEntryBytes();
        if (budgetBytes != 0 && budgetBytes < entry) {
            log.warn("{} {} holds no prompt cache entry of this model ({} bytes each): the prompt cache is off for it; "
                    + "set at least {} to use it", QuerySetting.PROMPT_CACHE_BYTES.flag(), budgetBytes, entry, entry);
            budgetBytes = 0;
        }
        engine.enablePromptCache(budgetBytes);
    }

    /** The engine of an adapter found for an activation; the {@link ActiveAnswerer} closes it when replaced. */
    private static ActiveAnswerer.Loaded load(Path baseDir, AdapterLocator.Match match, long promptCacheBytes)
            throws IOException {
        SacEngine engine = SacEngine.load(baseDir, match.adapterDir());
        try {
            enablePromptCache(engine, promptCacheBytes);
            return new ActiveAnswerer.Loaded(new SacAnswerer(engine, match.ratio()), engine);
        } catch (Throwable e) {   // an Error too: this engine's native memory is released either way
            engine.close();
            throw e;
        }
    }

    /** The ratio named by --ratio, or the one whose model id --model-id names, or the adapter's smallest. */
    static int activeRatio(QueryServiceConfig.Model model, SacEngine engine) {
        SacSpec spec = engine.adapter().spec();
        if (model.ratio().isPresent()) {
            int r = model.ratio().getAsInt();
            if (!spec.supports(r)) {
                throw new ConfigException(QuerySetting.RATIO, "the adapter in " + model.adapterDir() + " has ratios "
                        + spec.ratios() + ", not " + r);
            }
            return r;
        }
        if (model.modelId().isPresent()) {
            String wanted = model.modelId().get();
            return spec.ratios().stream().filter(r -> engine.modelId(r).equals(wanted)).findFirst()
                    .orElseThrow(() -> new ConfigException(QuerySetting.MODEL_ID, "this base and adapter produce model ids "
                            + spec.ratios().stream().map(r -> engine.modelId(r) + " (ratio " + r + ")").toList()
                            + ", not " + wanted));
        }
        return spec.ratios().stream().mapToInt(Integer::intValue).min().orElseThrow();
    }

    public int port() {
        return server.port();
    }

    /** The Prometheus endpoint's port; empty when metrics are off. */
    public OptionalInt metricsPort() {
        return metricsPort;
    }

    /** The model answering questions now ({@code sac model activate} may switch it while the service runs). */
    public String modelId() {
        return model.modelId();
    }

    /** The model the control topic asks for when this replica could not load it (it serves {@link #modelId()}). */
    public Optional<String> unavailableModel() {
        return models.unavailable();
    }

    /** Whether the documents, catalog and control topics have been read to their end (health SERVING). */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Whether a topic this replica follows stopped being applied (health NOT_SERVING for good). */
    public boolean broken() {
        return server.status().broken();
    }

    /**
     * The gRPC server first (health NOT_SERVING, running calls finish with the topic readers,
     * Redis and the model still there), then the rest in reverse order of opening.
     */
    @Override
    public void close() {
        try {
            server.close();
        } finally {
            closeAll(opened);
        }
    }

    /** Closes in reverse order of opening: followers first, the model last. */
    private static void closeAll(Deque<AutoCloseable> opened) {
        while (!opened.isEmpty()) {
            AutoCloseable c = opened.pop();
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing {} failed", c.getClass().getSimpleName(), e);
            }
        }
    }
}
