package dev.sacrag.cli;

import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.AskResponse;
import dev.sacrag.query.v1.AskResult;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.Timings;
import dev.sacrag.query.v1.UsedDocument;
import io.grpc.ManagedChannel;
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
            description = "Answer from this document, its id as 'sac docs list' prints it (acme:readme for a file"
                    + " ingested with --tenant acme); repeat for several, composed in order. Default: BM25 retrieval.")
    List<String> docs = new ArrayList<>();

    @Option(names = "--tenant", paramLabel = "TENANT", defaultValue = "", description = "Tenant (default: the server's default tenant).")
    String tenant;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "0", description = "Documents to retrieve (default: the server's).")
    int topK;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "0", description = "Answer length limit (default: the server's).")
    int maxNewTokens;

    @Mixin
    RpcOptions rpc;

    @Override
    public Integer call() throws Exception {
        AskRequest request = AskRequest.newBuilder().setQuestion(question).setTenant(tenant).addAllDocIds(docs)
                .setTopK(topK).setMaxNewTokens(maxNewTokens).build();
        ManagedChannel channel = rpc.open();
        try {
            Iterator<AskResponse> responses = QueryServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(rpc.deadlineMillis(), TimeUnit.MILLISECONDS).ask(request);
            AskResult result = null;
            while (responses.hasNext()) {
                AskResponse r = responses.next();
                if (r.hasToken()) {
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
            printSummary(result, System.err);
            return 0;
        } finally {
            RpcOptions.close(channel);
        }
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
