package dev.sacrag.cli;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Where the query service is and how long a call may take: shared by the RPC client commands. */
final class RpcOptions {

    @Option(names = "--target", paramLabel = "HOST:PORT", defaultValue = "${env:SAC_QUERY_TARGET:-localhost:50051}",
            description = "Query service address (env SAC_QUERY_TARGET, default ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.class,
            description = "Give up after this long (default ${DEFAULT-VALUE}).")
    Duration deadline;

    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec spec;

    /** A plaintext channel to the target; close it with {@link #close}. A deadline too short to make a call is a usage error. */
    ManagedChannel open() {
        if (spec != null) {
            Durations.requireAtLeast(spec, "--deadline", deadline, MIN_DEADLINE);
        }
        return ManagedChannelBuilder.forTarget(target).usePlaintext().build();
    }

    /** Shorter, and the call fails before it is sent, with gRPC's words about name resolution. */
    static final Duration MIN_DEADLINE = Duration.ofMillis(100);

    static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    long deadlineMillis() {
        return deadline.toMillis();
    }
}
