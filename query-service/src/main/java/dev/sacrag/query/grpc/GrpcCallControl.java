package dev.sacrag.query.grpc;

import dev.sacrag.query.ask.CallControl;
import dev.sacrag.query.ask.QueryException;
import io.grpc.Context;
import io.grpc.Deadline;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static dev.sacrag.query.ask.QueryException.Reason.CANCELLED;
import static dev.sacrag.query.ask.QueryException.Reason.DEADLINE_EXCEEDED;

/**
 * The caller of one RPC as the domain sees it: gone when gRPC cancelled the call (client left
 * or its deadline passed) or when the effective deadline passed — the call's own, or the
 * server's default for a call that arrived without one.
 */
final class GrpcCallControl implements CallControl {

    private final Context context;
    private final Deadline deadline;

    private GrpcCallControl(Context context, Deadline deadline) {
        this.context = context;
        this.deadline = deadline;
    }

    /** For the current call; must run on the thread gRPC called the service on. */
    static GrpcCallControl current(Duration defaultDeadline) {
        Context context = Context.current();
        Deadline fallback = Deadline.after(defaultDeadline.toNanos(), TimeUnit.NANOSECONDS);
        Deadline own = context.getDeadline();
        return new GrpcCallControl(context, own == null ? fallback : own);   // a caller's own deadline stands, longer or not
    }

    @Override
    public void check() {
        if (deadline.isExpired()) {
            throw new QueryException(DEADLINE_EXCEEDED, "the deadline passed before the answer was complete; stopped");
        }
        if (context.isCancelled()) {
            throw new QueryException(CANCELLED, "the client cancelled the call");
        }
    }
}
