package dev.sacrag.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import dev.sacrag.core.io.AtomicFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.IntStream;

/**
 * What {@code sac bench pipeline} measured: printed as a table, written as JSON. {@code rounds}
 * holds each round's levels in client order; a level's queries/s is the median over the rounds,
 * its speedup the median of the per-round ratios to the same round's 1-client level (so one
 * slow or fast round does not move every ratio), and its latencies pool every round's samples.
 */
record PipelineReport(Setup setup, String modelId, int ratio, PipelineIngest.Burst burst, double[] latencyMs,
                      List<List<QueryLoad.Level>> rounds, String machine) {

    PipelineReport {
        rounds = List.copyOf(rounds);
        if (rounds.isEmpty()) {
            throw new IllegalArgumentException("no query rounds");
        }
        List<Integer> order = rounds.get(0).stream().map(QueryLoad.Level::clients).toList();
        for (List<QueryLoad.Level> r : rounds) {
            if (!r.stream().map(QueryLoad.Level::clients).toList().equals(order)) {
                throw new IllegalArgumentException("every round must run the client levels " + order + " in that order");
            }
        }
    }

    /** The run's settings; {@code documents} counts distinct documents, before {@code copies}. */
    record Setup(Path model, Path documentsDir, int documents, int copies, int questions, int queries, int maxNewTokens,
                 int maxBatch, String batchWait, String joinWait, String promptCacheBytes, int inferenceThreads) {
    }

    /** Every round's samples of level {@code i} as one level (queries and seconds summed). */
    QueryLoad.Level pooled(int i) {
        List<QueryLoad.Level> all = rounds.stream().map(r -> r.get(i)).toList();
        return new QueryLoad.Level(all.get(0).clients(), all.stream().mapToInt(QueryLoad.Level::queries).sum(),
                all.stream().mapToDouble(QueryLoad.Level::seconds).sum(), concat(all, QueryLoad.Level::latencyMs),
                concat(all, QueryLoad.Level::ttftMs), concat(all, QueryLoad.Level::serverMs),
                concat(all, QueryLoad.Level::decodeMs), concat(all, QueryLoad.Level::tokens));
    }

    private static double[] concat(List<QueryLoad.Level> levels,
                                   java.util.function.Function<QueryLoad.Level, double[]> samples) {
        return levels.stream().flatMapToDouble(l -> Arrays.stream(samples.apply(l))).toArray();
    }

    int levels() {
        return rounds.get(0).size();
    }

    /** Level {@code i}'s queries/s in each round. */
    double[] queriesPerSecond(int i) {
        return rounds.stream().mapToDouble(r -> r.get(i).queriesPerSecond()).toArray();
    }

    /** The index of the level with {@code clients} clients, if one ran. */
    private OptionalInt levelOf(int clients) {
        return IntStream.range(0, levels()).filter(i -> rounds.get(0).get(i).clients() == clients)
                .findFirst();
    }

    /** Level {@code i}'s queries/s over the same round's 1-client level, per round; empty without a 1-client level. */
    Optional<double[]> speedups(int i) {
        OptionalInt one = levelOf(1);
        return one.isEmpty() ? Optional.empty() : Optional.of(rounds.stream()
                .mapToDouble(r -> r.get(i).queriesPerSecond() / r.get(one.getAsInt()).queriesPerSecond()).toArray());
    }

    Optional<Double> speedup(int i) {
        return speedups(i).map(PipelineReport::median);
    }

    /** The 16-client level's median speedup, when both 1 and 16 clients ran. */
    Optional<Double> speedupAt16() {
        OptionalInt sixteen = levelOf(16);
        return sixteen.isEmpty() ? Optional.empty() : speedup(sixteen.getAsInt());
    }

    /** The middle value (the mean of the middle two for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    void print(PrintWriter out) {
        Setup s = setup;
        out.printf(Locale.ROOT, "bench pipeline: model %s (ratio %d), %d documents x %d copies, %d questions, %d queries"
                + " per client count%s, answers <= %d tokens, max batch %d, batch wait %s, join wait %s, prompt cache %s,"
                + " inference threads %d%n", modelId, ratio,
                s.documents(), s.copies(), s.questions(), s.queries(),
                rounds.size() > 1 ? " in each of " + rounds.size() + " rounds (medians over rounds)" : "",
                s.maxNewTokens(), s.maxBatch(), s.batchWait(), s.joinWait(), s.promptCacheBytes(), s.inferenceThreads());
        out.printf(Locale.ROOT, "  ingest: %d documents in %.2f s = %.2f documents/s (first send -> last answerable);"
                        + " compressor alone %.2f documents/s; ack -> answerable in the burst p50 %.0f ms, p99 %.0f ms%n",
                burst.documents(), burst.seconds(), burst.documentsPerSecond(), burst.compressorDocumentsPerSecond(),
                BenchCommand.quantile(burst.latencyMs(), 0.5), BenchCommand.quantile(burst.latencyMs(), 0.99));
        out.printf(Locale.ROOT, "  publish-to-answerable, one document at a time (%d documents): p50 %.0f ms, p99 %.0f ms%n",
                latencyMs.length, BenchCommand.quantile(latencyMs, 0.5), BenchCommand.quantile(latencyMs, 0.99));
        out.printf(Locale.ROOT, "  %7s  %9s  %11s  %14s  %14s  %18s  %13s  %13s  %13s%n", "clients", "queries/s",
                "vs 1 client", "latency p50 ms", "latency p99 ms", "first token p50 ms", "server p50 ms",
                "decode p50 ms", "tokens/answer");
        for (int i = 0; i < levels(); i++) {
            QueryLoad.Level l = pooled(i);
            out.printf(Locale.ROOT, "  %7d  %9.2f  %11s  %14.0f  %14.0f  %18.0f  %13.1f  %13.1f  %13.1f%n", l.clients(),
                    median(queriesPerSecond(i)), speedup(i).map(x -> String.format(Locale.ROOT, "%.2fx", x)).orElse("-"),
                    BenchCommand.quantile(l.latencyMs(), 0.5), BenchCommand.quantile(l.latencyMs(), 0.99),
                    ttftMedian(l), BenchCommand.quantile(l.serverMs(), 0.5), BenchCommand.quantile(l.decodeMs(), 0.5),
                    Arrays.stream(l.tokens()).average().orElse(0));
        }
        for (int i = 0; i < levels(); i++) {
            QueryLoad.Level l = pooled(i);
            double[] atLimit = latencies(l, true);
            double[] below = latencies(l, false);
            out.printf(Locale.ROOT, "  %d clients: %d of %d answers ran to the %d-token limit, latency p50 %s ms;"
                            + " the others' latency p50 %s ms, p99 %s ms%n", l.clients(), atLimit.length, l.queries(),
                    setup.maxNewTokens(), quantileOrDash(atLimit, 0.5), quantileOrDash(below, 0.5),
                    quantileOrDash(below, 0.99));
        }
        if (rounds.size() > 1) {
            for (int i = 0; i < levels(); i++) {
                int clients = rounds.get(0).get(i).clients();
                out.printf(Locale.ROOT, "  %d clients, per round: queries/s %s; vs 1 client %s%n", clients,
                        list(queriesPerSecond(i), "%.1f"), speedups(i).map(v -> list(v, "%.2fx")).orElse("-"));
            }
        }
        speedupAt16().ifPresent(x -> out.printf(Locale.ROOT, "  target: queries/s at 16 clients >= %.0fx 1 client:"
                + " %.2fx (%s)%n", PipelineBench.TARGET_SPEEDUP_AT_16, x, x >= PipelineBench.TARGET_SPEEDUP_AT_16
                ? "met" : "not met"));
        out.println("machine: " + machine);
    }

    /**
     * Latencies of the queries whose answers ran to the answer limit ({@code atLimit}), or of the
     * others: a long answer shares more decode steps with the prefills of questions that join its
     * batch, so the tail is read apart from the rest.
     */
    double[] latencies(QueryLoad.Level l, boolean atLimit) {
        return java.util.stream.IntStream.range(0, l.latencyMs().length)
                .filter(q -> (l.tokens()[q] >= setup.maxNewTokens()) == atLimit)
                .mapToDouble(q -> l.latencyMs()[q]).toArray();
    }

    private static String quantileOrDash(double[] v, double q) {
        return v.length == 0 ? "-" : String.format(Locale.ROOT, "%.0f", BenchCommand.quantile(v, q));
    }

    void writeJson(Path file) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("machine", machine);
        o.addProperty("model", RepoPaths.recorded(setup.model()));   // relative to the checkout: no machine's path
        o.addProperty("model_id", modelId);
        o.addProperty("ratio", ratio);
        o.addProperty("documents_dir", RepoPaths.recorded(setup.documentsDir()));
        o.addProperty("documents", setup.documents());
        o.addProperty("copies", setup.copies());
        o.addProperty("questions", setup.questions());
        o.addProperty("max_new_tokens", setup.maxNewTokens());
        o.addProperty("max_batch", setup.maxBatch());
        o.addProperty("batch_wait", setup.batchWait());
        o.addProperty("join_wait", setup.joinWait());
        o.addProperty("prompt_cache_bytes", setup.promptCacheBytes());
        o.addProperty("inference_threads", setup.inferenceThreads());

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

        o.addProperty("rounds", rounds.size());
        JsonArray queries = new JsonArray();
        for (int i = 0; i < levels(); i++) {
            int j = i;
            QueryLoad.Level l = pooled(i);
            JsonObject x = new JsonObject();
            x.addProperty("clients", l.clients());
            x.addProperty("queries", l.queries());          // over every round, as "seconds"
            x.addProperty("seconds", l.seconds());
            x.add("seconds_rounds", array(rounds.stream().mapToDouble(r -> r.get(j).seconds()).toArray()));
            x.addProperty("queries_per_s", median(queriesPerSecond(i)));
            x.add("queries_per_s_rounds", array(queriesPerSecond(i)));
            speedup(i).ifPresent(v -> x.addProperty("speedup_vs_1_client", v));
            speedups(i).ifPresent(v -> x.add("speedup_vs_1_client_rounds", array(v)));
            x.addProperty("latency_ms_p50", BenchCommand.quantile(l.latencyMs(), 0.5));
            x.addProperty("latency_ms_p99", BenchCommand.quantile(l.latencyMs(), 0.99));
            double ttft = ttftMedian(l);
            if (!Double.isNaN(ttft)) {
                x.addProperty("first_token_ms_p50", ttft);
            }
            x.addProperty("server_ms_p50", BenchCommand.quantile(l.serverMs(), 0.5));
            x.addProperty("decode_ms_p50", BenchCommand.quantile(l.decodeMs(), 0.5));
            x.addProperty("tokens_per_answer", Arrays.stream(l.tokens()).average().orElse(0));
            double[] atLimit = latencies(l, true);
            double[] below = latencies(l, false);
            x.addProperty("answers_at_limit", atLimit.length);
            if (atLimit.length > 0) {
                x.addProperty("latency_ms_p50_at_limit", BenchCommand.quantile(atLimit, 0.5));
            }
            if (below.length > 0) {
                x.addProperty("latency_ms_p50_below_limit", BenchCommand.quantile(below, 0.5));
                x.addProperty("latency_ms_p99_below_limit", BenchCommand.quantile(below, 0.99));
            }
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
        AtomicFiles.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }

    private static String list(double[] v, String format) {
        return String.join(", ", Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, format, x)).toList());
    }

    private static JsonArray array(double[] v) {
        JsonArray a = new JsonArray();
        Arrays.stream(v).forEach(a::add);
        return a;
    }

    /** Median client-side time to first token over the answers that had a token; NaN when none had. */
    private static double ttftMedian(QueryLoad.Level l) {
        double[] t = Arrays.stream(l.ttftMs()).filter(v -> !Double.isNaN(v)).toArray();
        return t.length == 0 ? Double.NaN : BenchCommand.quantile(t, 0.5);
    }
}
