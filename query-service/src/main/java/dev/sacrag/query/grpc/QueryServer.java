package dev.sacrag.query.grpc;

import dev.sacrag.metrics.Durations;
import dev.sacrag.query.v1.QueryServiceGrpc;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC server's lifecycle: listen, serve the query service with the standard
 * {@code grpc.health.v1} health service and server reflection, drain on close. Health reports
 * NOT_SERVING until {@link #markServing()} (the topics have been read), and again from close.
 */
public final class QueryServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(QueryServer.class);
    private static final String SERVICE = QueryServiceGrpc.SERVICE_NAME;

    private final Server server;
    /** host:port as the start line names it (the bound socket would print 0.0.0.0 as 0:0:0:0:0:0:0:0) */
    private final String address;
    private final HealthStatusManager health;
    private final CallCounter queries;
    private final Shutdown shutdown;
    private boolean closed;
    private boolean broken;
    /**
     * The health status for probes that speak HTTP: whether it is SERVING, whether the replica is
     * broken for good ({@link #markBroken}: restart it), and the status in words ({@code SERVING},
     * or {@code NOT_SERVING: } and why: starting, broken, shutting down).
     */
    public record Status(boolean serving, boolean broken, String words) {
    }

    private volatile Status status = new Status(false, false, "NOT_SERVING: starting, the topics are not read yet");
    /** Told once, on a thread of its own, when the replica is marked broken. */
    private volatile Runnable onBroken = () -> { };

    /** How close() goes: {@code drain} of NOT_SERVING while calls are still accepted, then {@code grace} for those running. */
    private record Shutdown(Duration drain, Duration grace) {
    }

    private QueryServer(Server server, String address, HealthStatusManager health, CallCounter queries, Shutdown shutdown) {
        this.server = server;
        this.address = address;
        this.health = health;
        this.queries = queries;
        this.shutdown = shutdown;
    }

    /**
     * Counts the calls of one service from the moment the server starts them (before their
     * request reaches the handler) until they complete or are cancelled: what a shutdown waits
     * for. A stream accepted but not yet started when the server shuts down is not counted.
     */
    private static final class CallCounter implements ServerInterceptor {
        private final AtomicInteger open = new AtomicInteger();
        private final java.util.concurrent.atomic.AtomicLong ended = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            open.incrementAndGet();
            AtomicBoolean ended = new AtomicBoolean();
            Runnable end = () -> {
                if (ended.compareAndSet(false, true)) {
                    open.decrementAndGet();
                    CallCounter.this.ended.incrementAndGet();
                }
            };
            ServerCall.Listener<Q> listener;
            try {
                listener = next.startCall(call, headers);
            } catch (RuntimeException e) {
                end.run();
                throw e;
            }
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
                @Override
                public void onComplete() {
                    try {
                        super.onComplete();
                    } finally {
                        end.run();
                    }
                }

                @Override
                public void onCancel() {
                    try {
                        super.onCancel();
                    } finally {
                        end.run();
                    }
                }
            };
        }

        int open() {
            return open.get();
        }

        /** Calls that completed or were cancelled, ever. */
        long ended() {
            return ended.get();
        }
    }

    /**
     * @param port 0 for any free port
     * @param drain how long close() reports NOT_SERVING while still accepting calls, so that clients and
     *              load balancers that poll health move away before calls are refused
     * @param grace how long close() then lets running calls finish
     */
    public static QueryServer start(String host, int port, QueryGrpcService service, Duration drain, Duration grace) {
        if (drain.isNegative() || grace.isNegative()) {
            throw new IllegalArgumentException("shutdown drain and grace must not be negative, got " + drain + " and " + grace);
        }
        HealthStatusManager health = new HealthStatusManager();
        setAll(health, ServingStatus.NOT_SERVING);
        CallCounter queries = new CallCounter();
        TransportErrorLog.install();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .addStreamTracerFactory(service.callTracer())
                .addService(ServerInterceptors.intercept(service, queries))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .addService(reflectionV1Alpha())
                .build();
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for gRPC on " + host + ":" + port, e);
        }
        log.info("gRPC listening on {}:{}", host, server.getPort());
        return new QueryServer(server, host + ":" + server.getPort(), health, queries, new Shutdown(drain, grace));
    }

    /** The v1alpha reflection API, for clients older than the v1 one (e.g. grpcurl before 1.8.8). */
    @SuppressWarnings("deprecation")
    private static io.grpc.BindableService reflectionV1Alpha() {
        return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
    }

    public int port() {
        return server.getPort();
    }

    /** Ask and Warm calls started and not yet ended (the server has their headers; their handler may not have run). */
    int openCalls() {
        return queries.open();
    }

    /** Health SERVING: load balancers may send traffic (unless {@link #markBroken} came first). */
    public synchronized void markServing() {
        if (closed || broken) {
            return;
        }
        setAll(health, ServingStatus.SERVING);
        status = new Status(true, false, "SERVING");
    }

    /** Runs {@code action} (on a thread of its own) when the replica is marked broken. Set before it may be. */
    public void onBroken(Runnable action) {
        this.onBroken = java.util.Objects.requireNonNull(action, "action");
    }

    /** The health status now (see {@link Status}). Never blocks (a shutdown's drain holds the server's lock). */
    public Status status() {
        return status;
    }

    /**
     * Health NOT_SERVING for good: this replica can no longer be trusted to answer from current
     * data (a topic it follows stopped being applied). Load balancers move away; a health probe
     * restarts it.
     */
    public synchronized void markBroken(String why) {
        if (closed || broken) {
            return;
        }
        broken = true;
        log.error("health NOT_SERVING: {}", why);
        setAll(health, ServingStatus.NOT_SERVING);
        status = new Status(false, true, "NOT_SERVING: " + why + " (restart this replica)");
        Thread tell = new Thread(onBroken, "sac-query-broken");   // not on the caller's (a topic reader's) thread
        tell.setDaemon(true);
        tell.start();
    }

    /** The server's overall status ("") and the query service's move together. */
    private static void setAll(HealthStatusManager health, ServingStatus status) {
        health.setStatus("", status);
        health.setStatus(SERVICE, status);
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Health NOT_SERVING; for the drain period calls are still accepted (a client that has not yet
     * seen the health change is served, not refused); then no new calls, and up to the grace period
     * for the Ask and Warm calls accepted so far to finish; then the rest (health watches, which never end by themselves, and calls
     * still running) is cancelled. Logs the stop as {@link #start} logs the start, with how long it took
     * and the calls that ended meanwhile or were cancelled. Idempotent: the app closes the server
     * first, before the topic readers and the model it needs, and its resource list closes it again.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long start = System.nanoTime();
        long endedBefore = queries.ended();
        health.enterTerminalState(); // NOT_SERVING for every service, so clients move away first
        status = new Status(false, broken, "NOT_SERVING: shutting down");
        try {
            if (!shutdown.drain().isZero()) {
                log.info("health NOT_SERVING; still accepting calls for the shutdown drain of {}",
                        Durations.shown(shutdown.drain()));
                Thread.sleep(shutdown.drain().toMillis());
            }
            server.shutdown();
            long deadline = System.nanoTime() + shutdown.grace().toNanos();
            while (queries.open() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            long ended = queries.ended() - endedBefore;   // finished, or cancelled by their client
            int cancelled = queries.open();               // read second: a call ending between is counted in neither
            if (cancelled > 0) {
                log.warn("{} call(s) still running after the shutdown grace of {}: cancelling them", cancelled,
                        Durations.shown(shutdown.grace()));
            }
            boolean terminated = server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            // the stop's counterpart of the start line: an operator reading a SIGTERM's log sees it end, and what it cost
            log.info("gRPC {} on {} after {}: {} Ask/Warm call(s) ended during the shutdown, {} cancelled after the"
                    + " grace of {}", terminated ? "stopped" : "not terminated within 5s of the cancel (going on all the same)",
                    address, Durations.shown(Duration.ofMillis((System.nanoTime() - start) / 1_000_000)),
                    ended, cancelled, Durations.shown(shutdown.grace()));
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
