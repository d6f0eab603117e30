package dev.sacrag.cli;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.CacheType;
import de.kherud.llama.args.Sampler;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * llama.cpp's side of {@code sac bench engine}: llama.cpp (de.kherud:llama, the server it embeds)
 * runs greedily on the GGUF export of the benchmark's weights, in a child JVM. The child keeps
 * its native threads (OpenMP, the server loop) out of the engine's process and away from
 * libtorch's thread pool, and its native server thread would otherwise keep a JVM alive.
 *
 * <p>What is timed is llama.cpp's own measurement, which the embedded server writes to its log
 * after every completion ({@code prompt eval time} and {@code eval time}): the binding returns
 * text only. With {@code n_predict = decode + 1} the server samples the first token from the
 * prompt's logits and then runs {@code decode} one-token forward passes, as the engine's side
 * does ({@code decode} argmax + forward steps after the prefill). The wall time of each
 * {@code complete()} call in Java is kept beside it as a cross-check.
 */
final class LlamaCppBench {
    static final String RUN = "RUN ";
    static final String BINDING = "BINDING ";
    static final String BUILD = "BUILD ";
    static final String SYSTEM = "SYSTEM ";

    /** The two timing lines of one completion in the server log; eval also matches the "prompt eval" line's tail. */
    private static final Pattern TIMING = Pattern.compile(
            "(?m)^\\s*(prompt )?eval time =\\s*([0-9.]+) ms /\\s*(\\d+) (?:tokens|runs)");
    private static final long LOG_WAIT_MS = 30_000;

    /** One timed completion: llama.cpp's prompt and generation times, and the Java call around them. */
    record Run(double promptMs, int promptTokens, double evalMs, int sampled, double callMs) { }

    record Result(List<Run> runs, String binding, String build, String system) {
        double prefillMs() {
            return BenchCommand.median(runs.stream().mapToDouble(Run::promptMs).toArray());
        }

        /** Median time of the decode forward passes (and their sampling) of one completion. */
        double decodeMs() {
            return BenchCommand.median(runs.stream().mapToDouble(Run::evalMs).toArray());
        }

        double callMs() {
            return BenchCommand.median(runs.stream().mapToDouble(Run::callMs).toArray());
        }
    }

    private LlamaCppBench() {
    }

    /** Runs llama.cpp in a child JVM: one warm-up completion, then {@code repeat} timed ones. */
    static Result run(Path gguf, long[] prompt, int decode, int repeat, int threads) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("sac-llama-cpp");
        try {
            Path lib = Files.createDirectories(work.resolve("lib"));
            Path out = work.resolve("stdout.txt");
            Path err = work.resolve("stderr.txt");
            Path promptFile = Files.writeString(work.resolve("prompt.txt"),
                    LongStream.of(prompt).mapToObj(Long::toString).collect(Collectors.joining(",")));
            List<String> cmd = List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                    "-Dde.kherud.llama.tmpdir=" + lib,
                    "-cp", System.getProperty("java.class.path"),
                    LlamaCppBench.class.getName(),
                    gguf.toAbsolutePath().toString(), Integer.toString(threads), Integer.toString(decode),
                    Integer.toString(repeat), promptFile.toString(), work.resolve("llama.log").toString());
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            long timeoutS = 300 + (long) (repeat + 1) * (prompt.length + decode) / 2;
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException("llama.cpp child JVM did not finish within " + timeoutS + " s; stderr tail:\n"
                        + tail(err));
            }
            List<String> lines = Files.readAllLines(out);
            List<Run> runs = new ArrayList<>();
            String binding = "?";
            String build = "?";
            String system = "?";
            for (String l : lines) {
                if (l.startsWith(RUN)) {
                    String[] f = l.substring(RUN.length()).trim().split(" ");
                    runs.add(new Run(Double.parseDouble(f[0]), Integer.parseInt(f[1]), Double.parseDouble(f[2]),
                            Integer.parseInt(f[3]), Double.parseDouble(f[4])));
                } else if (l.startsWith(BINDING)) {
                    binding = l.substring(BINDING.length());
                } else if (l.startsWith(BUILD)) {
                    build = l.substring(BUILD.length());
                } else if (l.startsWith(SYSTEM)) {
                    system = l.substring(SYSTEM.length());
                }
            }
            if (p.exitValue() != 0 || runs.size() != repeat) {
                throw new IllegalStateException("llama.cpp (de.kherud:llama) could not run " + gguf + ": exit code "
                        + p.exitValue() + ", " + runs.size() + " of " + repeat + " timed runs. Its bundled native"
                        + " library needs Linux/macOS/Windows on x86_64 (AVX2) or aarch64; --no-llama-cpp times the"
                        + " engine alone.\nstdout:\n" + String.join("\n", lines) + "\nstderr tail:\n" + tail(err));
            }
            for (Run r : runs) {
                if (r.promptTokens() != prompt.length || r.sampled() != decode + 1) {
                    throw new IllegalStateException("llama.cpp processed " + r.promptTokens() + " prompt tokens and sampled "
                            + r.sampled() + " (expected " + prompt.length + " and " + (decode + 1) + ")");
                }
            }
            return new Result(runs, binding, build, system);
        } finally {
            deleteTree(work);
        }
    }

    /**
     * Child JVM entry. Args: gguf, threads, decode, repeat, prompt file (ids "1,2,3"), log file.
     * Prints {@code BINDING}, {@code BUILD}, {@code SYSTEM} and one {@code RUN prompt_ms
     * prompt_tokens eval_ms sampled call_ms} line per timed completion; ends with an explicit exit.
     */
    public static void main(String[] args) {
        int status = 1;
        try {
            child(args);
            status = 0;
        } catch (Throwable t) {
            t.printStackTrace();
        } finally {
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }
    }

    private static void child(String[] args) throws Exception {
        if (args.length != 6) {
            throw new IllegalArgumentException("usage: <gguf> <threads> <decode> <repeat> <prompt ids file> <log file>");
        }
        int threads = Integer.parseInt(args[1]);
        int decode = Integer.parseInt(args[2]);
        int repeat = Integer.parseInt(args[3]);
        int[] prompt = Arrays.stream(Files.readString(Path.of(args[4])).trim().split(","))
                .mapToInt(Integer::parseInt).toArray();
        Path log = Path.of(args[5]);
        ModelParameters model = new ModelParameters()
                .setModel(args[0])
                .setCtxSize(prompt.length + decode + 1)
                .setThreads(threads)
                .setThreadsBatch(threads)
                .setParallel(1)
                // f32 K/V as in the engine (llama.cpp's default cache type is f16)
                .setCacheTypeK(CacheType.F32)
                .setCacheTypeV(CacheType.F32)
                .setLogFile(log.toString());
        InferenceParameters infer = new InferenceParameters("")
                .setNPredict(decode + 1)
                .setIgnoreEos(true)
                .setCachePrompt(false)            // every completion prefills the whole prompt again
                .setTemperature(0f)
                .setSamplers(Sampler.TEMPERATURE) // greedy without top-k sorting or penalties, like the engine's argmax
                .setSeed(1);
        setPromptIds(infer, prompt);
        try (LlamaModel llama = new LlamaModel(model)) {
            System.out.println(BINDING + bindingVersion());
            System.out.println(BUILD + awaitLine(log, "build: ").replaceFirst(" with .*", "")); // "4916 (c6af2161)"
            System.out.println(SYSTEM + awaitLine(log, "system_info: "));
            for (int r = -1; r < repeat; r++) {                // r = -1 is the warm-up
                int before = timings(Files.readString(log)).size();
                long t0 = System.nanoTime();
                llama.complete(infer);
                double callMs = (System.nanoTime() - t0) / 1e6;
                double[] t = awaitTiming(log, before);
                if (r >= 0) {
                    System.out.printf(Locale.ROOT, "%s%.3f %d %.3f %d %.3f%n", RUN, t[0], (int) t[1], t[2], (int) t[3], callMs);
                }
            }
        }
    }

    /**
     * The binding has no public setter for a prompt of token ids, but the embedded server takes
     * a JSON array of ids as "prompt" (no BOS added); the parameter map is package-private.
     */
    @SuppressWarnings("unchecked")
    private static void setPromptIds(InferenceParameters infer, int[] ids) throws ReflectiveOperationException {
        Field f = Class.forName("de.kherud.llama.JsonParameters").getDeclaredField("parameters");
        f.setAccessible(true);
        ((Map<String, String>) f.get(infer)).put("prompt", Arrays.toString(ids).replace(" ", ""));
    }

    /** Waits until the log holds one more completion's timings than {@code before}; returns them. */
    private static double[] awaitTiming(Path log, int before) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + LOG_WAIT_MS * 1_000_000;
        while (true) {
            List<double[]> all = timings(Files.readString(log));
            if (all.size() > before) {
                return all.get(before);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("llama.cpp wrote no timings for completion " + (before + 1) + " to " + log);
            }
            Thread.sleep(2);
        }
    }

    /** {prompt ms, prompt tokens, eval ms, sampled tokens} of each complete completion in the log. */
    static List<double[]> timings(String log) {
        List<double[]> out = new ArrayList<>();
        Matcher m = TIMING.matcher(log);
        double[] prompt = null;
        while (m.find()) {
            double ms = Double.parseDouble(m.group(2));
            int n = Integer.parseInt(m.group(3));
            if (m.group(1) != null) {
                prompt = new double[] {ms, n};
            } else if (prompt != null) {
                out.add(new double[] {prompt[0], prompt[1], ms, n});
                prompt = null;
            }
        }
        return out;
    }

    /** The rest of the first log line that starts with {@code prefix} ("?" if none comes within a few seconds). */
    private static String awaitLine(Path log, String prefix) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            String line = Files.readString(log).lines().filter(l -> l.startsWith(prefix))
                    .map(l -> l.substring(prefix.length()).trim()).findFirst().orElse(null);
            if (line != null || System.nanoTime() > deadline) {
                return line == null ? "?" : line;
            }
            Thread.sleep(2);
        }
    }

    private static String bindingVersion() {
        try (InputStream in = LlamaModel.class.getResourceAsStream("/META-INF/maven/de.kherud/llama/pom.properties")) {
            if (in == null) {
                return "de.kherud:llama ?";
            }
            Properties p = new Properties();
            p.load(in);
            return "de.kherud:llama " + p.getProperty("version", "?");
        } catch (IOException e) {
            return "de.kherud:llama ?";
        }
    }

    private static String tail(Path file) throws IOException {
        List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.ISO_8859_1) : List.of();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
