package dev.sacrag.cli;

import dev.sacrag.core.data.MrqaJsonl;
import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.eval.EvalReport;
import dev.sacrag.core.eval.Evaluator;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a model package on MRQA JSONL: full context, no context, SAC, truncation and "
                + "uniform-KV baselines at each ratio (plus the ablation adapters present), SQuAD EM/F1 and the "
                + "paper's EM/ROUGE-1; optionally continuation perplexity on plain text."})
final class EvalCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "Model package: base/ and adapters/<name>/.")
    Path model;

    @Option(names = "--data", paramLabel = "FILE", required = true, description = "MRQA JSONL file with questions.")
    Path data;

    @Option(names = "--ratios", paramLabel = "R", split = ",", defaultValue = "4,8,16",
            description = "Ratios (default ${DEFAULT-VALUE}).")
    List<Integer> ratios;

    @Option(names = "--json", paramLabel = "FILE", required = true, description = "Write the JSON report here.")
    Path json;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Also write eval.md (table), eval.svg (plot) and predictions.jsonl here.")
    Path out;

    @Option(names = "--text", paramLabel = "FILE",
            description = "Plain-text MRQA JSONL (e.g. data/text-test.jsonl) for continuation perplexity.")
    Path text;

    @Option(names = "--limit", paramLabel = "N", description = "Use only the first N contexts of --data.")
    Integer limit;

    @Option(names = "--methods", paramLabel = "METHOD", split = ",",
            description = "QA methods to score (default: all but the experiment): full, none, sac, "
            + "sac-int8, truncate, uniform-kv, sac-causal, sac-no-anchor-emb. E.g. --methods sac --ratios 4 "
            + "to follow a training run. Perplexity (--text) always covers full, none and sac, and the experiment when named. Experiment, only when named:"
            + " sac-names, sac with every token of a capitalised word an anchor too (fewer context tokens per anchor than"
            + " the ratio; the progress line and eval.json's tokens_per_anchor give how many), with the package's"
            + " sac-names adapter, trained that way, when it has one (sac train sac --variant sac-names), else with"
            + " the sac adapter.")
    List<String> methods;

    @Override
    public Integer call() throws Exception {
        if (limit != null && limit < 1) {
            throw new ParameterException(spec.commandLine(), "--limit must be at least 1, got " + limit);
        }
        UsageChecks.requireEachAtLeastOne(spec, "--ratios", ratios);
        if (methods != null) {
            try {
                Evaluator.requireKnown(methods);   // before the data is read and minutes of adapters load
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--methods: " + e.getMessage(), e);
            }
        }
        List<MrqaRecord> records = MrqaJsonl.read(data);
        // the plain text too, before minutes of QA: a missing or malformed file must not cost those
        List<String> texts = text == null ? null : MrqaJsonl.read(text).stream().map(MrqaRecord::context).toList();
        if (limit != null) {
            records = records.subList(0, Math.min(limit, records.size()));
        }
        if (records.stream().allMatch(r -> r.qas().isEmpty())) {
            throw new IllegalArgumentException(data + " has no questions");
        }
        ModelPaths paths = ModelPaths.resolve(model, null);
        Map<String, Path> chosen = adapterPerVariant(model.resolve("adapters"));
        if (!chosen.containsKey("sac")) {   // before any adapter's base loads
            throw new IllegalArgumentException(model.resolve("adapters") + " holds no adapter of variant sac"
                    + " (sac.json \"variant\"): the evaluation compares the others with it");
        }
        requireWritable(json, out);   // before hours of scoring, not after them (and after the model is found)
        Map<String, SacEngine> engines = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Path> adapter : chosen.entrySet()) {
                engines.put(adapter.getKey(), SacEngine.load(paths.base(), adapter.getValue()));
            }
            Evaluator ev = new Evaluator(engines, line -> System.err.println("  " + line));
            List<Evaluator.Prediction> predictions = new ArrayList<>();
            long t0 = System.nanoTime();
            List<String> wanted = methods == null ? Evaluator.METHODS : methods;
            List<Evaluator.Row> rows = ev.qa(records, ratios, predictions, wanted);
            List<String> unscored = unscored(wanted, ratios, rows);
            if (rows.isEmpty()) {
                throw new IllegalArgumentException("nothing could be scored: no adapter in " + model.resolve("adapters")
                        + " gives " + String.join(", ", unscored) + " (--methods, --ratios)");
            }
            if (!unscored.isEmpty()) {
                System.err.println("eval: not scored, no adapter gives them: " + String.join(", ", unscored));
            }
            List<Evaluator.PplRow> ppl = texts == null ? List.of()
                    : ev.perplexity(texts, ratios,
                            methods == null ? List.of() : methods.stream().filter(Evaluator.EXPERIMENTS::contains).toList());
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("adapters", new ArrayList<>(engines.keySet()));
            if (methods != null && methods.contains("sac-names")) {
                extra.put("sac_names_adapter", ev.namesAdapter());
            }
            extra.put("seconds", (System.nanoTime() - t0) / 1e9);
            extra.put("machine", Machine.describe());
            SacEngine main = engines.get("sac");
            List<Evaluator.Comparison> comparisons = Evaluator.compare(rows);
            EvalReport.writeJson(json, EvalReport.json(data.toString(), main.modelId(ratios.get(0)), rows, comparisons, ppl,
                    extra));
            String table = EvalReport.markdown(rows, comparisons, ppl);
            System.out.print(table);
            if (out != null) {
                Files.createDirectories(out);
                AtomicFiles.writeString(out.resolve("eval.md"), table);
                AtomicFiles.writeString(out.resolve("eval.svg"), EvalReport.svg(rows));
                StringBuilder sb = new StringBuilder();
                com.google.gson.Gson gson = new com.google.gson.Gson();
                predictions.forEach(p -> sb.append(gson.toJson(p)).append('\n'));
                AtomicFiles.writeString(out.resolve("predictions.jsonl"), sb.toString());
            }
        } finally {
            engines.values().forEach(SacEngine::close);
        }
        return 0;
    }

    /**
     * The report's places can be written: --json is not a folder and its folder exists or can be
     * made, --out is a folder or can be made. Both are created now (empty), which a later write fills.
     */
    static void requireWritable(Path json, Path out) throws IOException {
        if (Files.isDirectory(json)) {
            throw new IllegalArgumentException("--json " + json + " is a folder: give the report file's path");
        }
        Path parent = json.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (out != null) {
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new IllegalArgumentException("--out " + out + " is a file: give a folder for eval.md, eval.svg and predictions.jsonl");
            }
            Files.createDirectories(out);
        }
    }

    /** The method@ratio pairs asked for that have no row (an adapter without that ratio, or no adapter of the variant). */
    static List<String> unscored(List<String> methods, List<Integer> ratios, List<Evaluator.Row> rows) {
        List<String> missing = new ArrayList<>();
        for (String m : methods) {
            if (m.equals("full") || m.equals("none")) {
                continue;
            }
            for (int r : ratios) {
                if (rows.stream().noneMatch(row -> row.method().equals(m) && row.ratio() == r)) {
                    missing.add(m + "@" + r + "x");
                }
            }
        }
        return missing;
    }

    /**
     * The adapter folder evaluated for each variant: the one named as its variant
     * ({@code adapters/sac}), else the first by name; the others of that variant are named on
     * stderr and not loaded (each load is a whole base model's memory).
     */
    static Map<String, Path> adapterPerVariant(Path adapters) throws java.io.IOException {
        Map<String, List<Path>> byVariant = new LinkedHashMap<>();
        try (Stream<Path> dirs = Files.list(adapters)) {
            for (Path d : dirs.sorted().toList()) {
                if (Files.exists(d.resolve(SacSpec.FILE))) {
                    byVariant.computeIfAbsent(SacSpec.load(d).variant(), v -> new ArrayList<>()).add(d);
                }
            }
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(adapters.toString(), null, "model package has no adapters/");
        }
        Map<String, Path> chosen = new LinkedHashMap<>();
        byVariant.forEach((variant, dirs) -> {
            Path pick = dirs.stream().filter(d -> d.getFileName().toString().equals(variant)).findFirst()
                    .orElse(dirs.get(0));
            chosen.put(variant, pick);
            dirs.stream().filter(d -> !d.equals(pick)).forEach(d -> System.err.println("  not evaluated: " + d
                    + " (variant " + variant + "; " + pick.getFileName() + " is evaluated for it)"));
        });
        return chosen;
    }
}
