package dev.sacrag.cli;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Where the query service is and how long a call may take: shared by the RPC client commands. Each
 * takes the subclass whose --target and --deadline say when they apply to it: to every run of
 * {@code sac ask}, to {@code sac warm} with --docs or --query only (its other ways work on the topics
 * and Redis).
 */
abstract class RpcOptions {

    static final String TARGET_DEFAULT = "${env:SAC_QUERY_TARGET:-localhost:50051}";
    static final String TARGET_SOURCE = " (env SAC_QUERY_TARGET, default ${DEFAULT-VALUE}).";
    static final String DEADLINE_DEFAULT = "60s";
    static final String DEADLINE_REST = " after this long, connecting included: a few hundred ms of it in a fresh process"
            + " (default ${DEFAULT-VALUE}, at least 100ms).";

    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec spec;

    abstract String target();

    abstract Duration deadline();

    /** For a command that always calls the query service ({@code sac ask}). */
    static final class Always extends RpcOptions {
        @Option(names = "--target", paramLabel = "HOST:PORT", defaultValue = TARGET_DEFAULT,
                description = "Query service address" + TARGET_SOURCE)
        String target;

        @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = DEADLINE_DEFAULT, converter = Durations.class,
                description = "Give up" + DEADLINE_REST)
        Duration deadline;

        @Override
        String target() {
            return target;
        }

        @Override
        Duration deadline() {
            return deadline;
        }
    }

    /** For {@code sac warm}, whose --docs and --query call the query service and whose other ways do not. */
    static final class WithDocsOrQuery extends RpcOptions {
        @Option(names = "--target", paramLabel = "HOST:PORT", defaultValue = TARGET_DEFAULT,
                description = "With --docs/--query: query service address" + TARGET_SOURCE)
        String target;

        @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = DEADLINE_DEFAULT, converter = Durations.class,
                description = "With --docs/--query: give up" + DEADLINE_REST)
        Duration deadline;

        @Override
        String target() {
            return target;
        }

        @Override
        Duration deadline() {
            return deadline;
        }
    }

    /** A plaintext channel to the target; close it with {@link #close}. A deadline too short to make a call is a usage error. */
    ManagedChannel open() {
        if (spec != null) {
            Durations.requireAtLeast(spec, "--deadline", deadline(), MIN_DEADLINE);
        }
        return ManagedChannelBuilder.forTarget(target()).usePlaintext().build();
    }

    /** Shorter, and the call fails before it is sent, with gRPC's words about name resolution. */
    static final Duration MIN_DEADLINE = Duration.ofMillis(100);

    static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    long deadlineMillis() {
        return deadline().toMillis();
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
            return Status.DEADLINE_EXCEEDED.withDescription("no answer within --deadline " + Durations.shown(deadline())
                    + ": the connection to " + target() + " was not made in that time (resolving its name and connecting:"
                    + " a fresh process needs a few hundred ms for them, so give it a longer --deadline; or is the query"
                    + " service there?)").asRuntimeException();
        }
        if (status.getCode() == Status.Code.UNAVAILABLE && !connected && neverConnected(status.getCause())) {
            return Status.UNAVAILABLE.withDescription("no query service answers at " + target() + " (is it running, and is"
                    + " that its address? --target, env SAC_QUERY_TARGET)").withCause(status.getCause()).asRuntimeException();
        }
        return e;
    }

    /**
     * Whether gRPC's cause says no connection was made (refused, no route, a name that does not
     * resolve), where an I/O error of one that was (a reset mid-call: the service went away while
     * it answered) leaves the channel not READY too, and is no sign that nothing answers there.
     */
    private static boolean neverConnected(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.NoRouteToHostException
                    || t instanceof java.net.UnknownHostException) {
                return true;
            }
        }
        return false;
    }
}
