package dev.sacrag.query.grpc;

import dev.sacrag.query.ask.AskAnswer;
import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.query.ask.AskQuery;
import dev.sacrag.query.ask.QueryEngine;
import dev.sacrag.query.ask.QueryException;
import dev.sacrag.query.ask.StageTimings;
import dev.sacrag.query.ask.UsedDoc;
import dev.sacrag.query.ask.WarmQuery;
import dev.sacrag.query.ask.WarmReport;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.RefusedDocument;
import dev.sacrag.query.v1.Timings;
import dev.sacrag.query.v1.Token;
import dev.sacrag.query.v1.UsedDocument;
import dev.sacrag.query.v1.WarmMiss;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.query.v1.WarmResponse;
import dev.sacrag.schemas.DeadLetter;
import io.grpc.Context;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * {@code sac.query.v1.QueryService}: validates each request, calls the {@link QueryEngine}
 * (which knows nothing of gRPC) and maps its answer or failure to messages and statuses.
 * Ask streams one {@link Token} per generated token, then exactly one {@link AskResult}.
 */
public final class QueryGrpcService extends QueryServiceGrpc.QueryServiceImplBase {

    private static final Logger log = LoggerFactory.getLogger(QueryGrpcService.class);

    /**
     * gRPC's retry pushback trailer (gRFC A6) on this service's errors, where it knows whether the
     * question will pass by itself (see {@code StatusMapping}); clients read it here too.
     */
    public static final io.grpc.Metadata.Key<String> RETRY_PUSHBACK_MS =
            io.grpc.Metadata.Key.of("grpc-retry-pushback-ms", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

    private final QueryEngine engine;
    private final AskLimits limits;
    private final RequestValidation validation;
    private final QueryMetrics metrics;

    /** Counts the calls gRPC ends before this service sees them (see {@link CallTally}); the server installs it. */
    ServerStreamTracer.Factory callTracer() {
        return CallTally.tracer(metrics);
    }

    public QueryGrpcService(QueryEngine engine, AskLimits limits, QueryMetrics metrics) {
        this.engine = engine;
        this.limits = limits;
        this.validation = new RequestValidation(limits);
        this.metrics = metrics;
        metrics.requestsAtZero(CallTally.rpcs(), java.util.Arrays.stream(Status.Code.values()).map(Enum::name).toList());
    }

    @Override
    public void ask(AskRequest request, StreamObserver<AskResponse> responses) {
        // Decoding notices a cancelled call through GrpcCallControl; without a handler, onNext
        // after cancellation would throw on the inference thread instead.
        ((ServerCallStreamObserver<AskResponse>) responses).setOnCancelHandler(() -> { });
        StreamObserver<AskResponse> out = new SerializedStream<>(responses);
        counted("Ask", call -> askCounted(request, out, call));
    }

    /** Runs a handler with its call claimed for counting; a call it ends without counting is UNKNOWN (see {@link CallTally}). */
    private void counted(String rpc, java.util.function.Consumer<CallTally.Call> handler) {
        CallTally.Call call = CallTally.claim(rpc, metrics);
        try {
            handler.accept(call);
        } finally {
            call.countIfNot();
        }
    }

    private void askCounted(AskRequest request, StreamObserver<AskResponse> out, CallTally.Call call) {
        AskQuery query;
        try {
            query = validation.ask(request);
        } catch (IllegalArgumentException e) {
            fail(out, call, Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        try {
            AskAnswer answer = engine.ask(query,
                    (id, text) -> out.onNext(AskResponse.newBuilder()
                            .setToken(Token.newBuilder().setTokenId(id).setText(text)).build()),
                    GrpcCallControl.current(limits.defaultDeadline()));
            if (callerLeft(call)) {
                return;
            }
            out.onNext(AskResponse.newBuilder().setResult(result(answer)).build());
            out.onCompleted();
            call.count(Status.Code.OK);
        } catch (QueryException e) {
            fail(out, call, StatusMapping.toException(e));
        } catch (RuntimeException e) {
            log.error("Ask failed for tenant {} docs {}", query.tenant(), query.docIds(), e);
            fail(out, call, Status.INTERNAL.withDescription("answering failed: " + e.getMessage()));
        }
    }

    @Override
    public void warm(WarmRequest request, StreamObserver<WarmResponse> responses) {
        counted("Warm", call -> warmCounted(request, responses, call));
    }

    private void warmCounted(WarmRequest request, StreamObserver<WarmResponse> responses, CallTally.Call call) {
        WarmQuery query;
        try {
            query = validation.warm(request);
        } catch (IllegalArgumentException e) {
            fail(responses, call, Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        try {
            WarmReport report = engine.warm(query, GrpcCallControl.current(limits.defaultDeadline()));
            if (callerLeft(call)) {
                return;
            }
            WarmResponse.Builder warmed = WarmResponse.newBuilder().setLoaded(report.loaded()).setBytes(report.bytes())
                    .addAllMisses(report.missedIds()).setAlreadyWarm(report.alreadyWarm());
            report.refused().forEach(d -> warmed.addRefused(refused(d)));
            report.misses().forEach(m -> warmed.addMissReasons(missed(m)));
            responses.onNext(warmed.build());
            responses.onCompleted();
            call.count(Status.Code.OK);
        } catch (QueryException e) {
            fail(responses, call, StatusMapping.toException(e));
        } catch (RuntimeException e) {
            log.error("Warm failed for tenant {} docs {}", query.tenant(), query.docIds(), e);
            fail(responses, call, Status.INTERNAL.withDescription("warming failed: " + e.getMessage()));
        }
    }

    /**
     * Whether gRPC cancelled the call (the client left, or its own deadline passed) after the
     * engine last looked, while the answer's last step ran: nothing sent reaches the caller, so
     * the call is counted as what it was, not as OK. A server default deadline passing meanwhile
     * does not count: that call is still open and gets the answer it waited for.
     */
    private boolean callerLeft(CallTally.Call tally) {
        Context call = Context.current();
        if (!call.isCancelled()) {
            return false;
        }
        boolean late = call.getDeadline() != null && call.getDeadline().isExpired();
        tally.count(late ? Status.Code.DEADLINE_EXCEEDED : Status.Code.CANCELLED);
        return true;
    }

    private void fail(StreamObserver<?> responses, CallTally.Call call, Status status) {
        fail(responses, call, status.asRuntimeException());
    }

    private void fail(StreamObserver<?> responses, CallTally.Call call, StatusRuntimeException e) {
        call.count(e.getStatus().getCode());
        responses.onError(e);
    }

    private static AskResult result(AskAnswer a) {
        AskResult.Builder r = AskResult.newBuilder().setAnswer(a.text()).setModelId(a.modelId());
        for (UsedDoc d : a.documents()) {
            r.addDocuments(UsedDocument.newBuilder().setDocId(d.docId()).setVersion(d.version()).setScore(d.score())
                    .setAnchorCount(d.anchorCount()).setBytes(d.bytes()));
        }
        for (DeadLetter d : a.refused()) {
            r.addRefused(refused(d));
        }
        StageTimings t = a.timings();
        return r.setTimings(Timings.newBuilder().setRetrieveMs(millis(t.retrieve())).setFetchMs(millis(t.fetch()))
                .setDecodeMs(millis(t.decode())).setTtftMs(millis(t.firstToken())).setTotalMs(millis(t.total()))).build();
    }

    private static RefusedDocument refused(DeadLetter d) {
        return RefusedDocument.newBuilder().setDocId(d.docId()).setVersion(d.version())
                .setRefusedByModel(d.modelId().orElse("")).setReason(d.reason()).setMessage(Refusals.message(d))
                .setRemedy(Refusals.remedy(d)).build();
    }

    /** The proto's reasons are the engine's by name, so that a reason added to one and not the other fails a test, not a call. */
    static WarmMiss missed(WarmReport.Miss m) {
        return WarmMiss.newBuilder().setDocId(m.docId()).setReason(WarmMiss.Reason.valueOf(m.why().name()))
                .setDetail(m.detail()).build();
    }

    private static double millis(Duration d) {
        return d.toNanos() / 1e6;
    }
}
