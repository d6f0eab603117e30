package dev.sacrag.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What {@code sac bench pipeline} measured: printed as a table, written as JSON. */
record PipelineReport(Setup setup, String modelId, int ratio, PipelineIngest.Burst burst, double[] latencyMs,
                      List<QueryLoad.Level> levels, String machine) {

    /** The run's settings; {@code documents} counts distinct documents, before {@code copies}. */
    record Setup(Path model, Path documentsDir, int documents, int copies, int questions, int queries, int maxNewTokens,
                 int maxBatch, String batchWait) {
    }

    /** Queries/s of a level over those of the 1-client level; empty without one. */
    Optional<Double> speedup(QueryLoad.Level level) {
        return levels.stream().filter(l -> l.clients() == 1).findFirst()
                .map(one -> level.queriesPerSecond() / one.queriesPerSecond());
    }

    /** The 16-client level's speedup, when both 1 and 16 clients ran. */
    Optional<Double> speedupAt16() {
        return levels.stream().filter(l -> l.clients() == 16).findFirst().flatMap(this::speedup);
    }

    void print(PrintWriter out) {
        Setup s = setup;
        out.printf(Locale.ROOT, "bench pipeline: model %s (ratio %d), %d documents x %d copies, %d questions, %d queries"
                + " per client count, answers <= %d tokens, max batch %d, batch wait %s%n", modelId, ratio, s.documents(),
                s.copies(), s.questions(), s.queries(), s.maxNewTokens(), s.maxBatch(), s.batchWait());
        out.printf(Locale.ROOT, "  ingest: %d documents in %.2f s = %.2f documents/s (first send -> last answerable);"
                        + " compressor alone %.2f documents/s; ack -> answerable in the burst p50 %.0f ms, p99 %.0f ms%n",
                burst.documents(), burst.seconds(), burst.documentsPerSecond(), burst.compressorDocumentsPerSecond(),
                BenchCommand.quantile(burst.latencyMs(), 0.5), BenchCommand.quantile(burst.latencyMs(), 0.99));
        out.printf(Locale.ROOT, "  publish-to-answerable, one document at a time (%d documents): p50 %.0f ms, p99 %.0f ms%n",
                latencyMs.length, BenchCommand.quantile(latencyMs, 0.5), BenchCommand.quantile(latencyMs, 0.99));
        out.printf(Locale.ROOT, "  %7s  %9s  %11s  %14s  %14s  %18s  %13s  %13s  %13s%n", "clients", "queries/s",
                "vs 1 client", "latency p50 ms", "latency p99 ms", "first token p50 ms", "server p50 ms",
                "decode p50 ms", "tokens/answer");
        for (QueryLoad.Level l : levels) {
            out.printf(Locale.ROOT, "  %7d  %9.2f  %11s  %14.0f  %14.0f  %18.0f  %13.1f  %13.1f  %13.1f%n", l.clients(),
                    l.queriesPerSecond(), speedup(l).map(x -> String.format(Locale.ROOT, "%.2fx", x)).orElse("-"),
                    BenchCommand.quantile(l.latencyMs(), 0.5), BenchCommand.quantile(l.latencyMs(), 0.99),
                    ttftMedian(l), BenchCommand.quantile(l.serverMs(), 0.5), BenchCommand.quantile(l.decodeMs(), 0.5),
                    Arrays.stream(l.tokens()).average().orElse(0));
        }
        speedupAt16().ifPresent(x -> out.printf(Locale.ROOT, "  target: queries/s at 16 clients >= %.0fx 1 client:"
                + " %.2fx (%s)%n", PipelineBench.TARGET_SPEEDUP_AT_16, x, x >= PipelineBench.TARGET_SPEEDUP_AT_16
                ? "met" : "not met"));
        out.println("machine: " + machine);
    }

    void writeJson(Path file) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("machine", machine);
        o.addProperty("model", setup.model().toString());
        o.addProperty("model_id", modelId);
        o.addProperty("ratio", ratio);
        o.addProperty("documents_dir", setup.documentsDir().toString());
        o.addProperty("documents", setup.documents());
        o.addProperty("copies", setup.copies());
        o.addProperty("questions", setup.questions());
        o.addProperty("max_new_tokens", setup.maxNewTokens());
        o.addProperty("max_batch", setup.maxBatch());
        o.addProperty("batch_wait", setup.batchWait());

        JsonObject ingest = new JsonObject();
        ingest.addProperty("documents", burst.documents());
        ingest.addProperty("seconds", burst.seconds());
        ingest.addProperty("docs_per_s", burst.documentsPerSecond());
        ingest.addProperty("compressed", burst.compressed());
        ingest.addProperty("compressor_seconds", burst.compressorSeconds());
        ingest.addProperty("compressor_docs_per_s", burst.compressorDocumentsPerSecond());
        ingest.addProperty("ack_to_answerable_ms_p50", BenchCommand.quantile(burst.latencyMs(), 0.5));
        ingest.addProperty("ack_to_answerable_ms_p99", BenchCommand.quantile(burst.latencyMs(), 0.99));
        o.add("ingest_burst", ingest);

        JsonObject latency = new JsonObject();
        latency.addProperty("documents", latencyMs.length);
        latency.addProperty("ms_p50", BenchCommand.quantile(latencyMs, 0.5));
        latency.addProperty("ms_p99", BenchCommand.quantile(latencyMs, 0.99));
        o.add("publish_to_answerable", latency);

        JsonArray queries = new JsonArray();
        for (QueryLoad.Level l : levels) {
            JsonObject x = new JsonObject();
            x.addProperty("clients", l.clients());
            x.addProperty("queries", l.queries());
            x.addProperty("seconds", l.seconds());
            x.addProperty("queries_per_s", l.queriesPerSecond());
            speedup(l).ifPresent(v -> x.addProperty("speedup_vs_1_client", v));
            x.addProperty("latency_ms_p50", BenchCommand.quantile(l.latencyMs(), 0.5));
            x.addProperty("latency_ms_p99", BenchCommand.quantile(l.latencyMs(), 0.99));
            double ttft = ttftMedian(l);
            if (!Double.isNaN(ttft)) {
                x.addProperty("first_token_ms_p50", ttft);
            }
            x.addProperty("server_ms_p50", BenchCommand.quantile(l.serverMs(), 0.5));
            x.addProperty("decode_ms_p50", BenchCommand.quantile(l.decodeMs(), 0.5));
            x.addProperty("tokens_per_answer", Arrays.stream(l.tokens()).average().orElse(0));
            queries.add(x);
        }
        o.add("queries", queries);
        speedupAt16().ifPresent(v -> {
            JsonObject t = new JsonObject();
            t.addProperty("speedup_16_vs_1_client", v);
            t.addProperty("required", PipelineBench.TARGET_SPEEDUP_AT_16);
            t.addProperty("met", v >= PipelineBench.TARGET_SPEEDUP_AT_16);
            o.add("target", t);
        });
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }

    /** Median client-side time to first token over the answers that had a token; NaN when none had. */
    private static double ttftMedian(QueryLoad.Level l) {
        double[] t = Arrays.stream(l.ttftMs()).filter(v -> !Double.isNaN(v)).toArray();
        return t.length == 0 ? Double.NaN : BenchCommand.quantile(t, 0.5);
    }
}
