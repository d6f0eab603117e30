package dev.sacrag.stack;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A JVM shutdown hook that stops a service its owner did not close: an interrupted test run
 * leaves no broker folder or redis-server process behind. Shutdown hooks run concurrently, so
 * an owner that closes the service from a hook of its own (the demo stops the compressor, then
 * the stack) says so ({@link #ownerClosesOnExit}): this hook then waits, up to a minute, for
 * that close instead of stopping the service under the owner's orderly shutdown.
 */
final class ExitCleanup {

    private static final Duration OWNER_WAIT = Duration.ofSeconds(60);

    private final Thread hook;
    private final Duration ownerWait;
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean ownerClosesOnExit;

    ExitCleanup(String name, Runnable cleanup) {
        this(name, cleanup, OWNER_WAIT);
    }

    ExitCleanup(String name, Runnable cleanup, Duration ownerWait) {
        this.ownerWait = ownerWait;
        this.hook = new Thread(() -> {
            if (ownerClosesOnExit && awaitOwner()) {
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

    void ownerClosesOnExit() {
        ownerClosesOnExit = true;
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

    private boolean awaitOwner() {
        try {
            return closed.await(ownerWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
