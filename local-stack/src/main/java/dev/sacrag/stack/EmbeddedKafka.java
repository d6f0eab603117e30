package dev.sacrag.stack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.coordinator.group.GroupCoordinatorConfig;
import org.apache.kafka.coordinator.transaction.TransactionLogConfig;
import org.apache.kafka.network.SocketServerConfigs;
import org.apache.kafka.raft.QuorumConfig;
import org.apache.kafka.server.config.KRaftConfigs;
import org.apache.kafka.server.config.ReplicationConfigs;
import org.apache.kafka.server.config.ServerLogConfigs;
import org.apache.kafka.storage.internals.log.CleanerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;

/**
 * A real single-node KRaft Kafka broker (broker and controller in one node) running inside
 * this JVM, on loopback ports, with its logs in a temporary directory.
 *
 * <p>Built from the broker's own public entry points, as {@code kafka-storage.sh format} and
 * {@code kafka-server-start.sh} do: {@link StorageTool#execute} formats the directory (its
 * {@code main} would call {@code Exit} and end the JVM), then {@link KafkaRaftServer} starts.
 * Kafka's test kit is avoided on purpose: it needs a test jar Maven Central does not serve
 * and binds every interface.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int LAUNCH_ATTEMPTS = 3;

    /** Where the broker's ports come from (a test hands out one that is taken). */
    static java.util.function.IntSupplier portPicker = FreePort::pick;

    /** Told of each start attempt's folder (a test checks a failed attempt's folder is gone). */
    static java.util.function.Consumer<Path> attemptFolders = dir -> { };

    /**
     * @param defaultPartitions {@code num.partitions} for topics created without a count
     * @param startTimeout how long to wait for the broker to accept admin requests
     */
    public record Options(int defaultPartitions, Duration startTimeout) {
        public Options {
            if (defaultPartitions < 1) {
                throw new IllegalArgumentException("defaultPartitions must be >= 1, got " + defaultPartitions);
            }
        }

        public static Options defaults() {
            return new Options(6, Duration.ofSeconds(60));
        }
    }

    private final Path dir;
    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final Duration startDuration;

    /**
     * Stops the broker and removes the scratch folder when the JVM exits without {@link #close()}
     * (an interrupted test run, Ctrl-C); the folder goes only after the broker has stopped writing to it.
     */
    private final ExitCleanup exitCleanup;
    private boolean closed;

    private EmbeddedKafka(Path dir, KafkaRaftServer server, String bootstrapServers, Duration startDuration) {
        this.dir = dir;
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.startDuration = startDuration;
        this.exitCleanup = new ExitCleanup("sac-kafka-shutdown", this::stop);
        exitCleanup.register();   // last: a hook run before the server was set deleted the folder under it
    }

    public static EmbeddedKafka start() {
        return start(Options.defaults());
    }

    /**
     * Kafka halts the JVM ({@code Exit.halt}) on a fatal fault while it starts, e.g. when the
     * controller's port was taken between picking it and binding it: the whole test run or demo
     * died, its shutdown hooks skipped and its scratch folders left. While a broker starts, a halt
     * or exit throws this instead (on the thread that faulted, the starting one here), and the start
     * is retried on new ports.
     */
    static final class StartupHalt extends RuntimeException {
        StartupHalt(int status, String message) {
            super("the Kafka broker halted while starting (status " + status + (message == null ? "" : ": " + message)
                    + "; see its log above: most likely a port was taken before it bound it)");
        }
    }

    /**
     * Formats a fresh directory and starts the broker; retries with new ports if one was taken
     * meanwhile. While it starts, Kafka's exit and halt procedures (global to the JVM) throw
     * {@link StartupHalt} instead of ending the JVM; they are Kafka's own again afterwards.
     */
    public static EmbeddedKafka start(Options options) {
        synchronized (EmbeddedKafka.class) {   // the procedures are the JVM's: one start at a time sets them
            Exit.setHaltProcedure((status, message) -> {
                throw new StartupHalt(status, message);
            });
            Exit.setExitProcedure((status, message) -> {
                throw new StartupHalt(status, message);
            });
            try {
                return startGuarded(options);
            } finally {
                Exit.resetHaltProcedure();
                Exit.resetExitProcedure();
            }
        }
    }

    private static EmbeddedKafka startGuarded(Options options) {
        for (int attempt = 1; ; attempt++) {
            long t0 = System.nanoTime();
            Path dir = TempDirs.create("sac-kafka-");
            attemptFolders.accept(dir);
            int brokerPort = portPicker.getAsInt();
            int controllerPort = portPicker.getAsInt();
            // a Ctrl-C while the broker starts (formatting, startup, up to startTimeout of waiting)
            // stops it and removes its folder, as a failed attempt does; the broker's own hook takes
            // over once it has started
            java.util.concurrent.atomic.AtomicReference<KafkaRaftServer> starting = new java.util.concurrent.atomic.AtomicReference<>();
            Runnable undo = () -> {
                shutdownQuietly(starting.get());
                TempDirs.deleteRecursively(dir);
            };
            ExitCleanup attemptCleanup = new ExitCleanup("sac-kafka-start-cleanup", undo);
            attemptCleanup.register();
            try {
                Properties props = brokerProperties(dir, brokerPort, controllerPort, options.defaultPartitions());
                format(dir, props);
                KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
                starting.set(server);
                server.startup();
                String bootstrap = "127.0.0.1:" + brokerPort;
                awaitReady(bootstrap, options.startTimeout());
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                log.info("Kafka broker ready at {} in {} ms", bootstrap, took.toMillis());
                return new EmbeddedKafka(dir, server, bootstrap, took);
            } catch (RuntimeException e) {
                undo.run();
                if (attempt == LAUNCH_ATTEMPTS || !isBindFailure(e)) {
                    throw e;
                }
                log.warn("Kafka ports {}/{} were taken before the broker bound them ({}); retrying", brokerPort, controllerPort,
                        e.getMessage());
            } finally {
                attemptCleanup.closed();
            }
        }
    }

    private static Properties brokerProperties(Path dir, int brokerPort, int controllerPort, int partitions) {
        Properties p = new Properties();
        p.put(KRaftConfigs.PROCESS_ROLES_CONFIG, "broker,controller");
        p.put(KRaftConfigs.NODE_ID_CONFIG, "1");
        p.put(QuorumConfig.QUORUM_VOTERS_CONFIG, "1@127.0.0.1:" + controllerPort);
        p.put(KRaftConfigs.CONTROLLER_LISTENER_NAMES_CONFIG, "CONTROLLER");
        p.put(SocketServerConfigs.LISTENERS_CONFIG, "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put(SocketServerConfigs.ADVERTISED_LISTENERS_CONFIG, "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put(SocketServerConfigs.LISTENER_SECURITY_PROTOCOL_MAP_CONFIG, "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put(ReplicationConfigs.INTER_BROKER_LISTENER_NAME_CONFIG, "PLAINTEXT");
        p.put(ServerLogConfigs.LOG_DIRS_CONFIG, dir.resolve("data").toString());
        p.put(ServerLogConfigs.NUM_PARTITIONS_CONFIG, Integer.toString(partitions));
        // Topics are created explicitly with the right cleanup policy; a typo must not create one.
        p.put(ServerLogConfigs.AUTO_CREATE_TOPICS_ENABLE_CONFIG, "false");
        // One node: every replication factor and ISR that defaults to 3 must be 1.
        p.put(ReplicationConfigs.DEFAULT_REPLICATION_FACTOR_CONFIG, "1");
        p.put(ServerLogConfigs.MIN_IN_SYNC_REPLICAS_CONFIG, "1");
        p.put(GroupCoordinatorConfig.OFFSETS_TOPIC_REPLICATION_FACTOR_CONFIG, "1");
        p.put(TransactionLogConfig.TRANSACTIONS_TOPIC_REPLICATION_FACTOR_CONFIG, "1");
        p.put(TransactionLogConfig.TRANSACTIONS_TOPIC_MIN_ISR_CONFIG, "1");
        // 50 partitions each (the defaults) make the first consumer group / transaction slow to set up.
        p.put(GroupCoordinatorConfig.OFFSETS_TOPIC_PARTITIONS_CONFIG, "6");
        p.put(TransactionLogConfig.TRANSACTIONS_TOPIC_PARTITIONS_CONFIG, "6");
        // Tests start groups all the time; the 3 s join delay only helps big production groups.
        p.put(GroupCoordinatorConfig.GROUP_INITIAL_REBALANCE_DELAY_MS_CONFIG, "0");
        // Transactions past their timeout are aborted within a second (default: swept every 10 s),
        // so a test of the compressor's transaction timeout sees what a production broker does.
        p.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
        // The cleaner's 128 MiB default buffer is sized for production logs, not a test heap.
        p.put(CleanerConfig.LOG_CLEANER_DEDUPE_BUFFER_SIZE_PROP, Long.toString(8L << 20));
        return p;
    }

    private static void format(Path dir, Properties props) {
        Path file = dir.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, "generated by EmbeddedKafka");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        String[] args = {"format", "--cluster-id", Uuid.randomUuid().toString(), "--config", file.toString()};
        int rc;
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(args, print);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting Kafka storage (" + Arrays.toString(args) + ") exited with " + rc
                    + ": " + output.toString(StandardCharsets.UTF_8));
        }
    }

    /** Ready = an admin client sees the broker as an (unfenced) cluster node, so topic creation works. */
    private static void awaitReady(String bootstrap, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(1, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException notYet) {
                    // broker still starting; keep asking until the deadline
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Kafka broker at " + bootstrap + " was not ready within " + timeout);
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Kafka broker at " + bootstrap, e);
        }
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StartupHalt || t instanceof java.net.BindException
                    || String.valueOf(t.getMessage()).contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Wall time from formatting to the first successful DescribeCluster. */
    public Duration startDuration() {
        return startDuration;
    }

    /** The broker's scratch directory (config, logs); deleted by {@link #close()}. */
    Path directory() {
        return dir;
    }

    public void createTopics(Collection<TopicSpec> topics) {
        Topics.create(bootstrapServers, topics);
    }

    public void createTopics(TopicSpec... topics) {
        createTopics(Arrays.asList(topics));
    }

    /** The owner closes this broker from its own shutdown hook within {@code maxWait}: the exit cleanup waits for that. */
    public void ownerClosesOnExit(Duration maxWait) {
        exitCleanup.ownerClosesOnExit(maxWait);
    }

    @Override
    public void close() {
        try {
            stop();
        } finally {
            exitCleanup.closed();   // whatever happened, the exit hook must not wait for this owner
        }
    }

    /** Once, from {@link #close()} or the shutdown hook, whichever comes first; the other waits for it. */
    private synchronized void stop() {
        if (closed) {
            return;
        }
        closed = true;
        shutdownQuietly(server);
        TempDirs.deleteRecursively(dir);
    }

    private static void shutdownQuietly(KafkaRaftServer server) {
        if (server == null) {
            return;
        }
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            log.warn("Kafka broker did not shut down cleanly", e);
        }
    }
}
