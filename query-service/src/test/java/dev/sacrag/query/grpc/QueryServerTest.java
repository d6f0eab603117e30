package dev.sacrag.query.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.QueryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The server's shutdown over a real socket: health first, running calls finish, watches do not hold it up. */
class QueryServerTest {

    private static final AskLimits LIMITS = new AskLimits("default", 2, 4, 200, 8, 16, Duration.ofSeconds(30));
    private static final Duration GRACE = Duration.ofSeconds(60);

    @Test
    void aBrokenReplicaReportsNotServingForGood() throws Exception {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            QueryServer server = QueryServer.start("127.0.0.1", 0, new QueryGrpcService(rig.engine, LIMITS, rig.metrics),
                    Duration.ZERO, GRACE);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
                HealthCheckRequest service = HealthCheckRequest.newBuilder().setService(QueryServiceGrpc.SERVICE_NAME).build();
                assertEquals(ServingStatus.NOT_SERVING, health.check(service).getStatus(), "not before the topics are read");
                assertTrue(server.status().words().startsWith("NOT_SERVING: starting") && !server.status().broken(),
                        server.status().toString());
                server.markServing();
                assertEquals(ServingStatus.SERVING, health.check(service).getStatus());
                assertEquals(new QueryServer.Status(true, false, "SERVING"), server.status());
                java.util.concurrent.CountDownLatch told = new java.util.concurrent.CountDownLatch(1);
                java.util.concurrent.atomic.AtomicInteger tellings = new java.util.concurrent.atomic.AtomicInteger();
                Thread caller = Thread.currentThread();
                java.util.concurrent.atomic.AtomicBoolean onCallersThread = new java.util.concurrent.atomic.AtomicBoolean();
                server.onBroken(() -> {
                    tellings.incrementAndGet();
                    onCallersThread.set(Thread.currentThread() == caller);
                    told.countDown();
                });
                server.markBroken("the documents topic is no longer followed");
                assertTrue(told.await(10, TimeUnit.SECONDS), "the broken listener is told");
                assertTrue(!onCallersThread.get(), "not on the topic reader's thread");
                assertEquals(ServingStatus.NOT_SERVING, health.check(service).getStatus());
                server.markServing();
                assertEquals(ServingStatus.NOT_SERVING, health.check(HealthCheckRequest.getDefaultInstance()).getStatus(),
                        "a broken replica does not come back by itself");
                server.markBroken("again");
                Thread.sleep(200);
                assertEquals(1, tellings.get(), "told once");
                assertTrue(server.status().words().startsWith("NOT_SERVING: the documents topic is no longer followed")
                        && server.status().broken() && !server.status().serving(), server.status().toString());
            } finally {
                server.close();
                assertEquals(new QueryServer.Status(false, true, "NOT_SERVING: shutting down"), server.status());
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void duringTheDrainHealthIsNotServingButCallsAreStillAnsweredThenRefused() throws Exception {
        Duration drain = Duration.ofSeconds(3);   // room for a slow machine to make its call inside it
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addCompressed("default", "ada", 11, "Ada Lovelace wrote the first program.");
            QueryServer server = QueryServer.start("127.0.0.1", 0, new QueryGrpcService(rig.engine, LIMITS, rig.metrics),
                    drain, GRACE);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                server.markServing();
                var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
                var query = QueryServiceGrpc.newBlockingStub(channel);
                AskRequest ask = AskRequest.newBuilder().setQuestion("Who?").addDocIds("ada").build();
                long t0 = System.nanoTime();
                CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (health.check(HealthCheckRequest.getDefaultInstance()).getStatus() != ServingStatus.NOT_SERVING
                        && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertEquals(ServingStatus.NOT_SERVING, health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
                List<AskResponse> answered = new ArrayList<>();
                query.withDeadlineAfter(10, TimeUnit.SECONDS).ask(ask).forEachRemaining(answered::add);
                assertTrue(answered.get(answered.size() - 1).hasResult(), "a call in the drain is answered: " + answered);
                assertTrue(System.nanoTime() - t0 < drain.toNanos(), "the call was made within the drain (test too slow to tell)");

                closing.get(30, TimeUnit.SECONDS);
                assertTrue(System.nanoTime() - t0 >= drain.toNanos(), "close returned before the drain ended");
                io.grpc.StatusRuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(
                        io.grpc.StatusRuntimeException.class,
                        () -> query.withDeadlineAfter(10, TimeUnit.SECONDS).ask(ask).forEachRemaining(r -> { }));
                assertEquals(io.grpc.Status.Code.UNAVAILABLE, refused.getStatus().getCode(), "after the drain calls are refused");
            } finally {
                server.close();
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void closeLetsARunningAskFinishAndDoesNotWaitOutTheGraceForHealthWatches() throws Exception {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 5, 200), 1 << 20)) {
            rig.addCompressed("default", "ada", 11, "Ada Lovelace wrote the first program.");
            QueryServer server = QueryServer.start("127.0.0.1", 0, new QueryGrpcService(rig.engine, LIMITS, rig.metrics),
                    Duration.ZERO, GRACE);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                server.markServing();
                List<ServingStatus> watched = new CopyOnWriteArrayList<>();
                HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService("").build(), new StreamObserver<>() {
                    @Override
                    public void onNext(HealthCheckResponse r) {
                        watched.add(r.getStatus());
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
                CompletableFuture<List<AskResponse>> ask = CompletableFuture.supplyAsync(() -> {
                    List<AskResponse> out = new ArrayList<>();
                    QueryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .ask(AskRequest.newBuilder().setQuestion("Who?").addDocIds("ada").build())
                            .forEachRemaining(out::add);
                    return out;
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (rig.answerer.tokensEmitted.get() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertTrue(rig.answerer.tokensEmitted.get() > 0, "the Ask is running");

                long t0 = System.nanoTime();
                server.close();
                double seconds = (System.nanoTime() - t0) / 1e9;

                List<AskResponse> stream = ask.get(10, TimeUnit.SECONDS);
                assertEquals(6, stream.size(), "the running Ask finished: 5 tokens and its result");
                assertTrue(stream.get(5).hasResult());
                assertTrue(seconds < GRACE.toSeconds() / 2.0, "close took " + seconds + " s: it waited out the grace"
                        + " for the health watch, which never ends by itself");
                assertEquals(ServingStatus.NOT_SERVING, watched.get(watched.size() - 1), "watchers saw " + watched);
                server.close();   // again: nothing left to do
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * A SIGTERM's log ends with the stop, as it began with "gRPC listening on": how long it took, the
     * calls that ended meanwhile and those cancelled after the grace (the compressor logs its own).
     */
    @Test
    void closeLogsTheStopWithTheCallsThatEndedAndThoseCancelled() throws Exception {
        List<String> graceful = stopLines(GRACE);
        assertEquals(2, graceful.size(), "the drain's line and the stop's: " + graceful);
        assertTrue(graceful.get(0).endsWith("health NOT_SERVING; still accepting calls for the shutdown drain of 50ms"),
                "the drain as the flag takes it: " + graceful);
        assertTrue(graceful.get(1).matches(".* gRPC stopped on 127\\.0\\.0\\.1:[0-9]+ after [0-9hms]+: 1 Ask/Warm call\\(s\\)"
                + " ended during the shutdown, 0 cancelled after the grace of 1m"), graceful.toString());

        List<String> cut = stopLines(Duration.ZERO);
        assertTrue(cut.get(cut.size() - 1).matches(".* gRPC stopped on 127\\.0\\.0\\.1:[0-9]+ after [0-9hms]+: 0 Ask/Warm"
                + " call\\(s\\) ended during the shutdown, 1 cancelled after the grace of 0s"), cut.toString());
    }

    /** The server's INFO and WARN lines of a close while an Ask runs (about a second of tokens) (slf4j-simple writes to System.err). */
    private static List<String> stopLines(Duration grace) throws Exception {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 5, 200), 1 << 20)) {
            rig.addCompressed("default", "ada", 11, "Ada Lovelace wrote the first program.");
            QueryServer server = QueryServer.start("127.0.0.1", 0, new QueryGrpcService(rig.engine, LIMITS, rig.metrics),
                    Duration.ofMillis(50), grace);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            java.io.PrintStream stderr = System.err;
            java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
            try {
                server.markServing();
                CompletableFuture<Void> ask = CompletableFuture.runAsync(() -> QueryServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .ask(AskRequest.newBuilder().setQuestion("Who?").addDocIds("ada").build())
                        .forEachRemaining(r -> { }));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (rig.answerer.tokensEmitted.get() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertTrue(rig.answerer.tokensEmitted.get() > 0, "the Ask is running");
                System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
                try {
                    server.close();
                } finally {
                    System.setErr(stderr);
                }
                ask.handle((done, cancelled) -> null).get(10, TimeUnit.SECONDS);
            } finally {
                server.close();
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            String text = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
            stderr.print(text);
            return text.lines().filter(l -> l.contains(QueryServer.class.getName())).toList();
        }
    }
}
