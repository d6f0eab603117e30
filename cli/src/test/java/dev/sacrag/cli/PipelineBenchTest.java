package dev.sacrag.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sac bench pipeline} end to end on the real embedded stack with a tiny random model
 * package, three short documents and small counts: every phase runs and reports sane numbers.
 * Speed itself (the 16-vs-1-client target) is measured on the demo model, not asserted here.
 */
class PipelineBenchTest {

    @TempDir
    Path tmp;

    @Test
    void measuresIngestLatencyAndQueriesPerClientCount() throws Exception {
        Path model = DemoRunTest.randomModelPackage(tmp.resolve("model"));
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(docs.resolve("alpha.txt"), "Alpha Station was founded in 1901 by Mira Kolb. It studies glaciers.");
        Files.writeString(docs.resolve("beta.txt"), "The Beta river flows north through Orvale and ends in a cold lake.");
        Files.writeString(docs.resolve("gamma.txt"), "Gamma Works builds small boats from larch wood in the town of Tessa.");
        Path questions = Files.writeString(tmp.resolve("questions.jsonl"), String.join("\n",
                "{\"qid\":\"q-alpha\",\"docId\":\"alpha\",\"question\":\"Who founded Alpha Station?\",\"answers\":[\"Mira Kolb\"]}",
                "{\"qid\":\"q-beta\",\"docId\":\"beta\",\"question\":\"Where does the Beta river end?\",\"answers\":[\"a cold lake\"]}")
                + "\n");
        Path json = tmp.resolve("pipeline.json");

        long t0 = System.nanoTime();
        PipelineRig.Run r = PipelineRig.sac(List.of("bench", "pipeline", "--model", model.toString(),
                "--documents", docs.toString(), "--questions", questions.toString(), "--copies", "2", "--queries", "6",
                "--clients", "1,3", "--rounds", "2", "--max-new-tokens", "4", "--max-batch", "2", "--timeout", "3m", "--json", json.toString()));
        System.out.printf("PipelineBenchTest: sac bench pipeline took %.1f s%n%s", (System.nanoTime() - t0) / 1e9, r.out());

        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("clients  queries/s") && r.out().contains("stopped: "), r.out());
        assertFalse(r.out().contains("target:"), "no 16-client level, so no target line:\n" + r.out());
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertFalse(o.get("machine").getAsString().isBlank());
        assertEquals(4, o.get("ratio").getAsInt(), "the adapter's smallest ratio");
        assertEquals(2, o.get("max_batch").getAsInt());

        JsonObject ingest = o.getAsJsonObject("ingest_burst");
        assertEquals(6, ingest.get("documents").getAsInt(), "3 documents x 2 copies");
        assertEquals(6, ingest.get("compressed").getAsInt(), "each copy compressed once, none deduplicated");
        assertTrue(ingest.get("docs_per_s").getAsDouble() > 0, ingest.toString());
        assertTrue(ingest.get("compressor_docs_per_s").getAsDouble() >= ingest.get("docs_per_s").getAsDouble(),
                "the compressor alone is at least as fast as the whole pipeline: " + ingest);
        JsonObject latency = o.getAsJsonObject("publish_to_answerable");
        assertEquals(6, latency.get("documents").getAsInt());
        assertOrdered(latency.get("ms_p50").getAsDouble(), latency.get("ms_p99").getAsDouble(), latency);

        assertEquals(2, o.get("rounds").getAsInt());
        JsonArray levels = o.getAsJsonArray("queries");
        assertEquals(2, levels.size(), levels.toString());
        int[] clients = {1, 3};
        for (int i = 0; i < levels.size(); i++) {
            JsonObject l = levels.get(i).getAsJsonObject();
            assertEquals(clients[i], l.get("clients").getAsInt(), l.toString());
            assertEquals(12, l.get("queries").getAsInt(), "6 queries in each of 2 rounds: " + l);
            JsonArray perRound = l.getAsJsonArray("queries_per_s_rounds");
            assertEquals(2, perRound.size(), l.toString());
            double a = perRound.get(0).getAsDouble();
            double b = perRound.get(1).getAsDouble();
            assertTrue(a > 0 && b > 0, l.toString());
            assertEquals((a + b) / 2, l.get("queries_per_s").getAsDouble(), 1e-9, "median of two rounds: " + l);
            assertOrdered(l.get("latency_ms_p50").getAsDouble(), l.get("latency_ms_p99").getAsDouble(), l);
            JsonArray ratios = l.getAsJsonArray("speedup_vs_1_client_rounds");
            assertEquals(2, ratios.size(), l.toString());
            assertEquals((ratios.get(0).getAsDouble() + ratios.get(1).getAsDouble()) / 2,
                    l.get("speedup_vs_1_client").getAsDouble(), 1e-9, "the median of the per-round ratios: " + l);
        }
        assertEquals(1.0, levels.get(0).getAsJsonObject().get("speedup_vs_1_client").getAsDouble(), 1e-12);
        JsonArray one = levels.get(0).getAsJsonObject().getAsJsonArray("queries_per_s_rounds");
        JsonArray three = levels.get(1).getAsJsonObject().getAsJsonArray("queries_per_s_rounds");
        JsonArray ratios = levels.get(1).getAsJsonObject().getAsJsonArray("speedup_vs_1_client_rounds");
        for (int k = 0; k < 2; k++) {
            assertEquals(three.get(k).getAsDouble() / one.get(k).getAsDouble(), ratios.get(k).getAsDouble(), 1e-9,
                    "round " + k + "'s ratio is to the same round's 1-client figure");
        }
        assertTrue(r.out().contains("3 clients, per round: queries/s "), r.out());
        DemoRunTest.assertRedisStopped(r.out() + r.err());
    }

    @Test
    void missingModelSaysHowToGetIt() {
        SacCliTest.Run r = SacCliTest.run("bench", "pipeline", "--model", tmp.resolve("nothing").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("./sac train base") && r.err().contains("--model"), r.err());
    }

    @Test
    void refusesZeroClients() {
        SacCliTest.Run r = SacCliTest.run("bench", "pipeline", "--clients", "1,0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--clients"), r.err());
    }

    @Test
    void quantileIsNearestRank() {
        double[] hundred = IntStream.rangeClosed(1, 100).mapToDouble(i -> i).toArray();
        assertEquals(50, BenchCommand.quantile(hundred, 0.5));
        assertEquals(99, BenchCommand.quantile(hundred, 0.99));
        assertEquals(100, BenchCommand.quantile(hundred, 1));
        double[] few = {30, 10, 20};
        assertEquals(20, BenchCommand.quantile(few, 0.5));
        assertEquals(30, BenchCommand.quantile(few, 0.99));
        assertEquals(10, BenchCommand.quantile(few, 0));
    }

    private static void assertOrdered(double p50, double p99, Object where) {
        assertTrue(p50 > 0 && p50 <= p99, "0 < p50 <= p99 in " + where);
    }
}
