package dev.sacrag.stack;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A JVM shutdown hook that stops a service its owner did not close: an interrupted test run
 * leaves no broker folder or redis-server process behind. Shutdown hooks run concurrently, so
 * an owner that closes the service from a hook of its own (the demo stops the compressor, then
 * the stack) says so ({@link #ownerClosesOnExit}): this hook then waits for that close, as long
 * as the owner says its shutdown may take, instead of stopping the service under the owner's
 * orderly shutdown.
 */
final class ExitCleanup {

    private final Thread hook;
    private final CountDownLatch closed = new CountDownLatch(1);
    /** How long the hook waits for the owner's close; null while no owner said it closes on exit. */
    private volatile Duration ownerWait;

    ExitCleanup(String name, Runnable cleanup) {
        this.hook = new Thread(() -> {
            if (ownerWait != null && awaitOwner(ownerWait)) {
                return;
            }
            cleanup.run();
        }, name);
    }

    /** What the JVM runs at exit (tests run it directly). */
    Thread hook() {
        return hook;
    }

    /** From now on the JVM's exit runs the cleanup (unless {@link #closed()} comes first). */
    void register() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The owner closes the service from its own shutdown hook, within {@code maxWait}. */
    void ownerClosesOnExit(Duration maxWait) {
        ownerWait = java.util.Objects.requireNonNull(maxWait, "maxWait");
    }

    /** The owner closed the service: nothing is left for the hook. */
    void closed() {
        closed.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook runs anyway, and finds the latch open
        }
    }

    private boolean awaitOwner(Duration wait) {
        try {
            return closed.await(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
