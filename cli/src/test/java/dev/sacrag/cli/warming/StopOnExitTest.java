package dev.sacrag.cli.warming;

import dev.sacrag.ingest.ProgressLine;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

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

    /** Counts its closes; its stream's state after one is {@code after}. */
    private final class FakeCompressor implements StopOnExit.Compressor {
        final List<Boolean> hookedWhileClosing = new ArrayList<>();
        KafkaStreams.State after = KafkaStreams.State.NOT_RUNNING;
        KafkaStreams.State state = KafkaStreams.State.RUNNING;

        @Override
        public void close() {
            hookedWhileClosing.add(!exit.hooks.isEmpty());
            state = after;
        }

        @Override
        public KafkaStreams.State state() {
            return state;
        }
    }

    private final FakeExit exit = new FakeExit();
    private final FakeCompressor app = new FakeCompressor();
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
        StopOnExit onExit = StopOnExit.register(app, "m1", progress, say, exit);
        assertEquals(1, exit.hooks.size());
        onExit.close();
        assertEquals(List.of(true), app.hookedWhileClosing, "hooked while the compressor closed");
        assertEquals(List.of(), exit.hooks, "taken away after: a later command in this JVM does not meet it");
        assertEquals(List.of(), said);
    }

    /**
     * Once the hook runs, it alone says how the run ended: the command's thread, in its wait or in its
     * own close (the stop made the wait fail, or it ended just then), waits for the JVM to end it.
     */
    @Test
    void onceTheHookRunsTheCommandsThreadSaysNothingMore() {
        StopOnExit onExit = StopOnExit.register(app, "m1", progress, say, exit);
        exit.exiting = true;
        onExit.hook().run();
        assertEquals(List.of("warm --model: stopping: the compressor finishes the document in hand and commits ...",
                "warm --model: stopped: what it compressed for model m1 is committed and kept ('sac docs list --model m1');"
                        + " run the same command again to compress the rest"), said);
        assertThrows(Halted.class, onExit::holdIfStopping, "the wait for the catalog ends in the JVM's halt");
        assertThrows(Halted.class, onExit::close, "so does the command's close: no summary, no error made by the stop");
        assertEquals(2, app.hookedWhileClosing.size(), "the hook's close and the command's (idempotent in CompressorApp)");
    }

    /**
     * Its close gave up on a record still in hand after the max poll interval (CompressorApp logs it
     * and returns): the stream still runs inside its transaction, so nothing is said committed.
     */
    @Test
    void aCloseThatDidNotStopTheStreamIsNotSaidToHaveCommitted() {
        app.after = KafkaStreams.State.PENDING_SHUTDOWN;
        StopOnExit onExit = StopOnExit.register(app, "m1", progress, say, exit);
        exit.exiting = true;
        onExit.hook().run();
        assertEquals(2, said.size(), String.join("\n", said));
        assertEquals("warm --model: stopped, but the compressor did not stop cleanly (Kafka Streams is PENDING_SHUTDOWN):"
                + " what it committed before is kept, and a transaction it may have left open holds back read_committed"
                + " readers of the catalog until it times out; run the same command again to compress the rest", said.get(1));
    }

    @Test
    void aCompressorStartedWhileTheJvmExitsIsClosedAndNothingSaid() {
        exit.exiting = true;
        assertThrows(Halted.class, () -> StopOnExit.register(app, "m1", progress, say, exit));
        assertEquals(1, app.hookedWhileClosing.size());
        assertEquals(List.of(), said);
    }

    @Test
    void withoutAnExitTheCommandsThreadGoesOn() {
        StopOnExit onExit = StopOnExit.register(app, "m1", progress, say, exit);
        onExit.holdIfStopping();
        onExit.close();
        assertEquals(List.of(), exit.hooks);
    }
}
