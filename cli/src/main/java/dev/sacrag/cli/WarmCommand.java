package dev.sacrag.cli;

import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.query.v1.WarmResponse;
import io.grpc.ManagedChannel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code sac warm}: cache warming on demand. Each way of warming is one option of an exclusive
 * group; today the query service's local cache ({@code --docs}, {@code --query}, through the
 * Warm RPC). Re-compressing missing blobs ({@code --rebuild}) and compressing for a new model
 * ({@code --model}) join the group as further modes.
 */
@Command(name = "warm", mixinStandardHelpOptions = true,
        description = {"Warm caches: load documents' anchor KV into the query service's local cache (Warm RPC)."})
final class WarmCommand implements Callable<Integer> {

    /** Exactly one way of warming. */
    static final class Mode {
        @Option(names = "--docs", arity = "1..*", paramLabel = "ID", required = true,
                description = "Load these documents into the query service's cache.")
        List<String> docs;

        @Option(names = "--query", paramLabel = "QUERY", required = true,
                description = "Load the documents BM25 retrieves for this query (--top-k of them).")
        String query;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    @Option(names = "--tenant", paramLabel = "TENANT", defaultValue = "", description = "Tenant (default: the server's default tenant).")
    String tenant;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "0", description = "Documents to load for --query (default: the server's).")
    int topK;

    @Mixin
    RpcOptions rpc;

    @Override
    public Integer call() throws Exception {
        return warmQueryServiceCache();
    }

    private int warmQueryServiceCache() throws InterruptedException {
        WarmRequest.Builder request = WarmRequest.newBuilder().setTenant(tenant).setTopK(topK);
        if (mode.docs != null) {
            request.addAllDocIds(mode.docs);
        } else {
            request.setQuery(mode.query);
        }
        ManagedChannel channel = rpc.open();
        try {
            WarmResponse r = QueryServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(rpc.deadlineMillis(), TimeUnit.MILLISECONDS).warm(request.build());
            System.out.printf(Locale.ROOT, "warm: loaded %d document(s), %,d bytes; %d already warm; %d miss(es)%s%n",
                    r.getLoaded(), r.getBytes(), r.getAlreadyWarm(), r.getMissesCount(),
                    r.getMissesCount() == 0 ? "" : ": " + String.join(", ", r.getMissesList()));
            return 0;
        } finally {
            RpcOptions.close(channel);
        }
    }
}
