package dev.sacrag.cli.warming;

import dev.sacrag.ingest.ProgressLine;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The shutdown hook of {@code sac warm --model} over the command's own close of its compressor: a
 * JVM's exit cannot be run in a test, so a fake stands for the JVM's hooks and its halt.
 */
class StopOnExitTest {

    /** Where a JVM would end the waiting thread: the fake throws this instead. */
    private static final class Halted extends RuntimeException {
    }

    private static final class FakeExit implements StopOnExit.Exit {
        final List<Thread> hooks = new ArrayList<>();
        boolean exiting;

        @Override
        public void addHook(Thread hook) {
            if (exiting) {
                throw new IllegalStateException("Shutdown in progress");
            }
            hooks.add(hook);
        }

        @Override
        public void removeHook(Thread hook) {
            if (exiting) {
                throw new IllegalStateException("Shutdown in progress");
            }
            hooks.remove(hook);
        }

        @Override
        public void await() {
            throw new Halted();
        }
    }

    private final FakeExit exit = new FakeExit();
    private final List<String> said = new ArrayList<>();
    private final ProgressLine progress = new ProgressLine(new PrintWriter(new StringWriter()), "compressed", false);
    private final ModelRollout.Announcements say = new ModelRollout.Announcements() {
        @Override
        public void started() {
        }

        @Override
        public void stopped(String line) {
            said.add(line);
        }
    };

    /** A Ctrl-C during the command's own close (after --timeout: the document in hand) still waits for its commit. */
    @Test
    void theHookStaysUntilTheCommandsCloseOfTheCompressorHasEnded() {
        List<Boolean> hookedWhileClosing = new ArrayList<>();
        StopOnExit onExit = StopOnExit.register(() -> hookedWhileClosing.add(!exit.hooks.isEmpty()), "m1", progress, say,
                exit);
        assertEquals(1, exit.hooks.size());
        onExit.close();
        assertEquals(List.of(true), hookedWhileClosing, "hooked while the compressor closed");
        assertEquals(List.of(), exit.hooks, "taken away after: a later command in this JVM does not meet it");
        assertEquals(List.of(), said);
    }

    /**
     * Once the hook runs, it alone says how the run ended: the command's thread, in its wait or in its
     * own close (the stop made the wait fail, or it ended just then), waits for the JVM to end it.
     */
    @Test
    void onceTheHookRunsTheCommandsThreadSaysNothingMore() {
        AtomicInteger closes = new AtomicInteger();
        StopOnExit onExit = StopOnExit.register(closes::incrementAndGet, "m1", progress, say, exit);
        exit.exiting = true;
        onExit.hook().run();
        assertEquals(List.of("warm --model: stopping: the compressor finishes the document in hand and commits ...",
                "warm --model: stopped: what it compressed for model m1 is committed and kept ('sac docs list --model m1');"
                        + " run the same command again to compress the rest"), said);
        assertThrows(Halted.class, onExit::holdIfStopping, "the wait for the catalog ends in the JVM's halt");
        assertThrows(Halted.class, onExit::close, "so does the command's close: no summary, no error made by the stop");
        assertEquals(2, closes.get(), "the hook's close and the command's (idempotent in CompressorApp)");
    }

    @Test
    void aCompressorStartedWhileTheJvmExitsIsClosedAndNothingSaid() {
        AtomicInteger closes = new AtomicInteger();
        exit.exiting = true;
        assertThrows(Halted.class, () -> StopOnExit.register(closes::incrementAndGet, "m1", progress, say, exit));
        assertEquals(1, closes.get());
        assertEquals(List.of(), said);
    }

    @Test
    void withoutAnExitTheCommandsThreadGoesOn() {
        StopOnExit onExit = StopOnExit.register(() -> { }, "m1", progress, say, exit);
        onExit.holdIfStopping();
        onExit.close();
        assertEquals(List.of(), exit.hooks);
    }
}
