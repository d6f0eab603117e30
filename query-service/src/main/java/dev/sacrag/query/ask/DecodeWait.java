package dev.sacrag.query.ask;

import dev.sacrag.query.decode.Decoded;
import dev.sacrag.query.decode.InferenceOverloadedException;
import dev.sacrag.query.decode.InferenceShutdownException;
import dev.sacrag.query.decode.ModelChangedException;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static dev.sacrag.query.ask.QueryException.Reason.CANCELLED;
import static dev.sacrag.query.ask.QueryException.Reason.MODEL_CHANGED;
import static dev.sacrag.query.ask.QueryException.Reason.OVERLOADED;
import static dev.sacrag.query.ask.QueryException.Reason.SHUTTING_DOWN;

/**
 * Waits for a queued answer while watching the caller: a caller that leaves or runs out of
 * time while its question is still queued withdraws it (the worker skips it), and gets its
 * status now rather than when a worker reaches it.
 */
final class DecodeWait {

    private static final long POLL_MILLIS = 50;

    private final CompletableFuture<Decoded> future;
    private final CallControl control;

    DecodeWait(CompletableFuture<Decoded> future, CallControl control) {
        this.future = future;
        this.control = control;
    }

    Decoded await() {
        while (true) {
            try {
                return future.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillRunning) {
                checkCaller();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                future.cancel(false);
                throw new QueryException(CANCELLED, "interrupted while waiting for the answer", e);
            } catch (CancellationException e) {
                throw new QueryException(CANCELLED, "the question was withdrawn: " + e.getMessage(), e);
            } catch (ExecutionException e) {
                throw unwrap(e.getCause());
            }
        }
    }

    private void checkCaller() {
        try {
            control.check();
        } catch (QueryException gone) {
            future.cancel(false);
            throw gone;
        }
    }

    private static RuntimeException unwrap(Throwable cause) {
        if (cause instanceof QueryException q) {
            return q; // thrown by the caller's token sink: it left or ran out of time mid-answer
        }
        if (cause instanceof InferenceOverloadedException o) {
            return new QueryException(OVERLOADED, o.getMessage(), o);
        }
        if (cause instanceof InferenceShutdownException d) {
            return new QueryException(SHUTTING_DOWN, d.getMessage(), d);
        }
        if (cause instanceof ModelChangedException m) {
            return new QueryException(MODEL_CHANGED, m.getMessage(), m);
        }
        if (cause instanceof CancellationException c) {
            return new QueryException(CANCELLED, "the question was withdrawn: " + c.getMessage(), c);
        }
        return new IllegalStateException("decoding the answer failed: " + cause, cause);
    }
}
