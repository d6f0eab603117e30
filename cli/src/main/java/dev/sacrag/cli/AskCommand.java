package dev.sacrag.cli;

import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.Timings;
import dev.sacrag.query.v1.UsedDocument;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code sac ask}: a client of the Ask RPC that prints the answer as it streams. */
@Command(name = "ask", mixinStandardHelpOptions = true,
        description = {"Ask the query service a question. The answer streams to stdout; the documents used and "
                + "the timings follow on stderr."})
final class AskCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "QUESTION", description = "The question.")
    String question;

    @Option(names = "--doc", paramLabel = "ID",
            description = "Answer from this document, its id as 'sac docs list' prints it, with the --tenant it was"
                    + " ingested for: a file ingested with --tenant acme is '--tenant acme --doc acme:readme' (the id"
                    + " alone names no tenant, and another tenant's document is unknown); repeat for several, composed"
                    + " in order. Default: BM25 retrieval.")
    List<String> docs = new ArrayList<>();

    @Option(names = "--tenant", paramLabel = "TENANT", defaultValue = "", description = "Tenant (default: the server's default tenant).")
    String tenant;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "0", description = "Documents to retrieve (default: the server's).")
    int topK;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "0", description = "Answer length limit (default: the server's).")
    int maxNewTokens;

    @Mixin
    RpcOptions rpc;

    @Option(names = "--no-retry",
            description = "Fail at once when the service answers UNAVAILABLE and says the question will pass (a"
                    + " blob being recompressed, the service still reading its topics, a model switch, a replica"
                    + " stopping). Default: ask again, waiting 0.5 s, then 1, 2 and 4 s between tries (at least what the"
                    + " service asks for), while a try still fits in --deadline.")
    boolean noRetry;

    /** Longest wait between two tries. */
    static final long MAX_BACKOFF_MILLIS = 4000;
    /** Time a try needs after its wait: less left, and the last answer is reported instead. */
    static final long TRY_MILLIS = 1000;
    private static final Metadata.Key<String> PUSHBACK = dev.sacrag.query.grpc.QueryGrpcService.RETRY_PUSHBACK_MS;

    @Override
    public Integer call() throws Exception {
        AskRequest request = AskRequest.newBuilder().setQuestion(question).setTenant(tenant).addAllDocIds(docs)
                .setTopK(topK).setMaxNewTokens(maxNewTokens).build();
        ManagedChannel channel = rpc.open();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(rpc.deadlineMillis());
        long backoff = 500;
        try {
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime());
                boolean[] streamed = {false};
                try {
                    AskResult result = askOnce(channel, request, left, streamed);
                    printSummary(result, System.err);
                    return 0;
                } catch (StatusRuntimeException e) {
                    left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime());
                    long pushback = pushbackMillis(e);
                    long wait = Math.max(backoff, pushback);
                    if (noRetry || streamed[0] || pushback < 0 || left - wait < TRY_MILLIS) {
                        throw e;
                    }
                    System.err.printf(Locale.ROOT, "[%s: %s; asking again in %.1f s]%n", e.getStatus().getCode(),
                            e.getStatus().getDescription(), wait / 1000.0);
                    Thread.sleep(wait);
                    backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
                }
            }
        } finally {
            RpcOptions.close(channel);
        }
    }

    /**
     * How long the service asks the client to wait before it asks again, from gRPC's retry
     * pushback trailer; -1 when it should not: the service sends the trailer with UNAVAILABLE
     * where the question will pass on its own. Without one (a service that cannot be reached,
     * Redis down) and for any other status (RESOURCE_EXHAUSTED: a full queue, or a Redis too
     * small, where asking again adds to the problem), there is no retry.
     */
    static long pushbackMillis(StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        String value = trailers == null ? null : trailers.get(PUSHBACK);
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
            return -1;
        }
        if (value == null) {
            // a query service older than the trailer (a rolling upgrade) ends those words so
            String description = String.valueOf(e.getStatus().getDescription());
            return description.endsWith("recompressing: retry shortly")
                    || description.endsWith("catalog topics; retry shortly") ? 1000 : -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException bad) {
            return -1;   // as gRFC A6 reads an unparseable value: do not retry
        }
    }

    private AskResult askOnce(ManagedChannel channel, AskRequest request, long deadlineMillis, boolean[] streamed) {
        Iterator<AskResponse> responses = QueryServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(Math.max(1, deadlineMillis), TimeUnit.MILLISECONDS).ask(request);
        AskResult result = null;
        while (responses.hasNext()) {
            AskResponse r = responses.next();
            if (r.hasToken()) {
                streamed[0] = true;
                System.out.print(r.getToken().getText());
                System.out.flush();
            } else if (r.hasResult()) {
                result = r.getResult();
            }
        }
        System.out.println();
        if (result == null) {
            throw new IllegalStateException("the stream from " + rpc.target + " ended without a result");
        }
        return result;
    }

    static void printSummary(AskResult r, PrintStream out) {
        out.printf(Locale.ROOT, "[model %s, %d document(s)]%n", r.getModelId(), r.getDocumentsCount());
        for (UsedDocument d : r.getDocumentsList()) {
            out.printf(Locale.ROOT, "  %s v%d  score %.3f, %d anchors, %,d bytes%n", d.getDocId(), d.getVersion(),
                    d.getScore(), d.getAnchorCount(), d.getBytes());
        }
        Timings t = r.getTimings();
        out.printf(Locale.ROOT, "[retrieve %.1f ms, fetch %.1f ms, first token %.1f ms, decode %.1f ms, total %.1f ms]%n",
                t.getRetrieveMs(), t.getFetchMs(), t.getTtftMs(), t.getDecodeMs(), t.getTotalMs());
    }
}
