package dev.sacrag.cli;

import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import picocli.CommandLine.Command;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks (each prints a table and the machine it ran on).",
        subcommands = {EngineBench.class, TtftBench.class, CompressBench.class, RedisBench.class,
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
