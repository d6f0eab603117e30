package dev.sacrag.core.data;

import dev.sacrag.core.data.SyntheticFacts.Split;
import dev.sacrag.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the project's data sets under one folder, all in MRQA JSONL:
 * {@code synthetic-{train,dev,test}.jsonl} (invented facts with extractive questions) and
 * {@code text-{train,dev,test}.jsonl} (Brown Corpus and WordNet glosses, no questions).
 */
public final class DataBuilder {

    /**
     * {@code shortTrain}: extra training contexts of 200-700 characters (a curriculum set),
     * with as many short dev contexts as {@code dev} to watch the curriculum on.
     * {@code facts}: how the synthetic documents are made (questions per training context,
     * phrasings, nonce facts, name style; its length range is not used: the files have fixed ones).
     */
    public record Sizes(int train, int dev, int test, int shortTrain, SyntheticFacts.Options facts) {
        public Sizes {
            if (train < 1 || dev < 1 || test < 1 || shortTrain < 0) {
                throw new IllegalArgumentException("--train, --dev and --test must be at least 1 and --short-train at least"
                        + " 0, got " + train + ", " + dev + ", " + test + " and " + shortTrain);
            }
        }

        public Sizes(int train, int dev, int test, int shortTrain) {
            this(train, dev, test, shortTrain, SyntheticFacts.Options.defaults());
        }

        public static Sizes defaults() {
            return new Sizes(20000, 300, 300, 20000);
        }
    }

    /** What was written: file name to number of contexts. */
    public record Summary(Map<String, Integer> contexts) { }

    /** The files a build writes; a build without the short curriculum removes the short ones an earlier build left. */
    static final List<String> SHORT_FILES = List.of("synthetic-train-short.jsonl", "synthetic-dev-short.jsonl");

    /**
     * Reads the corpora first, writes every file into {@code out/.partial}, and only then moves
     * them into {@code out}: a build that fails (a corpus missing, the disk full) leaves the
     * previous build's files as they were, never this build's synthetic files beside the last
     * build's text files.
     */
    public static Summary build(Path out, Path brownDir, Path wordnetDir, long seed, Sizes sizes) throws IOException {
        List<TextCorpora.Document> docs = new ArrayList<>(TextCorpora.brown(brownDir));
        docs.addAll(TextCorpora.wordnet(wordnetDir, 40));
        Path partial = out.resolve(".partial");
        AtomicFiles.deleteTree(partial);
        Files.createDirectories(partial);
        Summary summary = write(partial, docs, seed, sizes);
        for (String file : summary.contexts().keySet()) {
            Files.move(partial.resolve(file), out.resolve(file), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
        if (sizes.shortTrain() == 0) {
            for (String stale : SHORT_FILES) {
                Files.deleteIfExists(out.resolve(stale));
            }
        }
        AtomicFiles.deleteTree(partial);
        return summary;
    }

    private static Summary write(Path out, List<TextCorpora.Document> docs, long seed, Sizes sizes) throws IOException {
        Map<String, Integer> written = new java.util.LinkedHashMap<>();
        Map<Split, Integer> n = Map.of(Split.TRAIN, sizes.train(), Split.DEV, sizes.dev(), Split.TEST, sizes.test());
        for (Split s : Split.values()) {
            List<MrqaRecord> records = new SyntheticFacts(s, seed, sizes.facts().lengths(0, 0)).generate(n.get(s));
            String file = "synthetic-" + name(s) + ".jsonl";
            MrqaJsonl.write(out.resolve(file), "sac-synthetic-facts", name(s), records);
            written.put(file, records.size());
        }
        if (sizes.shortTrain() > 0) {
            List<MrqaRecord> records = new SyntheticFacts(Split.TRAIN, seed + 1, sizes.facts().lengths(200, 700))
                    .generate(sizes.shortTrain());
            MrqaJsonl.write(out.resolve("synthetic-train-short.jsonl"), "sac-synthetic-facts", "train", records);
            written.put("synthetic-train-short.jsonl", records.size());
            List<MrqaRecord> dev = new SyntheticFacts(Split.DEV, seed + 1,
                    SyntheticFacts.Options.defaults().names(sizes.facts().names()).lengths(200, 700)).generate(sizes.dev());
            MrqaJsonl.write(out.resolve("synthetic-dev-short.jsonl"), "sac-synthetic-facts", "dev", dev);
            written.put("synthetic-dev-short.jsonl", dev.size());
        }
        Map<Split, List<MrqaRecord>> bySplit = new EnumMap<>(Split.class);
        for (Split s : Split.values()) {
            bySplit.put(s, new ArrayList<>());
        }
        for (TextCorpora.Document d : docs) {
            bySplit.get(TextCorpora.splitOf(d.id())).add(new MrqaRecord(d.id(), d.text(), List.of()));
        }
        for (Split s : Split.values()) {
            String file = "text-" + name(s) + ".jsonl";
            MrqaJsonl.write(out.resolve(file), "brown+wordnet", name(s), bySplit.get(s));
            written.put(file, bySplit.get(s).size());
        }
        return new Summary(written);
    }

    private static String name(Split s) {
        return s.name().toLowerCase(java.util.Locale.ROOT);
    }

    private DataBuilder() {
    }
}
