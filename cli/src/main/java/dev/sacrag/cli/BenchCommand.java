package dev.sacrag.cli;

import ai.djl.ndarray.NDScope;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks (each prints a table and the machine it ran on).",
        subcommands = {BenchCommand.Engine.class, TtftBench.class, CompressBench.class, RedisBench.class,
                PipelineBench.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Where random models for speed runs are kept between runs (git-ignored). */
    static Path benchModel(ModelShape shape) throws Exception {
        Path dir = Path.of(System.getProperty("sac.home", ".")).resolve("target/bench-models").resolve(shape.id);
        if (!Files.exists(dir.resolve("config.json"))) {
            System.err.println("writing random " + shape.id + " weights (f16, seed 1) to " + dir + " ...");
            RandomModelWriter.write(shape.config, dir, new RandomModelWriter.Options(1, 0.02f, Safetensors.DType.F16, 1));
        }
        return dir;
    }

    @Command(name = "engine", mixinStandardHelpOptions = true,
            description = "Prefill and decode tokens/s of the engine on a real model shape with random weights.")
    static final class Engine implements Callable<Integer> {
        @Option(names = "--shape", defaultValue = "smollm2-135m", description = "tiny, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b (default ${DEFAULT-VALUE}).")
        String shape;

        @Option(names = "--tokens", defaultValue = "512", description = "Prompt length for prefill (default ${DEFAULT-VALUE}).")
        int tokens;

        @Option(names = "--new-tokens", defaultValue = "32", description = "Decoded tokens (default ${DEFAULT-VALUE}).")
        int newTokens;

        @Option(names = "--threads", description = "Torch intra-op threads (default: 2, the launcher's).")
        Integer threads;

        @Option(names = "--repeat", defaultValue = "3", description = "Timed repetitions; the median is reported (default ${DEFAULT-VALUE}).")
        int repeat;

        @Option(names = "--json", description = "Also write the result as JSON here.")
        Path json;

        @Override
        public Integer call() throws Exception {
            if (tokens < 1 || newTokens < 1 || repeat < 1) {
                throw new IllegalArgumentException("--tokens, --new-tokens and --repeat must be >= 1");
            }
            if (threads != null) {
                System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads)); // read when the engine starts
            }
            ModelShape s = ModelShape.parse(shape);
            Path dir = benchModel(s);
            try (Transformer m = Transformer.load(dir)) {
                SplittableRandom rnd = new SplittableRandom(7);
                long[] prompt = new long[tokens];
                for (int i = 0; i < tokens; i++) {
                    prompt[i] = 3 + rnd.nextInt(250);
                }
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
                        for (int i = 0; i < newTokens; i++) {
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
                double prefill = tokens / (median(prefillMs) / 1000);
                double decode = newTokens / (median(decodeMs) / 1000);
                String machine = Machine.describe();
                System.out.printf(Locale.ROOT, "engine bench: %s, f32, %d prompt tokens, %d new tokens, median of %d%n",
                        s.id, tokens, newTokens, repeat);
                System.out.printf(Locale.ROOT, "  prefill  %8.1f tokens/s  (%.0f ms)%n", prefill, median(prefillMs));
                System.out.printf(Locale.ROOT, "  decode   %8.1f tokens/s  (%.1f ms/token)%n", decode, median(decodeMs) / newTokens);
                System.out.println("  machine  " + machine);
                if (json != null) {
                    JsonObject o = new JsonObject();
                    o.addProperty("shape", s.id);
                    o.addProperty("tokens", tokens);
                    o.addProperty("new_tokens", newTokens);
                    o.addProperty("prefill_tok_s", prefill);
                    o.addProperty("decode_tok_s", decode);
                    o.addProperty("machine", machine);
                    Files.writeString(json, new GsonBuilder().setPrettyPrinting().create().toJson(o));
                }
            }
            return 0;
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * The nearest-rank quantile: the smallest sample with at least {@code q} of the samples at or
     * below it (q = 0.5: the lower median; q = 0.99 of 48 samples: the largest). Never
     * interpolates, so it is always a value that was measured.
     */
    static double quantile(double[] v, double q) {
        if (v.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(q * s.length);
        return s[Math.min(s.length, Math.max(1, rank)) - 1];
    }
}
