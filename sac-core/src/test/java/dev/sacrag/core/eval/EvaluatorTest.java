package dev.sacrag.core.eval;

import com.google.gson.JsonObject;
import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.data.SyntheticFacts;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.TestModels;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluatorTest {
    @TempDir
    Path tmp;

    @Test
    void theGapRecoveredIsTheShareOfTheNoneToFullNllDifferenceThatSacKeeps() {
        List<Evaluator.PplRow> ppl = List.of(row("full", 0, 1.0, 1.2, 0.8), row("none", 0, 2.0, 2.2, 1.8),
                row("sac", 4, 1.5, 1.7, 1.3), row("sac", 8, 2.5, 2.7, 2.3));
        List<Evaluator.GapRow> gaps = Evaluator.gapRecovered(ppl);
        assertEquals(2, gaps.size());
        Evaluator.GapRow four = gaps.get(0);
        assertEquals(4, four.ratio());
        assertEquals(1.0, four.gap(), 1e-9);
        assertEquals(0.5, four.recovered(), 1e-9);
        // every text has the same differences, so any resample gives the same share
        assertEquals(0.5, four.low(), 1e-9);
        assertEquals(0.5, four.high(), 1e-9);
        assertEquals(-0.5, gaps.get(1).recovered(), 1e-9, "worse than no context is a negative share");
        JsonObject json = EvalReport.json("d", "m", List.of(), List.of(), ppl, Map.of());
        assertEquals(0.5, json.getAsJsonArray("perplexity_gap_recovered").get(0).getAsJsonObject().get("recovered")
                .getAsDouble(), 1e-9);
        assertTrue(EvalReport.markdown(List.of(), List.of(), ppl).contains("| sac | 8x | -0.50 |"));
        assertEquals(List.of(), Evaluator.gapRecovered(ppl.subList(1, 4)), "no full row, no gap");
        List<Evaluator.PplRow> noGap = List.of(row("full", 0, 2.0, 2.0, 2.0), row("none", 0, 2.0, 2.0, 2.0),
                row("sac", 4, 1.5, 1.7, 1.3));
        assertEquals(List.of(), Evaluator.gapRecovered(noGap), "the passage does not help: no share to report");
    }

    private static Evaluator.PplRow row(String method, int ratio, double... perText) {
        double mean = java.util.Arrays.stream(perText).average().orElseThrow();
        return new Evaluator.PplRow(method, ratio, Math.exp(mean), Math.exp(mean), Math.exp(mean), mean, perText.length,
                perText, 0);
    }

    @Test
    void theNamesExperimentUsesTheSacNamesAdapterWhenThePackageHasOne() throws Exception {
        ModelConfig c = TestModels.tiny(ModelConfig.Architecture.LLAMA);
        Path base = TestModels.write(c, tmp.resolve("base-n"), 4);
        String fp = Fingerprints.baseModel(base);
        SacAdapter.writeRandom(tmp.resolve("n/sac"), SacSpec.paperDefaults("sac", List.of(4), 4, fp), c, 1);
        SacAdapter.writeRandom(tmp.resolve("n/sac-names"), SacSpec.paperDefaults(SacSpec.NAMES_VARIANT, List.of(4, 8), 4, fp), c, 7);
        List<MrqaRecord> data = new SyntheticFacts(SyntheticFacts.Split.TEST, 1).generate(2);
        try (SacEngine sac = SacEngine.load(base, tmp.resolve("n/sac"));
             SacEngine names = SacEngine.load(base, tmp.resolve("n/sac-names"))) {
            java.util.function.Function<Map<String, SacEngine>, List<String>> answers = engines -> {
                List<Evaluator.Prediction> out = new ArrayList<>();
                new Evaluator(engines, line -> { }).maxAnswerTokens(4).qa(data, List.of(4), out, List.of("sac-names"));
                return out.stream().map(Evaluator.Prediction::predicted).toList();
            };
            // what each adapter answers with capitalised words kept as anchors, question by question
            java.util.function.Function<SacEngine, List<String>> direct = e -> {
                List<String> out = new ArrayList<>();
                for (MrqaRecord ctx : data) {
                    for (MrqaRecord.Qa qa : ctx.qas()) {
                        var kv = e.compressKeepingCapitalisedWords(ctx.context(), 4);
                        out.add(e.tokenizer().decode(e.answer(List.of(kv), qa.question(), e.greedy(4), t -> { }).tokens())
                                .strip());
                    }
                }
                return out;
            };
            List<String> fromNames = direct.apply(names);
            assertTrue(!direct.apply(sac).equals(fromNames), "the two random adapters must answer differently, or this shows nothing");
            assertEquals(direct.apply(sac), answers.apply(Map.of("sac", sac)), "without a sac-names adapter: sac's");
            assertEquals(fromNames, answers.apply(Map.of("sac", sac, SacSpec.NAMES_VARIANT, names)));
            // perplexity: the names layout, scored with the same adapter as its QA rows; sac's rows unchanged
            List<String> text = List.of(("Ada Lovelace and Charles Babbage met in London, where the Analytical Engine "
                    + "was drawn up; the rest of this long passage is plain lower-case text about machines. ").repeat(12));
            List<Evaluator.PplRow> alone = new Evaluator(Map.of("sac", sac), line -> { }).perplexity(text, List.of(4),
                    List.of("sac-names"));
            List<Evaluator.PplRow> both = new Evaluator(Map.of("sac", sac, SacSpec.NAMES_VARIANT, names), line -> { })
                    .perplexity(text, List.of(4, 8), List.of("sac-names"));
            assertEquals(List.of("full@0", "none@0", "sac@4", "sac-names@4", "sac-names@8"),
                    both.stream().map(r -> r.method() + "@" + r.ratio()).toList());
            assertEquals(alone.get(2).nll(), both.get(2).nll(), 1e-12, "sac's row does not depend on the names adapter");
            assertTrue(Math.abs(alone.get(3).nll() - both.get(3).nll()) > 1e-6, "sac-names uses the sac-names adapter when there is one");
            assertTrue(Math.abs(alone.get(3).nll() - alone.get(2).nll()) > 1e-6, "the same adapter, another layout: another KV");
            double tpa = both.get(3).tokensPerAnchor();
            assertTrue(tpa > 1 && tpa < 3, "capitalised words add anchors: well under 4 tokens per anchor, got " + tpa);
            assertEquals(0, both.get(2).tokensPerAnchor(), "uniform anchors: no count");
            assertEquals(Math.round(tpa * 100) / 100.0, EvalReport.json("d", "m", List.of(), List.of(), both, Map.of())
                    .getAsJsonArray("perplexity").get(3).getAsJsonObject().get("tokens_per_anchor").getAsDouble(), 1e-9,
                    "rounded to 2 places");
            String md = EvalReport.markdown(List.of(), List.of(), both);
            assertTrue(md.contains(String.format(java.util.Locale.ROOT, "sac-names 4x %.2f (perplexity), sac-names 8x %.2f "
                    + "(perplexity).", tpa, both.get(4).tokensPerAnchor())), md);
            // each row counts its own compressions: 8x's count is what 8x alone gives, not 4x's and 8x's together
            double at8 = new Evaluator(Map.of("sac", sac, SacSpec.NAMES_VARIANT, names), line -> { })
                    .perplexity(text, List.of(8), List.of("sac-names")).get(2).tokensPerAnchor();
            assertTrue(at8 > tpa, "fewer uniform anchors at 8x: more tokens per anchor (" + at8 + " vs " + tpa + ")");
            assertEquals(at8, both.get(4).tokensPerAnchor(), 1e-12);
            assertThrows(IllegalArgumentException.class, () -> new Evaluator(Map.of("sac", sac), line -> { })
                    .perplexity(text, List.of(4), List.of("truncate")), "only experiments are named here");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new Evaluator(Map.of("sac", names), line -> { }));
            assertTrue(e.getMessage().contains("uniform-anchor sac adapter"), e.getMessage());
        }
    }

    @Test
    void reportsEveryMethodAtEveryRatioWithScoresInRange() throws Exception {
        ModelConfig c = TestModels.tiny(ModelConfig.Architecture.LLAMA);
        Path base = TestModels.write(c, tmp.resolve("base"), 4);
        String fp = Fingerprints.baseModel(base);
        SacAdapter.writeRandom(tmp.resolve("adapters/sac"), SacSpec.paperDefaults("sac", List.of(4, 8), 4, fp), c, 1);
        SacAdapter.writeRandom(tmp.resolve("adapters/sac-causal"), SacSpec.paperDefaults("sac-causal", List.of(8), 4, fp), c, 2);
        Map<String, SacEngine> engines = new LinkedHashMap<>();
        try {
            engines.put("sac", SacEngine.load(base, tmp.resolve("adapters/sac")));
            engines.put("sac-causal", SacEngine.load(base, tmp.resolve("adapters/sac-causal")));
            List<MrqaRecord> data = new SyntheticFacts(SyntheticFacts.Split.TEST, 1).generate(2);
            int questions = data.stream().mapToInt(r -> r.qas().size()).sum();
            List<Evaluator.Prediction> predictions = new ArrayList<>();
            List<String> log = new ArrayList<>();
            Evaluator ev = new Evaluator(engines, log::add);
            List<Evaluator.Row> rows = ev.qa(data, List.of(4, 8), predictions);
            Set<String> names = rows.stream().map(r -> r.method() + "@" + r.ratio()).collect(Collectors.toSet());
            assertEquals(Set.of("full@0", "none@0", "sac@4", "sac-int8@4", "truncate@4", "uniform-kv@4", "sac@8", "sac-int8@8", "truncate@8",
                    "uniform-kv@8", "sac-causal@8"), names);
            for (Evaluator.Row r : rows) {
                assertEquals(questions, r.n());
                assertTrue(r.em() >= 0 && r.em() <= 100 && r.f1() >= r.em() - 1e-9, r.toString());
                assertEquals(r.em(), r.emCi().value(), 1e-9);
                assertTrue(r.emCi().low() <= r.em() && r.em() <= r.emCi().high(), r.toString());
                assertEquals(questions, r.scores().em().length);
            }
            assertEquals(rows.size() * questions, predictions.size());
            List<String> text = List.of(new String(new char[600]).replace('\0', 'a') + " the end of a long text ".repeat(40));
            List<Evaluator.PplRow> ppl = ev.perplexity(text, List.of(4));
            assertEquals(List.of("full", "none", "sac"), ppl.stream().map(Evaluator.PplRow::method).toList());
            assertTrue(ppl.get(0).ppl() > 1 && ppl.get(0).low() <= ppl.get(0).ppl() && ppl.get(0).ppl() <= ppl.get(0).high());
            JsonObject json = EvalReport.json("d.jsonl", "m", rows, Evaluator.compare(rows), ppl, Map.of());
            assertEquals(rows.size(), json.getAsJsonArray("results").size());
            List<String> compared = new ArrayList<>();
            json.getAsJsonArray("comparisons").forEach(e -> compared.add(e.getAsJsonObject().get("method").getAsString()
                    + "-" + e.getAsJsonObject().get("baseline").getAsString() + "@" + e.getAsJsonObject().get("ratio").getAsInt()));
            assertEquals(List.of("sac-truncate@4", "sac-uniform-kv@4", "sac-int8-sac@4", "sac-truncate@8", "sac-uniform-kv@8",
                    "sac-int8-sac@8", "sac-causal-sac@8"), compared);
            Evaluator.Row sac4 = rows.stream().filter(r -> r.method().equals("sac") && r.ratio() == 4).findFirst().orElseThrow();
            Evaluator.Row trunc4 = rows.stream().filter(r -> r.method().equals("truncate") && r.ratio() == 4).findFirst().orElseThrow();
            assertEquals(sac4.em() - trunc4.em(), Evaluator.compare(rows).get(0).emDiff().value(), 1e-9);
            assertTrue(EvalReport.svg(rows).startsWith("<svg") && EvalReport.markdown(rows, Evaluator.compare(rows), ppl).contains("| sac | 8x |"));

            // a subset scores only what was asked, with the same numbers as the full run
            List<Evaluator.Row> some = ev.qa(data, List.of(8), new ArrayList<>(), List.of("sac", "none"));
            assertEquals(List.of("none@0", "sac@8"), some.stream().map(r -> r.method() + "@" + r.ratio()).toList());
            Evaluator.Row sac8 = rows.stream().filter(r -> r.method().equals("sac") && r.ratio() == 8).findFirst().orElseThrow();
            assertEquals(sac8, some.get(1));
            IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> ev.qa(data, List.of(8), new ArrayList<>(), List.of("sac", "sac-8x")));
            assertTrue(bad.getMessage().contains("sac-8x") && bad.getMessage().contains("uniform-kv"), bad.getMessage());
        } finally {
            engines.values().forEach(SacEngine::close);
        }
    }
}
