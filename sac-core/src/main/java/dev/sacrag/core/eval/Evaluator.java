package dev.sacrag.core.eval;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Runs the QA methods over an MRQA data set at each ratio, and the continuation perplexity
 * on plain text, from one model package (a base model and its adapters by variant).
 */
public final class Evaluator {

    /**
     * One row of the report: a method at a ratio (0 = no ratio: full, none). Scores 0-100;
     * {@code emCi} is EM's 95% interval over contexts (see {@link Bootstrap}); {@code scores}
     * the per-question EM, for paired comparisons; {@code tokensPerAnchor} the context tokens per
     * anchor kept, where a method keeps more anchors than its ratio says (else 0).
     */
    public record Row(String method, int ratio, double em, double f1, double paperEm, double paperF1, int n,
                      Bootstrap.Interval emCi, Scores scores, double tokensPerAnchor) { }

    /** Per-question SQuAD EM (0 or 100), question i from context {@code context[i]}, in data order. */
    public record Scores(double[] em, int[] context) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Scores s && Arrays.equals(em, s.em) && Arrays.equals(context, s.context);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(em) + Arrays.hashCode(context);
        }

        @Override
        public String toString() {
            return "Scores[" + em.length + " questions]";
        }
    }

    /**
     * {@code method} minus {@code baseline} in EM points on the same questions, with a paired
     * 95% interval: the targets are differences ("sac >= truncate + 15"), so they are
     * reported as such.
     */
    public record Comparison(String method, String baseline, int ratio, Bootstrap.Interval emDiff, int n) { }

    /**
     * Perplexity of 64 continuation tokens with a 95% bootstrap interval over documents;
     * {@code perText}: each text's mean NLL (nats per token), in the order of the texts scored
     * (every method scores the same texts, so rows pair up); {@code tokensPerAnchor} the compressor input
     * tokens per anchor kept, where a method keeps more anchors than its ratio says (else 0).
     */
    public record PplRow(String method, int ratio, double ppl, double low, double high, double nll, int n,
                         double[] perText, double tokensPerAnchor) { }

    /**
     * How much of what the context is worth a compressed method keeps: {@code recovered} =
     * (NLL none - NLL sac) / (NLL none - NLL full), 1 = as good as the whole passage, 0 = as if
     * there were none, below 0 = worse than none; {@code gap} = NLL none - NLL full (nats). The
     * 95% interval resamples texts with the three methods paired.
     */
    public record GapRow(String method, int ratio, double gap, double recovered, double low, double high, int n) { }

    /**
     * {@link GapRow}s of every compressed row of {@code ppl}; empty without both full and none, or
     * when full is not better than none (no gap).
     */
    public static List<GapRow> gapRecovered(List<PplRow> ppl) {
        PplRow full = ppl.stream().filter(r -> r.method().equals("full")).findFirst().orElse(null);
        PplRow none = ppl.stream().filter(r -> r.method().equals("none")).findFirst().orElse(null);
        List<GapRow> out = new ArrayList<>();
        // no gap to recover (the passage does not help the base): a share would be meaningless
        if (full == null || none == null || none.perText().length != full.perText().length
                || !(none.nll() - full.nll() > 0)) {
            return out;
        }
        for (PplRow r : ppl) {
            if (r == full || r == none || r.perText().length != full.perText().length) {
                continue;
            }
            int n = r.perText().length;
            double[] kept = new double[n];   // per text: none - method, and none - full
            double[] gap = new double[n];
            for (int i = 0; i < n; i++) {
                kept[i] = none.perText()[i] - r.perText()[i];
                gap[i] = none.perText()[i] - full.perText()[i];
            }
            Bootstrap.Interval share = Bootstrap.ratioOfMeans(kept, gap);
            out.add(new GapRow(r.method(), r.ratio(), none.nll() - full.nll(), share.value(), share.low(), share.high(), n));
        }
        return out;
    }

    /** A prediction, for the report's examples and for debugging. */
    public record Prediction(String method, int ratio, String qid, String question, String predicted, String gold) { }

    private final SacEngine main;                 // the multi-ratio "sac" adapter
    private final Map<String, SacEngine> variants; // variant -> engine (incl. "sac")
    private final Consumer<String> progress;
    private int maxAnswerTokens = QaMethods.MAX_ANSWER_TOKENS;

    public Evaluator(Map<String, SacEngine> variants, Consumer<String> progress) {
        this.variants = variants;
        this.main = variants.get("sac");
        if (main == null) {
            throw new IllegalArgumentException("the model package has no adapter of variant 'sac'");
        }
        if (main.adapter().spec().keepsCapitalisedWords()) {
            throw new IllegalArgumentException("the 'sac' engine is an adapter of the " + SacSpec.NAMES_VARIANT
                    + " experiment; the evaluation compares the others with a uniform-anchor sac adapter");
        }
        this.progress = progress;
    }

    /** Answers of at most {@code n} tokens (default {@value QaMethods#MAX_ANSWER_TOKENS}); returns this. */
    public Evaluator maxAnswerTokens(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("answers need at least one token, got " + n);
        }
        this.maxAnswerTokens = n;
        return this;
    }

    /** The methods an evaluation scores unless told otherwise, in report order. */
    public static final List<String> METHODS = List.of("full", "none", "sac", QaMethods.SAC_INT8, "truncate",
            "uniform-kv", "sac-causal", "sac-no-anchor-emb");
    /**
     * Experiments, scored only when named: {@code sac-names} keeps capitalised words' tokens as anchors too, with
     * the package's {@code sac-names} adapter (trained with that layout) when it has one, else with the {@code sac}
     * adapter (trained on uniform anchors: session 18's check).
     */
    public static final List<String> EXPERIMENTS = List.of(QaMethods.SAC_NAMES);

    public List<Row> qa(List<MrqaRecord> data, List<Integer> ratios, List<Prediction> predictions) {
        return qa(data, ratios, predictions, METHODS);
    }

    /** Fails, naming the known ones, when {@code methods} holds a name in neither {@link #METHODS} nor {@link #EXPERIMENTS}. */
    public static void requireKnown(java.util.Collection<String> methods) {
        List<String> unknown = methods.stream().filter(m -> !METHODS.contains(m) && !EXPERIMENTS.contains(m)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown method(s) " + unknown + "; known: " + METHODS + ", experiments: "
                    + EXPERIMENTS);
        }
    }

    /** As {@link #qa(List, List, List)}, scoring only {@code include} (names from {@link #METHODS} or {@link #EXPERIMENTS}). */
    public List<Row> qa(List<MrqaRecord> data, List<Integer> ratios, List<Prediction> predictions,
                        java.util.Collection<String> include) {
        requireKnown(include);
        QaMethods methods = new QaMethods(main, maxAnswerTokens);
        List<Row> rows = new ArrayList<>();
        for (String m : List.of("full", "none")) {
            if (include.contains(m)) {
                rows.add(score(m, 0, data, methods, predictions));
            }
        }
        for (int r : ratios) {
            for (String m : List.of("sac", QaMethods.SAC_INT8, QaMethods.SAC_NAMES, "truncate", "uniform-kv")) {
                if (include.contains(m) && (!m.startsWith("sac") || engineFor(m).adapter().spec().supports(r))) {
                    rows.add(score(m, r, data, methods, predictions));
                }
            }
            for (String ablation : List.of("sac-causal", "sac-no-anchor-emb")) {
                SacEngine e = variants.get(ablation);
                if (include.contains(ablation) && e != null && e.adapter().spec().supports(r)) {
                    rows.add(score(ablation, r, data, methods, predictions));
                }
            }
        }
        return rows;
    }

    private Row score(String method, int ratio, List<MrqaRecord> data, QaMethods methods, List<Prediction> out) {
        SacEngine engine = engineFor(method);
        double em = 0;
        double f1 = 0;
        double pem = 0;
        double pf1 = 0;
        int n = 0;
        int questions = data.stream().mapToInt(c -> c.qas().size()).sum();
        double[] perQuestion = new double[questions];
        int[] context = new int[questions];
        int c = 0;
        long t0 = System.nanoTime();
        KeptAnchors kept = new KeptAnchors();
        for (MrqaRecord ctx : data) {
            for (MrqaRecord.Qa qa : ctx.qas()) {
                String p = methods.answer(method, ctx, qa, Math.max(1, ratio), engine, kept);
                double exact = Metrics.squadEm(p, qa.answers());
                perQuestion[n] = 100 * exact;
                context[n] = c;
                em += exact;
                f1 += Metrics.squadF1(p, qa.answers());
                pem += Metrics.paperEm(p, qa.answers());
                pf1 += Metrics.paperF1(p, qa.answers());
                n++;
                out.add(new Prediction(method, ratio, qa.qid(), qa.question(), p, qa.answers().get(0)));
            }
            c += ctx.qas().isEmpty() ? 0 : 1;
        }
        if (n == 0) {
            throw new IllegalArgumentException("the data holds no questions");
        }
        Scores scores = new Scores(perQuestion, context);
        Row row = new Row(method, ratio, 100 * em / n, 100 * f1 / n, 100 * pem / n, 100 * pf1 / n, n,
                Bootstrap.mean(perQuestion, context), scores, kept.tokensPerAnchor());
        progress.accept(String.format(java.util.Locale.ROOT, "%-32s %3s  EM %5.1f [%.1f, %.1f]  F1 %5.1f  (n=%d, %.0f s)%s",
                label(method, engine),
                ratio == 0 ? "-" : ratio + "x", row.em(), row.emCi().low(), row.emCi().high(), row.f1(), n,
                (System.nanoTime() - t0) / 1e9, KeptAnchors.describe(row.tokensPerAnchor())));
        return row;
    }

    /** The method as a progress line names it: sac-names says when sac's adapter, untrained for its layout, scores it. */
    private String label(String method, SacEngine engine) {
        return method.equals(QaMethods.SAC_NAMES) && engine == main ? method + " (sac adapter)" : method;
    }

    /** The engine that scores {@code method}: its own variant's adapter when the package has one, else sac's. */
    private SacEngine engineFor(String method) {
        return variants.getOrDefault(method, main);
    }

    /** Which adapter scores {@value QaMethods#SAC_NAMES}: its own, trained with that layout, or sac's (untrained for it). */
    public String namesAdapter() {
        return variants.containsKey(QaMethods.SAC_NAMES) ? QaMethods.SAC_NAMES : "sac";
    }

    /**
     * The differences the targets speak of, at each ratio where both rows exist: sac
     * against truncate and uniform-kv, sac-int8 against sac, and each ablation against sac.
     */
    public static List<Comparison> compare(List<Row> rows) {
        List<Comparison> out = new ArrayList<>();
        List<String[]> pairs = List.of(new String[] {"sac", "truncate"}, new String[] {"sac", "uniform-kv"},
                new String[] {QaMethods.SAC_INT8, "sac"}, new String[] {"sac-causal", "sac"},
                new String[] {"sac-no-anchor-emb", "sac"});
        List<Integer> ratios = rows.stream().map(Row::ratio).filter(r -> r > 0).distinct().sorted().toList();
        for (int r : ratios) {
            for (String[] pair : pairs) {
                Row a = find(rows, pair[0], r);
                Row b = find(rows, pair[1], r);
                if (a != null && b != null) {
                    out.add(new Comparison(pair[0], pair[1], r,
                            Bootstrap.difference(a.scores().em(), b.scores().em(), a.scores().context()), a.n()));
                }
            }
        }
        return out;
    }

    private static Row find(List<Row> rows, String method, int ratio) {
        return rows.stream().filter(x -> x.method().equals(method) && x.ratio() == ratio).findFirst().orElse(null);
    }

    public List<PplRow> perplexity(List<String> texts, List<Integer> ratios) {
        return perplexity(texts, ratios, List.of());
    }

    /**
     * Continuation perplexity of full, none and sac, and of the experiments named in {@code experiments}
     * ({@value QaMethods#SAC_NAMES}: with the adapter {@link #namesAdapter} names, as its QA rows).
     */
    public List<PplRow> perplexity(List<String> texts, List<Integer> ratios, java.util.Collection<String> experiments) {
        List<String> other = experiments.stream().filter(m -> !EXPERIMENTS.contains(m)).toList();
        if (!other.isEmpty()) {
            throw new IllegalArgumentException("not an experiment: " + other + " (full, none and sac are always scored; "
                    + "experiments: " + EXPERIMENTS + ")");
        }
        Perplexity ppl = new Perplexity(main);
        List<long[]> tokens = texts.stream().map(t -> main.tokenizer().encode(t)).toList();
        List<PplRow> rows = new ArrayList<>();
        rows.add(ppl("full", 0, tokens, ppl));
        rows.add(ppl("none", 0, tokens, ppl));
        for (int r : ratios) {
            if (main.adapter().spec().supports(r)) {
                rows.add(ppl("sac", r, tokens, ppl));
            }
            if (experiments.contains(QaMethods.SAC_NAMES) && engineFor(QaMethods.SAC_NAMES).adapter().spec().supports(r)) {
                rows.add(ppl(QaMethods.SAC_NAMES, r, tokens, ppl));
            }
        }
        return rows;
    }

    private PplRow ppl(String method, int ratio, List<long[]> texts, Perplexity p) {
        SacEngine engine = engineFor(method);
        KeptAnchors kept = new KeptAnchors();
        List<Double> nll = new ArrayList<>();
        for (long[] t : texts) {
            Double x = p.nll(method, t, Math.max(1, ratio), engine, kept);
            if (x != null) {
                nll.add(x);
            }
        }
        if (nll.isEmpty()) {
            throw new IllegalArgumentException("no text is long enough for a perplexity test ("
                    + (Perplexity.PASSAGE + Perplexity.TARGET) + " tokens needed)");
        }
        double[] perText = nll.stream().mapToDouble(Double::doubleValue).toArray();
        // each text its own group: the interval of the mean NLL, then exp (perplexity is monotone in it)
        Bootstrap.Interval meanNll = Bootstrap.mean(perText, IntStream.range(0, perText.length).toArray());
        PplRow row = new PplRow(method, ratio, Math.exp(meanNll.value()), Math.exp(meanNll.low()), Math.exp(meanNll.high()),
                meanNll.value(), perText.length, perText, kept.tokensPerAnchor());
        progress.accept(String.format(java.util.Locale.ROOT, "perplexity %-9s %3s  %.2f [%.2f, %.2f] (n=%d)%s",
                label(method, engine),
                ratio == 0 ? "-" : ratio + "x", row.ppl(), row.low(), row.high(), row.n(),
                KeptAnchors.describe(row.tokensPerAnchor())));
        return row;
    }
}
