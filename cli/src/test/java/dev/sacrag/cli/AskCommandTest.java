package dev.sacrag.cli;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.RefusedDocument;
import dev.sacrag.query.v1.Token;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
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
import java.util.Map;
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
    /** Failures sent with the rich error model's details, as the service sends a NOT_FOUND. */
    private final Deque<com.google.rpc.Status> detailed = new ArrayDeque<>();
    private volatile AskResult result = AskResult.newBuilder().setAnswer("Lyon").setModelId("0a1b2c3d4e5f").build();
    private volatile AskRequest lastRequest;
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
                        lastRequest = request;
                        Status failure;
                        com.google.rpc.Status withDetails;
                        synchronized (failures) {
                            failure = failures.poll();
                            withDetails = detailed.poll();
                        }
                        if (withDetails != null) {
                            out.onError(StatusProto.toStatusRuntimeException(withDetails));
                            return;
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
                        out.onNext(AskResponse.newBuilder().setResult(result).build());
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

    /**
     * A deadline spent connecting: a socket that takes the connection and never speaks HTTP/2,
     * as a fresh process's first connection looks for its first few hundred ms. gRPC's words for
     * it ("CallOptions deadline exceeded ... was_still_waiting") told nobody what to do.
     */
    @Test
    void aDeadlineThatPassesBeforeTheConnectionIsMadeSaysSo() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            String target = "127.0.0.1:" + silent.getLocalPort();
            for (String command : List.of("ask", "warm")) {
                List<String> args = command.equals("ask") ? List.of("ask", "q", "--target", target, "--deadline", "300ms")
                        : List.of("warm", "--docs", "a", "--target", target, "--deadline", "300ms");
                Run r = ask(args.toArray(String[]::new));
                assertEquals(1, r.code(), r.err());
                assertTrue(r.err().contains("sac " + command + ": DEADLINE_EXCEEDED: no answer within --deadline 300ms: the"
                        + " connection to " + target + " was not made in that time (resolving its name and connecting: a"
                        + " fresh process needs a few hundred ms for them, so give it a longer --deadline; or is the query"
                        + " service there?)"), r.err());
                assertTrue(!r.err().contains("CallOptions"), r.err());
            }
        }
    }

    @Test
    void nothingListeningAtTheTargetIsSaidWithWhatToCheck() throws Exception {
        int port;
        try (java.net.ServerSocket closed = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        Run r = ask("ask", "q", "--target", "127.0.0.1:" + port);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("sac ask: UNAVAILABLE: no query service answers at 127.0.0.1:" + port + " (is it"
                + " running, and is that its address? --target, env SAC_QUERY_TARGET): "), r.err());
        assertTrue(r.err().contains("Connection refused"), "the cause stays: " + r.err());
    }

    /** A deadline the service itself reports, once connected, is its answer as it is. */
    @Test
    void aDeadlineMetOnceConnectedKeepsTheServicesWords() throws Exception {
        String target = start();
        failures.add(Status.DEADLINE_EXCEEDED.withDescription("the deadline passed while the question waited for inference"));
        Run r = ask("ask", "q", "--target", target);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("sac ask: DEADLINE_EXCEEDED: the deadline passed while the question waited for"
                + " inference"), r.err());
    }

    /** The service refused these as INVALID_ARGUMENT, exit 1, naming its request's fields (top_k) where the user typed flags. */
    @Test
    void valuesTheServiceWouldRefuseAreUsageErrorsNamingTheFlag() throws Exception {
        String target = start();
        Map<List<String>, String> bad = Map.of(
                List.of("--top-k", "-1"), "--top-k must be >= 0, got -1",
                List.of("--max-new-tokens", "-1"), "--max-new-tokens must be >= 0, got -1",
                List.of("--doc", "a", "--doc", " "), "--doc must name a document, got an empty or blank id",
                List.of("--tenant", "acme corp"), "--tenant 'acme corp' is not a tenant name");
        for (Map.Entry<List<String>, String> e : bad.entrySet()) {
            List<String> args = new java.util.ArrayList<>(List.of("ask", "q", "--target", target));
            args.addAll(e.getKey());
            Run r = ask(args.toArray(String[]::new));
            assertEquals(2, r.code(), e.getKey() + ": " + r.err());
            assertTrue(r.err().contains(e.getValue()), e.getKey() + ": " + r.err());
        }
        Run blank = ask("ask", " ", "--target", target);
        assertEquals(2, blank.code(), blank.err());
        assertTrue(blank.err().contains("QUESTION must not be empty or blank"), blank.err());
        assertEquals(0, calls.get(), "refused before a call");
        assertEquals(0, ask("ask", "q", "--target", target, "--top-k", "2", "--max-new-tokens", "8").code());
    }

    /** 0 is the request's own "the server's default" (query.proto), which the service takes: not a usage error. */
    @Test
    void zeroTopKAndMaxNewTokensAskForTheServersDefaults() throws Exception {
        String target = start();
        Run r = ask("ask", "q", "--target", target, "--top-k", "0", "--max-new-tokens", "0");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, lastRequest.getTopK());
        assertEquals(0, lastRequest.getMaxNewTokens());
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

    @Test
    void theMatchesLeftOutBecauseACompressorRefusedThemAreNamedWithTheirRemedy() throws Exception {
        String target = start();
        result = result.toBuilder().addRefused(RefusedDocument.newBuilder().setDocId("ledger").setVersion(4)
                .setRefusedByModel("0a1b2c3d4e5f").setReason("TOO_LARGE").setMessage("document ledger v4 has 4100 tokens")
                .setRemedy("split it into smaller documents, and publish it again")).build();
        Run r = ask("ask", "Where was the loom?", "--target", target);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("[1 match(es) left out: refused by a compressor, not compressed until published again]\n"
                + "  ledger v4  refused by the compressor of model 0a1b2c3d4e5f: TOO_LARGE (document ledger v4 has 4100 tokens)\n"
                + "    remedy: split it into smaller documents, and publish it again\n"), r.err());
    }

    @Test
    void aQuestionAboutUncompressedDocumentsNamesEachRefusedOrNotYetAndFails() throws Exception {
        String target = start();
        String description = "the documents matching the question are not compressed: [manifest] not yet; 'ledger' v4"
                + " refused by the compressors: TOO_LARGE (...)";
        detailed.add(com.google.rpc.Status.newBuilder().setCode(Status.Code.NOT_FOUND.value()).setMessage(description)
                .addDetails(Any.pack(info("DOCUMENT_REFUSED", Map.of("doc_id", "ledger", "version", "4",
                        "model_id", "0a1b2c3d4e5f", "refusal_reason", "TOO_LARGE", "refusal_message", "too many tokens",
                        "remedy", "split it and publish it again"))))
                .addDetails(Any.pack(info("DOCUMENT_NOT_COMPRESSED", Map.of("doc_id", "manifest", "version", "2",
                        "model_id", "0a1b2c3d4e5f"))))
                .build());
        Run r = ask("ask", "Where was the loom?", "--target", target);
        assertEquals(1, r.code(), r.err());
        assertEquals(1, calls.get(), "not asked again");
        assertTrue(r.err().contains("[2 document(s) not compressed for model 0a1b2c3d4e5f]\n"
                + "  ledger v4  refused by the compressors: TOO_LARGE (too many tokens)\n"
                + "    remedy: split it and publish it again\n"
                + "  manifest v2  not compressed yet\n"
                + "sac ask: NOT_FOUND: " + description), r.err());
    }

    /** Details that did not fit the trailers are counted, so the header does not pass the ones that came for all. */
    @Test
    void detailsLeftOutOfTheReplyAreCountedInTheHeader() throws Exception {
        String target = start();
        String description = "the documents matching the question are not compressed: 'a' v1 refused by the compressors:"
                + " TOO_LARGE (...); 'b' v1 ...; 'c' v1 ...";
        detailed.add(com.google.rpc.Status.newBuilder().setCode(Status.Code.NOT_FOUND.value()).setMessage(description)
                .addDetails(Any.pack(info("DOCUMENT_REFUSED", Map.of("doc_id", "a", "version", "1",
                        "model_id", "0a1b2c3d4e5f", "refusal_reason", "TOO_LARGE"))))
                .addDetails(Any.pack(info("DETAILS_LEFT_OUT", Map.of("count", "2"))))
                .build());
        Run r = ask("ask", "Where was the loom?", "--target", target);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("[1 document(s) not compressed for model 0a1b2c3d4e5f; 2 more did not fit the reply:"
                + " the error line names them, 'sac docs refused' lists the refusals]\n"
                + "  a v1  refused by the compressors: TOO_LARGE\n"
                + "sac ask: NOT_FOUND: " + description), r.err());
    }

    /** A description cut at 2 KiB does not name every document: the header does not send the reader to it for them. */
    @Test
    void detailsLeftOutOfACutReplyAreNotSaidToBeOnTheErrorLine() throws Exception {
        String target = start();
        String description = "the documents matching the question are not compressed: 'a' v1 refused by the compressors:"
                + " TOO_LARGE (...); 'b' v1 ... ... (cut at 2 KiB: gRPC clients refuse longer trailers; 'sac docs refused'"
                + " lists every refusal)";
        detailed.add(com.google.rpc.Status.newBuilder().setCode(Status.Code.NOT_FOUND.value()).setMessage(description)
                .addDetails(Any.pack(info("DOCUMENT_REFUSED", Map.of("doc_id", "a", "version", "1",
                        "model_id", "0a1b2c3d4e5f", "refusal_reason", "TOO_LARGE"))))
                .addDetails(Any.pack(info("DETAILS_LEFT_OUT", Map.of("count", "9"))))
                .build());
        Run r = ask("ask", "Where was the loom?", "--target", target);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("[1 document(s) not compressed for model 0a1b2c3d4e5f; 9 more did not fit the reply:"
                + " the error line, cut too, names the first ones only, 'sac docs refused' lists the refusals]\n"
                + "  a v1  refused by the compressors: TOO_LARGE\n"
                + "sac ask: NOT_FOUND: " + description), r.err());
    }

    private static ErrorInfo info(String reason, Map<String, String> metadata) {
        return ErrorInfo.newBuilder().setDomain("sac.query").setReason(reason).putAllMetadata(metadata).build();
    }
}
