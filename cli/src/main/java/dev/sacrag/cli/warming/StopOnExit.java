package dev.sacrag.cli.warming;

import dev.sacrag.compressor.CompressorApp;
import dev.sacrag.ingest.ProgressLine;
import org.apache.kafka.streams.KafkaStreams;

import java.util.concurrent.locks.LockSupport;

/**
 * Stops the compressor {@code sac warm --model} runs in this process when the JVM exits while it
 * runs (Ctrl-C, SIGTERM), as {@code sac compressor} does: Kafka Streams finishes the document in
 * hand and commits. A process that ended without it left its transaction open on the catalog topic
 * until the transaction timeout (160 s by default) unless a run again fenced it, and meanwhile every
 * read_committed reader of those partitions (the query services, {@code sac docs list}) read no
 * catalog record past it, of the models in service too.
 *
 * <p>The hook is there from the compressor's start until the command's own close of it has ended:
 * a Ctrl-C during that close (after --timeout it waits for the document in hand, up to the compress
 * time) would otherwise end the JVM part way through the commit it makes. Once the hook runs it
 * alone speaks: the command's thread then waits for the JVM to end it, where it would go on to a
 * summary or an error ('the compressor ... stopped: NOT_RUNNING') that the stop made.
 */
final class StopOnExit implements AutoCloseable {

    /** The compressor as the hook sees it: CompressorApp's close is idempotent and synchronized. */
    interface Compressor {
        void close();

        /** NOT_RUNNING once a close has stopped the stream, its last transaction committed. */
        KafkaStreams.State state();
    }

    /** The JVM's shutdown hooks and its exit; a test's fake records them. */
    interface Exit {
        /** @throws IllegalStateException the JVM is exiting already: a hook added now would not run */
        void addHook(Thread hook);

        /** @throws IllegalStateException the JVM is exiting: the hook runs */
        void removeHook(Thread hook);

        /** Blocks the calling thread until the exiting JVM ends it. */
        void await();
    }

    static final Exit JVM = new Exit() {
        @Override
        public void addHook(Thread hook) {
            Runtime.getRuntime().addShutdownHook(hook);
        }

        @Override
        public void removeHook(Thread hook) {
            Runtime.getRuntime().removeShutdownHook(hook);
        }

        @Override
        public void await() {
            for (;;) {
                LockSupport.park(this);   // no one unparks: the halt after the hooks ends this thread
            }
        }
    };

    private final Compressor app;
    private final Exit exit;
    private final Thread hook;
    private volatile boolean stopping;

    private StopOnExit(Compressor app, String modelId, ProgressLine progress, ModelRollout.Announcements say, Exit exit) {
        this.app = app;
        this.exit = exit;
        this.hook = new Thread(() -> stop(modelId, progress, say), "sac-warm-model-stop");
    }

    static StopOnExit register(CompressorApp app, String modelId, ProgressLine progress, ModelRollout.Announcements say) {
        return register(new Compressor() {
            @Override
            public void close() {
                app.close();
            }

            @Override
            public KafkaStreams.State state() {
                return app.state();
            }
        }, modelId, progress, say, JVM);
    }

    static StopOnExit register(Compressor app, String modelId, ProgressLine progress, ModelRollout.Announcements say,
                               Exit exit) {
        StopOnExit s = new StopOnExit(app, modelId, progress, say, exit);
        try {
            exit.addHook(s.hook);
        } catch (IllegalStateException exiting) {   // Ctrl-C while the compressor started: nothing to say of it
            app.close();
            exit.await();
        }
        return s;
    }

    /** The hook's work; {@link Thread#run} runs it in a test's thread. */
    Thread hook() {
        return hook;
    }

    private void stop(String modelId, ProgressLine progress, ModelRollout.Announcements say) {
        stopping = true;
        progress.finish();   // a line redrawn on a terminal ends before what follows
        say.stopped("warm --model: stopping: the compressor finishes the document in hand and commits ...");
        app.close();   // where the command's thread is closing it, this waits for that close to end
        KafkaStreams.State state = app.state();
        // no count: the close commits documents the last catalog read did not see, and this thread may
        // not read the catalog (its consumer is the waiting thread's)
        if (state == KafkaStreams.State.NOT_RUNNING) {
            say.stopped("warm --model: stopped: what it compressed for model " + modelId + " is committed and kept ('sac"
                    + " docs list --model " + modelId + "'); run the same command again to compress the rest");
        } else {   // its close gave up on a record still in hand (logged above), or the stream had failed
            say.stopped("warm --model: stopped, but the compressor did not stop cleanly (Kafka Streams is " + state
                    + "): what it committed before is kept, and a transaction it may have left open holds back"
                    + " read_committed readers of the catalog until it times out; run the same command again to compress the rest");
        }
    }

    /** On the command's thread: once the hook has begun, the JVM is exiting and the hook says what happened. */
    void holdIfStopping() {
        if (stopping) {
            exit.await();
        }
    }

    /** Closes the compressor, then takes the hook away; where the JVM is exiting, waits for it instead of returning. */
    @Override
    public void close() {
        app.close();
        try {
            exit.removeHook(hook);
        } catch (IllegalStateException exiting) {
            exit.await();   // the hook runs (its close waited for this one) and says how it stopped
        }
    }
}
