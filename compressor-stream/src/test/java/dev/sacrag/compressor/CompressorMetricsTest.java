package dev.sacrag.compressor;

import dev.sacrag.metrics.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compressor's meters under the names its dashboards scrape, served by {@link MetricsServer}. */
class CompressorMetricsTest {

    @Test
    void servesTheCompressorCountersAsPrometheusText() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CompressorMetrics metrics = new CompressorMetrics(registry, CompressorTopics.defaults(), Duration.ofSeconds(60));
        metrics.compressed(Duration.ofMillis(120), 4096);
        metrics.deadLettered("EMPTY_TEXT");
        try (MetricsServer server = MetricsServer.start(registry, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "--metrics-port")) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + MetricsServer.PATH)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            String body = response.body();
            assertTrue(body.contains("sac_compressor_documents_compressed_total 1.0"), body);
            assertTrue(body.contains("sac_compressor_bytes_written_bytes_total 4096.0"), body);
            assertTrue(body.contains("sac_compressor_documents_dead_lettered_total{reason=\"EMPTY_TEXT\"} 1.0"), body);
            assertTrue(body.contains("sac_compressor_compress_time_seconds_count 1"), body);
        } finally {
            registry.close();
        }
    }

    /** An operator reading /metrics, or a dashboard's tooltip, learns what each counter counts from its HELP line. */
    @Test
    void everyCounterIsScrapedWithItsHelpText() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CompressorMetrics metrics = new CompressorMetrics(registry, CompressorTopics.defaults(), Duration.ofSeconds(60));
        metrics.recordIn("sac.documents");
        metrics.compressed(Duration.ofMillis(120), 4096);
        metrics.skipped("older");
        metrics.deduplicated();
        metrics.deadLettered("EMPTY_TEXT");
        metrics.deleted();
        metrics.rebuiltAgain();
        metrics.recompress("rebuilt");
        metrics.failure("redis");
        List<String> help = registry.scrape().lines().filter(l -> l.startsWith("# HELP sac_compressor_")).toList();
        assertEquals(12, help.size(), String.join("\n", help));
        for (String line : help) {
            String text = line.substring(line.indexOf(' ', "# HELP ".length()) + 1);
            assertTrue(!text.isBlank(), "no help text: " + line);
        }
        registry.close();
    }

    /**
     * Each counter the README lists is scraped before its first event, at 0, with every label value it
     * names: one that appeared at its first increment had no sample before it, so Prometheus's
     * increase() counted nothing of that event. And the README lists every counter scraped.
     */
    @Test
    void everyDocumentedCounterIsScrapedAtZeroFromTheStart() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new CompressorMetrics(registry, CompressorTopics.defaults(), Duration.ofSeconds(60));
        Set<String> scraped = registry.scrape().lines().filter(l -> l.startsWith("sac_compressor_"))
                .collect(Collectors.toSet());
        registry.close();

        String readme = Files.readString(Path.of("README.md"));
        String metrics = readme.substring(readme.indexOf("## Metrics"), readme.indexOf("\n## ", readme.indexOf("## Metrics")));
        // `..._NAME_total{label=a|b}`, `..._NAME_total{label}`, `..._NAME_total`
        Matcher m = Pattern.compile("(?:sac_compressor|\\.\\.\\.)_([a-z_]+_total)(?:\\{(\\w+)(?:=([\\w|.-]+))?})?")
                .matcher(metrics);
        Set<String> documented = new TreeSet<>();
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            String name = "sac_compressor_" + m.group(1);
            documented.add(name);
            if (name.equals("sac_compressor_redis_restarts_total")) {
                continue;   // the app's: it reads the Redis store's count
            }
            List<String> series = m.group(2) == null ? List.of(name)
                    : m.group(3) != null ? Arrays.stream(m.group(3).split("\\|")).map(v -> name + "{" + m.group(2) + "=\"" + v + "\"}").toList()
                    : List.of(name + "{" + m.group(2) + "=\"" + CompressorTopics.DOCUMENTS + "\"}",
                            name + "{" + m.group(2) + "=\"" + CompressorTopics.RECOMPRESS + "\"}");   // records_in's topics
            series.stream().filter(s -> !scraped.contains(s + " 0.0")).forEach(missing::add);
        }
        assertEquals(List.of(), missing, "not scraped at 0 from the start; the counters scraped:\n"
                + scraped.stream().filter(l -> l.contains("_total")).sorted().collect(Collectors.joining("\n")));
        Set<String> undocumented = scraped.stream().map(l -> l.replaceAll("[{ ].*", "")).filter(n -> n.endsWith("_total"))
                .filter(n -> !documented.contains(n)).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of(), undocumented, "counters the README does not list");
    }

    /**
     * A dozen buckets that reach past --max-compress-time, which is one of them, where Micrometer's ~70
     * stopped at 30 s under a 60 s limit: a 45 s compression was +Inf, with every slower one.
     */
    @Test
    void compressTimeHasAFewBucketsUpToTwiceTheMaxCompressTime() {
        assertEquals(List.of("0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "120.0", "+Inf"),
                compressTimeBuckets(Duration.ofSeconds(60), Duration.ofSeconds(45)).keySet().stream().toList());
        java.util.Map<String, Double> at60 = compressTimeBuckets(Duration.ofSeconds(60), Duration.ofSeconds(45));
        assertEquals(0.0, at60.get("30.0"));
        assertEquals(1.0, at60.get("60.0"), "a 45 s compression, within the limit");
        assertEquals(List.of("0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "20.0", "40.0", "+Inf"),
                compressTimeBuckets(Duration.ofSeconds(20), Duration.ofSeconds(1)).keySet().stream().toList(),
                "a lower limit: the bounds above it give way to it");
        assertEquals(List.of("0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "300.0", "600.0", "+Inf"),
                compressTimeBuckets(Duration.ofMinutes(5), Duration.ofSeconds(1)).keySet().stream().toList());
    }

    /** The compress-time buckets scraped after one compression that took {@code took}: cumulative count by bound, in order. */
    private static java.util.Map<String, Double> compressTimeBuckets(Duration maxCompressTime, Duration took) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new CompressorMetrics(registry, CompressorTopics.defaults(), maxCompressTime).compressed(took, 1);
        Pattern bucket = Pattern.compile("sac_compressor_compress_time_seconds_bucket\\{le=\"([^\"]+)\"} (\\S+)");
        java.util.Map<String, Double> counts = new java.util.LinkedHashMap<>();
        registry.scrape().lines().map(bucket::matcher).filter(Matcher::matches)
                .forEach(m -> counts.put(m.group(1), Double.parseDouble(m.group(2))));
        registry.close();
        return counts;
    }

    @Test
    void readyWhileTheStreamRunsOrRebalancesAndLiveUntilItFails() {
        var s = org.apache.kafka.streams.KafkaStreams.State.class;
        for (String ready : List.of("RUNNING", "REBALANCING")) {
            MetricsServer.Health h = CompressorApp.health(Enum.valueOf(s, ready), java.util.Optional.empty());
            assertTrue(h.ready() && h.live(), ready);
            assertEquals(ready, h.state());
        }
        MetricsServer.Health starting = CompressorApp.health(Enum.valueOf(s, "CREATED"), java.util.Optional.empty());
        assertTrue(!starting.ready() && starting.live(), "starting: live, not ready");
        for (String dead : List.of("ERROR", "PENDING_ERROR", "NOT_RUNNING")) {
            MetricsServer.Health h = CompressorApp.health(Enum.valueOf(s, dead), java.util.Optional.of("3 stream threads failed"));
            assertTrue(!h.ready() && !h.live(), dead);
        }
    }

    @Test
    void aRedisThatCannotEvictBlobsIsNamedAtStart() {
        String never = CompressorApp.evictionWarning(new dev.sacrag.kvstore.AnchorKvStore.MemoryPolicy(8 << 20, "noeviction"), false)
                .orElseThrow();
        assertTrue(never.startsWith("Redis has maxmemory 8,388,608 bytes and maxmemory-policy noeviction, under which"
                + " blobs are never evicted: once it is full every blob write fails"), never);
        String volatileLru = CompressorApp.evictionWarning(
                new dev.sacrag.kvstore.AnchorKvStore.MemoryPolicy(8 << 20, "volatile-lru"), false).orElseThrow();
        assertTrue(volatileLru.contains("blobs have none without --blob-ttl"), volatileLru);
        assertEquals(java.util.Optional.empty(), CompressorApp.evictionWarning(
                new dev.sacrag.kvstore.AnchorKvStore.MemoryPolicy(8 << 20, "volatile-lru"), true), "blobs expire: evictable");
        assertEquals(java.util.Optional.empty(), CompressorApp.evictionWarning(
                new dev.sacrag.kvstore.AnchorKvStore.MemoryPolicy(8 << 20, "allkeys-lru"), false));
        assertEquals(java.util.Optional.empty(), CompressorApp.evictionWarning(
                new dev.sacrag.kvstore.AnchorKvStore.MemoryPolicy(0, "noeviction"), false), "no limit: nothing to evict for");
    }
}
