package dev.sacrag.query.grpc;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.QueryServiceGrpc;
import io.grpc.ManagedChannel;
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
 * the 4 MiB inbound limit, a deadline that passes in transit. Each is counted once in
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
                AskRequest ask = AskRequest.newBuilder().setQuestion("Who wrote it?").addDocIds("ada").build();
                assertThrows(StatusRuntimeException.class, () -> stub.withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                        .ask(ask).forEachRemaining(r -> { }));
                stub.withDeadlineAfter(30, TimeUnit.SECONDS).ask(ask).forEachRemaining(r -> { });

                Map<String, Double> counted = awaitCounts(rig, 5);
                assertEquals(3.0, counted.get("RESOURCE_EXHAUSTED"), counted.toString());
                assertEquals(1.0, counted.get("OK"), counted.toString());
                Thread.sleep(300);   // nothing counted twice, late
                assertEquals(5.0, awaitCounts(rig, 5).values().stream().mapToDouble(d -> d).sum());
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

    /** Ask calls counted by status, once at least {@code total} are (the transport's close comes after the client's error). */
    private static Map<String, Double> awaitCounts(EngineRig rig, int total) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Map<String, Double> byStatus = rig.metrics.registry().find("sac.query.requests").tag("rpc", "Ask").counters()
                    .stream().collect(Collectors.toMap(c -> c.getId().getTag("status"), Counter::count));
            if (byStatus.values().stream().mapToDouble(d -> d).sum() >= total || System.nanoTime() > until) {
                return byStatus;
            }
            Thread.sleep(20);
        }
    }
}
