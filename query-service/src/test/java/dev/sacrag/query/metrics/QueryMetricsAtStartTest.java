package dev.sacrag.query.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each counter the README lists is scraped before its first event, at 0: one that appears with its
 * first increment has no sample before it, so Prometheus's increase() counts nothing of that event.
 */
class QueryMetricsAtStartTest {

    /** Registered by the app beside QueryMetrics, at start too: they read the model's prompt cache and the Redis store. */
    private static final Set<String> THE_APPS = Set.of("sac_query_prompt_cache_hits_total", "sac_query_redis_failures_total",
            "sac_query_redis_restarts_total");

    @Test
    void everyDocumentedCounterAndStageIsScrapedAtZeroBeforeItsFirstEvent() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        QueryMetrics metrics = new QueryMetrics(registry);
        metrics.requestsAtZero(List.of("Ask", "Warm"), List.of("OK", "UNAVAILABLE"));
        metrics.following("sac.documents", true);
        metrics.following("sac.documents.dlq", false);
        Set<String> scraped = registry.scrape().lines().filter(l -> l.startsWith("sac_query_")).collect(Collectors.toSet());
        registry.close();

        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("## Metrics");
        String documentedText = readme.substring(section, readme.indexOf("\n## ", section));
        // `sac_query_NAME_total{label=a|b}`, `sac_query_NAME_total{label,label}`, `sac_query_NAME_total`
        Matcher m = Pattern.compile("sac_query_([a-z_]+_total)(?:\\{([\\w,]+)(?:=([\\w|-]+))?})?").matcher(documentedText);
        Set<String> documented = new TreeSet<>();
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            String name = "sac_query_" + m.group(1);
            documented.add(name);
            if (THE_APPS.contains(name)) {
                continue;
            }
            String label = m.group(2);
            if (label == null) {
                require(scraped, name + " 0.0", missing);
            } else if (m.group(3) == null) {   // values the app names: some series of the name at 0
                if (scraped.stream().noneMatch(l -> l.startsWith(name + "{") && l.endsWith("} 0.0"))) {
                    missing.add(name + "{" + label + "}");
                }
            } else {
                for (String v : m.group(3).split("\\|")) {
                    require(scraped, name + "{" + label + "=\"" + v + "\"} 0.0", missing);
                }
            }
        }
        for (QueryMetrics.Stage stage : QueryMetrics.Stage.values()) {
            require(scraped, "sac_query_stage_seconds_count{stage=\"" + stage.name().toLowerCase(Locale.ROOT) + "\"} 0", missing);
        }
        require(scraped, "sac_query_requests_total{rpc=\"Warm\",status=\"UNAVAILABLE\"} 0.0", missing);
        require(scraped, "sac_query_feed_records_total{result=\"bad\",topic=\"sac.documents\"} 0.0", missing);
        require(scraped, "sac_query_feed_records_total{result=\"applied\",topic=\"sac.documents.dlq\"} 0.0", missing);
        assertTrue(scraped.stream().noneMatch(l -> l.contains("result=\"bad\",topic=\"sac.documents.dlq\"")),
                "the dead-letter topic's feed finds no record bad: no series that cannot rise");
        assertEquals(List.of(), missing, "not scraped at 0 from the start; what is:\n"
                + scraped.stream().filter(l -> l.contains("_total") || l.contains("_count")).sorted().collect(Collectors.joining("\n")));

        Set<String> undocumented = scraped.stream().map(l -> l.replaceAll("[{ ].*", "")).filter(n -> n.endsWith("_total"))
                .filter(n -> !documented.contains(n)).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of(), undocumented, "counters the README does not list");
    }

    /** The latency histograms have the buckets the README states, every stage and the inference wait alike. */
    @Test
    void latencyHistogramsHaveTheBucketsTheReadmeStates() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new QueryMetrics(registry);
        List<String> lines = registry.scrape().lines().toList();
        registry.close();
        List<String> stated = List.of("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
                "30.0", "60.0", "120.0", "+Inf");
        Pattern le = Pattern.compile("le=\"([^\"]+)\"");
        for (String series : List.of("sac_query_stage_seconds_bucket{stage=\"first_token\"",
                "sac_query_stage_seconds_bucket{stage=\"total\"", "sac_query_inference_wait_seconds_bucket{")) {
            List<String> bounds = lines.stream().filter(l -> l.startsWith(series)).map(le::matcher).filter(Matcher::find)
                    .map(m -> m.group(1)).toList();
            assertEquals(stated, bounds, series);
        }
    }

    private static void require(Set<String> scraped, String line, List<String> missing) {
        if (!scraped.contains(line)) {
            missing.add(line);
        }
    }
}
