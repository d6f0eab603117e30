package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorApp;
import dev.sacrag.compressor.CompressorConfig;
import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.ingest.Question;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.query.QueryServiceApp;
import dev.sacrag.query.QueryServiceConfig;
import dev.sacrag.query.QuerySetting;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.stack.LocalStack;
import dev.sacrag.stack.TopicSpec;
import io.micrometer.core.instrument.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * What {@code sac demo} and {@code sac bench pipeline} run, started in order and stopped in
 * reverse: the local stack (Kafka broker + Redis), the four topics, the compressor and the query
 * service, all in this JVM apart from redis-server. A shutdown hook stops them too, so Ctrl-C
 * never leaves a redis-server process or a scratch folder behind.
 */
final class DemoServices implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DemoServices.class);
    /** The architecture's default partition count (--partitions, SAC_PARTITIONS); the recompress topic must match the documents topic. */
    static final int PARTITIONS = 6;
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    /**
     * Loggers that warn about things normal for a throw-away local stack: a fresh cluster's
     * bootstrap, a state directory under the OS temp folder, clients reconnecting to the broker
     * or Redis while everything stops (on Ctrl-C, Redis and the apps stop concurrently).
     * slf4j-simple reads these when each logger is created, so setting them before anything
     * starts is enough; a -D on the command line still wins.
     */
    private static final List<String> QUIET_LOGGERS = List.of(
            "org.apache.kafka.controller.QuorumController",
            "org.apache.kafka.streams.processor.internals.StateDirectory",
            "org.apache.kafka.clients.NetworkClient",
            "io.lettuce.core.protocol.ConnectionWatchdog");

    private final PrintWriter out;
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private final Thread shutdownHook = new Thread(() -> {
        interrupted = true;
        stop(new PrintWriter(System.err, true));
    }, "sac-demo-shutdown");
    /** Set when the shutdown hook (Ctrl-C) stops the services: what fails after that is the stop, not a fault. */
    private volatile boolean interrupted;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CompressorTopics topics = CompressorTopics.defaults();
    private ModelPaths model;
    private LocalStack stack;
    private CompressorApp compressor;
    private QueryServiceApp queryService;
    private boolean closed;

    private DemoServices(PrintWriter out) {
        this.out = out;
    }

    /** Checks the model, then starts everything; on failure stops what had started and rethrows. */
    static DemoServices start(Path model, PrintWriter out) throws IOException, InterruptedException {
        return start(model, Map.of(), PARTITIONS, out);
    }

    /**
     * As {@link #start(Path, PrintWriter)}, with query-service settings on top of the demo's
     * (flag → value, e.g. {@code --max-batch} → {@code 1}).
     */
    static DemoServices start(Path model, Map<String, String> querySettings, int partitions, PrintWriter out)
            throws IOException, InterruptedException {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        }
        ModelPaths paths = requireModel(model);
        quietenStackLoggers();
        DemoServices services = new DemoServices(out);
        Runtime.getRuntime().addShutdownHook(services.shutdownHook);
        try {
            services.startAll(paths, querySettings, partitions);
            return services;
        } catch (Throwable t) {
            services.close();
            if (services.interrupted()) {
                throw new Interrupted();   // what failed is the start that Ctrl-C stopped
            }
            throw t;
        }
    }

    /** A package with base/ and adapters/sac/, or an error that says how to get one. */
    static ModelPaths requireModel(Path model) {
        Path base = model.resolve("base");
        Path adapter = model.resolve("adapters").resolve(ModelPaths.DEFAULT_ADAPTER);
        if (!Files.exists(base.resolve("config.json")) || !Files.exists(adapter.resolve("sac.json"))) {
            throw new IllegalStateException("no trained model package at " + model + " (it needs base/config.json and"
                    + " adapters/sac/sac.json). Get the committed demo model with 'git pull', or train it: './sac data"
                    + " build', then './sac train base', then './sac train sac'. Or point --model at another package.");
        }
        return new ModelPaths(base, adapter);
    }

    private static void quietenStackLoggers() {
        for (String logger : QUIET_LOGGERS) {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "error");
            }
        }
    }

    private void startAll(ModelPaths model, Map<String, String> querySettings, int partitions)
            throws IOException, InterruptedException {
        this.model = model;
        long t0 = System.nanoTime();
        say("stack: starting Kafka and Redis (%s; SAC_JAVA_OPTS=-Dsac.stack=embedded|containers) ...",
                LocalStack.Kind.fromSystemProperty().name().toLowerCase(Locale.ROOT));
        stack = keep(LocalStack.start());
        // the demo's shutdown hook stops the services first (the compressor's close may take its
        // max.poll.interval, 160 s by default), then the stack
        stack.ownerClosesOnExit(Duration.ofMinutes(4));
        say("stack: Kafka at %s, Redis at %s (%s)", stack.bootstrapServers(), stack.redisUrl(), since(t0));

        // a document at the compressor's default limit (8 MiB) fits the documents topic, and its dead letter the DLQ
        int recordBytes = DocumentPublisher.Options.requestBytesFor(DocumentLimits.defaults());
        stack.createTopics(TopicSpec.compacted(topics.documents()).withPartitions(partitions).withMaxMessageBytes(recordBytes),
                TopicSpec.compacted(topics.catalog()), TopicSpec.plain(topics.deadLetter()).withMaxMessageBytes(recordBytes),
                TopicSpec.plain(topics.recompress()).withPartitions(partitions));
        say("topics: %s and %s (compacted), %s, %s; %d partitions", topics.documents(), topics.catalog(),
                topics.deadLetter(), topics.recompress(), partitions);

        Path scratch = Files.createTempDirectory("sac-demo-");
        keep(() -> deleteRecursively(scratch));
        t0 = System.nanoTime();
        compressor = CompressorApp.start(CompressorConfig.builder()
                .bootstrapServers(stack.bootstrapServers())
                .redis(RedisTarget.parse(stack.redisUrl()))
                .model(model.base(), model.adapter())
                .topics(topics)
                .stateDir(scratch.resolve("compressor-state"))
                .metricsBind("127.0.0.1").metricsPort(0)   // any free port, this host only: printed with --keep-running
                .build());
        keep(compressor);
        compressor.awaitRunning(START_TIMEOUT);
        say("compressor: running, model %s (ratio %d) (%s)", compressor.modelId(), compressor.ratio(), since(t0));

        t0 = System.nanoTime();
        // The caller's settings, then these on top; no environment: SAC_* variables of the shell must not
        // point the demo elsewhere.
        Map<String, String> settings = new HashMap<>(querySettings);
        settings.putAll(Map.of(
                QuerySetting.PORT.flag(), "0",
                QuerySetting.BIND.flag(), "127.0.0.1",
                QuerySetting.METRICS_PORT.flag(), "0",
                QuerySetting.BOOTSTRAP_SERVERS.flag(), stack.bootstrapServers(),
                QuerySetting.REDIS.flag(), stack.redisUrl(),
                QuerySetting.MODEL.flag(), model.base().toString(),
                QuerySetting.ADAPTER.flag(), model.adapter().toString()));
        queryService = keep(QueryServiceApp.start(QueryServiceConfig.parse(settings, Map.of())));
        if (!queryService.awaitReady(START_TIMEOUT)) {
            throw new IllegalStateException("the query service did not read the topics " + topics.documents() + " and "
                    + topics.catalog() + " within " + START_TIMEOUT);
        }
        say("query-service: serving gRPC on %s, model %s (%s)", target(), queryService.modelId(), since(t0));
    }

    /**
     * Keeps what was just started for {@link #stop}; when a Ctrl-C stopped everything while it
     * started, closes it at once (the stop has run: nothing else would) and ends the start.
     */
    private synchronized <T extends AutoCloseable> T keep(T started) {
        if (closed) {
            try {
                started.close();
            } catch (Exception e) {
                log.warn("stopping {} failed", started, e);
            }
            throw new IllegalStateException("interrupted while the services started");
        }
        opened.push(started);
        return started;
    }

    /** Whether Ctrl-C (the shutdown hook) stopped the services. */
    boolean interrupted() {
        return interrupted;
    }

    /** Ctrl-C stopped the services: what follows is no fault of the pipeline. */
    static final class Interrupted extends RuntimeException {
        Interrupted() {
            super("stopped (Ctrl-C)");
        }
    }

    /** Throws {@link Interrupted} once Ctrl-C has stopped the services: a step in progress ends there. */
    void requireNotInterrupted() {
        if (interrupted) {
            throw new Interrupted();
        }
    }

    ModelPaths model() {
        return model;
    }

    LocalStack stack() {
        return stack;
    }

    CompressorTopics topics() {
        return topics;
    }

    CompressorApp compressor() {
        return compressor;
    }

    String target() {
        return "127.0.0.1:" + queryService.port();
    }

    /** Documents the compressor sent to the dead-letter topic so far, every reason together. */
    double deadLettered() {
        return compressor.metrics().registry().find("sac.compressor.documents.dead.lettered").counters()
                .stream().mapToDouble(Counter::count).sum();
    }

    /** How to reach the services that --keep-running leaves up. */
    void printConnectionHelp(Question example) {
        say("running: Kafka %s, Redis %s, gRPC %s; Ctrl-C stops everything. Try:", stack.bootstrapServers(),
                stack.redisUrl(), target());
        say("  ./sac ask --target %s --doc %s %s", target(), shellQuoted(example.docId()), shellQuoted(example.question()));
        say("  ./sac ask --target %s %s", target(), shellQuoted(example.question()));
        say("  ./sac docs list --bootstrap-servers %s", stack.bootstrapServers());
        say("  ./sac ingest MORE.txt --bootstrap-servers %s", stack.bootstrapServers());
        say("metrics and health: query service http://127.0.0.1:%s/metrics (/health), compressor http://127.0.0.1:%s/metrics",
                queryService.metricsPort().isPresent() ? queryService.metricsPort().getAsInt() : "-",
                compressor.metricsPort().map(String::valueOf).orElse("-"));
    }

    /** {@code text} as one shell word: in single quotes, nothing in it is expanded ($, `, \). */
    static String shellQuoted(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    /** Blocks until the shutdown hook (Ctrl-C) has stopped everything. */
    void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    @Override
    public void close() {
        stop(out);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            log.debug("JVM already shutting down; the hook stops the services", shuttingDown);
        }
    }

    /** Idempotent: the owner and the shutdown hook may both call it. */
    private synchronized void stop(PrintWriter to) {
        if (closed) {
            return;
        }
        closed = true;
        long t0 = System.nanoTime();
        boolean any = !opened.isEmpty();
        if (interrupted && any) {   // the compressor may take its max.poll.interval (160 s) to finish the record in hand
            to.println();
            to.println("stopping what has started (the compressor may take up to three minutes) ...");
            to.flush();
        }
        int failed = 0;
        while (!opened.isEmpty()) {
            AutoCloseable c = opened.pop();
            try {
                c.close();
            } catch (Exception e) {
                failed++;
                log.warn("stopping {} failed", c, e);
            }
        }
        if (!any) {
            to.println("stopped: nothing had started yet");
        } else if (failed == 0) {
            to.printf(Locale.ROOT, "stopped: broker, Redis, compressor and query service; scratch files deleted (%s)%n",
                    since(t0));
        } else {
            to.printf(Locale.ROOT, "stopped, but %d of the services or scratch files failed to stop (see the warnings"
                    + " above) (%s)%n", failed, since(t0));
        }
        to.flush();
        stopped.countDown();
    }

    private void say(String format, Object... args) {
        out.printf(Locale.ROOT, format + "%n", args);
        out.flush();
    }

    static String since(long t0) {
        return String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
