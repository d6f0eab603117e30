package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorApp;
import dev.sacrag.compressor.CompressorConfig;
import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.query.QueryServiceApp;
import dev.sacrag.query.QueryServiceConfig;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.feed.CatalogSnapshot;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.stack.LocalStack;
import dev.sacrag.stack.TopicSpec;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The whole pipeline on the real local stack for end-to-end tests: one broker and one
 * redis-server, a tiny random model package with two adapters ({@code adapters/sac} and
 * {@code adapters/sac-v2}), and per test its own topics (prefix), compressor and query service.
 */
final class PipelineRig implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(60);

    final LocalStack stack;
    final Path tmp;
    final Path pkg;
    final Path base;
    final Path adapterV2;
    /** Model ids of adapters/sac and adapters/sac-v2 at their smallest ratio (4). */
    final String modelId;
    final String modelIdV2;

    PipelineRig(Path tmp) throws Exception {
        this.tmp = tmp;
        this.pkg = tmp.resolve("model");
        this.base = pkg.resolve("base");
        RandomModelWriter.write(ModelShape.TINY.config, base, RandomModelWriter.Options.defaults(31));
        Path adapter = pkg.resolve("adapters/sac");
        this.adapterV2 = pkg.resolve("adapters/sac-v2");
        SacSpec spec = SacSpec.paperDefaults("sac", List.of(4, 8), 8, Fingerprints.baseModel(base));
        SacAdapter.writeRandom(adapter, spec, ModelShape.TINY.config, 32);
        SacAdapter.writeRandom(adapterV2, spec, ModelShape.TINY.config, 33);
        this.modelId = Fingerprints.modelId(Fingerprints.baseModel(base), Fingerprints.adapter(adapter), 4);
        this.modelIdV2 = Fingerprints.modelId(Fingerprints.baseModel(base), Fingerprints.adapter(adapterV2), 4);
        this.stack = LocalStack.start();
    }

    /** The topics of one test: {@code <prefix>.documents} and so on, plus {@code <prefix>.control}. */
    record Topics(String prefix, CompressorTopics compressor) {
        String control() {
            return prefix + ".control";
        }

        /** The CLI's topic flags for these topics. */
        List<String> flags(String bootstrapServers) {
            return List.of("--bootstrap-servers", bootstrapServers, "--documents-topic", compressor.documents(),
                    "--catalog-topic", compressor.catalog(), "--dead-letter-topic", compressor.deadLetter(),
                    "--recompress-topic", compressor.recompress(), "--control-topic", control());
        }
    }

    Topics createTopics(String prefix) {
        CompressorTopics t = new CompressorTopics(prefix + ".documents", prefix + ".anchor-caches",
                prefix + ".documents.dlq", prefix + ".recompress");
        stack.createTopics(TopicSpec.compacted(t.documents()), TopicSpec.compacted(t.catalog()),
                TopicSpec.plain(t.deadLetter()), TopicSpec.plain(t.recompress()));
        return new Topics(prefix, t);
    }

    /** Timeouts shortened for tests; one record per poll. */
    CompressorConfig.Builder compressorConfig(Topics topics) {
        return CompressorConfig.builder()
                .bootstrapServers(stack.bootstrapServers())
                .redis(RedisTarget.parse(stack.redisUrl()))
                .applicationId(topics.prefix() + "-compressor")
                .model(base, pkg.resolve("adapters/sac"))
                .topics(topics.compressor())
                .stateDir(tmp.resolve(topics.prefix() + "-state"))
                .commitInterval(Duration.ofMillis(100))
                .maxPollRecords(1)
                .maxCompressTime(Duration.ofSeconds(5))
                .redisRetryBudget(Duration.ofSeconds(2));
    }

    CompressorApp startCompressor(Topics topics) throws Exception {
        return CompressorApp.start(compressorConfig(topics).build());
    }

    QueryServiceApp startQueryService(Topics topics, String... extraFlags) throws Exception {
        Map<String, String> flags = new HashMap<>(Map.of("--port", "0", "--bind", "127.0.0.1", "--metrics-port", "off",
                "--bootstrap-servers", stack.bootstrapServers(), "--redis", stack.redisUrl(), "--model", pkg.toString(),
                "--max-new-tokens", "4"));
        flags.putAll(Map.of("--documents-topic", topics.compressor().documents(), "--catalog-topic", topics.compressor().catalog(),
                "--recompress-topic", topics.compressor().recompress(), "--control-topic", topics.control(),
                "--dead-letter-topic", topics.compressor().deadLetter()));
        for (int i = 0; i < extraFlags.length; i += 2) {
            flags.put(extraFlags[i], extraFlags[i + 1]);
        }
        QueryServiceApp app = QueryServiceApp.start(QueryServiceConfig.parse(flags, Map.of()));
        if (!app.awaitReady(WAIT)) {
            app.close();
            throw new AssertionError("the query service did not read its topics within " + WAIT);
        }
        return app;
    }

    DocumentPublisher publisher(Topics topics) {
        return DocumentPublisher.connect(stack.bootstrapServers(),
                DocumentPublisher.Options.defaults().withTopic(topics.compressor().documents()));
    }

    /** Reads the catalog until {@code done} holds for it. */
    Catalog awaitCatalog(Topics topics, Predicate<Catalog> done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Catalog catalog = CatalogSnapshot.read(stack.bootstrapServers(), topics.compressor().catalog(), WAIT);
            if (done.test(catalog)) {
                return catalog;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the catalog of " + topics.prefix() + " did not reach the expected state within "
                        + WAIT + "; it has " + catalog.entries(java.util.Optional.empty()));
            }
            Thread.sleep(300);
        }
    }

    /** Asks over a real socket; returns the final result of the stream. */
    static AskResult ask(QueryServiceApp app, String tenant, String question, String... docIds) throws InterruptedException {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", app.port()).usePlaintext().build();
        try {
            Iterator<AskResponse> stream = QueryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .ask(AskRequest.newBuilder().setQuestion(question).setTenant(tenant).addAllDocIds(List.of(docIds))
                            .setMaxNewTokens(3).build());
            AskResult result = null;
            while (stream.hasNext()) {
                AskResponse r = stream.next();
                if (r.hasResult()) {
                    result = r.getResult();
                }
            }
            if (result == null) {
                throw new AssertionError("the Ask stream ended without a result");
            }
            return result;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Every Redis key of a tenant's blobs (KEYS is fine on a test server). */
    List<String> blobKeys(String tenant) {
        return redis(c -> new ArrayList<>(c.keys("sac:" + tenant + ":kv:*")));
    }

    /** Overwrites {@code key}'s value (a blob gone bad), keeping its expiry. */
    void overwrite(String key, String value) {
        redis(c -> c.set(key, value, io.lettuce.core.SetArgs.Builder.keepttl()));
    }

    /** SET without expiry: a blob written outside the compressor's bookkeeping (a fenced instance's late write). */
    void plant(String key, String value) {
        redis(c -> c.set(key, value));
    }

    /** RENAME: a blob taken away (and put back) with its bytes and expiry. */
    void rename(String from, String to) {
        redis(c -> c.rename(from, to));
    }

    /** CLIENT PAUSE ... WRITE: every client's writes wait (reads go on) until {@link #unpauseRedis} or the timeout. */
    void pauseRedisWrites(Duration timeout) {
        client("PAUSE", Long.toString(timeout.toMillis()), "WRITE");
    }

    void unpauseRedis() {
        client("UNPAUSE");
    }

    private void client(String... args) {
        io.lettuce.core.protocol.CommandArgs<String, String> a =
                new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8);
        for (String arg : args) {
            a.add(arg);
        }
        redis(c -> c.dispatch(io.lettuce.core.protocol.CommandType.CLIENT,
                new io.lettuce.core.output.StatusOutput<>(io.lettuce.core.codec.StringCodec.UTF8), a));
    }

    /** Milliseconds until {@code key} expires: -1 = no expiry, -2 = no such key. */
    long pttl(String key) {
        return redis(c -> c.pttl(key));
    }

    /** One command on the stack's Redis over a short-lived connection. */
    private <T> T redis(java.util.function.Function<io.lettuce.core.api.sync.RedisCommands<String, String>, T> command) {
        RedisClient client = RedisClient.create(stack.redisUrl());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return command.apply(c.sync());
        } finally {
            client.shutdown();
        }
    }

    record Run(int code, String out, String err) {
    }

    /** Runs the CLI and requires it to fail with {@code expected} in its error output. */
    static void refused(String expected, String... args) {
        Run r = sac(List.of(args));
        org.junit.jupiter.api.Assertions.assertNotEquals(0, r.code(), r.out());
        org.junit.jupiter.api.Assertions.assertTrue(r.err().contains(expected), "expected '" + expected + "' in:\n" + r.err());
    }

    /** Runs the CLI and requires a usage error: exit 2 (picocli's), with {@code expected} in its error output. */
    static void usageError(String expected, String... args) {
        Run r = sac(List.of(args));
        org.junit.jupiter.api.Assertions.assertEquals(2, r.code(), "a usage error: " + r.err());
        org.junit.jupiter.api.Assertions.assertTrue(r.err().contains(expected), "expected '" + expected + "' in:\n" + r.err());
    }

    /**
     * Runs the CLI and requires it to fail (exit 1) with {@code expected} in its error output, in
     * well under 20 s: against nothing listening, a --timeout of a few seconds, not a client's default.
     */
    static void failsWithin20s(String expected, List<String> command, String... options) {
        List<String> args = new java.util.ArrayList<>(command);
        args.addAll(List.of(options));
        long t0 = System.nanoTime();
        Run r = sac(args);
        double seconds = (System.nanoTime() - t0) / 1e9;
        org.junit.jupiter.api.Assertions.assertEquals(1, r.code(), r.out() + r.err());
        org.junit.jupiter.api.Assertions.assertTrue(r.err().contains(expected), "expected '" + expected + "' in:\n" + r.err());
        org.junit.jupiter.api.Assertions.assertTrue(seconds < 20, String.join(" ", args) + ": took " + seconds + " s");
    }

    /** Runs a {@code sac} command in this JVM, capturing what it prints. */
    static Run sac(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = Sac.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Override
    public void close() {
        stack.close();
    }
}
