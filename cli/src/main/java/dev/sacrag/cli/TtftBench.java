package dev.sacrag.cli;

import ai.djl.ndarray.NDScope;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.model.GenerationOptions;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacDecoder;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.KvStoreConfig;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.stack.RedisServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Time to first token through the real Redis path, three ways, in one run on one engine:
 * {@code full_prefill} (document tokens in the prompt; logits of the last position only),
 * {@code full_kv} (full KV blobs from Redis, same codec and pipelining as SAC, TurboRAG style),
 * and {@code sac} (anchor blobs from Redis). Ratios are computed pair by pair.
 */
@Command(name = "ttft", mixinStandardHelpOptions = true,
        description = "Time to first token and decode speed: full prefill vs full KV from Redis vs SAC anchors from Redis.")
final class TtftBench implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "smollm2-135m",
            description = "Model shape with random weights (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Use this model package instead of random weights (e.g. models/sac-demo).")
    Path model;

    @Option(names = "--docs", paramLabel = "N", split = ",", defaultValue = "1,4",
            description = "Documents per question (default ${DEFAULT-VALUE}).")
    List<Integer> docs;

    @Option(names = "--doc-tokens", paramLabel = "N", defaultValue = "512",
            description = "Tokens per document (default ${DEFAULT-VALUE}).")
    int docTokens;

    @Option(names = "--ratios", paramLabel = "R", split = ",", defaultValue = "4,8,16",
            description = "SAC ratios, each one the adapter"
            + " supports: of 4, 8, 16 with random weights (default ${DEFAULT-VALUE}).")
    List<Integer> ratios;

    @Option(names = "--dtype", paramLabel = "f32|f16|int8", defaultValue = "f16",
            description = "Blob dtype: f32, f16, int8 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "5",
            description = "Timed runs per setting; medians reported (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--new-tokens", paramLabel = "N", defaultValue = "16",
            description = "Tokens decoded after the first (default ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--redis", paramLabel = "URL",
            description = "Use this Redis (redis://host:port) instead of starting a redis-server.")
    String redis;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON here.")
    Path json;

    record Row(String shape, int docs, int docTokens, int ratio, String method, double ttftMs, double decodeTokS, long bytes) { }

    @Override
    public Integer call() throws Exception {
        UsageChecks.requireAtLeastOne(spec, "--repeat", repeat);
        UsageChecks.requireAtLeastOne(spec, "--new-tokens", newTokens);
        UsageChecks.requireAtLeastOne(spec, "--doc-tokens", docTokens);
        UsageChecks.requireEachAtLeastOne(spec, "--docs", docs);
        UsageChecks.requireEachAtLeastOne(spec, "--ratios", ratios);
        if (model == null) {
            requireRandomRatios(spec, ratios);
        }
        KvDtype type = CompressCommand.parseDtype(spec, "--dtype", dtype);
        ModelShape random = model != null ? null : UsageChecks.shape(spec, shape);   // --model's weights, else these
        requireWithinPositions(model != null
                ? dev.sacrag.core.model.ModelConfig.load(ModelPaths.resolve(model, null).base()).maxPositions()
                : random.config.maxPositions());
        Path pkg = model != null ? model : randomPackage(random);
        ModelPaths paths = ModelPaths.resolve(pkg, null);
        String label = model != null ? model.getFileName().toString() : shape;
        List<Row> rows = new ArrayList<>();
        try (RedisServer server = redis == null ? RedisServer.launch() : null;
             AnchorKvStore store = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(redis != null ? redis : server.url())));
             SacEngine engine = SacEngine.load(paths.base(), paths.requireAdapter());
             BenchKeys written = new BenchKeys(store)) {
            SplittableRandom rnd = new SplittableRandom(3);
            int maxDocs = docs.stream().mapToInt(Integer::intValue).max().orElse(1);

            List<long[]> texts = new ArrayList<>();
            for (int d = 0; d < maxDocs; d++) {
                texts.add(randomTokens(rnd, docTokens, engine));
            }
            long[] question = randomTokens(rnd, 16, engine);
            List<String> fullKeys = storeFull(engine, store, texts, type, written);
            for (int n : docs) {
                List<String> full = fullKeys.subList(0, n);
                double prefill = 0;
                for (int ratio : ratios) {
                    List<String> sacKeys = storeSac(engine, store, texts.subList(0, n), ratio, type, written);
                    Measure fp = median(() -> fullPrefill(engine, texts.subList(0, n), question));
                    Measure fk = median(() -> fromRedis(engine, store, full, question, false));
                    Measure sc = median(() -> fromRedis(engine, store, sacKeys, question, true));
                    prefill = fp.ttft;
                    rows.add(new Row(label, n, docTokens, ratio, "full_prefill", fp.ttft, fp.decode, 0));
                    rows.add(new Row(label, n, docTokens, ratio, "full_kv", fk.ttft, fk.decode, fk.bytes));
                    rows.add(new Row(label, n, docTokens, ratio, "sac", sc.ttft, sc.decode, sc.bytes));
                    System.out.printf(Locale.ROOT, "%-14s docs %d x %d  ratio %2dx  ttft ms: prefill %7.1f  full_kv %7.1f  sac %7.1f"
                                    + "  | sac/prefill %.3f  sac/full_kv %.3f | bytes full_kv %,d sac %,d (%.2fx)%n",
                            label, n, docTokens, ratio, fp.ttft, fk.ttft, sc.ttft, sc.ttft / fp.ttft, sc.ttft / fk.ttft,
                            fk.bytes, sc.bytes, fk.bytes / (double) sc.bytes);
                }
            }
            String machine = Machine.describe();
            System.out.println("machine: " + machine);
            if (json != null) {
                JsonObject o = new JsonObject();
                o.addProperty("machine", machine);
                o.addProperty("dtype", dtype);
                JsonArray arr = new JsonArray();
                for (Row r : rows) {
                    JsonObject x = new JsonObject();
                    x.addProperty("shape", r.shape());
                    x.addProperty("docs", r.docs());
                    x.addProperty("doc_tokens", r.docTokens());
                    x.addProperty("ratio", r.ratio());
                    x.addProperty("method", r.method());
                    x.addProperty("ttft_ms_p50", r.ttftMs());
                    x.addProperty("decode_tok_s", r.decodeTokS());
                    x.addProperty("bytes", r.bytes());
                    arr.add(x);
                }
                o.add("rows", arr);
                AtomicFiles.writeString(json, new GsonBuilder().setPrettyPrinting().create().toJson(o));
            }
        }
        return 0;
    }

    private record Measure(double ttft, double decode, long bytes) { }

    private interface Run {
        Measure once() throws Exception;
    }

    private Measure median(Run run) throws Exception {
        run.once(); // warm-up
        double[] t = new double[repeat];
        double[] d = new double[repeat];
        long bytes = 0;
        for (int i = 0; i < repeat; i++) {
            Measure m = run.once();
            t[i] = m.ttft;
            d[i] = m.decode;
            bytes = m.bytes;
        }
        return new Measure(BenchCommand.median(t), BenchCommand.median(d), bytes);
    }

    private GenerationOptions options() {
        return GenerationOptions.greedy(1 + newTokens, Set.of());
    }

    /** Timing callback: the first token's time, and the time of the last. */
    private static final class Clock implements java.util.function.LongConsumer {
        final long start = System.nanoTime();
        long first;
        long last;
        int n;

        @Override
        public void accept(long token) {
            last = System.nanoTime();
            if (n++ == 0) {
                first = last;
            }
        }

        Measure measure(long bytes) {
            return new Measure((first - start) / 1e6, (n - 1) / ((last - first) / 1e9), bytes);
        }
    }

    private Measure fullPrefill(SacEngine engine, List<long[]> texts, long[] question) {
        Transformer m = engine.base();
        long[] all = new long[0];
        for (long[] t : texts) {
            all = concat(all, t);
        }
        all = concat(all, question);
        int[] pos = new int[all.length];
        Arrays.setAll(pos, i -> i);
        Clock clock = new Clock();
        try (KvCache cache = new KvCache(m.manager(), m.config().layers()); NDScope s = new NDScope()) {
            Generator.generate(m, cache, m.embed(new long[][] {all}), pos, options(), clock);
        }
        return clock.measure(0);
    }

    private Measure fromRedis(SacEngine engine, AnchorKvStore store, List<String> keys, long[] question, boolean sac) {
        Clock clock = new Clock();
        var blobs = store.getAll(keys);
        List<AnchorKv> kv = new ArrayList<>();
        long bytes = 0;
        for (String k : keys) {
            byte[] b = blobs.get(k);
            bytes += b.length;
            kv.add(AnchorKvCodec.decode(b, null));
        }
        SacDecoder decoder = engine.decoder();
        try (SacDecoder.Composed c = decoder.compose(kv)) {
            if (sac) {
                decoder.answer(c, question, options(), clock);
            } else {
                decoder.answerWithoutLm(c, question, options(), clock);
            }
        }
        return clock.measure(bytes);
    }

    private List<String> storeSac(SacEngine engine, AnchorKvStore store, List<long[]> texts, int ratio, KvDtype type,
                                  BenchKeys written) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            AnchorKv kv = engine.compressTokens(engine.contextTokens(texts.get(i)), ratio);   // as the compressor stores it
            String key = written.add(RedisKeys.blobKey("bench", kv.modelId(), "doc-" + i, 1));
            store.put(key, AnchorKvCodec.encode(kv, type), java.util.Optional.empty());
            keys.add(key);
        }
        return keys;
    }

    /** The full causal KV of each document (every token kept), stored with the same codec. */
    private List<String> storeFull(SacEngine engine, AnchorKvStore store, List<long[]> texts, KvDtype type,
                                   BenchKeys written) {
        Transformer m = engine.base();
        ModelConfig c = m.config();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            long[] t = engine.contextTokens(texts.get(i));
            int[] pos = new int[t.length];
            Arrays.setAll(pos, j -> j + 1);
            float[][] k = new float[c.layers()][];
            float[][] v = new float[c.layers()][];
            try (KvCache cache = new KvCache(m.manager(), c.layers()); NDScope s = new NDScope()) {
                m.forward(new Transformer.Input(m.embed(new long[][] {t}), new int[][] {pos},
                        Masks.causal(m.manager(), t.length, 0), Transformer.Logits.NONE), cache);
                for (int l = 0; l < c.layers(); l++) {
                    k[l] = cache.keys(l).toFloatArray();
                    v[l] = cache.values(l).toFloatArray();
                }
            }
            AnchorKv kv = new AnchorKv("full", c.layers(), c.kvHeads(), c.headDim(), t.length, new int[] {t.length}, k, v);
            String key = written.add(RedisKeys.blobKey("bench", "full", "doc-" + i, 1));
            store.put(key, AnchorKvCodec.encode(kv, type), java.util.Optional.empty());
            keys.add(key);
        }
        return keys;
    }

    /** The blobs a run wrote, deleted at its end: a Redis given with --redis is left as it was found. */
    private static final class BenchKeys implements AutoCloseable {
        private final AnchorKvStore store;
        private final java.util.Set<String> keys = new java.util.LinkedHashSet<>();

        BenchKeys(AnchorKvStore store) {
            this.store = store;
        }

        /** Records {@code key} before it is written, so a failed write is cleaned up too. */
        String add(String key) {
            keys.add(key);
            return key;
        }

        @Override
        public void close() {
            keys.forEach(store::delete);
        }
    }

    static long[] randomTokens(SplittableRandom rnd, int n, SacEngine engine) {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + rnd.nextInt(Math.min(250, engine.config().vocabSize() - 3));
        }
        return t;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The ratios of the adapter {@link #randomPackage} writes. */
    static final List<Integer> RANDOM_RATIOS = List.of(4, 8, 16);

    /**
     * A usage error (exit 2) naming the ratios of the random adapter, checked before its package is
     * written: the engine refuses another ratio only once the package is written and loaded (exit 1).
     */
    static void requireRandomRatios(picocli.CommandLine.Model.CommandSpec spec, List<Integer> ratios) {
        List<Integer> unsupported = ratios.stream().filter(r -> !RANDOM_RATIOS.contains(r)).toList();
        if (!unsupported.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ratios: the random adapter supports "
                    + RANDOM_RATIOS + ", not " + unsupported.stream().map(String::valueOf)
                    .collect(java.util.stream.Collectors.joining(", ")));
        }
    }

    /** A random package of the shape (cached under target/bench-models) with a random adapter of {@link #RANDOM_RATIOS}. */
    static Path randomPackage(ModelShape s) throws Exception {
        Path base = BenchCommand.benchModel(s);
        Path pkg = base.resolveSibling(s.id + "-pkg");
        Path adapter = pkg.resolve("adapters").resolve(ModelPaths.DEFAULT_ADAPTER);
        if (!Files.exists(adapter.resolve(SacSpec.FILE))) {
            Files.createDirectories(pkg);
            if (!Files.exists(pkg.resolve("base"))) {
                Files.createSymbolicLink(pkg.resolve("base"), base.toAbsolutePath());
            }
            SacSpec spec = SacSpec.paperDefaults("sac", RANDOM_RATIOS, s == ModelShape.TINY ? 8 : 128,
                    Fingerprints.baseModel(base));
            SacAdapter.writeRandom(adapter, spec, s.config, 2);
        }
        return pkg;
    }

    /** Tokens a document's compression adds before its text: BOS and the context prompt, with room. */
    private static final int CONTEXT_PROMPT_TOKENS = 16;

    /**
     * The query service would refuse a composition past the model's positions (CONTEXT_TOO_LONG):
     * a number measured there describes no request the product serves. Checked from the model's
     * config, before a random package is written or a model loaded.
     */
    private void requireWithinPositions(int maxPositions) {
        int maxDocs = docs.stream().mapToInt(Integer::intValue).max().orElse(1);
        long positions = (long) maxDocs * (docTokens + CONTEXT_PROMPT_TOKENS) + 16 + 1 + newTokens + 64;
        if (positions > maxPositions) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), maxDocs + " documents of " + docTokens
                    + " tokens, the question and " + newTokens + " new tokens need about " + positions + " positions;"
                    + " the model has " + maxPositions + ": fewer --docs or --doc-tokens");
        }
    }
}
