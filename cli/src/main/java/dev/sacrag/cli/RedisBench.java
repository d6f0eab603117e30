package dev.sacrag.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.KvStoreConfig;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.stack.RedisServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;

/**
 * How fast the query service can pull anchor-KV blobs out of Redis: GB/s through the
 * project's own {@link AnchorKvStore} (Lettuce, one connection), fetching one blob per request
 * and several documents per pipelined request as a question does, each next to
 * {@code redis-benchmark} doing the same GETs on the same server. The gap between the two is
 * what the JVM client path costs; the rest is Redis and the loopback.
 *
 * <p>Each is measured both ways the store fetches: {@code get}/{@code getAll} (a new byte[]
 * per blob) and {@code read}/{@code readAll} (the bytes lent from reused arrays to a reader,
 * here one that only takes the length, as the codec would decode them in place). The
 * redis-benchmark figure of a mode is measured once and shown on both of its rows.
 *
 * <p>Blobs are random bytes (the store never looks inside) under real blob keys from
 * {@link RedisKeys}; they are deleted after each size, so a shared Redis given with
 * {@code --redis} is left as it was.
 */
@Command(name = "redis", mixinStandardHelpOptions = true,
        description = "Anchor-blob fetch GB/s through the project's Redis store vs redis-benchmark on the same server.")
final class RedisBench implements Callable<Integer> {
    /** Redis's default proto-max-bulk-len: no single value can be larger. */
    private static final long MAX_SIZE = 512L << 20;

    @Option(names = "--sizes", paramLabel = "SIZE", split = ",", defaultValue = "64k,512k,4m",
            description = "Blob sizes: bytes, or k/m for KiB/MiB (default ${DEFAULT-VALUE}).")
    List<String> sizes;

    @Option(names = "--docs", paramLabel = "N", defaultValue = "4",
            description = "Documents per pipelined request (default ${DEFAULT-VALUE}).")
    int docs;

    @Option(names = "--seconds", paramLabel = "SECONDS", defaultValue = "5",
            description = "Timed seconds per measurement, after a warm-up of a fifth of that (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--redis", paramLabel = "URL",
            description = "Use this Redis (host:port or redis:// URL) instead of starting a redis-server.")
    String redis;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON here.")
    Path json;

    record Row(int sizeBytes, String mode, double gbS, double redisBenchmarkGbS) {
        double ratio() {
            return gbS / redisBenchmarkGbS;
        }
    }

    /** What one fetch loop moved per second. */
    private record Rate(double bytesPerSecond, double getsPerSecond) { }

    @Override
    public Integer call() throws Exception {
        if (docs < 1 || !(seconds >= 0.1 && seconds <= 3600)) {   // redis-benchmark cannot run shorter (it reports "inf")
            throw new IllegalArgumentException("--docs must be >= 1 and --seconds between 0.1 and 3600, got " + docs
                    + " and " + seconds);
        }
        List<Integer> bytes = sizes.stream().map(RedisBench::parseSize).toList();
        RedisBenchmarkTool tool = RedisBenchmarkTool.locate(); // before anything is started or written
        List<Row> rows = new ArrayList<>();
        try (RedisServer server = redis == null ? RedisServer.launch() : null) {
            String url = server != null ? server.url() : redisUrl(redis);
            try (AnchorKvStore store = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(url)))) {
                System.out.printf(Locale.ROOT, "redis bench: %s (%s), GET over one connection, %.1f s per measurement"
                                + " after a warm-up, pipelined = %d documents per request, read = bytes lent from reused"
                                + " arrays instead of a new byte[] per blob, GB = 10^9 bytes%n",
                        store.target(), server != null ? "embedded redis-server" : "--redis", seconds, docs);
                System.out.printf(Locale.ROOT, "  %9s  %-18s %10s  %20s  %20s%n",
                        "size", "mode", "GB/s", "redis-benchmark GB/s", "ours/redis-benchmark");
                for (int size : bytes) {
                    for (Row r : measureSize(tool, store, url, size)) {
                        rows.add(r);
                        System.out.printf(Locale.ROOT, "  %9s  %-18s %10.3f  %20.3f  %20.3f%n", label(r.sizeBytes()),
                                modeLabel(r.mode()), r.gbS(), r.redisBenchmarkGbS(), r.ratio());
                    }
                }
            }
        }
        String machine = Machine.describe();
        System.out.println("machine: " + machine);
        if (json != null) {
            writeJson(machine, rows);
        }
        return 0;
    }

    /** Writes {@code docs} blobs of one size, measures both modes both ways, then deletes them. */
    private List<Row> measureSize(RedisBenchmarkTool tool, AnchorKvStore store, String url, int size)
            throws IOException, InterruptedException {
        SplittableRandom rnd = new SplittableRandom(size);
        List<String> keys = new ArrayList<>();
        try {
            for (int i = 0; i < docs; i++) {
                byte[] blob = new byte[size];
                rnd.nextBytes(blob);
                String key = RedisKeys.blobKey("bench", "redis-bench-" + size, "docs/doc-" + i + ".md", 1);
                store.put(key, blob, Optional.empty());
                keys.add(key);
            }
            Rate single = measure(() -> fetchOne(store, keys.get(0)), 1);
            Rate pipelined = measure(() -> fetchAll(store, keys, size), docs);
            Rate singleRead = measure(() -> readOne(store, keys.get(0)), 1);
            Rate pipelinedRead = measure(() -> readAll(store, keys, size), docs);
            double theirsSingle = redisBenchmark(tool, url, keys.get(0), size, single, 1);
            double theirsPipelined = redisBenchmark(tool, url, keys.get(0), size, pipelined, docs);
            return List.of(
                    new Row(size, "single", single.bytesPerSecond() / 1e9, theirsSingle),
                    new Row(size, "single-read", singleRead.bytesPerSecond() / 1e9, theirsSingle),
                    new Row(size, "pipelined", pipelined.bytesPerSecond() / 1e9, theirsPipelined),
                    new Row(size, "pipelined-read", pipelinedRead.bytesPerSecond() / 1e9, theirsPipelined));
        } finally {
            keys.forEach(store::delete);
        }
    }

    private static long fetchOne(AnchorKvStore store, String key) {
        return store.get(key).orElseThrow(() -> new IllegalStateException(key + " vanished from Redis during the benchmark"))
                .length;
    }

    /** The service's path: pipelined GETs timed and sliced by the sizes the caller knows. */
    private static long fetchAll(AnchorKvStore store, List<String> keys, int size) {
        Map<String, byte[]> blobs = store.getAll(keys, key -> size);
        if (blobs.size() != keys.size()) {
            throw new IllegalStateException((keys.size() - blobs.size()) + " of " + keys.size()
                    + " blobs vanished from Redis during the benchmark");
        }
        long n = 0;
        for (byte[] b : blobs.values()) {
            n += b.length;
        }
        return n;
    }

    private static long readOne(AnchorKvStore store, String key) {
        return store.read(key, (k, b) -> b.remaining())
                .orElseThrow(() -> new IllegalStateException(key + " vanished from Redis during the benchmark"));
    }

    private static long readAll(AnchorKvStore store, List<String> keys, int size) {
        Map<String, Integer> lengths = store.readAll(keys, key -> size, (k, b) -> b.remaining());
        if (lengths.size() != keys.size()) {
            throw new IllegalStateException((keys.size() - lengths.size()) + " of " + keys.size()
                    + " blobs vanished from Redis during the benchmark");
        }
        long n = 0;
        for (int length : lengths.values()) {
            n += length;
        }
        return n;
    }

    /** Runs {@code fetch} (bytes moved per call) for a warm-up, then for {@code seconds}. */
    private Rate measure(LongSupplier fetch, int getsPerCall) {
        long warmUpEnd = System.nanoTime() + (long) (seconds * 1e9 / 5);
        do {
            fetch.getAsLong();
        } while (System.nanoTime() < warmUpEnd);
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        long moved = 0;
        long calls = 0;
        long now;
        do {
            moved += fetch.getAsLong();
            calls++;
            now = System.nanoTime();
        } while (now < end);
        double s = (now - t0) / 1e9;
        return new Rate(moved / s, calls * getsPerCall / s);
    }

    /** redis-benchmark's GB/s; it runs as many GETs as our get loop did, so it takes about as long. */
    private double redisBenchmark(RedisBenchmarkTool tool, String url, String key, int size, Rate ours, int pipeline)
            throws IOException, InterruptedException {
        long calls = Math.max(1, (long) Math.ceil(ours.getsPerSecond() * seconds / pipeline));
        int requests = (int) Math.min(Integer.MAX_VALUE / pipeline, calls) * pipeline;
        Duration timeout = Duration.ofMillis((long) (seconds * 20_000)).plusMinutes(1);
        return tool.getsPerSecond(url, key, requests, pipeline, timeout) * size / 1e9;
    }

    /** "single", "single read", "pipelined x4", "pipelined x4 read". */
    private String modeLabel(String mode) {
        String label = mode.startsWith("single") ? "single" : "pipelined x" + docs;
        return mode.endsWith("-read") ? label + " read" : label;
    }

    /** {@code host:port} or a single redis:// / rediss:// URL, as a URL. */
    static String redisUrl(String arg) {
        if (arg.contains(",")) {
            throw new IllegalArgumentException("--redis: bench redis measures one server; give one host:port or redis:// URL");
        }
        return arg.contains("://") ? arg : "redis://" + arg;
    }

    /** "4m" is 4 MiB, "64k" 64 KiB, "1000" 1000 bytes. */
    static int parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long unit = t.endsWith("m") ? 1L << 20 : t.endsWith("k") ? 1L << 10 : 1;
        long n;
        try {
            n = Math.multiplyExact(Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1)), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            n = -1;
        }
        if (n < 1 || n > MAX_SIZE) {
            throw new IllegalArgumentException("--sizes: '" + text + "' is not a size from 1 byte to 512m"
                    + " (bytes, or k/m for KiB/MiB, e.g. 64k,4m)");
        }
        return (int) n;
    }

    private static String label(int bytes) {
        if (bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        return bytes % (1 << 10) == 0 ? (bytes >> 10) + " KiB" : bytes + " B";
    }

    private void writeJson(String machine, List<Row> rows) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("machine", machine);
        o.addProperty("docs", docs);
        o.addProperty("seconds", seconds);
        JsonArray arr = new JsonArray();
        for (Row r : rows) {
            JsonObject x = new JsonObject();
            x.addProperty("size_bytes", r.sizeBytes());
            x.addProperty("mode", r.mode());
            x.addProperty("gb_s", r.gbS());
            x.addProperty("redis_benchmark_gb_s", r.redisBenchmarkGbS());
            x.addProperty("ratio", r.ratio());
            arr.add(x);
        }
        o.add("rows", arr);
        AtomicFiles.writeString(json, new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }
}
