package dev.sacrag.stack;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code redis-server} process on a free loopback port, owned by this JVM.
 *
 * <p>The process runs in the foreground (not daemonized) so this object holds its handle:
 * stopping is a signal to a process we own, never a pidfile lookup, and a JVM shutdown hook
 * kills it if the test or demo forgets to. Persistence is off ({@code --save ''},
 * {@code --appendonly no}): losing Redis must lose nothing (the documents topic is the source
 * of truth), so a restart deliberately comes back empty. {@link #stop()} and {@link #start()}
 * keep the port, which is what outage tests need: clients reconnect to the same URL.
 */
public final class RedisServer implements AutoCloseable {

    static final String NOT_FOUND = "redis-server not found: install it (Debian: apt-get install redis-server)"
            + " or run ./sac test, which installs it";
    private static final List<Path> USUAL_DIRS = List.of(Path.of("/usr/bin"), Path.of("/usr/sbin"), Path.of("/usr/local/bin"));
    private static final int LAUNCH_ATTEMPTS = 3;
    private static final Duration PING_TIMEOUT = Duration.ofMillis(500);
    /** {@code redis-server --version} prints "Redis server v=7.0.15 sha=..." */
    private static final Pattern VERSION = Pattern.compile("v=(\\d+)\\.(\\d+)(\\S*)");
    /** Binaries whose version passed {@link #requireVersion} in this JVM. */
    private static final Set<Path> VERSION_CHECKED = ConcurrentHashMap.newKeySet();

    /** Redis's own names for the eviction policies used here; enum so no caller spells them. */
    public enum EvictionPolicy {
        NO_EVICTION("noeviction"), ALLKEYS_LRU("allkeys-lru"), ALLKEYS_LFU("allkeys-lfu"), VOLATILE_LRU("volatile-lru");

        private final String redisName;

        EvictionPolicy(String redisName) {
            this.redisName = redisName;
        }

        public String redisName() {
            return redisName;
        }
    }

    /**
     * @param maxMemoryBytes 0 for no limit; otherwise Redis evicts by {@code evictionPolicy} above it
     * @param clusterEnabled start as an (empty) Redis Cluster node; see {@link LocalRedisCluster}
     */
    public record Options(long maxMemoryBytes, EvictionPolicy evictionPolicy, boolean clusterEnabled, Duration startTimeout) {
        public Options {
            Objects.requireNonNull(evictionPolicy, "evictionPolicy");
            Objects.requireNonNull(startTimeout, "startTimeout");
            if (maxMemoryBytes < 0) {
                throw new IllegalArgumentException("maxMemoryBytes must be >= 0, got " + maxMemoryBytes);
            }
        }

        /** Production-like: allkeys-lru (architecture.md), no memory limit unless a test sets one. */
        public static Options defaults() {
            return new Options(0, EvictionPolicy.ALLKEYS_LRU, false, Duration.ofSeconds(10));
        }

        public Options withMaxMemory(long bytes, EvictionPolicy policy) {
            return new Options(bytes, policy, clusterEnabled, startTimeout);
        }

        public Options withClusterEnabled() {
            return new Options(maxMemoryBytes, evictionPolicy, true, startTimeout);
        }
    }

    private final Path executable;
    private final Options options;
    private final Path dir;
    private final int port;
    /** Cluster bus port, chosen apart: the default port+10000 can exceed 65535 for high ephemeral ports. */
    private final int clusterBusPort;
    private final ExitCleanup exitCleanup;
    private Process process;

    private RedisServer(Path executable, Options options, Path dir, int port) {
        this.executable = executable;
        this.options = options;
        this.dir = dir;
        this.port = port;
        this.clusterBusPort = options.clusterEnabled() ? FreePort.pick() : 0;
        // the JVM exits without close(): no process or scratch folder left behind
        this.exitCleanup = new ExitCleanup("redis-server-" + port + "-shutdown", () -> {
            killQuietly();
            TempDirs.deleteRecursively(dir);
        });
    }

    public static RedisServer launch() {
        return launch(Options.defaults());
    }

    /** Starts redis-server on a free port; retries another port if one was taken meanwhile. */
    public static RedisServer launch(Options options) {
        Path executable = locate(System.getenv("PATH"), USUAL_DIRS);
        if (!VERSION_CHECKED.contains(executable)) {   // once per binary: a test run launches dozens of servers
            requireVersion(executable);
            VERSION_CHECKED.add(executable);
        }
        for (int attempt = 1; ; attempt++) {
            Path dir = TempDirs.create("sac-redis-");
            RedisServer server = new RedisServer(executable, options, dir, FreePort.pick());
            server.exitCleanup.register();   // from before the start: a Ctrl-C while it starts leaves nothing
            try {
                server.start();
                return server;
            } catch (RuntimeException e) {
                server.killQuietly();   // an interrupted wait for PING left the process running
                server.exitCleanup.closed();
                TempDirs.deleteRecursively(dir);
                if (attempt == LAUNCH_ATTEMPTS || !String.valueOf(e.getMessage()).contains("Address already in use")) {
                    throw e;
                }
            }
        }
    }

    /**
     * Refuses a redis-server older than 7.0, naming it: the compressor retires replaced blobs with
     * {@code PEXPIRE ... LT} (7.0), which an older server answers with an error the store would
     * take for an outage. A binary that does not say its version is let through.
     */
    static void requireVersion(Path executable) {
        String out;
        try {
            Process p = new ProcessBuilder(executable.toString(), "--version").redirectErrorStream(true).start();
            // its one line fits the pipe: wait for the exit first, so a binary that hangs cannot hang the launch
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return;
            }
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + executable + " --version", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        tooOld(out).ifPresent(version -> {
            throw new IllegalStateException(executable + " is Redis " + version + ": the compressor needs Redis 7.0 or"
                    + " later (Debian 12 and Ubuntu 24.04 ship it); install a newer redis-server");
        });
    }

    /** The version in {@code redis-server --version} output ("... v=6.0.16 ...") when it is below 7.0. */
    static Optional<String> tooOld(String versionOutput) {
        Matcher m = VERSION.matcher(versionOutput);
        if (!m.find() || Integer.parseInt(m.group(1)) >= 7) {
            return Optional.empty();
        }
        return Optional.of(m.group(1) + "." + m.group(2) + m.group(3));
    }

    /** The redis-server binary on PATH or in the usual Debian directories. */
    static Path locate(String pathVariable, List<Path> usualDirs) {
        List<Path> dirs = new ArrayList<>();
        if (pathVariable != null) {
            for (String entry : pathVariable.split(File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    dirs.add(Path.of(entry));
                }
            }
        }
        dirs.addAll(usualDirs);
        return dirs.stream()
                .map(d -> d.resolve("redis-server"))
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(NOT_FOUND));
    }

    /** The server's scratch folder (log, cluster config); deleted by {@link #close()}. */
    public Path dir() {
        return dir;
    }

    public int port() {
        return port;
    }

    /** The cluster bus port (0 unless cluster-enabled); CLUSTER MEET must be told it. */
    public int clusterBusPort() {
        return clusterBusPort;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Starts the process (again) on the same port and waits until it answers PING (and is ours: {@link #answersPing}). */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        Path log = dir.resolve("redis.log");
        try {
            process = new ProcessBuilder(watched(command()))
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + executable, e);
        }
        long deadline = System.nanoTime() + options.startTimeout().toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (answersPing()) {
                return;
            }
            sleep(Duration.ofMillis(20));
        }
        String what = process.isAlive() ? "did not start within " + options.startTimeout()
                : "exited with code " + process.exitValue();
        killQuietly();
        throw new IllegalStateException("redis-server on port " + port + " " + what + "; its log ends with:\n"
                + logTail(log));
    }

    /** Stops the process and keeps the port and directory, so {@link #start()} can bring it back. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy(); // SIGTERM: Redis shuts down cleanly, nothing to save with persistence off
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        closeWatchPipe(process);
        process = null;
    }

    /**
     * redis-server under a small sh watchdog: a SIGTERM to the watchdog stops Redis and waits for
     * it, and Redis is also stopped when the watchdog's stdin (a pipe from this JVM) reaches its
     * end, which the kernel does when the JVM dies however it dies (a native crash, the OOM killer:
     * no shutdown hook runs then, and a plain child process would keep its port for good).
     */
    static List<String> watched(List<String> command) {
        String script = "exec 3<&0; trap 'kill $rp 2>/dev/null; wait $rp; exit 0' TERM; "
                + "\"$@\" </dev/null & rp=$!; "
                + "{ cat <&3 >/dev/null; kill $rp 2>/dev/null; } & "
                + "wait $rp";
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", script, "redis-watchdog"));
        cmd.addAll(command);
        return cmd;
    }

    /** Ends the watchdog's stdin, so its reader exits (and Redis with it, if still running). */
    private static void closeWatchPipe(Process p) {
        try {
            p.getOutputStream().close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    public void flushAll() {
        call("FLUSHALL");
    }

    /** Runs one command on a fresh connection (for tests and set-up, not for data traffic). */
    public Object call(String... args) {
        try (RespConnection connection = new RespConnection("127.0.0.1", port, options.startTimeout())) {
            return connection.call(args);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach redis-server at " + url(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            stop();
            TempDirs.deleteRecursively(dir);
        } finally {
            exitCleanup.closed();   // whatever happened, the exit hook must not wait for this owner
        }
    }

    /** The owner closes this server from its own shutdown hook within {@code maxWait}: the exit cleanup waits for that. */
    public void ownerClosesOnExit(Duration maxWait) {
        exitCleanup.ownerClosesOnExit(maxWait);
    }

    private List<String> command() {
        List<String> cmd = new ArrayList<>(List.of(executable.toString(),
                "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", dir.toString(), "--logfile", "",
                "--maxmemory", Long.toString(options.maxMemoryBytes()),
                "--maxmemory-policy", options.evictionPolicy().redisName()));
        if (options.clusterEnabled()) {
            cmd.addAll(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-port", Integer.toString(clusterBusPort)));
        }
        return cmd;
    }

    /**
     * Whether the server on our port is ours and ready: it answers PING and its working
     * directory is our scratch folder. PING alone is not enough on a restart: if another
     * process took the port while ours was down, our redis-server fails to bind and exits, but
     * until it has, the other one's PONG would pass for ours.
     */
    private boolean answersPing() {
        try (RespConnection connection = new RespConnection("127.0.0.1", port, PING_TIMEOUT)) {
            return "PONG".equals(connection.call("PING"))
                    && List.of("dir", dir.toRealPath().toString()).equals(connection.call("CONFIG", "GET", "dir"));
        } catch (IOException | UncheckedIOException | RespConnection.RedisErrorReply e) {
            return false; // not listening yet, still loading, or not a Redis that answers CONFIG
        }
    }

    private synchronized void killQuietly() {
        if (process != null) {
            closeWatchPipe(process);   // the watchdog stops Redis itself; SIGKILL below skips its trap
            process.destroyForcibly();
            try {
                process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);   // before its folder goes
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    private static String logTail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for redis-server", e);
        }
    }
}
