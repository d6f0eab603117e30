package dev.sacrag.core.eval;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import dev.sacrag.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the evaluation as JSON, a Markdown table and an SVG plot of EM against ratio. */
public final class EvalReport {

    /** @param comparisons {@link Evaluator#compare} of {@code rows} (bootstrapped once, for the JSON and the table) */
    public static JsonObject json(String data, String modelId, List<Evaluator.Row> rows,
                                  List<Evaluator.Comparison> comparisons, List<Evaluator.PplRow> ppl,
                                  Map<String, Object> extra) {
        JsonObject o = new JsonObject();
        o.addProperty("data", data);
        o.addProperty("model_id", modelId);
        JsonArray results = new JsonArray();
        for (Evaluator.Row r : rows) {
            JsonObject x = new JsonObject();
            x.addProperty("method", r.method());
            x.addProperty("ratio", r.ratio());
            x.addProperty("em", round(r.em()));
            x.addProperty("em_ci95_low", round(r.emCi().low()));
            x.addProperty("em_ci95_high", round(r.emCi().high()));
            x.addProperty("f1", round(r.f1()));
            x.addProperty("paper_em", round(r.paperEm()));
            x.addProperty("paper_f1", round(r.paperF1()));
            x.addProperty("n", r.n());
            if (r.tokensPerAnchor() > 0) {
                x.addProperty("tokens_per_anchor", round(r.tokensPerAnchor()));
            }
            results.add(x);
        }
        o.add("results", results);
        JsonArray paired = new JsonArray();
        for (Evaluator.Comparison c : comparisons) {
            JsonObject x = new JsonObject();
            x.addProperty("method", c.method());
            x.addProperty("baseline", c.baseline());
            x.addProperty("ratio", c.ratio());
            x.addProperty("em_diff", round(c.emDiff().value()));
            x.addProperty("ci95_low", round(c.emDiff().low()));
            x.addProperty("ci95_high", round(c.emDiff().high()));
            x.addProperty("n", c.n());
            paired.add(x);
        }
        o.add("comparisons", paired);
        JsonArray p = new JsonArray();
        for (Evaluator.PplRow r : ppl) {
            JsonObject x = new JsonObject();
            x.addProperty("method", r.method());
            x.addProperty("ratio", r.ratio());
            x.addProperty("ppl", round(r.ppl()));
            x.addProperty("ci95_low", round(r.low()));
            x.addProperty("ci95_high", round(r.high()));
            x.addProperty("nll", round(r.nll()));
            x.addProperty("n", r.n());
            if (r.tokensPerAnchor() > 0) {
                x.addProperty("tokens_per_anchor", round(r.tokensPerAnchor()));
            }
            p.add(x);
        }
        o.add("perplexity", p);
        JsonArray gaps = new JsonArray();
        for (Evaluator.GapRow g : Evaluator.gapRecovered(ppl)) {
            JsonObject x = new JsonObject();
            x.addProperty("method", g.method());
            x.addProperty("ratio", g.ratio());
            x.addProperty("gap_nats", round(g.gap()));
            x.addProperty("recovered", round(g.recovered()));
            x.addProperty("ci95_low", round(g.low()));
            x.addProperty("ci95_high", round(g.high()));
            x.addProperty("n", g.n());
            gaps.add(x);
        }
        o.add("perplexity_gap_recovered", gaps);
        extra.forEach((k, v) -> o.add(k, new GsonBuilder().create().toJsonTree(v)));
        return o;
    }

    public static void writeJson(Path file, JsonObject o) throws IOException {
        AtomicFiles.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }

    public static String markdown(List<Evaluator.Row> rows, List<Evaluator.Comparison> comparisons,
                                  List<Evaluator.PplRow> ppl) {
        StringBuilder sb = new StringBuilder();
        sb.append("| method | ratio | EM | EM 95% CI | F1 | paper EM | paper F1 (ROUGE-1) | n |\n"
                + "|---|---|---|---|---|---|---|---|\n");
        for (Evaluator.Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f - %.1f | %.1f | %.1f | %.1f | %d |%n", r.method(),
                    r.ratio() == 0 ? "-" : r.ratio() + "x", r.em(), r.emCi().low(), r.emCi().high(), r.f1(),
                    r.paperEm(), r.paperF1(), r.n()));
        }
        if (!comparisons.isEmpty()) {
            sb.append("\n| paired difference (same questions) | ratio | EM points | 95% CI | n |\n|---|---|---|---|---|\n");
            for (Evaluator.Comparison c : comparisons) {
                sb.append(String.format(Locale.ROOT, "| %s - %s | %dx | %+.1f | %+.1f - %+.1f | %d |%n", c.method(),
                        c.baseline(), c.ratio(), c.emDiff().value(), c.emDiff().low(), c.emDiff().high(), c.n()));
            }
        }
        if (!ppl.isEmpty()) {
            sb.append("\n| continuation perplexity (64 tokens) | ratio | ppl | 95% CI | texts |\n|---|---|---|---|---|\n");
            for (Evaluator.PplRow r : ppl) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f - %.2f | %d |%n", r.method(),
                        r.ratio() == 0 ? "-" : r.ratio() + "x", r.ppl(), r.low(), r.high(), r.n()));
            }
            List<Evaluator.GapRow> gaps = Evaluator.gapRecovered(ppl);
            if (!gaps.isEmpty()) {
                sb.append(String.format(Locale.ROOT, "%n| share of the none - full gap recovered (%.3f nats) | ratio | share "
                        + "| 95%% CI | texts |%n|---|---|---|---|---|%n", gaps.get(0).gap()));
                for (Evaluator.GapRow g : gaps) {
                    sb.append(String.format(Locale.ROOT, "| %s | %dx | %.2f | %.2f - %.2f | %d |%n", g.method(), g.ratio(),
                            g.recovered(), g.low(), g.high(), g.n()));
                }
            }
        }
        sb.append(keptAnchors(rows, ppl));
        return sb.toString();
    }

    /**
     * A line naming the context tokens per anchor of the rows that keep more anchors than their ratio
     * says (sac-names), so the tables' scores can be read at the compression they had; "" when none.
     */
    private static String keptAnchors(List<Evaluator.Row> rows, List<Evaluator.PplRow> ppl) {
        List<String> parts = new java.util.ArrayList<>();
        for (Evaluator.Row r : rows) {
            if (r.tokensPerAnchor() > 0) {
                parts.add(String.format(Locale.ROOT, "%s %dx %.2f (questions)", r.method(), r.ratio(), r.tokensPerAnchor()));
            }
        }
        for (Evaluator.PplRow r : ppl) {
            if (r.tokensPerAnchor() > 0) {
                parts.add(String.format(Locale.ROOT, "%s %dx %.2f (perplexity)", r.method(), r.ratio(), r.tokensPerAnchor()));
            }
        }
        return parts.isEmpty() ? "" : "\nContext tokens per anchor kept, where a method keeps more anchors than its ratio: "
                + String.join(", ", parts) + ".\n";
    }

    /** EM (SQuAD) against ratio: a line per compressed method, dashed lines for full and none. */
    public static String svg(List<Evaluator.Row> rows) {
        int w = 560;
        int h = 340;
        int left = 50;
        int right = 150;
        int top = 20;
        int bottom = 40;
        Map<String, List<double[]>> lines = new LinkedHashMap<>();
        List<Integer> ratios = rows.stream().filter(r -> r.ratio() > 0).map(Evaluator.Row::ratio).distinct().sorted().toList();
        if (ratios.isEmpty()) {
            ratios = List.of(1);
        }
        double minLog = Math.log(ratios.get(0));
        double maxLog = Math.log(ratios.get(ratios.size() - 1));
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n", w, h));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", w, h));
        int pw = w - left - right;
        int ph = h - top - bottom;
        for (int y = 0; y <= 100; y += 20) {
            double py = top + ph * (1 - y / 100.0);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>%n", left, py, left + pw, py, left - 6, py + 4, y));
        }
        for (int r : ratios) {
            double px = x(r, minLog, maxLog, left, pw);
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%dx</text>%n", px, h - 20, r));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">compression ratio</text>%n",
                left + pw / 2, h - 4));
        sb.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">EM</text>%n",
                top + ph / 2, top + ph / 2));
        for (Evaluator.Row r : rows) {
            if (r.ratio() > 0) {
                lines.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(new double[] {r.ratio(), r.em()});
            }
        }
        String[] colors = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
        int i = 0;
        int legendY = top + 10;
        for (var e : lines.entrySet()) {
            String color = colors[i++ % colors.length];
            StringBuilder pts = new StringBuilder();
            for (double[] p : e.getValue()) {
                double px = x((int) p[0], minLog, maxLog, left, pw);
                double py = top + ph * (1 - p[1] / 100);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", px, py, color));
            }
            sb.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n",
                    pts.toString().trim(), color));
            sb.append(legend(left + pw + 10, legendY, color, e.getKey(), false));
            legendY += 18;
        }
        for (Evaluator.Row r : rows) {
            if (r.ratio() == 0) {
                double py = top + ph * (1 - r.em() / 100);
                String color = r.method().equals("full") ? "#444" : "#999";
                sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
                        + "stroke-dasharray=\"5,4\"/>%n", left, py, left + pw, py, color));
                sb.append(legend(left + pw + 10, legendY, color, r.method(), true));
                legendY += 18;
            }
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static String legend(int x, int y, String color, String label, boolean dashed) {
        return String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                + "<text x=\"%d\" y=\"%d\">%s</text>%n", x, y, x + 18, y, color, dashed ? " stroke-dasharray=\"5,4\"" : "",
                x + 24, y + 4, label);
    }

    private static double x(int ratio, double minLog, double maxLog, int left, int pw) {
        return maxLog == minLog ? left + pw / 2.0 : left + pw * (Math.log(ratio) - minLog) / (maxLog - minLog);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private EvalReport() {
    }
}
