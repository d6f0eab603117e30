package dev.sacrag.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Redis's own {@code redis-benchmark} (Debian package redis-tools), run beside our fetch
 * benchmark so our numbers can be read against what the server gives a C client on the same
 * machine.
 *
 * <p>It is given our own key as an explicit {@code GET <key>} command rather than
 * {@code -t get -d SIZE}: the built-in GET test reads {@code key:__rand_int__}, which only its
 * SET test writes, so on its own it times nil replies and moves none of the {@code -d} bytes.
 */
final class RedisBenchmarkTool {
    static final String NOT_FOUND = "redis-benchmark not found: install it (Debian: apt-get install redis-tools)";
    private static final List<Path> USUAL_DIRS = List.of(Path.of("/usr/bin"), Path.of("/usr/local/bin"));

    private final Path executable;

    private RedisBenchmarkTool(Path executable) {
        this.executable = executable;
    }

    /** The binary on PATH or in the usual Debian directories. */
    static RedisBenchmarkTool locate() {
        List<Path> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    dirs.add(Path.of(entry));
                }
            }
        }
        dirs.addAll(USUAL_DIRS);
        return dirs.stream()
                .map(d -> d.resolve("redis-benchmark"))
                .filter(Files::isExecutable)
                .findFirst()
                .map(RedisBenchmarkTool::new)
                .orElseThrow(() -> new IllegalStateException(NOT_FOUND));
    }

    /**
     * GETs per second of {@code requests} GETs of {@code key} over one connection,
     * {@code pipeline} commands in flight at a time.
     *
     * @param url a redis:// or rediss:// URL (redis-benchmark's {@code -u}), password included if any
     */
    double getsPerSecond(String url, String key, int requests, int pipeline, Duration timeout)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("sac-redis-benchmark-", ".csv");
        try {
            Process p = new ProcessBuilder(executable.toString(), "-u", url, "-c", "1", "-n", Integer.toString(requests),
                    "-P", Integer.toString(pipeline), "--csv", "GET", key)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-benchmark did not finish " + requests + " GETs within " + timeout);
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("redis-benchmark failed (exit " + p.exitValue() + "):\n" + out.strip());
            }
            return parseGetsPerSecond(out);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The rps column of the GET row of {@code --csv} output: {@code "GET <key>","12345.67",...}. */
    private static double parseGetsPerSecond(String csv) {
        for (String line : csv.split("\\R")) {
            if (line.startsWith("\"GET ")) {
                String[] cells = line.split("\",\"");
                if (cells.length > 1) {
                    return Double.parseDouble(cells[1]);
                }
            }
        }
        throw new IllegalStateException("redis-benchmark printed no GET result:\n" + csv.strip());
    }
}
