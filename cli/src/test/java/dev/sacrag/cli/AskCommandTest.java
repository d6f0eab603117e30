package dev.sacrag.cli;

import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.Token;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sac ask} against a real gRPC server whose answers are scripted: what the service says
 * will pass ("retry shortly") is asked again within the deadline; what will not is reported at once.
 */
class AskCommandTest {

    private static final Metadata.Key<String> PUSHBACK = dev.sacrag.query.grpc.QueryGrpcService.RETRY_PUSHBACK_MS;
    private final AtomicInteger calls = new AtomicInteger();
    private volatile boolean olderServer;
    private final Deque<Status> failures = new ArrayDeque<>();
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.shutdownNow().awaitTermination();
        }
    }

    private String start() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new QueryServiceGrpc.QueryServiceImplBase() {
                    @Override
                    public void ask(AskRequest request, StreamObserver<AskResponse> out) {
                        calls.incrementAndGet();
                        Status failure;
                        synchronized (failures) {
                            failure = failures.poll();
                        }
                        if (failure != null) {
                            // as the query service says it: a pushback where the question will pass
                            Metadata trailers = new Metadata();
                            String description = String.valueOf(failure.getDescription());
                            if (olderServer) {
                                // no trailer: a query service from before it
                            } else if (description.endsWith("retry shortly")) {
                                trailers.put(PUSHBACK, "0");
                            } else if (description.contains("gone from Redis again")) {
                                trailers.put(PUSHBACK, "-1");
                            }
                            out.onError(failure.asRuntimeException(trailers));
                            return;
                        }
                        out.onNext(AskResponse.newBuilder().setToken(Token.newBuilder().setTokenId(7).setText("Lyon")).build());
                        out.onNext(AskResponse.newBuilder().setResult(AskResult.newBuilder().setAnswer("Lyon")
                                .setModelId("0a1b2c3d4e5f")).build());
                        out.onCompleted();
                    }
                }).build().start();
        return "127.0.0.1:" + server.getPort();
    }

    private record Run(int code, String out, String err) {
    }

    private Run ask(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Sac.commandLine().execute(args);   // made after the swap: its writers wrap the streams then
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void aQuestionTheServiceSaysWillPassIsAskedAgain() throws Exception {
        String target = start();
        failures.addAll(List.of(
                Status.UNAVAILABLE.withDescription("anchor KV of [doc a v1] (model m) is not usable (blob missing from"
                        + " Redis); recompressing: retry shortly"),
                Status.UNAVAILABLE.withDescription("the service is still reading the documents and catalog topics;"
                        + " retry shortly")));
        Run r = ask("ask", "Where was the loom?", "--target", target, "--deadline", "30s");
        assertEquals(0, r.code(), r.err());
        assertEquals("Lyon", r.out().strip());
        assertEquals(3, calls.get());
        assertTrue(r.err().contains("[UNAVAILABLE: anchor KV of [doc a v1] (model m) is not usable (blob missing from Redis);"
                + " recompressing: retry shortly; asking again in 0.5 s]"), r.err());
        assertTrue(r.err().contains("asking again in 1.0 s]"), r.err());
    }

    @Test
    void aDeadlineTooShortToMakeACallIsAUsageError() throws Exception {
        String target = start();
        Run r = ask("ask", "q", "--target", target, "--deadline", "0s");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--deadline must be at least 100ms, got 0s"), r.err());
        assertEquals(0, calls.get());
    }

    @Test
    void aServiceFromBeforeThePushbackTrailerIsStillAskedAgain() throws Exception {
        String target = start();
        olderServer = true;   // a rolling upgrade: this replica sends no grpc-retry-pushback-ms
        failures.add(Status.UNAVAILABLE.withDescription("anchor KV of [doc a v1] (model m) is not usable (blob missing from"
                + " Redis); recompressing: retry shortly"));
        Run r = ask("ask", "Where was the loom?", "--target", target, "--deadline", "30s");
        assertEquals(0, r.code(), r.err());
        assertEquals(2, calls.get());
        failures.add(Status.UNAVAILABLE.withDescription("anchor KV store unavailable while fetching doc retry-policy"));
        assertEquals(1, ask("ask", "q", "--target", target).code(), "Redis down: still said at once");
        assertEquals(3, calls.get());
    }

    @Test
    void whatWillNotPassIsReportedAtOnce() throws Exception {
        String target = start();
        failures.add(Status.RESOURCE_EXHAUSTED.withDescription("anchor KV of [doc b v1] (model m) was rebuilt on request"
                + " 3 s ago and is gone from Redis again"));
        Run r = ask("ask", "q", "--target", target);
        assertEquals(1, r.code());
        assertEquals(1, calls.get(), "a Redis too small is not asked again");
        assertTrue(r.err().contains("RESOURCE_EXHAUSTED: anchor KV of [doc b v1]"), r.err());
        assertTrue(!r.err().contains("SAC_DEBUG"), "the service's answer is all there is, no stack to ask for: " + r.err());

        failures.add(Status.UNAVAILABLE.withDescription("anchor KV store unavailable while fetching 1 document(s)"));
        assertEquals(1, ask("ask", "q", "--target", target).code());
        assertEquals(2, calls.get(), "Redis down: said at once, not waited out");

        failures.add(Status.UNAVAILABLE.withDescription("recompressing: retry shortly"));
        Run no = ask("ask", "q", "--target", target, "--no-retry");
        assertEquals(1, no.code());
        assertEquals(3, calls.get());

        // a doc id with 'retry' in it does not make Redis being down retryable: the service's trailer decides
        failures.add(Status.UNAVAILABLE.withDescription("anchor KV store unavailable while fetching doc retry-policy"));
        assertEquals(1, ask("ask", "q", "--target", target, "--doc", "retry-policy").code());
        assertEquals(4, calls.get());

        for (int i = 0; i < 5; i++) {
            failures.add(Status.UNAVAILABLE.withDescription("recompressing: retry shortly"));
        }
        long t0 = System.nanoTime();
        Run late = ask("ask", "q", "--target", target, "--deadline", "3s");
        assertEquals(1, late.code(), "the tries stop while one still fits in the deadline: " + late.err());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3), "within the deadline");
        assertTrue(late.err().contains("sac ask: UNAVAILABLE: recompressing: retry shortly"),
                "the service's reason, not DEADLINE_EXCEEDED: " + late.err());
        int tries = calls.get() - 4;
        assertTrue(tries >= 2 && tries <= 3, tries + " tries");
    }
}
