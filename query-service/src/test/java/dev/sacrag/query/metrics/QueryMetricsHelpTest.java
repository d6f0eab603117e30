package dev.sacrag.query.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** An operator reading /metrics, or a dashboard's tooltip, learns what each meter counts from its HELP line. */
class QueryMetricsHelpTest {

    @Test
    void everyMeterIsScrapedWithItsHelpText() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        QueryMetrics metrics = new QueryMetrics(registry);
        metrics.request("Ask", "OK");
        metrics.stage(QueryMetrics.Stage.TOTAL, Duration.ofMillis(30));
        metrics.feedRecord("sac.documents", true);
        metrics.modelActivation("switched");
        metrics.activeModel("0a1b2c3d4e5f", () -> "0a1b2c3d4e5f");
        List<String> help = registry.scrape().lines().filter(l -> l.startsWith("# HELP sac_query_")).toList();
        for (String name : List.of("sac_query_requests_total", "sac_query_feed_records_total",
                "sac_query_model_activations_total", "sac_query_stage_seconds", "sac_query_cache_lookups_total")) {
            assertTrue(help.stream().anyMatch(l -> l.startsWith("# HELP " + name + " ")), name + " in " + help);
        }
        for (String line : help) {
            String text = line.substring(line.indexOf(' ', "# HELP ".length()) + 1);
            assertTrue(!text.isBlank(), "no help text: " + line);
        }
        registry.close();
    }
}
