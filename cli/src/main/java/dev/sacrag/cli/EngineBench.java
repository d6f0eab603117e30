package dev.sacrag.cli;

import ai.djl.ndarray.NDScope;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.sacrag.core.gguf.GgufExporter;
import dev.sacrag.core.gguf.GgufType;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.random.ModelShape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Prefill and decode tokens/s of the engine, and of llama.cpp on the same shape and weights so
 * the engine's distance to a tuned peer is known.
 *
 * <p>Both sides get the same random weights (the f16 checkpoint of {@link BenchCommand#benchModel},
 * run in f32: the engine loads it as f32, llama.cpp reads its F32 GGUF export, so the values are
 * identical), an f32 KV cache, the same prompt of token ids (no BOS), the same thread count,
 * greedy decoding and one untimed warm-up run. Prefill: one forward over the prompt up to the
 * last position's logits. Decode: {@code --decode} one-token forward passes, each after an
 * argmax. llama.cpp runs in a child JVM after the engine is closed ({@link LlamaCppBench}).
 */
@Command(name = "engine", mixinStandardHelpOptions = true,
        description = "Prefill and decode tokens/s of the engine and of llama.cpp on the same shape and random weights (f32).")
final class EngineBench implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    static final String ENGINE = "sac";
    static final String LLAMA_CPP = "llama.cpp";

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "smollm2-135m",
            description = "tiny, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "512",
            description = "Prompt length for prefill (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = {"--decode", "--new-tokens"}, paramLabel = "N", defaultValue = "64",
            description = "Decoded tokens (default ${DEFAULT-VALUE}).")
    int decode;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for both engines (default: torch's, 2 under the launcher).")
    Integer threads;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3",
            description = "Timed runs after a warm-up; medians reported (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--no-llama-cpp", description = "Time the engine only.")
    boolean noLlamaCpp;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON here.")
    Path json;

    /** Medians of one engine: whole prefill, and all decode steps of one run. */
    record Row(String engine, double prefillMs, double decodeMs) {
        double prefillTokS(int tokens) {
            return tokens / (prefillMs / 1000);
        }

        double decodeTokS(int decode) {
            return decode / (decodeMs / 1000);
        }
    }

    @Override
    public Integer call() throws Exception {
        UsageChecks.requireAtLeastOne(spec, "--tokens", tokens);
        UsageChecks.requireAtLeastOne(spec, "--decode", decode);
        UsageChecks.requireAtLeastOne(spec, "--repeat", repeat);
        if (threads != null) {
            UsageChecks.requireAtLeastOne(spec, "--threads", threads);
        }
        ModelShape s = UsageChecks.shape(spec, shape);
        if (threads != null) {
            System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads)); // read when the engine starts
        }
        int nThreads = threads != null ? threads
                : Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors());
        if (tokens + decode > s.config.maxPositions()) {
            throw new IllegalArgumentException("--tokens + --decode must fit the shape's " + s.config.maxPositions() + " positions");
        }
        Path dir = BenchCommand.benchModel(s);
        long[] prompt = prompt(tokens);
        List<Row> rows = new ArrayList<>();
        rows.add(engine(dir, prompt));
        LlamaCppBench.Result peer = null;
        if (!noLlamaCpp) {
            Path gguf = gguf(s, dir);
            System.err.println("running llama.cpp on " + gguf + " (child JVM) ...");
            peer = LlamaCppBench.run(gguf, prompt, decode, repeat, nThreads);
            rows.add(new Row(LLAMA_CPP, peer.prefillMs(), peer.decodeMs()));
        }
        String machine = Machine.describe();
        print(s, nThreads, rows, peer, machine);
        if (json != null) {
            writeJson(s, nThreads, rows, peer, machine);
        }
        return 0;
    }

    /** Random byte-token ids 3..252 (no BOS), the same for both engines. */
    static long[] prompt(int n) {
        SplittableRandom rnd = new SplittableRandom(7);
        long[] prompt = new long[n];
        for (int i = 0; i < n; i++) {
            prompt[i] = 3 + rnd.nextInt(250);
        }
        return prompt;
    }

    private Row engine(Path dir, long[] prompt) throws IOException {
        try (Transformer m = Transformer.load(dir)) {
            int[] pos = new int[tokens];
            Arrays.setAll(pos, i -> i);
            double[] prefillMs = new double[repeat];
            double[] decodeMs = new double[repeat];
            for (int r = -1; r < repeat; r++) {            // r = -1 is the warm-up
                try (KvCache cache = new KvCache(m.manager(), m.config().layers())) {
                    long t0 = System.nanoTime();
                    float[] logits;
                    try (NDScope scope = new NDScope()) {
                        logits = m.forward(new Transformer.Input(m.embed(new long[][] {prompt}), new int[][] {pos},
                                Masks.causal(m.manager(), tokens, 0), Transformer.Logits.LAST), cache).toFloatArray();
                    }
                    long t1 = System.nanoTime();
                    for (int i = 0; i < decode; i++) {
                        long next = Generator.argmax(logits);
                        try (NDScope scope = new NDScope()) {
                            logits = m.forward(new Transformer.Input(m.embed(new long[][] {{next}}),
                                    new int[][] {{tokens + i}}, Masks.causal(m.manager(), 1, cache.length()),
                                    Transformer.Logits.LAST), cache).toFloatArray();
                        }
                    }
                    long t2 = System.nanoTime();
                    if (r >= 0) {
                        prefillMs[r] = (t1 - t0) / 1e6;
                        decodeMs[r] = (t2 - t1) / 1e6;
                    }
                }
            }
            return new Row(ENGINE, BenchCommand.median(prefillMs), BenchCommand.median(decodeMs));
        }
    }

    /** The F32 GGUF export of the bench model, kept beside it and written again when older than its weights. */
    static Path gguf(ModelShape s, Path dir) throws IOException {
        Path gguf = dir.resolveSibling(s.id + ".f32.gguf");
        Path weights = dir.resolve("model.safetensors");
        if (!Files.exists(gguf) || (Files.exists(weights)
                && Files.getLastModifiedTime(gguf).compareTo(Files.getLastModifiedTime(weights)) < 0)) {
            System.err.println("exporting " + dir + " to " + gguf + " (F32) ...");
            GgufExporter.export(dir, gguf, GgufType.F32);   // written atomically (GgufWriter)
        }
        return gguf;
    }

    private void print(ModelShape s, int nThreads, List<Row> rows, LlamaCppBench.Result peer, String machine) {
        System.out.printf(Locale.ROOT, "engine bench: %s, %d prompt tokens, %d decoded, %d threads, f32 weights and KV cache,"
                + " median of %d after a warm-up%n", s.id, tokens, decode, nThreads, repeat);
        System.out.printf(Locale.ROOT, "  %-14s %14s %12s %14s %10s%n", "engine", "prefill tok/s", "prefill ms", "decode tok/s", "ms/token");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "  %-14s %14.1f %12.1f %14.1f %10.2f%n", r.engine(), r.prefillTokS(tokens),
                    r.prefillMs(), r.decodeTokS(decode), r.decodeMs() / decode);
        }
        if (rows.size() == 2) {
            Row a = rows.get(0);
            Row b = rows.get(1);
            System.out.printf(Locale.ROOT, "  %-14s %13.2fx %12s %13.2fx%n", ENGINE + " / " + LLAMA_CPP,
                    a.prefillTokS(tokens) / b.prefillTokS(tokens), "", a.decodeTokS(decode) / b.decodeTokS(decode));
        }
        if (peer != null) {
            System.out.println("llama.cpp: " + peer.binding() + ", build " + peer.build() + "; " + peer.system());
            System.out.printf(Locale.ROOT, "llama.cpp: its own timings; median complete() call %.1f ms around them%n",
                    peer.callMs());
        }
        System.out.println("machine: " + machine);
    }

    private void writeJson(ModelShape s, int nThreads, List<Row> rows, LlamaCppBench.Result peer, String machine)
            throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("machine", machine);
        o.addProperty("shape", s.id);
        o.addProperty("tokens", tokens);
        o.addProperty("decode", decode);
        o.addProperty("threads", nThreads);
        o.addProperty("repeat", repeat);
        o.addProperty("precision", "f32 weights (values of the f16 random checkpoint), f32 KV cache");
        if (peer != null) {
            o.addProperty("llama_cpp", peer.binding() + ", build " + peer.build() + "; " + peer.system());
        }
        JsonArray arr = new JsonArray();
        for (Row r : rows) {
            JsonObject x = new JsonObject();
            x.addProperty("engine", r.engine());
            x.addProperty("prefill_tok_s", r.prefillTokS(tokens));
            x.addProperty("decode_tok_s", r.decodeTokS(decode));
            x.addProperty("prefill_ms", r.prefillMs());
            x.addProperty("decode_ms_per_token", r.decodeMs() / decode);
            if (peer != null && r.engine().equals(LLAMA_CPP)) {
                x.addProperty("call_ms", peer.callMs());
            }
            arr.add(x);
        }
        o.add("rows", arr);
        if (rows.size() == 2) {
            JsonObject ratio = new JsonObject();
            ratio.addProperty("prefill", rows.get(0).prefillTokS(tokens) / rows.get(1).prefillTokS(tokens));
            ratio.addProperty("decode", rows.get(0).decodeTokS(decode) / rows.get(1).decodeTokS(decode));
            o.add("sac_over_llama_cpp", ratio);
        }
        AtomicFiles.writeString(json, new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }
}
