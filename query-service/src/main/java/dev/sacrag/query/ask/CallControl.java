package dev.sacrag.query.ask;

/**
 * Whether the caller still wants the answer. Checked between stages and before each streamed
 * token, so decoding stops soon after the client goes away or its deadline passes.
 */
@FunctionalInterface
public interface CallControl {

    /** A caller that never gives up (tests, internal warm-up). */
    CallControl NONE = () -> { };

    /** @throws QueryException with reason DEADLINE_EXCEEDED or CANCELLED when the caller is gone */
    void check();
}
