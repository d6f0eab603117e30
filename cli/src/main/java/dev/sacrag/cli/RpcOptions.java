package dev.sacrag.cli;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Where the query service is and how long a call may take: shared by the RPC client commands. */
final class RpcOptions {

    @Option(names = "--target", paramLabel = "HOST:PORT", defaultValue = "${env:SAC_QUERY_TARGET:-localhost:50051}",
            description = "Query service address (env SAC_QUERY_TARGET, default ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.class,
            description = "Give up after this long, connecting included: a few hundred ms of it in a fresh process"
                    + " (default ${DEFAULT-VALUE}, at least 100ms).")
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

    /**
     * A call that never reached the service said in what the operator can act on, where gRPC's
     * own words are about its channel: "CallOptions deadline exceeded after 0.34s. Name resolution
     * delay ... [closed=[], open=[[connecting_and_lb_delay=..., was_still_waiting]]]" for a
     * deadline spent connecting (a fresh JVM's first connection takes a few hundred ms, so a
     * --deadline that the service itself meets with room to spare can pass first), "io exception"
     * for nothing listening there. The service's own answers, and a deadline that passed once
     * connected, are left as they are.
     */
    StatusRuntimeException explained(StatusRuntimeException e, ManagedChannel channel) {
        Status status = e.getStatus();
        boolean connected = channel.getState(false) == ConnectivityState.READY;
        if (status.getCode() == Status.Code.DEADLINE_EXCEEDED && !connected) {
            return Status.DEADLINE_EXCEEDED.withDescription("no answer within --deadline " + Durations.shown(deadline)
                    + ": the connection to " + target + " was not made in that time (a fresh process needs a few hundred"
                    + " ms to connect: give it a longer --deadline; or is the query service there?)").asRuntimeException();
        }
        if (status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null && !connected) {
            return Status.UNAVAILABLE.withDescription("no query service answers at " + target + " (is it running, and is"
                    + " that its address? --target, env SAC_QUERY_TARGET)").withCause(status.getCause()).asRuntimeException();
        }
        return e;
    }
}
