package dev.sacrag.cli;

import ai.djl.ndarray.NDScope;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.sac.SacEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * How fast documents are compressed, measured against the cheapest thing that could replace
 * compression: a plain causal prefill of the same tokens on the base model that only fills
 * the KV cache (no logits), as full-KV caching (TurboRAG style) would do once per document.
 *
 * <p>Both runs read the same input, the compressor's own (BOS, context prompt, document), and
 * both are reported as document tokens per second. The compressor is the engine's, so it is
 * timed exactly as the compressor-stream runs it: LoRA merged into q/v once at load
 * ({@link SacEngine}), chunks batched, anchor K/V copied out into the result.
 */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Compressor throughput (document tokens/s) per ratio vs a plain KV-only prefill of the same tokens.")
final class CompressBench implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "smollm2-135m",
            description = "Model shape with random weights (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "512",
            description = "Document tokens (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--ratios", paramLabel = "R", split = ",", defaultValue = "4,8,16",
            description = "SAC ratios, each one the random"
            + " adapter supports: 4, 8, 16 (default ${DEFAULT-VALUE}).")
    List<Integer> ratios;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3",
            description = "Timed runs after one warm-up; medians reported (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON here.")
    Path json;

    record Row(int ratio, double compressTokS, double prefillTokS) {
        double ratioToPrefill() {
            return compressTokS / prefillTokS;
        }
    }

    @Override
    public Integer call() throws Exception {
        UsageChecks.requireAtLeastOne(spec, "--tokens", tokens);
        UsageChecks.requireAtLeastOne(spec, "--repeat", repeat);
        UsageChecks.requireEachAtLeastOne(spec, "--ratios", ratios);
        TtftBench.requireRandomRatios(spec, ratios);
        ModelShape s = UsageChecks.shape(spec, shape);
        ModelPaths paths = ModelPaths.resolve(TtftBench.randomPackage(s), null);
        try (SacEngine engine = SacEngine.load(paths.base(), paths.requireAdapter())) {
            for (int r : ratios) {
                if (!engine.adapter().spec().supports(r)) {
                    throw new IllegalArgumentException("--ratios: the random adapter supports "
                            + engine.adapter().spec().ratios() + ", not " + r);
                }
            }
            long[] input = engine.contextTokens(TtftBench.randomTokens(new SplittableRandom(5), tokens, engine));
            double prefill = tokens / medianSeconds(() -> prefill(engine.base(), input));
            List<Row> rows = new ArrayList<>();
            for (int ratio : ratios) {
                String modelId = engine.modelId(ratio);
                double compress = tokens / medianSeconds(() -> engine.compressor().compress(input, ratio, modelId));
                rows.add(new Row(ratio, compress, prefill));
            }
            String machine = Machine.describe();
            print(s, input.length - tokens, rows, machine);
            if (json != null) {
                writeJson(s, rows, machine);
            }
        }
        return 0;
    }

    /** The baseline: one causal pass that fills a KV cache and computes no logits. */
    private static void prefill(Transformer m, long[] input) {
        int[] pos = new int[input.length];
        Arrays.setAll(pos, i -> i + 1); // 1-based, as the compressor numbers its input
        try (KvCache cache = new KvCache(m.manager(), m.config().layers()); NDScope scope = new NDScope()) {
            m.forward(new Transformer.Input(m.embed(new long[][] {input}), new int[][] {pos},
                    Masks.causal(m.manager(), input.length, 0), Transformer.Logits.NONE), cache);
        }
    }

    /** Median wall time in seconds of {@code repeat} runs after one untimed warm-up. */
    private double medianSeconds(Runnable run) {
        run.run();
        double[] seconds = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long t0 = System.nanoTime();
            run.run();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
        return BenchCommand.median(seconds);
    }

    private void print(ModelShape s, int promptTokens, List<Row> rows, String machine) {
        System.out.printf(Locale.ROOT, "compress bench: %s, %d document tokens (+%d BOS/prompt tokens in both runs),"
                + " median of %d after a warm-up%n", s.id, tokens, promptTokens, repeat);
        System.out.printf(Locale.ROOT, "  %5s  %16s  %16s  %16s%n", "ratio", "compress tok/s", "prefill tok/s", "compress/prefill");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "  %4dx  %16.1f  %16.1f  %16.3f%n",
                    r.ratio(), r.compressTokS(), r.prefillTokS(), r.ratioToPrefill());
        }
        System.out.println("machine: " + machine);
    }

    private void writeJson(ModelShape s, List<Row> rows, String machine) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("machine", machine);
        o.addProperty("shape", s.id);
        o.addProperty("tokens", tokens);
        JsonArray arr = new JsonArray();
        for (Row r : rows) {
            JsonObject x = new JsonObject();
            x.addProperty("ratio", r.ratio());
            x.addProperty("compress_tok_s", r.compressTokS());
            x.addProperty("prefill_tok_s", r.prefillTokS());
            x.addProperty("ratio_to_prefill", r.ratioToPrefill());
            arr.add(x);
        }
        o.add("rows", arr);
        AtomicFiles.writeString(json, new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }
}
