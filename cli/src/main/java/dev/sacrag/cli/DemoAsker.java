package dev.sacrag.cli;

import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.UsedDocument;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.query.v1.WarmResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The demo's gRPC client: a real socket to the query service, as any other client would use. */
final class DemoAsker implements AutoCloseable {

    /**
     * One call's deadline: a demo question is answered in well under a second on 2 cores, so this
     * only ends a call to a service that hangs (and the demo stops asking after one such call).
     */
    static final Duration DEADLINE = Duration.ofSeconds(30);

    private final ManagedChannel channel;
    private final Duration deadline;

    DemoAsker(String target) {
        this(target, DEADLINE);
    }

    /** @param deadline each call's (the pipeline bench gives its --timeout: a large model's queue may need more) */
    DemoAsker(String target, Duration deadline) {
        this.channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        this.deadline = deadline;
    }

    /**
     * One answer, or the status the call ended with.
     *
     * @param result the final message; empty when the call failed or the stream ended without one
     * @param clientTtftMs from sending the request to the first streamed token, as the client saw it
     * @param tokens streamed token messages received
     */
    record Asked(Optional<AskResult> result, Optional<Status> error, double clientTtftMs, int tokens) {

        String answer() {
            return result.map(r -> r.getAnswer().strip()).orElse("");
        }

        List<String> docIds() {
            return result.map(r -> r.getDocumentsList().stream().map(UsedDocument::getDocId).toList()).orElse(List.of());
        }

        /** The service's own time to first token (retrieve + fetch + queue + first decode step). */
        double ttftMs() {
            return result.map(r -> r.getTimings().getTtftMs()).orElse(Double.NaN);
        }

        String failure() {
            return error.map(s -> s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription()))
                    .orElse("the stream ended without a result");
        }
    }

    /** @param docIds empty = let the service retrieve (BM25, its default top-k) */
    Asked ask(String question, List<String> docIds, int maxNewTokens) {
        AskRequest request = AskRequest.newBuilder().setQuestion(question).addAllDocIds(docIds)
                .setMaxNewTokens(maxNewTokens).build();
        long start = System.nanoTime();
        double firstToken = Double.NaN;
        int tokens = 0;
        AskResult result = null;
        try {
            Iterator<AskResponse> stream = QueryServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS).ask(request);
            while (stream.hasNext()) {
                AskResponse r = stream.next();
                if (r.hasToken() && r.getToken().getTokenId() >= 0) {   // not the held-back text flushed at the end
                    tokens++;
                    if (Double.isNaN(firstToken)) {
                        firstToken = (System.nanoTime() - start) / 1e6;
                    }
                } else if (r.hasResult()) {
                    result = r.getResult();
                }
            }
        } catch (StatusRuntimeException e) {
            return new Asked(Optional.empty(), Optional.of(e.getStatus()), firstToken, tokens);
        }
        return new Asked(Optional.ofNullable(result), Optional.empty(), firstToken, tokens);
    }

    /** Loads the documents' anchor KV into the service's cache; misses name documents it cannot serve yet. */
    WarmResponse warm(List<String> docIds) {
        return QueryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .warm(WarmRequest.newBuilder().addAllDocIds(docIds).build());
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
