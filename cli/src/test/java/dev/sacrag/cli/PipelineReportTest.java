package dev.sacrag.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench pipeline}'s arithmetic over rounds, on made-up levels. */
class PipelineReportTest {
    @TempDir
    Path tmp;

    private static QueryLoad.Level level(int clients, int queries, double seconds) {
        double[] samples = {10, 20};
        return new QueryLoad.Level(clients, queries, seconds, samples, samples, samples, samples, new double[] {3, 5});
    }

    private static PipelineReport report(List<List<QueryLoad.Level>> rounds) {
        PipelineReport.Setup setup = new PipelineReport.Setup(Path.of("m"), Path.of("d"), 2, 1, 2, 10, 8, 16, "3ms", "50ms", "64m", 1);
        return new PipelineReport(setup, "model", 4, new PipelineIngest.Burst(2, 1.0, 2, 0.5, new double[] {5, 6}),
                new double[] {7, 8}, rounds, "test machine");
    }

    @Test
    void speedupIsTheMedianOfPerRoundRatiosNotARatioOfMedians() throws Exception {
        // 1 client: 10, 20, 40 q/s; 16 clients: 40, 30, 160 q/s -> per-round ratios 4, 1.5, 4
        PipelineReport r = report(List.of(
                List.of(level(1, 10, 1.0), level(16, 40, 1.0)),
                List.of(level(1, 10, 0.5), level(16, 30, 1.0)),
                List.of(level(1, 10, 0.25), level(16, 40, 0.25))));
        assertEquals(4.0, r.speedup(1).orElseThrow(), 1e-12, "median of 4, 1.5, 4 (the ratio of medians is 40/20 = 2)");
        assertEquals(4.0, r.speedupAt16().orElseThrow(), 1e-12);
        assertEquals(20.0, PipelineReport.median(r.queriesPerSecond(0)), 1e-12);

        StringWriter out = new StringWriter();
        r.print(new PrintWriter(out, true));
        assertTrue(out.toString().contains("in each of 3 rounds"), out.toString());
        assertTrue(out.toString().contains("16 clients, per round: queries/s 40.0, 30.0, 160.0; vs 1 client 4.00x, 1.50x, 4.00x"),
                out.toString());
        assertTrue(out.toString().contains("4.00x (met)"), out.toString());

        Path json = tmp.resolve("r.json");
        r.writeJson(json);
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals(3, o.get("rounds").getAsInt());
        JsonObject sixteen = o.getAsJsonArray("queries").get(1).getAsJsonObject();
        assertEquals(110, sixteen.get("queries").getAsInt(), "queries over every round: 40 + 30 + 40");
        assertEquals(2.25, sixteen.get("seconds").getAsDouble(), 1e-12, "seconds over every round");
        JsonArray perRound = sixteen.getAsJsonArray("seconds_rounds");
        assertEquals(3, perRound.size());
        assertEquals(40.0, sixteen.get("queries_per_s").getAsDouble(), 1e-12, "median of 40, 30, 160");
        assertEquals(4.0, sixteen.get("speedup_vs_1_client").getAsDouble(), 1e-12);
        assertEquals(20.0, sixteen.get("latency_ms_p99").getAsDouble(), 1e-12, "latencies pooled over the rounds");
        assertTrue(o.getAsJsonObject("target").get("met").getAsBoolean());
    }

    /** Answers that ran to the limit (8 tokens here) are reported apart from the others. */
    @Test
    void answersAtTheTokenLimitAreReportedApart() throws Exception {
        double[] latency = {10, 20, 30, 400, 500};
        double[] tokens = {3, 4, 2, 8, 8};
        QueryLoad.Level l = new QueryLoad.Level(16, 5, 1.0, latency, latency, latency, latency, tokens);
        PipelineReport r = report(List.of(List.of(l)));
        assertEquals(List.of(400.0, 500.0), java.util.Arrays.stream(r.latencies(l, true)).boxed().toList());
        StringWriter out = new StringWriter();
        r.print(new PrintWriter(out, true));
        assertTrue(out.toString().contains("16 clients: 2 of 5 answers ran to the 8-token limit, latency p50 400 ms;"
                + " the others' latency p50 20 ms, p99 30 ms"), out.toString());
        Path json = tmp.resolve("limit.json");
        r.writeJson(json);
        JsonObject level = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("queries")
                .get(0).getAsJsonObject();
        assertEquals(2, level.get("answers_at_limit").getAsInt());
        assertEquals(30.0, level.get("latency_ms_p99_below_limit").getAsDouble(), 1e-12);
        assertEquals(400.0, level.get("latency_ms_p50_at_limit").getAsDouble(), 1e-12);
    }

    @Test
    void withoutAOneClientLevelThereIsNoSpeedupAndNoTarget() throws Exception {
        PipelineReport r = report(List.of(List.of(level(4, 10, 1.0), level(16, 10, 0.5))));
        assertTrue(r.speedup(0).isEmpty());
        assertTrue(r.speedupAt16().isEmpty());
        StringWriter out = new StringWriter();
        r.print(new PrintWriter(out, true));
        assertFalse(out.toString().contains("target:"), out.toString());
        assertFalse(out.toString().contains("per round"), "one round: no per-round lines\n" + out);
        Path json = tmp.resolve("r.json");
        r.writeJson(json);
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertFalse(o.has("target"));
        assertFalse(o.getAsJsonArray("queries").get(0).getAsJsonObject().has("speedup_vs_1_client"));
    }

    @Test
    void roundsMustRunTheSameLevelsInTheSameOrder() {
        assertThrows(IllegalArgumentException.class, () -> report(List.of(
                List.of(level(1, 10, 1.0), level(16, 10, 1.0)),
                List.of(level(16, 10, 1.0), level(1, 10, 1.0)))));
        assertThrows(IllegalArgumentException.class, () -> report(List.of()));
    }
}
