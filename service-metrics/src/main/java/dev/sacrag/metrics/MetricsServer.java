package dev.sacrag.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code GET /metrics}: the Prometheus text of a registry, served by the JDK's HTTP server on its
 * own port (no web framework for two endpoints). The compressor and the query service each start
 * one; a scrape with another method gets 405. With a health source, {@code GET /health} answers
 * 200 while the service is healthy and 503 when not, its state in the body: a probe for what
 * speaks only HTTP (Docker's health check, an HTTP liveness probe), beside the query service's
 * gRPC health service.
 */
public final class MetricsServer implements AutoCloseable {

    public static final String PATH = "/metrics";
    public static final String HEALTH_PATH = "/health";

    /** What {@code GET /health} reports: healthy (200) or not (503), and the state in words. */
    public record Health(boolean healthy, String state) {
        public Health {
            Objects.requireNonNull(state, "state");
        }
    }
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /**
     * @param address port 0 for any free port
     * @param flags   the options that chose the address, named in the error when it cannot be
     *                served, e.g. {@code "--metrics-bind, --metrics-port"}
     */
    public static MetricsServer start(PrometheusMeterRegistry registry, InetSocketAddress address, String flags) {
        return start(registry, address, flags, null);
    }

    /** As {@link #start(PrometheusMeterRegistry, InetSocketAddress, String)}, serving {@code /health} from {@code health}. */
    public static MetricsServer start(PrometheusMeterRegistry registry, InetSocketAddress address, String flags,
                                      Supplier<Health> health) {
        Objects.requireNonNull(registry, "registry");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("cannot serve metrics on " + address.getHostString()
                    + ": no such address (" + flags + ")");
        }
        HttpServer server;
        try {
            server = HttpServer.create(address, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + address + " (" + flags + ")", e);
        }
        server.createContext(PATH, exchange -> respond(exchange, registry));
        if (health != null) {
            server.createContext(HEALTH_PATH, exchange -> respondHealth(exchange, health));
        }
        server.start();
        return new MetricsServer(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static void respondHealth(HttpExchange exchange, Supplier<Health> health) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            Health h = health.get();
            byte[] body = (h.state() + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(h.healthy() ? 200 : 503, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
