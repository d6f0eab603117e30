package dev.sacrag.cli;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.sacrag.query.grpc.ErrorDetails;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.RefusedDocument;
import dev.sacrag.query.v1.Timings;
import dev.sacrag.query.v1.UsedDocument;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
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
                + "the timings follow on stderr, with the matches retrieval left out because a compressor refused "
                + "them (the reason, and what would get them compressed).",
                "A question about documents that are not compressed fails (exit 1) after naming each on stderr: "
                + "refused by a compressor (the reason and the remedy: it stays so until published again), or not "
                + "compressed yet."})
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

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "0",
            description = "Documents to retrieve (default 0: the server's).")
    int topK;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "0",
            description = "Answer length limit (default 0: the server's).")
    int maxNewTokens;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    RpcOptions.Always rpc;

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
        requireValidRequest();
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
                        printUncompressed(e, System.err);
                        throw rpc.explained(e, channel);
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
     * What the service would refuse as INVALID_ARGUMENT in its own words (top_k, doc_ids), exit 1,
     * refused here as a usage error naming the flag (exit 2), before a connection. The bounds only
     * the server knows (its top_k limit, the question's length) are still its to say.
     */
    private void requireValidRequest() {
        if (question.isBlank()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "QUESTION must not be empty or blank");
        }
        if (docs.stream().anyMatch(String::isBlank)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--doc must name a document, got an"
                    + " empty or blank id");
        }
        requireTenant(spec, tenant);
        // 0 is the request's own "the server's default" (query.proto), which the service takes
        UsageChecks.requireAtLeast(spec, "--top-k", topK, 0);
        UsageChecks.requireAtLeast(spec, "--max-new-tokens", maxNewTokens, 0);
    }

    /** A --tenant the service would refuse; empty is the service's default tenant. */
    static void requireTenant(picocli.CommandLine.Model.CommandSpec spec, String tenant) {
        if (!tenant.isEmpty() && !dev.sacrag.schemas.DocumentRules.isValidTenant(tenant)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--tenant '" + tenant + "' is not a"
                    + " tenant name (1-64 characters of letters, digits, '.', '_' or '-')");
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
        if (r.getRefusedCount() > 0) {
            out.printf(Locale.ROOT, "[%d match(es) left out: refused by a compressor, not compressed until published"
                    + " again]%n", r.getRefusedCount());
        }
        for (RefusedDocument d : r.getRefusedList()) {
            printRefused(out, d.getDocId(), Long.toString(d.getVersion()), d.getRefusedByModel(), d.getReason(),
                    d.getMessage(), d.getRemedy());
        }
        Timings t = r.getTimings();
        out.printf(Locale.ROOT, "[retrieve %.1f ms, fetch %.1f ms, first token %.1f ms, decode %.1f ms, total %.1f ms]%n",
                t.getRetrieveMs(), t.getFetchMs(), t.getTtftMs(), t.getDecodeMs(), t.getTotalMs());
    }

    /**
     * The documents a NOT_FOUND (or a retrieval's INVALID_ARGUMENT, its matches too long) says are not
     * compressed, from its ErrorInfo details: one line each, where the description runs them together
     * in one (retrieval's), refused ones with their remedy. Details left out of the reply are counted,
     * and said to be named on the error line only where its description was not cut too.
     */
    static void printUncompressed(StatusRuntimeException e, PrintStream out) {
        List<ErrorInfo> infos = errorInfos(e);
        List<ErrorInfo> uncompressed = infos.stream()
                .filter(i -> i.getReason().equals(ErrorDetails.DOCUMENT_REFUSED)
                        || i.getReason().equals(ErrorDetails.DOCUMENT_NOT_COMPRESSED)).toList();
        String leftOut = infos.stream().filter(i -> i.getReason().equals(ErrorDetails.DETAILS_LEFT_OUT))
                .map(i -> i.getMetadataOrDefault(ErrorDetails.COUNT, "?")).findFirst()
                .map(n -> "; " + n + " more did not fit the reply: " + (ErrorDetails.cut(e.getStatus().getDescription())
                        ? "the error line, cut too, names the first ones only" : "the error line names them")
                        + ", 'sac docs refused' lists the refusals").orElse("");
        if (uncompressed.isEmpty()) {
            return;
        }
        out.printf(Locale.ROOT, "[%d document(s) not compressed for model %s%s]%n", uncompressed.size(),
                uncompressed.get(0).getMetadataOrDefault(ErrorDetails.MODEL_ID, "?"), leftOut);
        for (ErrorInfo i : uncompressed) {
            String docId = i.getMetadataOrDefault(ErrorDetails.DOC_ID, "?");
            String version = i.getMetadataOrDefault(ErrorDetails.VERSION, "?");
            if (i.getReason().equals(ErrorDetails.DOCUMENT_REFUSED)) {
                printRefused(out, docId, version, i.getMetadataOrDefault(ErrorDetails.REFUSED_BY_MODEL, ""),
                        i.getMetadataOrDefault(ErrorDetails.REFUSAL_REASON, "?"),
                        i.getMetadataOrDefault(ErrorDetails.REFUSAL_MESSAGE, ""),
                        i.getMetadataOrDefault(ErrorDetails.REMEDY, ""));
            } else {
                out.printf(Locale.ROOT, "  %s v%s  not compressed yet%n", docId, version);
            }
        }
    }

    private static void printRefused(PrintStream out, String docId, String version, String refusedByModel, String reason,
                                     String message, String remedy) {
        out.print(refusedLines(docId, version, refusedByModel, reason, message, remedy));
    }

    /** {@code ledger v4  refused by the compressor of model 0a1b2c3d4e5f: TOO_LARGE (...)}, then its remedy (sac warm too). */
    static String refusedLines(String docId, String version, String refusedByModel, String reason, String message,
                               String remedy) {
        String lines = String.format(Locale.ROOT, "  %s v%s  refused by %s: %s%s%n", docId, version,
                refusedByModel.isEmpty() ? "the compressors" : "the compressor of model " + refusedByModel, reason,
                message.isEmpty() ? "" : " (" + message + ")");
        return remedy.isEmpty() ? lines : lines + String.format(Locale.ROOT, "    remedy: %s%n", remedy);
    }

    /** The query service's ErrorInfo details on a failure; none from a service older than them, or another one. */
    private static List<ErrorInfo> errorInfos(StatusRuntimeException e) {
        com.google.rpc.Status rich = StatusProto.fromThrowable(e);
        List<ErrorInfo> infos = new ArrayList<>();
        for (Any detail : rich == null ? List.<Any>of() : rich.getDetailsList()) {
            if (!detail.is(ErrorInfo.class)) {
                continue;
            }
            try {
                ErrorInfo info = detail.unpack(ErrorInfo.class);
                if (info.getDomain().equals(ErrorDetails.DOMAIN)) {
                    infos.add(info);
                }
            } catch (InvalidProtocolBufferException unreadable) {
                return List.of();   // the description, which says it all to a person, stands alone
            }
        }
        return infos;
    }
}
