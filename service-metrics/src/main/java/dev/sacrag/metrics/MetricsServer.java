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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * {@code GET /metrics}: the Prometheus text of a registry, served by the JDK's HTTP server on its
 * own port (no web framework for three endpoints). The compressor and the query service each
 * start one. With a health source it also serves, for probes that speak only HTTP (Docker's
 * health check, an orchestrator's probes), beside the query service's gRPC health service:
 * {@code GET /health}, readiness: 200 while the service should get traffic, else 503; and
 * {@code GET /health/live}, liveness: 503 only when the process should be restarted (not while it
 * starts or drains). Each body is the state in words. Paths match exactly (anything else is 404);
 * HEAD is answered as GET without a body, other methods get 405.
 */
public final class MetricsServer implements AutoCloseable {

    public static final String PATH = "/metrics";
    public static final String HEALTH_PATH = "/health";

    public static final String LIVE_PATH = "/health/live";

    /**
     * What the health endpoints report: {@code ready} for {@value #HEALTH_PATH}, {@code live} for
     * {@value #LIVE_PATH}, and the state in words for both.
     */
    public record Health(boolean ready, boolean live, String state) {
        public Health {
            Objects.requireNonNull(state, "state");
        }
    }
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Requests served at once: a client that stalls mid-request holds one, not the server. */
    static final int THREADS = 4;

    static {
        // The JDK server sets no time limit on reading a request or writing a response unless told:
        // a client that sends half a request and waits would hold its thread for good. These are
        // read once, when the JDK's server classes load (the first HttpServer of the JVM); a value
        // set on the command line stands.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", "10");   // seconds
        }
        if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
            System.setProperty("sun.net.httpserver.maxRspTime", "30");
        }
    }

    private final HttpServer server;
    private final ExecutorService threads;

    private MetricsServer(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
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
        // without an executor the JDK server reads every request on its one dispatcher thread, so one
        // stalled client (half a request, or not reading a large /metrics body) stopped every probe
        AtomicInteger named = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "metrics-http-" + named.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext(PATH, exchange -> respond(exchange, registry));
        if (health != null) {
            server.createContext(HEALTH_PATH, exchange -> respondHealth(exchange, health, Health::ready));
            server.createContext(LIVE_PATH, exchange -> respondHealth(exchange, health, Health::live));
        }
        server.start();
        return new MetricsServer(server, threads);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
        try (exchange) {
            if (refused(exchange, PATH)) {
                return;
            }
            send(exchange, 200, CONTENT_TYPE, registry.scrape());
        }
    }

    private static void respondHealth(HttpExchange exchange, Supplier<Health> health, Predicate<Health> up)
            throws IOException {
        try (exchange) {
            if (refused(exchange, exchange.getHttpContext().getPath())) {
                return;
            }
            Health h;
            try {
                h = health.get();
            } catch (RuntimeException e) {   // a probe must get an answer: not healthy, and why
                h = new Health(false, false, "health check failed: " + e);
            }
            send(exchange, up.test(h) ? 200 : 503, "text/plain; charset=utf-8", h.state() + "\n");
        }
    }

    /**
     * Answers what is not a GET or HEAD of exactly {@code path} (the JDK server matches contexts by
     * prefix: /metricsfoo would reach /metrics) and says whether it did.
     */
    private static boolean refused(HttpExchange exchange, String path) throws IOException {
        if (!exchange.getRequestURI().getPath().equals(path)) {
            exchange.sendResponseHeaders(404, -1);
            return true;
        }
        String method = exchange.getRequestMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            exchange.sendResponseHeaders(405, -1);
            return true;
        }
        return false;
    }

    private static void send(HttpExchange exchange, int status, String contentType, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        try {
            server.stop(0);
        } finally {
            threads.shutdownNow();
        }
    }
}
