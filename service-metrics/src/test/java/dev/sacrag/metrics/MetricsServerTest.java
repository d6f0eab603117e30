package dev.sacrag.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsServerTest {

    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void closeRegistry() {
        registry.close();
    }

    @Test
    void aGetReturnsTheRegistryAsPrometheusText() throws Exception {
        registry.counter("sac.test.things", "kind", "red").increment(3);
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port")) {
            HttpResponse<String> response = http.send(request(server).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                    response.headers().toString());
            assertTrue(response.body().contains("sac_test_things_total{kind=\"red\"} 3.0"), response.body());
        }
    }

    @Test
    void healthAnswers200WhileHealthyAnd503WhenNotWithTheStateInTheBody() throws Exception {
        java.util.concurrent.atomic.AtomicReference<MetricsServer.Health> now =
                new java.util.concurrent.atomic.AtomicReference<>(new MetricsServer.Health(true, "SERVING"));
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port", now::get)) {
            HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + MetricsServer.HEALTH_PATH))
                    .GET().build();
            HttpResponse<String> ok = http.send(get, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode());
            assertEquals("SERVING\n", ok.body());
            now.set(new MetricsServer.Health(false, "NOT_SERVING: the catalog topic is no longer followed"));
            HttpResponse<String> down = http.send(get, HttpResponse.BodyHandlers.ofString());
            assertEquals(503, down.statusCode());
            assertTrue(down.body().startsWith("NOT_SERVING"), down.body());
        }
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port")) {
            HttpResponse<String> none = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + MetricsServer.HEALTH_PATH)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, none.statusCode(), "no health source, no /health");
        }
    }

    @Test
    void anotherMethodIsRefusedWith405() throws Exception {
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port")) {
            HttpResponse<String> response = http.send(request(server).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, response.statusCode());
        }
    }

    @Test
    void anAddressThatDoesNotResolveFailsNamingTheFlags() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetricsServer.start(registry,
                InetSocketAddress.createUnresolved("nowhere.invalid", 0), "--metrics-bind, --metrics-port"));
        assertTrue(e.getMessage().contains("nowhere.invalid") && e.getMessage().contains("--metrics-bind, --metrics-port"),
                e.getMessage());
    }

    @Test
    void aPortInUseFailsNamingTheFlags() {
        try (MetricsServer first = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port")) {
            InetSocketAddress taken = new InetSocketAddress(InetAddress.getLoopbackAddress(), first.port());
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> MetricsServer.start(registry, taken, "--bind, --metrics-port"));
            assertTrue(e.getMessage().contains(String.valueOf(first.port())) && e.getMessage().contains("--bind, --metrics-port"),
                    e.getMessage());
        }
    }

    private static HttpRequest.Builder request(MetricsServer server) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + MetricsServer.PATH));
    }
}
