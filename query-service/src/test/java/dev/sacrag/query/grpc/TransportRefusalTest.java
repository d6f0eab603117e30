package dev.sacrag.query.grpc;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.QueryServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import dev.sacrag.query.v1.AskResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Calls gRPC's transport ends before the service reads them, over a real socket: a request over
 * the 4 MiB inbound limit, a client leaving before its request. Each is counted once in
 * {@code sac_query_requests_total} (a client could otherwise fail calls unseen by the metrics),
 * and the transport's WARNING with its stack trace per call no longer reaches the log.
 */
class TransportRefusalTest {

    private static final AskLimits LIMITS = new AskLimits("default", 2, 4, 200, 8, 16, Duration.ofSeconds(30));

    @Test
    void callsTheTransportRefusesAreCountedOnceAndNotLoggedOneByOne() throws Exception {
        Logger transport = Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerStream");
        List<LogRecord> reached = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    reached.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        transport.addHandler(handler);
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addCompressed("default", "ada", 1, "Ada wrote the first program.");
            QueryServer server = QueryServer.start("127.0.0.1", 0, new QueryGrpcService(rig.engine, LIMITS, rig.metrics),
                    Duration.ZERO, Duration.ofSeconds(5));
            server.markServing();
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                var stub = QueryServiceGrpc.newBlockingStub(channel);
                AskRequest oversize = AskRequest.newBuilder().setQuestion("x".repeat(5 << 20)).build();
                for (int i = 0; i < 3; i++) {
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub
                            .withDeadlineAfter(30, TimeUnit.SECONDS).ask(oversize).forEachRemaining(r -> { }));
                    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
                    assertTrue(e.getStatus().getDescription().contains("exceeds maximum size"), e.getStatus().toString());
                }
                // a client that leaves after its headers, before its request: the handler never runs
                // (called as a streaming method: a one-message call's headers wait for its message to be sent)
                ClientCall<AskRequest, AskResponse> left = channel.newCall(QueryServiceGrpc.getAskMethod().toBuilder()
                        .setType(MethodDescriptor.MethodType.BIDI_STREAMING).build(),
                        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
                left.start(new ClientCall.Listener<>() { }, new Metadata());
                awaitTrue(() -> server.openCalls() == 1, "the server has the call");
                left.cancel("the client changed its mind", null);
                AskRequest ask = AskRequest.newBuilder().setQuestion("Who wrote it?").addDocIds("ada").build();
                stub.withDeadlineAfter(30, TimeUnit.SECONDS).ask(ask).forEachRemaining(r -> { });
                // a method the service does not have: UNIMPLEMENTED, and no meter named after it
                MethodDescriptor<AskRequest, AskResponse> bogus = QueryServiceGrpc.getAskMethod().toBuilder()
                        .setFullMethodName(QueryServiceGrpc.SERVICE_NAME + "/MadeUp").build();
                StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> ClientCalls
                        .blockingServerStreamingCall(channel, bogus, CallOptions.DEFAULT.withDeadlineAfter(30,
                                TimeUnit.SECONDS), ask).forEachRemaining(r -> { }));
                assertEquals(Status.Code.UNIMPLEMENTED, unknown.getStatus().getCode());

                Map<String, Double> counted = awaitCounts(rig, 5);
                assertEquals(Map.of("RESOURCE_EXHAUSTED", 3.0, "CANCELLED", 1.0, "OK", 1.0), counted,
                        "the cancel is counted by the stream tracer: the service never saw that call");
                Thread.sleep(300);   // nothing counted twice, late
                assertEquals(5.0, awaitCounts(rig, 5).values().stream().mapToDouble(d -> d).sum());
                var requests = rig.metrics.registry().find("sac.query.requests").counters();
                assertEquals(java.util.Set.of("Ask", "Warm"), requests.stream().map(c -> c.getId().getTag("rpc"))
                        .collect(Collectors.toSet()), "a client cannot add meters");
                assertEquals(2 * Status.Code.values().length, requests.size(), "each RPC by each status, no more");
                assertEquals(List.of(), reached.stream().map(LogRecord::getMessage).toList(),
                        "the transport's per-call warnings are filtered (one line every 30 s goes to the service's log)");
            } finally {
                server.close();
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } finally {
            transport.removeHandler(handler);
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void onlyTheWarningsAClientCausesAreThrottled() {
        java.util.logging.LogRecord tooLarge = new java.util.logging.LogRecord(Level.WARNING, "Exception processing message");
        tooLarge.setThrown(Status.RESOURCE_EXHAUSTED.withDescription("gRPC message exceeds maximum size").asRuntimeException());
        assertTrue(TransportErrorLog.causedByAClient(tooLarge));
        java.util.logging.LogRecord ours = new java.util.logging.LogRecord(Level.WARNING, "Exception in onHeadersRead()");
        ours.setThrown(new NullPointerException("a bug in a tracer"));
        assertTrue(!TransportErrorLog.causedByAClient(ours), "an exception of the server's own passes with its trace");
        java.util.logging.LogRecord bare = new java.util.logging.LogRecord(Level.WARNING, "Stream Error");
        bare.setThrown(new IllegalStateException("unexpected"));
        assertTrue(!TransportErrorLog.causedByAClient(bare));
    }

    /**
     * Ask calls counted by status (the statuses none had left out: each is scraped at 0 from the start),
     * once at least {@code total} are (the transport's close comes after the client's error).
     */
    private static Map<String, Double> awaitCounts(EngineRig rig, int total) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Map<String, Double> byStatus = rig.metrics.registry().find("sac.query.requests").tag("rpc", "Ask").counters()
                    .stream().filter(c -> c.count() > 0).collect(Collectors.toMap(c -> c.getId().getTag("status"), Counter::count));
            if (byStatus.values().stream().mapToDouble(d -> d).sum() >= total || System.nanoTime() > until) {
                return byStatus;
            }
            Thread.sleep(20);
        }
    }
}
