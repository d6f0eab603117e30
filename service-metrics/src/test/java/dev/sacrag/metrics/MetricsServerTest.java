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
import java.util.List;

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

    /** A client that sends half a request and waits holds one of the server's threads, not the server. */
    @Test
    void aStalledClientDoesNotStopTheProbes() throws Exception {
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port",
                () -> new MetricsServer.Health(true, true, "SERVING"));
             java.net.Socket stalled = new java.net.Socket(InetAddress.getLoopbackAddress(), server.port())) {
            stalled.getOutputStream().write("GET /hea".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            stalled.getOutputStream().flush();
            Thread.sleep(200);   // the server has taken the connection and is reading it
            HttpResponse<String> probe = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + MetricsServer.HEALTH_PATH)).timeout(java.time.Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, probe.statusCode(), "a probe waited behind the stalled client");
        }
    }

    @Test
    void readinessAndLivenessAnswer200Or503WithTheStateInTheBody() throws Exception {
        java.util.concurrent.atomic.AtomicReference<MetricsServer.Health> now =
                new java.util.concurrent.atomic.AtomicReference<>(new MetricsServer.Health(false, true, "NOT_SERVING: starting"));
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port", now::get)) {
            assertEquals(503, get(server, MetricsServer.HEALTH_PATH).statusCode(), "starting: not ready");
            HttpResponse<String> live = get(server, MetricsServer.LIVE_PATH);
            assertEquals(200, live.statusCode(), "starting: live");
            assertEquals("NOT_SERVING: starting\n", live.body());
            now.set(new MetricsServer.Health(true, true, "SERVING"));
            HttpResponse<String> ready = get(server, MetricsServer.HEALTH_PATH);
            assertEquals(200, ready.statusCode());
            assertEquals("SERVING\n", ready.body());
            now.set(new MetricsServer.Health(false, false, "NOT_SERVING: the catalog topic is no longer followed"));
            assertEquals(503, get(server, MetricsServer.HEALTH_PATH).statusCode());
            HttpResponse<String> broken = get(server, MetricsServer.LIVE_PATH);
            assertEquals(503, broken.statusCode(), "broken: restart it");
            assertTrue(broken.body().startsWith("NOT_SERVING: the catalog topic"), broken.body());
        }
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port")) {
            assertEquals(404, get(server, MetricsServer.HEALTH_PATH).statusCode(), "no health source, no /health");
        }
    }

    @Test
    void pathsMatchExactlyAndHeadIsAnsweredWithoutABody() throws Exception {
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port",
                () -> new MetricsServer.Health(true, true, "SERVING"))) {
            for (String path : List.of("/metricsfoo", "/healthz", "/health/x", "/health/live/more", "/")) {
                assertEquals(404, get(server, path).statusCode(), path);
            }
            HttpResponse<String> head = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + MetricsServer.HEALTH_PATH)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
        }
    }

    @Test
    void aHealthSourceThatThrowsIsAnsweredAsNotHealthy() throws Exception {
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port", () -> {
            throw new IllegalStateException("no state yet");
        })) {
            for (String path : List.of(MetricsServer.HEALTH_PATH, MetricsServer.LIVE_PATH)) {
                HttpResponse<String> r = get(server, path);
                assertEquals(503, r.statusCode(), path);
                assertTrue(r.body().contains("no state yet"), r.body());
            }
        }
    }

    private HttpResponse<String> get(MetricsServer server, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anotherMethodIsRefusedWith405() throws Exception {
        try (MetricsServer server = MetricsServer.start(registry, ANY_LOOPBACK_PORT, "--metrics-port")) {
            HttpResponse<String> response = http.send(request(server).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, response.statusCode());
            assertEquals("GET, HEAD", response.headers().firstValue("Allow").orElse(""), "a 405 says what is allowed");
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
