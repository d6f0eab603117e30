package dev.sacrag.query.grpc;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.RecordingRecompressRequests;
import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.query.ask.WarmReport;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.RefusedDocument;
import dev.sacrag.query.v1.Timings;
import dev.sacrag.query.v1.UsedDocument;
import dev.sacrag.query.v1.WarmMiss;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.query.v1.WarmResponse;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RPC contract over an in-process transport: validation, status codes, stream shape, deadlines. */
class QueryGrpcServiceTest {

    private static final AskLimits LIMITS = new AskLimits("default", 2, 4, 200, 8, 16, Duration.ofSeconds(30));

    private EngineRig rig;
    private Server server;
    private ManagedChannel channel;

    /** A service over a rig with four documents: two compressed, one pending, one whose blob is gone. */
    private QueryServiceGrpc.QueryServiceBlockingStub start(FakeAnswerer answerer, AskLimits limits) throws IOException {
        return start(answerer, limits, 1 << 20);
    }

    private QueryServiceGrpc.QueryServiceBlockingStub start(FakeAnswerer answerer, AskLimits limits, long cacheBytes)
            throws IOException {
        rig = new EngineRig(answerer, cacheBytes);
        rig.addCompressed("default", "ada", 11, "Ada Lovelace wrote the first program for the Analytical Engine.");
        rig.addCompressed("default", "babbage", 12, "Charles Babbage designed the Difference Engine and the Analytical Engine.");
        rig.addUncompressed("default", "pending", 13, "Grace Hopper wrote the first compiler.");
        rig.addWithoutBlob("default", "evicted", 14, "Alan Turing described a universal machine.");
        rig.addCompressed("other", "secret", 15, "Another tenant's document about engines.");
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(new QueryGrpcService(rig.engine, limits, rig.metrics))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        return QueryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (rig == null) {
            return;   // a test of no service
        }
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        rig.close();
    }

    @Test
    void streamsEveryTokenThenExactlyOneResult() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 5, 0), LIMITS);
        List<AskResponse> stream = new ArrayList<>();
        stub.ask(AskRequest.newBuilder().setQuestion("Who designed it?").addDocIds("babbage").addDocIds("ada").build())
                .forEachRemaining(stream::add);

        assertEquals(6, stream.size(), "5 tokens, then the result");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            assertTrue(stream.get(i).hasToken(), "message " + i + " is a token");
            assertEquals(100 + i, stream.get(i).getToken().getTokenId());
            text.append(stream.get(i).getToken().getText());
        }
        AskResult result = stream.get(5).getResult();
        assertEquals(text.toString(), result.getAnswer());
        assertEquals("t0 t1 t2 t3 t4", result.getAnswer());
        assertEquals(EngineRig.MODEL, result.getModelId());
        assertEquals(List.of("babbage", "ada"), result.getDocumentsList().stream().map(UsedDocument::getDocId).toList());
        UsedDocument babbage = result.getDocuments(0);
        CatalogEntry entry = rig.catalog.find("default", "babbage", EngineRig.MODEL).orElseThrow();
        assertEquals(12, babbage.getVersion());
        assertEquals(0.0, babbage.getScore(), "named documents have no retrieval score");
        assertEquals(entry.anchorCount(), babbage.getAnchorCount());
        assertEquals(entry.bytes(), babbage.getBytes());
        Timings t = result.getTimings();
        assertTrue(t.getRetrieveMs() >= 0 && t.getFetchMs() >= 0 && t.getDecodeMs() >= 0, t.toString());
        assertTrue(t.getTtftMs() > 0 && t.getTtftMs() <= t.getTotalMs(), t.toString());
        assertEquals(2, rig.answerer.answered.get(0).docs().size());
        assertEquals(8, rig.answerer.answered.get(0).maxNewTokens(), "0 = the server default");

        // the prompt cache's name for this composition: the blobs, in order; another order is another context
        CatalogEntry ada = rig.catalog.find("default", "ada", EngineRig.MODEL).orElseThrow();
        assertEquals(entry.redisKey() + "#" + Long.toHexString(entry.checksum()) + "|" + ada.redisKey() + "#"
                + Long.toHexString(ada.checksum()), rig.answerer.answered.get(0).contextKey());
        drain(stub, AskRequest.newBuilder().setQuestion("Who?").addDocIds("ada").addDocIds("babbage").build());
        assertTrue(rig.answerer.answered.get(1).contextKey().startsWith(ada.redisKey() + "#"));
    }

    @Test
    void retrievesWithBm25WhenNoDocumentIsNamed() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        AskResult result = last(stub.ask(AskRequest.newBuilder().setQuestion("Who designed the Difference Engine?")
                .setTopK(1).build())).getResult();
        assertEquals(1, result.getDocumentsCount());
        assertEquals("babbage", result.getDocuments(0).getDocId());
        assertTrue(result.getDocuments(0).getScore() > 0);
    }

    @Test
    void aRetrievedMatchACompressorRefusedIsNamedInTheResult() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        String text = "Charles Babbage designed the Difference Engine, in full.";
        rig.addUncompressed("default", "babbage-full", 3, text);
        rig.refusals.add(new DeadLetter("babbage-full", 3, ContentHash.of(text), Optional.of(EngineRig.MODEL),
                "TOO_LARGE", "TOO_LARGE: document babbage-full v3 has 4100 tokens, limit 2048"));
        AskResult result = last(stub.ask(AskRequest.newBuilder().setQuestion("Who designed the Difference Engine in full?")
                .setTopK(1).build())).getResult();
        assertEquals("babbage", result.getDocuments(0).getDocId(), "answered from the next best");
        assertEquals(List.of(RefusedDocument.newBuilder().setDocId("babbage-full").setVersion(3)
                .setRefusedByModel(EngineRig.MODEL).setReason("TOO_LARGE")
                .setMessage("document babbage-full v3 has 4100 tokens, limit 2048")
                .setRemedy("split it into smaller documents and publish those (raising the compressor's --max-doc-tokens"
                        + " helps only while it is below the model's positions)").build()), result.getRefusedList());

        WarmResponse warmed = stub.warm(WarmRequest.newBuilder().addDocIds("babbage-full").build());
        assertEquals(List.of("babbage-full"), warmed.getMissesList());
        assertEquals(result.getRefusedList(), warmed.getRefusedList(), "a warm's miss says the same of it");
        assertEquals(List.of(miss("babbage-full", WarmMiss.Reason.REFUSED, "v3 was refused by the compressor of model "
                + EngineRig.MODEL + ": TOO_LARGE (document babbage-full v3 has 4100 tokens, limit 2048); it is not compressed"
                + " for model " + EngineRig.MODEL + " until it is published again")), warmed.getMissReasonsList());
    }

    @Test
    void aDocIdSentDecomposedNamesTheDocumentStoredComposed() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        String composed = java.text.Normalizer.normalize("café-menu", java.text.Normalizer.Form.NFC);
        rig.addCompressed("default", composed, 21, "The café serves soup on Mondays.");
        String decomposed = java.text.Normalizer.normalize(composed, java.text.Normalizer.Form.NFD);
        AskResult result = last(stub.ask(AskRequest.newBuilder().setQuestion("When is soup served?")
                .addDocIds(decomposed).build())).getResult();
        assertEquals(composed, result.getDocuments(0).getDocId());
    }

    @Test
    void rejectsInvalidRequestsWithInvalidArgument() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        assertStatus(Status.Code.INVALID_ARGUMENT, "question is empty", () -> drain(stub, ask("   ")));
        assertStatus(Status.Code.INVALID_ARGUMENT, "question has 201 characters; the limit is 200",
                () -> drain(stub, ask("x".repeat(201))));
        // characters as a person counts them: 200 emoji (400 UTF-16 units) are within the limit, 201 are not
        assertStatus(Status.Code.INVALID_ARGUMENT, "question has 201 characters; the limit is 200",
                () -> drain(stub, ask("\uD83D\uDE00".repeat(201))));
        assertStatus(Status.Code.INVALID_ARGUMENT, "top_k must be between 0", () -> drain(stub, ask("q").toBuilder().setTopK(-1).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "and 4, got 5", () -> drain(stub, ask("q").toBuilder().setTopK(5).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "tenant 'a b'", () -> drain(stub, ask("q").toBuilder().setTenant("a b").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "max_new_tokens", () -> drain(stub, ask("q").toBuilder().setMaxNewTokens(-1).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "empty id", () -> drain(stub, ask("q").toBuilder().addDocIds(" ").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "name doc_ids or give a query", () -> stub.warm(WarmRequest.getDefaultInstance()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "name doc_ids or give a query, not both",
                () -> stub.warm(WarmRequest.newBuilder().addDocIds("ada").setQuery("lighthouses").build()));
        assertEquals(0, rig.answerer.answered.size(), "nothing invalid reaches the model");
        assertTrue(last(stub.ask(ask("\uD83D\uDE00".repeat(200)).toBuilder().addDocIds("ada").build())).hasResult(),
                "200 emoji are 200 characters");
    }

    @Test
    void unknownAndUncompressedDocumentsAreNotFound() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        assertStatus(Status.Code.NOT_FOUND, "document 'nope' is unknown in tenant 'default'",
                () -> drain(stub, ask("q").toBuilder().addDocIds("ada").addDocIds("nope").build()));
        assertStatus(Status.Code.NOT_FOUND, "document 'pending' v13 is not compressed for model " + EngineRig.MODEL
                + " yet (if it stays so: the compressor may have refused it, e.g. over its token limit, which 'sac docs"
                + " refused' lists; or no compressor runs this model)",
                () -> drain(stub, ask("q").toBuilder().addDocIds("pending").build()));
        assertStatus(Status.Code.NOT_FOUND, "document 'secret' is unknown in tenant 'default'",
                () -> drain(stub, ask("q").toBuilder().addDocIds("secret").build()));
        assertStatus(Status.Code.NOT_FOUND, "no document of tenant 'default' matches the question",
                () -> drain(stub, ask("zebra quokka")));
        assertEquals(0, rig.answerer.answered.size());
    }

    @Test
    void blobStoreDownIsUnavailable() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        rig.blobs.down = true;
        StatusRuntimeException down = assertStatus(Status.Code.UNAVAILABLE, "anchor KV store unavailable",
                () -> drain(stub, ask("q").toBuilder().addDocIds("ada").build()));
        assertEquals(null, pushback(down), "Redis down: no advice, the client's own policy decides");
        assertTrue(rig.recompress.requests.isEmpty(), "an outage is not a missing blob");
        rig.blobs.down = false;
        assertEquals("t0 t1", last(stub.ask(ask("q").toBuilder().addDocIds("ada").build())).getResult().getAnswer(),
                "recovers as soon as the store answers");
    }

    @Test
    void missingBlobRequestsRecompressionAndIsUnavailable() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        StatusRuntimeException e = assertStatus(Status.Code.UNAVAILABLE, "recompressing",
                () -> drain(stub, ask("q").toBuilder().addDocIds("ada").addDocIds("evicted").build()));
        assertEquals("1000", pushback(e), "gRPC's retry pushback: the question will pass once the blob is rebuilt");
        assertEquals("-1", StatusMapping.trailers(new dev.sacrag.query.ask.QueryException(
                dev.sacrag.query.ask.QueryException.Reason.STORE_TOO_SMALL, "gone from Redis again"))
                .get(StatusMapping.RETRY_PUSHBACK_MS), "a Redis too small: do not retry");
        assertEquals(List.of(new RecordingRecompressRequests.Request("default", "evicted", EngineRig.MODEL,
                "blob missing from Redis")), rig.recompress.requests);
        assertEquals(0, rig.answerer.answered.size());
    }

    @Test
    void topicsNotYetReadIsUnavailable() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        rig.ready.set(false);
        assertStatus(Status.Code.UNAVAILABLE, "still reading", () -> drain(stub, ask("Who designed it?")));
    }

    @Test
    void theCallersDeadlineStopsDecoding() throws Exception {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 16, 50), LIMITS);
        assertStatus(Status.Code.DEADLINE_EXCEEDED, "", () -> drain(stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS),
                ask("q").toBuilder().addDocIds("ada").setMaxNewTokens(16).build()));
        awaitAborted();
        assertTrue(rig.answerer.tokensEmitted.get() < 16, "decoding went on after the deadline: "
                + rig.answerer.tokensEmitted.get() + " tokens");
    }

    @Test
    void aClientThatGoesAwayStopsDecoding() throws Exception {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 16, 50), LIMITS);
        Context.CancellableContext call = Context.current().withCancellation();
        AskResponse first = call.call(() -> stub.ask(ask("q").toBuilder().addDocIds("ada").setMaxNewTokens(16).build()).next());
        assertTrue(first.hasToken());
        call.cancel(null);
        awaitAborted();
        assertTrue(rig.answerer.tokensEmitted.get() < 16, "decoding went on for a client that left");
        assertEquals(1.0, awaitCount("Ask", Status.Code.CANCELLED, 1));
    }

    @Test
    void aClientThatLeavesWhileTheLastTokenIsSentIsCountedCancelledAndSentNoResult() throws Exception {
        start(new FakeAnswerer(EngineRig.MODEL, 1, 0), LIMITS);
        QueryGrpcService service = new QueryGrpcService(rig.engine, LIMITS, rig.metrics);
        Context.CancellableContext call = Context.current().withCancellation();
        List<AskResponse> sent = new ArrayList<>();
        Observer<AskResponse> responses = new Observer<>() {
            @Override
            public void onNext(AskResponse r) {
                sent.add(r);
                call.cancel(null);   // the client leaves as its last token goes out: no check of the engine's follows
            }
        };
        call.run(() -> service.ask(ask("q").toBuilder().addDocIds("ada").setMaxNewTokens(1).build(), responses));

        assertEquals(1, sent.size(), "a result was sent to a call that had gone: " + sent);
        assertTrue(sent.get(0).hasToken());
        assertEquals(1.0, rig.metrics.registry().get("sac.query.requests").tags("rpc", "Ask", "status", "CANCELLED").counter()
                .count());
        assertEquals(0.0, rig.metrics.registry().get("sac.query.requests").tags("rpc", "Ask", "status", "OK").counter().count(),
                "counted OK though the caller never got the answer");
    }

    /** The server side of a call, as the service sees it, without a transport. */
    private abstract static class Observer<T> extends io.grpc.stub.ServerCallStreamObserver<T> {
        @Override public boolean isCancelled() { return Context.current().isCancelled(); }
        @Override public void setOnCancelHandler(Runnable onCancelHandler) { }
        @Override public void setCompression(String compression) { }
        @Override public boolean isReady() { return true; }
        @Override public void setOnReadyHandler(Runnable onReadyHandler) { }
        @Override public void disableAutoInboundFlowControl() { }
        @Override public void request(int count) { }
        @Override public void setMessageCompression(boolean enable) { }
        @Override public void onError(Throwable t) { }
        @Override public void onCompleted() { }
    }

    @Test
    void theServerDefaultDeadlineAppliesToCallsWithout() throws Exception {
        AskLimits shortDefault = new AskLimits("default", 2, 4, 200, 8, 16, Duration.ofMillis(300));
        start(new FakeAnswerer(EngineRig.MODEL, 16, 50), shortDefault);
        var noDeadline = QueryServiceGrpc.newBlockingStub(channel);
        assertStatus(Status.Code.DEADLINE_EXCEEDED, "the deadline passed before the answer was complete",
                () -> drain(noDeadline, ask("q").toBuilder().addDocIds("ada").setMaxNewTokens(16).build()));
        awaitAborted();
    }

    @Test
    void aCallersOwnDeadlineLongerThanTheServerDefaultStands() throws Exception {
        AskLimits shortDefault = new AskLimits("default", 2, 4, 200, 8, 16, Duration.ofMillis(300));
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 16, 50), shortDefault);   // ~800 ms of decoding
        List<AskResponse> out = new ArrayList<>();
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).ask(ask("q").toBuilder().addDocIds("ada").setMaxNewTokens(16).build())
                .forEachRemaining(out::add);
        assertTrue(out.get(out.size() - 1).hasResult(), "the answer was cut at the server default: " + out);
        assertEquals(16, out.stream().filter(AskResponse::hasToken).count());
    }

    @Test
    void warmLoadsNamedDocumentsAndReportsMisses() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        WarmRequest request = WarmRequest.newBuilder().addDocIds("ada").addDocIds("babbage").addDocIds("nope")
                .addDocIds("pending").addDocIds("evicted").build();
        WarmResponse first = stub.warm(request);
        assertEquals(2, first.getLoaded());
        assertTrue(first.getBytes() > 0);
        assertEquals(0, first.getAlreadyWarm());
        assertEquals(List.of("nope", "pending", "evicted"), first.getMissesList());
        assertEquals("evicted", rig.recompress.requests.get(0).docId());
        // each miss says why, in the misses' order: a mistyped id, one to wait for, one being rebuilt
        assertEquals(List.of(
                miss("nope", WarmMiss.Reason.UNKNOWN_DOCUMENT, "unknown in tenant 'default' (never published, deleted, or"
                        + " another tenant's)"),
                miss("pending", WarmMiss.Reason.NOT_COMPRESSED, "v13 is not compressed for model " + EngineRig.MODEL + " yet"),
                miss("evicted", WarmMiss.Reason.BLOB_MISSING, "v14 of model " + EngineRig.MODEL + ": blob missing from Redis;"
                        + " recompression requested, warm it again once it is rebuilt")), first.getMissReasonsList());

        WarmResponse second = stub.warm(request);
        assertEquals(0, second.getLoaded());
        assertEquals(2, second.getAlreadyWarm());
        int reads = rig.blobs.reads.get();
        last(stub.ask(ask("q").toBuilder().addDocIds("ada").addDocIds("babbage").build()));
        assertEquals(reads, rig.blobs.reads.get(), "warm documents are answered without the store");
    }

    /** Each RPC's count by status is scraped at 0 from the start, so that increase() counts a first UNAVAILABLE. */
    @Test
    void everyRpcIsCountedFromZeroWithEveryStatus() throws IOException {
        start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        for (String rpc : List.of("Ask", "Warm")) {
            for (Status.Code code : Status.Code.values()) {
                var counter = rig.metrics.registry().find("sac.query.requests").tags("rpc", rpc, "status", code.name()).counter();
                assertTrue(counter != null && counter.count() == 0, rpc + " " + code + ": " + counter);
            }
        }
    }

    /**
     * A replica started with --warm-cache-bytes 0 refuses a Warm, naming the flag, where it answered
     * OK with every document a miss: no wait or retry would load one there. Its questions are answered.
     */
    @Test
    void warmOnAReplicaWithoutAWarmCacheFailsItsPrecondition() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS, 0);
        assertStatus(Status.Code.FAILED_PRECONDITION, "this query service replica has no warm cache (it was started with"
                + " --warm-cache-bytes 0), so there is nothing to warm",
                () -> stub.warm(WarmRequest.newBuilder().addDocIds("ada").build()));
        assertStatus(Status.Code.FAILED_PRECONDITION, "--warm-cache-bytes 0",
                () -> stub.warm(WarmRequest.newBuilder().setQuery("Analytical Engine").build()));
        assertEquals(0, rig.blobs.reads.get(), "nothing was read for it");
        assertEquals(1, last(stub.ask(ask("q").toBuilder().addDocIds("ada").build())).getResult().getDocumentsCount());
    }

    @Test
    void aWarmOfABlobThatDoesNotDecodeSaysSoAndRequestsItsRebuild() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        CatalogEntry ada = rig.catalog.find("default", "ada", EngineRig.MODEL).orElseThrow();
        rig.blobs.blobs.put(ada.redisKey(), new byte[] {1, 2, 3});
        WarmResponse r = stub.warm(WarmRequest.newBuilder().addDocIds("ada").build());

        assertEquals(1, r.getMissReasonsCount(), r.toString());
        assertEquals(WarmMiss.Reason.BLOB_UNUSABLE, r.getMissReasons(0).getReason());
        assertTrue(r.getMissReasons(0).getDetail().startsWith("v11 of model " + EngineRig.MODEL + ": unusable blob: "),
                r.getMissReasons(0).getDetail());
        assertEquals("ada", rig.recompress.requests.get(0).docId());
    }

    private static WarmMiss miss(String docId, WarmMiss.Reason reason, String detail) {
        return WarmMiss.newBuilder().setDocId(docId).setReason(reason).setDetail(detail).build();
    }

    /** The reply names each of the engine's reasons as the proto has it, never REASON_UNSPECIFIED. */
    @Test
    void everyReasonAWarmMissesForHasItsOwnInTheReply() {
        for (WarmReport.Why why : WarmReport.Why.values()) {
            WarmMiss m = QueryGrpcService.missed(new WarmReport.Miss("d", why, "words"));
            assertEquals(why.name(), m.getReason().name());
        }
    }

    @Test
    void warmByQueryLoadsTheTopDocuments() throws IOException {
        var stub = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), LIMITS);
        WarmResponse r = stub.warm(WarmRequest.newBuilder().setQuery("Analytical Engine").setTopK(2).build());
        assertEquals(2, r.getLoaded());
        assertEquals(List.of(), r.getMissesList());
        assertEquals(2, rig.cache.size());

        StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                () -> stub.warm(WarmRequest.newBuilder().setQuery("zzzqqq xxyy").build()));
        assertEquals(Status.Code.NOT_FOUND, none.getStatus().getCode(), "as Ask says it, not OK with nothing loaded");
        assertTrue(none.getStatus().getDescription().contains("matches the query"), none.getStatus().toString());
    }

    /** A long question takes the positions its tokens take, as the answerer counts them, not its bytes. */
    @Test
    void aLongQuestionTakesItsTokensOfThePositions() throws Exception {
        AskLimits longQuestions = new AskLimits("default", 2, 4, 5000, 8, 16, Duration.ofSeconds(30));
        String question = "Who wrote the first program? " + "x".repeat(4040);
        var bytes = start(new FakeAnswerer(EngineRig.MODEL, 2, 0), longQuestions);   // counts bytes: no room left
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                () -> drain(bytes, ask(question).toBuilder().addDocIds("ada").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode(), refused.getStatus().toString());
        stop();

        var tokens = start(new FakeAnswerer(EngineRig.MODEL, 2, 0) {
            @Override
            public int questionTokens(String q) {
                return 12;   // as a tokenizer with a token for a run of x's might
            }
        }, longQuestions);
        assertEquals(1, last(tokens.ask(ask(question).toBuilder().addDocIds("ada").build())).getResult().getDocumentsCount());
    }

    /**
     * The calls of {@code rpc} counted with {@code code}, once {@code atLeast} are or 5 s passed: the
     * handler counts a call after the answerer has stopped, on its own thread, so a read right after
     * {@link #awaitAborted} raced it (a read of 0, since the counter is there at 0 from the start).
     */
    private double awaitCount(String rpc, Status.Code code, double atLeast) throws InterruptedException {
        var counter = rig.metrics.registry().get("sac.query.requests").tags("rpc", rpc, "status", code.name()).counter();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (counter.count() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return counter.count();
    }

    private void awaitAborted() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (rig.answerer.aborted.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, rig.answerer.aborted.get(), "the answerer was stopped");
    }

    private static AskRequest ask(String question) {
        return AskRequest.newBuilder().setQuestion(question).build();
    }

    private static void drain(QueryServiceGrpc.QueryServiceBlockingStub stub, AskRequest request) {
        stub.ask(request).forEachRemaining(r -> { });
    }

    private static AskResponse last(java.util.Iterator<AskResponse> stream) {
        AskResponse last = null;
        while (stream.hasNext()) {
            last = stream.next();
        }
        return last;
    }

    private static StatusRuntimeException assertStatus(Status.Code code, String descriptionPart, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus()));
        String description = String.valueOf(e.getStatus().getDescription());
        assertTrue(description.contains(descriptionPart), "description '" + description + "' lacks '" + descriptionPart + "'");
        return e;
    }

    private static String pushback(StatusRuntimeException e) {
        return e.getTrailers() == null ? null : e.getTrailers().get(StatusMapping.RETRY_PUSHBACK_MS);
    }
}
